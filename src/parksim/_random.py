"""One way to pass randomness: a seed becomes keyed streams.

A run has one integer ``seed``. Replication ``r`` uses the
:class:`numpy.random.SeedSequence` child ``SeedSequence(seed, spawn_key=(r,))``,
which is exactly ``SeedSequence(seed).spawn(n)[r]``. Every random quantity of
that replication comes from a stream further keyed by *what* draws it:

========================  ======================================================
stream kind               key
========================  ======================================================
``PARAM``                 CRC-32 of the parameter's key path
``ARRIVALS``              (the signing process of the pipeline)
``PROJECT``               signing index of a synthetic project (its firm too)
``KNOWN_PROJECT``         row of the pipeline CSV (its firm too)
``REGISTER``              row of the enterprise register CSV
``SYNTHETIC_FIRM``        CRC-32 of the sector name, index within the sector
``SECTOR``                CRC-32 of the sector name (yearly sector shocks)
``MACRO``                 (yearly regional shock)
``INSTITUTIONS``          (institution births and closures)
``WARM_UP``               signing index of a project signed before the start
========================  ======================================================

Two scenarios run with the same seed therefore see the same projects, firms and
shocks wherever they do not differ: common random numbers for comparing levers.
"""

from __future__ import annotations

import secrets
import zlib

import numpy as np

from ._errors import InputError

PARAM, ARRIVALS, PROJECT, KNOWN_PROJECT, REGISTER, SYNTHETIC_FIRM, SECTOR, MACRO, INSTITUTIONS, WARM_UP = range(10)


def normalize_seed(seed: int | None) -> int:
    """Return a non-negative integer seed; ``None`` draws a fresh one from the OS."""
    if seed is None:
        return secrets.randbits(64)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f'"seed" must be a non-negative integer or None, got {seed!r}')
    if seed < 0:
        raise InputError(f'"seed" must be >= 0, got {seed}')
    return int(seed)


def key_of(name: str) -> int:
    """A stable 32-bit key for a name (sector, parameter path)."""
    return zlib.crc32(name.encode("utf-8"))


#: streams that are regional facts, the same for every park of a portfolio
SHARED = frozenset({PARAM, SECTOR, MACRO})
_PARK_SPACE = 1000  # spawn-key marker of park-specific streams (kinds are small numbers)


class Streams:
    """Factory of the independent random streams of one replication.

    With ``park`` set (a member of a portfolio), entity streams are keyed by the
    park too, while parameter draws, sector shocks and the regional shock stay
    shared: parks of one region see the same good and bad years.
    """

    __slots__ = ("seed", "replication", "park")

    def __init__(self, seed: int, replication: int, park: int | None = None):
        self.seed = normalize_seed(seed)
        if replication < 0:
            raise InputError(f'"replication" must be >= 0, got {replication}')
        self.replication = int(replication)
        self.park = park

    def rng(self, kind: int, *key: int) -> np.random.Generator:
        if self.park is None or kind in SHARED:
            spawn = (self.replication, kind, *key)
        else:
            spawn = (self.replication, _PARK_SPACE, self.park, kind, *key)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=spawn)))

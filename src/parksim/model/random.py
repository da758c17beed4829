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

from parksim.errors import InputError

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
    shared: parks of one region see the same good and bad years. With ``given``
    (:class:`GivenUniforms`), the uncertain parameters it holds take its uniforms
    instead of their streams' (:meth:`param_uniform`). ``replication`` is the run's slot; its random path is the
    slot itself, or, for a design's ``given`` (``period`` set), the slot's replication at its point
    (:meth:`GivenUniforms.paths`: every point of an exploration shares its replications' random numbers).
    """

    __slots__ = ("seed", "slot", "replication", "park", "given")

    def __init__(self, seed: int, replication: int, park: int | None = None, given: GivenUniforms | None = None):
        self.seed = normalize_seed(seed)
        if replication < 0:
            raise InputError(f'"replication" must be >= 0, got {replication}')
        self.slot = int(replication)
        self.replication = self.slot if given is None or given.period is None else self.slot % given.period
        self.park = park
        self.given = given

    def param_uniform(self, key: int) -> float:
        """The uniform an uncertain parameter (``key``: of its key path) is drawn from in this replication: its
        ``PARAM`` stream's first number, or the given one (:class:`GivenUniforms`)."""
        if self.given is not None and key in self.given.column:
            return float(self.given.uniforms(self.seed, [self.slot], [key])[key][0])
        return self.rng(PARAM, key).random()

    def rng(self, kind: int, *key: int) -> np.random.Generator:
        if self.park is None or kind in SHARED:
            spawn = (self.replication, kind, *key)
        else:
            spawn = (self.replication, _PARK_SPACE, self.park, kind, *key)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=spawn)))


# --- the first uniform of many PARAM streams at once ------------------------------------------------
# NumPy's SeedSequence (O'Neill's seed_seq hash) and PCG64 (XSL-RR 128/64), replayed on arrays: the fast engine
# draws an uncertain parameter for every replication of a group, and building a Generator per replication costs
# about 15 microseconds (SeedSequence and PCG64 construction), most of the planning time of some scenarios.
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341
_M32 = np.uint64(0xFFFFFFFF)
_U16, _U32, _U63 = np.uint64(16), np.uint64(32), np.uint64(63)


def _words(n: int) -> list[int]:
    """The uint32 words of a non-negative integer, least significant first (SeedSequence's coercion; 0 is [0])."""
    out = [n & 0xFFFFFFFF]
    n >>= 32
    while n:
        out.append(n & 0xFFFFFFFF)
        n >>= 32
    return out


def _hashmix(value, h: int, mult: int = _MULT_A):
    """SeedSequence's hashmix on an array of words (uint64 holding uint32) and the running hash constant.

    With ``mult = _MULT_B`` (and ``h`` starting at ``_INIT_B``) it is the step of ``generate_state``.
    """
    value = value ^ np.uint64(h)
    h = (h * mult) & 0xFFFFFFFF
    value = (value * np.uint64(h)) & _M32
    return value ^ (value >> _U16), h


def _mix(x, y):
    r = (np.uint64(_MIX_L) * x - np.uint64(_MIX_R) * y) & _M32
    return r ^ (r >> _U16)


def _mul128(ah, al, bh: int, bl: int):
    """(hi, lo) of (ah, al) * (bh, bl) mod 2**128, the left operand arrays of uint64, the right one a constant."""
    m = _M32
    b0, b1 = np.uint64(bl & 0xFFFFFFFF), np.uint64(bl >> 32)
    a0, a1 = al & m, al >> _U32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> _U32) + (p01 & m) + (p10 & m)
    lo = (p00 & m) | (mid << _U32)
    hi = p11 + (p01 >> _U32) + (p10 >> _U32) + (mid >> _U32) + al * np.uint64(bh) + ah * np.uint64(bl)
    return hi, lo


def _add128(ah, al, bh, bl):
    lo = al + bl
    return ah + bh + (lo < al).astype(np.uint64), lo


def _param_pool(seed: int, r: np.ndarray) -> tuple[list, int]:
    """SeedSequence's entropy pool of ``Streams(seed, r).rng(PARAM, key)`` before the key's words are mixed in, for
    every replication ``r`` (with the running hash constant): the same for every key, so :func:`param_uniforms_many`
    computes it once for all its keys (the words of seed, replication and PARAM come first in the entropy)."""
    run = _words(seed)
    run += [0] * (4 - len(run))  # padded to the pool size when there is a spawn key
    entropy = [*(np.full(r.shape, np.uint64(w)) for w in run), r, *(np.full(r.shape, np.uint64(w)) for w in _words(PARAM))]
    pool, h = [], _INIT_A
    for i in range(4):
        value, h = _hashmix(entropy[i], h)
        pool.append(value)
    for s in range(4):
        for d in range(4):
            if s != d:
                value, h = _hashmix(pool[s], h)
                pool[d] = _mix(pool[d], value)
    for s in range(4, len(entropy)):
        for d in range(4):
            value, h = _hashmix(entropy[s], h)
            pool[d] = _mix(pool[d], value)
    return pool, h


def param_uniforms(seed: int, replications, key: int, given: GivenUniforms | None = None) -> np.ndarray:
    """``Streams(seed, r, given=given).param_uniform(key)`` for every replication ``r``, exactly, without making the
    streams."""
    return param_uniforms_many(seed, replications, [key], given)[key]


def param_uniforms_many(seed: int, replications, keys, given: GivenUniforms | None = None) -> dict:
    """:func:`param_uniforms` of several keys at once: ``{key: array over replications}``. The keys of one word count
    are computed together (arrays keys x replications), so a plan of one replication (the SimPy engine's) pays the
    array operations once, not once a key. Keys that ``given`` holds take its uniforms."""
    if given is not None:
        keys = list(dict.fromkeys(int(k) for k in keys))
        held = [k for k in keys if k in given.column]
        out = given.uniforms(seed, replications, held) if held else {}
        rest = [k for k in keys if k not in given.column]
        return out | (param_uniforms_many(seed, given.paths(replications), rest) if rest else {})
    r = np.asarray(replications, dtype=np.uint64)
    keys = list(dict.fromkeys(int(k) for k in keys))
    if r.size == 0:
        return {k: np.empty(0) for k in keys}
    if int(r.max()) > 0xFFFFFFFF:  # a replication of two words: the general path
        return {k: np.array([Streams(seed, int(x)).rng(PARAM, k).random() for x in r]) for k in keys}
    pool0, h0 = _param_pool(normalize_seed(seed), r)
    out: dict = {}
    by_length: dict = {}
    for k in keys:
        by_length.setdefault(len(_words(k)), []).append(k)
    for length, group in by_length.items():
        words = np.array([_words(k) for k in group], dtype=np.uint64)  # (keys, length)
        pool, h = [np.broadcast_to(x, (len(group), r.size)) for x in pool0], h0
        for j in range(length):  # the key's words go last into the entropy pool
            word = words[:, j : j + 1]
            for d in range(4):
                value, h = _hashmix(word, h)
                pool[d] = _mix(pool[d], value)
        u = _generate(pool)
        for i, k in enumerate(group):
            out[k] = u[i]
    return out


def _generate(pool: list) -> np.ndarray:
    """The first ``random()`` of PCG64 seeded by SeedSequence's entropy ``pool`` (arrays of uint32 words)."""
    # generate_state(4, uint64): eight words, paired little-endian into (state hi, state lo, inc hi, inc lo)
    words, h = [], _INIT_B
    for i in range(8):
        value, h = _hashmix(pool[i % 4], h, _MULT_B)
        words.append(value)
    s_hi, s_lo = words[0] | (words[1] << _U32), words[2] | (words[3] << _U32)
    i_hi, i_lo = words[4] | (words[5] << _U32), words[6] | (words[7] << _U32)
    # PCG64 seeding (pcg_setseq_128_srandom_r), then one step and the XSL-RR output: the first random()
    inc_hi, inc_lo = (i_hi << np.uint64(1)) | (i_lo >> _U63), (i_lo << np.uint64(1)) | np.uint64(1)
    mh, ml = _PCG_MULT >> 64, _PCG_MULT & ((1 << 64) - 1)
    st_hi, st_lo = _add128(inc_hi, inc_lo, s_hi, s_lo)  # the state after the first step from 0 is inc
    for _ in range(2):
        st_hi, st_lo = _add128(*_mul128(st_hi, st_lo, mh, ml), inc_hi, inc_lo)
    x = st_hi ^ st_lo
    rot = st_hi >> np.uint64(58)
    out = (x >> rot) | (x << ((np.uint64(64) - rot) & _U63))
    return (out >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


# --- parameters given, not drawn ---------------------------------------------------------------------
#: the key of the uniform that picks a replication's row of a weighted table (a name no parameter path can have)
ROW_KEY = key_of("~given-row")


class GivenUniforms:
    """Uniforms of some uncertain parameters, given instead of drawn: a table with a row per parameter set (a
    particle of a calibration, a draw of a posterior) and a column per parameter key (:func:`key_of` of its key path).

    ``weights`` None: replication ``r`` takes row ``r - first`` (a calibration simulates each of its proposals
    once; every replication must have a row). With ``weights``: replication ``r`` takes a row drawn by weight, with
    the uniform of its own stream keyed :data:`ROW_KEY` (the same row whatever the jobs or the replications run
    with it). Each parameter's value is its distribution's quantile at the uniform, as when drawn, so a portfolio's
    parks see one uniform per key path, as they do when the parameter is drawn.

    ``period`` R (a design of an exploration: points x replications): slot ``v`` of the run is replication
    ``v % R`` at the table's row (point) ``v // R``; its random streams are replication ``v % R``'s (:meth:`paths`),
    so every point sees the same R replications' random numbers (common random numbers) and differs only in its
    given parameters.
    """

    __slots__ = ("keys", "table", "weights", "first", "period", "column", "_cum", "digest", "meta")

    def __init__(self, keys, table, weights=None, first: int = 0, meta: dict | None = None, period: int | None = None):
        import hashlib

        self.keys = tuple(int(k) for k in keys)
        self.table = np.ascontiguousarray(table, dtype=float)
        if self.table.ndim != 2 or self.table.shape[1] != len(self.keys):
            raise ValueError(f"a table of (rows, {len(self.keys)}) uniforms is expected, got shape {self.table.shape}")
        if not np.all((self.table > 0) & (self.table < 1)):
            raise ValueError("given uniforms must lie strictly between 0 and 1")
        self.first = int(first)
        self.period = None if period is None else int(period)
        if self.period is not None and (self.period < 1 or weights is not None or self.first):
            raise ValueError("period: a whole number >= 1, for a table without weights, from slot 0")
        self.column = {k: j for j, k in enumerate(self.keys)}
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        self._cum = None
        if self.weights is not None:
            w = self.weights
            if w.shape != (len(self.table),) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
                raise ValueError("weights: one finite, non-negative weight per row, not all zero, is expected")
            self._cum = np.cumsum(w / w.sum())
            self._cum[-1] = 1.0
        h = hashlib.sha256(np.asarray(self.keys, dtype=np.int64).tobytes() + self.table.tobytes())
        h.update(b"" if self.weights is None else self.weights.tobytes())
        h.update(str(self.first).encode())
        h.update(b"" if self.period is None else f"period {self.period}".encode())
        self.digest = h.hexdigest()  # what a checkpoint's identity includes
        self.meta = dict(meta or {})  # where it comes from (a calibration's folder, its observations), for manifests

    def rows(self, seed: int, replications) -> np.ndarray:
        """The table row of each replication."""
        r = np.asarray(replications, dtype=np.int64)
        if self.period is not None:
            rows = r // self.period
            if rows.size and rows.max() >= len(self.table):
                raise ValueError(f"slots up to {int(r.max())} have no row in a design of {len(self.table)} points x {self.period}")
            return rows
        if self._cum is None:
            rows = r - self.first
            if rows.size and (rows.min() < 0 or rows.max() >= len(self.table)):
                raise ValueError(
                    f"replications {int(r.min())}-{int(r.max())} have no row in a table of {len(self.table)} from {self.first}"
                )
            return rows
        u = param_uniforms_many(seed, r, [ROW_KEY])[ROW_KEY]
        return np.minimum(np.searchsorted(self._cum, u, side="right"), len(self.table) - 1)

    def paths(self, replications) -> np.ndarray:
        """The replication whose random numbers each slot uses: the slot itself, or ``slot % period``."""
        r = np.asarray(replications, dtype=np.int64)
        return r if self.period is None else r % self.period

    def uniforms(self, seed: int, replications, keys) -> dict:
        """``{key: array over replications}`` of the given keys."""
        rows = self.rows(seed, replications)
        return {int(k): self.table[rows, self.column[int(k)]] for k in keys}

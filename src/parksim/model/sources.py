"""Which sources the compiled engine is built from, and their digest: standard library only.

:mod:`parksim.model.jit` deletes numba's cached code when this digest changes, and the ``parksim`` command reads
it before it imports numba, to tell whether the engine is probably compiled already
(:func:`parksim.engines.fast.compiling.probably_cached`).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

#: the package directory (``parksim``)
PACKAGE = Path(__file__).resolve().parents[1]
#: the sources compiled into the engine, relative to :data:`PACKAGE`: the model's procedures and samplers, the rules
#: and the fast engine's event kernels
COMPILED_SOURCES = ("model/*.py", "rules/*.py", "engines/fast/events.py")
#: the file, in the cache directory of the engine's entry module, that holds the digest of the sources last compiled
SOURCES_STAMP = "parksim-engine-sources.sha256"
#: the engine's entry function (:func:`parksim.engines.fast.events._advance`): its source, relative to :data:`PACKAGE`
ENTRY_SOURCE, ENTRY_NAME = "engines/fast/events.py", "_advance"


def sources_digest(package: Path = PACKAGE) -> str:
    """SHA-256 of the sources compiled into the engine (:data:`COMPILED_SOURCES` in ``package``)."""
    h = hashlib.sha256()
    for path in sorted(p for pattern in COMPILED_SOURCES for p in package.glob(pattern)):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def entry_cached_beside_sources(package: Path = PACKAGE) -> bool:
    """Whether numba's cache beside the sources (``__pycache__``, where it caches when the package folder is
    writable and ``NUMBA_CACHE_DIR`` is not set) holds the entry function, compiled from the sources as they are.

    A quick look, without numba: True means probably compiled (numba still checks its own index when it loads
    the code), False means compiled elsewhere or not at all."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return False
    entry = package / ENTRY_SOURCE
    cache = entry.parent / "__pycache__"
    try:
        if (cache / SOURCES_STAMP).read_text(encoding="ascii").strip() != sources_digest(package):
            return False
    except OSError:
        return False
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return any(cache.glob(f"{entry.stem}.{ENTRY_NAME}-*.{tag}.nbi"))

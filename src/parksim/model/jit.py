"""Compile options of the model's numba functions, and the compiled-code cache's freshness.

Numba keys a cached function on its own source file only, so an edited rule or sampler would leave the engine
compiled from the old one. :func:`_check_cache` runs when this module is first imported (every compiled module
imports it first): it deletes the cached code when any source compiled into the engine changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from parksim.model.sources import PACKAGE, SOURCES_STAMP, sources_digest

#: call-site cast: numba compiles a function once per *literal* constant it is called with (kind=8, rent=True, ...);
#: passing every constant as a plain int64 keeps one compiled version per function (a large part of the compile time)
_I = np.int64


# internal functions are only called from compiled code: no Python wrappers (they cost most of the compile time)
_JIT = dict(cache=True, nogil=True, error_model="numpy", no_cpython_wrapper=True, no_cfunc_wrapper=True)


_ENTRY = dict(cache=True, nogil=True, error_model="numpy")


#: functions that allocate nothing run without reference counting (numba's ``_nrt`` option): every compiled call
#: otherwise increments and decrements the count of each array argument (two atomic updates per array per call, as
#: soon as the function calls another out of line), and the per-event functions take a dozen arrays; the callers
#: hold the arrays, and numba refuses to compile an allocation in such a function
_LEAN = dict(_JIT, _nrt=False)


# --- compiled-code cache -------------------------------------------------------------------
#: the modules whose compiled code the engine's cache holds: numba keys a cached function on its own source file
#: only, so an edited rule or sampler would leave the engine compiled from the old one (the cache of a function
#: does not see a change in a function it calls, in another file)
_CACHED_MODULES = ("events", "firms", "rounds", "park", "fastrand", "_ops")


def _refresh_cache(dirs, digest: str, modules=_CACHED_MODULES) -> int:
    """Delete the cached compiled code of ``modules`` in ``dirs`` unless it was compiled from sources with ``digest``.

    The digest of the sources last compiled is kept in the first directory (written atomically). Returns the
    number of cache files deleted; the next run compiles afresh. Other files in the directories are left alone.
    (The test suite does the same for its own compiled helpers, which call the engine's samplers and rules.)
    """
    dirs = [Path(d) for d in dirs]
    stamp = dirs[0] / SOURCES_STAMP
    try:
        if stamp.read_text(encoding="ascii").strip() == digest:
            return 0
    except OSError:
        pass
    removed = 0
    for d in dirs:
        for module in modules:
            for f in d.glob(f"{module}.*.nb[ic]"):  # numba's index (.nbi) and data (.nbc) files
                try:
                    f.unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
    try:
        dirs[0].mkdir(parents=True, exist_ok=True)
        tmp = dirs[0] / f"{SOURCES_STAMP}.{os.getpid()}.tmp"
        tmp.write_text(digest + "\n", encoding="ascii")
        os.replace(tmp, stamp)
    except OSError:
        pass
    return removed


def _check_cache() -> None:
    """At import: start the compiled-code cache afresh if any source compiled into the engine changed since it was filled."""
    try:  # where numba caches each module's functions (internal API: on any failure, numba's own check stands)
        from numba.core import caching

        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        dirs = {}
        for source in ("engines/fast/events.py", "model/fastrand.py", "rules/_ops.py"):  # one module of each directory
            for locator in impl._locator_classes:
                found = locator.from_function(_check_cache, str(PACKAGE / source))
                if found is not None:
                    dirs[Path(found.get_cache_path())] = None
                    break
        _refresh_cache(list(dirs), sources_digest())
    except Exception:  # noqa: BLE001 - an unreadable cache is numba's to report when it compiles
        pass


_check_cache()

"""The fast engine's compile helper: a second process that compiles part of the engine on a first run.

Numba compiles one function at a time in a process. On a first run with more than one core, a helper
process compiles some of the engine's parts into numba's on-disk cache while the running process compiles
the others, and each finds the other's parts there (:func:`parksim.engines.fast.cache._compile`). This module
only starts and ends that process: it imports nothing heavy, so the ``parksim`` command can start the
helper before it loads pandas, SciPy, the scenario or the engine (:func:`start_early`), about a second
sooner than the run could, unless the engine's cache files say it is compiled already. The helper itself checks
whether anything needs compiling, and ends at once if not.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

#: the helper process's program: this process's module path (a source tree works as well as an install), then the
#: parts; then it exits without the interpreter's teardown, which would free the compiled code object by object
#: (measured: 0.7 s, which the running process would wait for)
_CODE = (
    "import os, pickle, sys; sys.path[:] = pickle.loads(sys.stdin.buffer.read()); "
    "from parksim.engines.fast.cache import _compile_parts; _compile_parts(); os._exit(0)"
)

_EARLY: list = []  # the helper started by start_early, until a run takes it


def start() -> subprocess.Popen | None:
    """Start a helper process (None if it cannot be started: the helper is an optimisation only)."""
    try:
        proc = subprocess.Popen([sys.executable, "-c", _CODE], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc.stdin.write(pickle.dumps(list(sys.path)))
        proc.stdin.close()
    except Exception:  # noqa: BLE001 - an optimisation only
        return None
    return proc


def probably_cached() -> bool:
    """Whether the engine is probably compiled and cached already (:func:`parksim.model.sources.entry_cached_beside_sources`:
    a look at the cache's files, without numba). The run then does not need the helper, which would only compete
    with it for the second core: it imports numba and the engine (about 1.5 s of processor time) before it can
    tell that there is nothing to compile (measured: the whole ``parksim run bench.toml -n 10000`` 0.5-0.7 s
    sooner without it). If the guess is wrong, the run starts the helper itself when it finds it must compile."""
    from parksim.model.sources import entry_cached_beside_sources

    try:
        return entry_cached_beside_sources()
    except Exception:  # noqa: BLE001 - a guess only
        return False


def start_early(jobs: int | None) -> None:
    """For the ``parksim`` command: start the helper now if the run will use more than one core (``jobs``) and the
    engine is not :func:`probably_cached`."""
    if (jobs if jobs is not None else os.cpu_count() or 1) > 1 and not _EARLY and not probably_cached():
        proc = start()
        if proc is not None:
            _EARLY.append(proc)


def take() -> subprocess.Popen | None:
    """The helper :func:`start_early` started, for the first run that compiles (None if there is none)."""
    return _EARLY.pop() if _EARLY else None


def wait(proc: subprocess.Popen | None, timeout: float = 300.0) -> None:
    """Wait for the helper to finish its parts; stop it after ``timeout`` seconds (the run compiles the rest)."""
    if proc is not None:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(proc)


def stop(proc: subprocess.Popen | None) -> None:
    """End the helper (numba writes its cache files atomically, so stopping it midway loses nothing)."""
    if proc is not None:
        if proc.poll() is None:
            proc.kill()
        proc.wait()

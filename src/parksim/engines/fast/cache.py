"""Compiling the fast engine: the argument types of its parts, and a first run's two-process compile."""

from __future__ import annotations

import contextlib
import threading

import numba
import numpy as np

from parksim.engines.fast import compiling as _compiling
from parksim.engines.fast.events import _advance, _end_of_month, _events, _init_rep
from parksim.engines.fast.pool import _state_shapes
from parksim.model.firms import _starting_firms
from parksim.model.layout import Plan, State


def needs_compiling() -> bool:
    """Whether the next run compiles the engine (nothing compiled in this process, nothing usable in the cache)."""
    if _advance.signatures:
        return False
    try:  # numba's on-disk index of compiled versions for the current source (internal API: on any change, assume cached)
        return not _advance._cache._cache_file._load_index()
    except Exception:  # noqa: BLE001
        return False


#: the plan's arrays (:func:`plan`, all float64): their number of dimensions
_PLAN_NDIM = dict(PV=2, PD=3, SV=3, SD=4, BV=3, BD=4, MV=3, WR=2, KP=2, REG=2, TS_STAFF=2, TS_RD=2, TS_IP2=1)


#: who compiles which part on a first run, in order: the helper process, and the running process (which then waits
#: for the helper and compiles :func:`_advance`, finding every part in the cache). The helper's parts both create
#: firms, so the new-firm code is compiled once; its starting firms come first, so that this process's
#: initialisation, which calls them, finds them in the cache. The parts take about as long in each process.
_HELPER_PARTS = ("starting", "events")


_RUN_PARTS = ("end", "init")


def _bundles() -> tuple:
    """The types of the two bundles every compiled part takes, the block's :class:`State` and the :class:`Plan`."""
    arrays = _standard_arrays()
    state = State(*(arrays[k] for k in State._fields))
    plan = Plan(*(arrays[k] for k in Plan._fields))
    return numba.typeof(state), numba.typeof(plan)


def _signatures() -> dict:
    """Argument types of the calls :func:`_advance` makes, by part, for any block: the types depend on the arrays'
    dtypes and dimensions only, the same for every scenario (a test checks), so the compile helper needs no
    scenario."""
    i64, seed = numba.types.int64, numba.types.Array(numba.types.uint64, 1, "C")
    S, P = _bundles()
    return {
        "end": (i64, i64, i64, i64, seed, i64, S, P),  # r, m, pr, Y, seed, park
        "events": (i64, i64, i64, i64, seed, i64, S, P),  # r, m, H, Y, seed, park
        "init": (i64, i64, i64, seed, i64, S, P),  # r, H, Y, seed, park
        "starting": (i64, i64, i64, seed, i64, S, P),  # r, Y, pr, seed, park
    }


def _standard_arrays() -> dict:
    """One small array of each of the engine's kinds (a block's and a plan's), by name: their types are every block's."""
    arrays = {k: np.zeros((1,) * len(shape), dtype) for k, (shape, dtype) in _state_shapes(1, 1, 1, 1, 1, 1).items()}
    return arrays | {k: np.zeros((1,) * nd) for k, nd in _PLAN_NDIM.items()}


def _entry_signature() -> tuple:
    """The argument types of :func:`_advance`, for every block (a test checks them against each scenario's)."""
    i64 = numba.types.int64
    reps = numba.typeof(np.zeros(1, np.int64))
    return (i64, i64, i64, i64, i64, i64, numba.types.uint64, reps, i64, *_bundles())


#: the parts a first run compiles in two processes, by name
_PARTS = {"end": _end_of_month, "events": _events, "init": _init_rep, "starting": _starting_firms}


def _compile_parts() -> None:
    """The compile helper process's work (:mod:`parksim.engines.fast.compiling`): its parts, into the cache, if the engine needs compiling."""
    if needs_compiling():
        sigs = _signatures()
        for key in _HELPER_PARTS:
            _PARTS[key].compile(sigs[key])


@contextlib.contextmanager
def _linked_as_compiled(*funcs):
    """While this thread compiles, skip numba's re-optimisation of the linked code of the compiled functions ``funcs``.

    Numba links the code of everything a compiled function calls into its own and runs LLVM's full optimisation
    over all of it again; that is how small functions are inlined into their callers. :func:`_advance` (the
    month loop) and :func:`_init_rep` (once a replication) only make a few calls of parts that were optimised
    already, with all they call: optimising the whole engine again took about 1 s of a first run for
    :func:`_advance` and 0.4-0.8 s for :func:`_init_rep`, and changed nothing in the engine's speed (bench, one
    thread: 0.63-0.70 ms a replication either way, within the machine's noise). Skipping an optimisation
    cannot change results. This replaces a method of numba's internal code library class for the duration; if
    that is not there, nothing is skipped.
    """
    try:
        from numba.core.codegen import CPUCodeLibrary

        optimise = CPUCodeLibrary._optimize_final_module
    except (ImportError, AttributeError):
        yield
        return
    me, names = threading.get_ident(), {f.py_func.__qualname__ for f in funcs}  # numba names a code library so

    def final(library):
        if library.name in names and threading.get_ident() == me:
            return None
        return optimise(library)

    CPUCodeLibrary._optimize_final_module = final
    try:
        yield
    finally:
        CPUCodeLibrary._optimize_final_module = optimise


def _compile(threads: int) -> None:
    """Compile the engine unless this process has it or the cache can serve it.

    With more than one thread, a helper process (:mod:`parksim.engines.fast.compiling`; started early by the ``parksim``
    command, or now) compiles :data:`_HELPER_PARTS` into the cache while this process compiles
    :data:`_RUN_PARTS`; each finds the other's parts there (numba looks in the cache before compiling a
    function that a function it compiles calls). Then :func:`_advance` is compiled, finding all parts
    compiled. If the helper fails, this process compiles what is missing itself (it is an optimisation only).
    Every block's arrays have the same types (:func:`_signatures`), so this needs no scenario.
    """
    helper = _compiling.take()
    try:
        if not needs_compiling():
            if not _advance.signatures:  # load it from the cache now, on this thread, rather than at its first call
                _advance.compile(_entry_signature())
            return
        sigs = _signatures()
        with _linked_as_compiled(_advance, _init_rep):
            if threads > 1:
                helper = helper or _compiling.start()
                if helper is not None:
                    for key in _RUN_PARTS:
                        _PARTS[key].compile(sigs[key])
                    _compiling.wait(helper)
            _advance.compile(_entry_signature())
    finally:
        _compiling.stop(helper)

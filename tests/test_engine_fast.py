"""The fast batch engine: reproducibility whatever the threads and blocks, and its wiring into runs.

Agreement with the SimPy engine in distribution is tested per scenario in
``tests/test_engine_agreement.py``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numba
import numpy as np
import pytest

import parksim
from parksim.cli import main
from parksim.engines.fast import cache, events, pool, runner
from parksim.engines.fast import plan as planning
from parksim.model import firms, jit, sources
from parksim.model.random import key_of


def test_same_values_for_any_threads_and_blocks(root):
    scn = parksim.load_scenario(root / "scenarios" / "xiushan-2024.toml")
    whole = runner.run_block(scn, 11, range(12), threads=1)
    threaded = runner.run_block(scn, 11, range(12), threads=2)
    split = np.concatenate([runner.run_block(scn, 11, range(0, 5), threads=2), runner.run_block(scn, 11, range(5, 12), threads=1)])
    np.testing.assert_array_equal(whole, threaded)
    np.testing.assert_array_equal(whole, split)
    other_seed = runner.run_block(scn, 12, range(12), threads=1)
    assert not np.array_equal(whole, other_seed)


def test_run_with_the_fast_engine_records_it(root, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", str(root / "scenarios" / "xiushan-2024.toml"), "-n", "40", "--engine", "fast", "--out", str(out), "-q"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"] == "fast"
    assert manifest["replications"] == 40


def test_groups_that_fit_the_memory_budget_give_the_same_values(root):
    # a tiny budget advances one replication per thread at a time (each thread runs groups of its own): the values
    # must not change, whichever thread runs which group and in whatever order they end
    scn = parksim.load_scenario(root / "scenarios" / "xiushan-2024.toml")
    done = []
    whole = runner.run_block(scn, 5, range(7), threads=1)
    grouped = runner.run_block(scn, 5, range(7), threads=2, budget=1, progress=done.append)
    np.testing.assert_array_equal(whole, grouped)
    assert done == [1] * 7  # one group per replication, each reported
    P = planning.plan(scn, 5, [0])
    per_rep = pool.state_bytes(*planning._capacity(P), scn.simulation.years, scn.months, P["SV"].shape[1])
    np.testing.assert_array_equal(whole, runner.run_block(scn, 5, range(7), threads=2, budget=5 * per_rep))  # groups of 2, 2, 2, 1
    assert runner.run_block(scn, 5, [], threads=2).shape == (0, scn.simulation.years, whole.shape[2])


def test_groups_reusing_the_previous_groups_arrays_give_the_same_values(root):
    # groups of the same shape reuse the last group's arrays without clearing them: every value a replication
    # reads must be written by it first, so reused arrays full of another group's state change nothing
    scn = parksim.load_scenario(root / "scenarios" / "bench.toml")
    P = planning.plan(scn, 5, [0])
    budget = 2 * pool.state_bytes(*planning._capacity(P), scn.simulation.years, scn.months, P["SV"].shape[1])
    fresh = np.concatenate([runner.run_block(scn, 5, range(a, a + 2), threads=1) for a in (0, 2, 4)])  # each on new arrays
    reused = runner.run_block(scn, 5, range(6), threads=1, budget=budget)  # three groups of two, on the same arrays
    np.testing.assert_array_equal(fresh, reused)
    # a last, smaller group (here one replication) runs on the same, larger arrays: rows and room it does not use
    # change nothing either
    seen = []
    block = pool._Block.__init__

    def record(self, *args, **kwargs):
        block(self, *args, **kwargs)
        seen.append((self.FF, self.RS.shape[0]))

    pool._Block.__init__ = record
    try:
        uneven = runner.run_block(scn, 5, range(5), threads=1, budget=budget)
    finally:
        pool._Block.__init__ = block
    np.testing.assert_array_equal(fresh[:5], uneven)
    assert [b for _, b in seen] == [2, 2, 1] and all(ff is seen[0][0] for ff, _ in seen)


def test_a_portfolios_groups_reuse_each_parks_arrays_with_the_same_values(root):
    # each park of a portfolio keeps its own arrays for its next group (the parks differ in size)
    scn = parksim.load_scenario(root / "scenarios" / "ningxia-2025.toml")
    assert scn.portfolio is not None
    fresh = np.concatenate([runner.run_block(scn, 3, range(a, a + 2), threads=1) for a in (0, 2, 4)])
    per_rep = sum(
        pool.state_bytes(*planning._capacity(P), m.simulation.years, m.months, P["SV"].shape[1])
        for m, P in ((m, planning.plan(m, 3, [0], key_of(name))) for name, m in scn._members)
    )
    seen = []
    block = pool._Block.__init__

    def record(self, *args, **kwargs):
        block(self, *args, **kwargs)
        seen.append((self._key, self.FF))

    pool._Block.__init__ = record
    try:
        reused = runner.run_block(scn, 3, range(6), threads=1, budget=2 * per_rep)  # three groups of two
    finally:
        pool._Block.__init__ = block
    np.testing.assert_array_equal(fresh, reused)
    parks = len(scn._members)
    assert len(seen) == 3 * parks and all(ff is seen[i % parks][1] for i, (_, ff) in enumerate(seen))  # (seed 3: room suffices)
    assert len(pool._SPARE) == 0  # released when the run ends
    # kept from call to call when asked (a run in batches), with the same values, until released
    first = runner.run_block(scn, 3, range(0, 4), threads=1, budget=2 * per_rep, keep_memory=True)
    assert len(pool._SPARE) == parks
    mine = (threading.get_ident(), 0)  # (each thread keeps its own arrays; one thread runs these groups)
    kept = pool._SPARE[mine]["FF"]
    second = runner.run_block(scn, 3, range(4, 6), threads=1, budget=2 * per_rep, keep_memory=True)
    assert pool._SPARE[mine]["FF"] is kept
    np.testing.assert_array_equal(np.concatenate([first, second]), fresh)
    pool.release_memory()
    assert len(pool._SPARE) == 0


def test_a_run_in_batches_keeps_its_arrays_between_batches_and_frees_them_in_the_last(root):
    # simulate runs the fast engine in batches: the arrays are kept from one batch to the next, and in the last
    # batch each worker thread frees its own when it has no group left; the values do not depend on the batches
    scn = parksim.load_scenario(root / "scenarios" / "xiushan-2024.toml")
    freed = []
    release = runner._release_thread

    def record():
        freed.append(threading.get_ident())
        release()

    runner._release_thread = record
    try:
        batched = parksim.simulate(scn, replications=24, batch=12, seed=3, jobs=2, quiet=True, engine="fast")
    finally:
        runner._release_thread = release
    assert len(freed) == 2 and len(set(freed)) == 2 and threading.get_ident() not in freed  # the last batch only
    assert len(pool._SPARE) == 0
    whole = parksim.simulate(scn, replications=24, seed=3, jobs=1, quiet=True, engine="fast")
    np.testing.assert_array_equal(batched.values, whole.values)


def test_a_thread_frees_its_arrays_when_no_group_is_left(root):
    # with two threads each frees its own arrays after its last group (while the other finishes), and keeps them
    # when asked; the values are the same either way
    scn = parksim.load_scenario(root / "scenarios" / "xiushan-2024.toml")
    freed = []
    release = runner._release_thread

    def record():
        freed.append((threading.get_ident(), sorted(k[1] for k in pool._SPARE if k[0] == threading.get_ident())))
        release()
        freed.append((threading.get_ident(), [k for k in pool._SPARE if k[0] == threading.get_ident()]))

    runner._release_thread = record
    try:
        kept = runner.run_block(scn, 5, range(12), threads=2, keep_memory=True)
        assert freed == [] and len({k[0] for k in pool._SPARE}) == 2  # both threads' arrays kept
        pool.release_memory()
        out = runner.run_block(scn, 5, range(12), threads=2)
    finally:
        runner._release_thread = release
    np.testing.assert_array_equal(out, kept)
    assert len(freed) == 4 and len({t for t, _ in freed}) == 2  # once per thread (the two threads' entries may interleave)
    for thread in {t for t, _ in freed}:
        assert [keys for t, keys in freed if t == thread] == [[0], []]  # it had its slot-0 arrays and freed them
    assert len(pool._SPARE) == 0


def test_state_per_replication_is_bounded_by_the_budget(root):
    # the group size is the budget over one replication's state: memory does not grow with replications
    scn = parksim.load_scenario(root / "scenarios" / "bench.toml")
    P = planning.plan(scn, 1, [0])
    cap, pcap = planning._capacity(P)
    per_rep = pool.state_bytes(cap, pcap, scn.simulation.years, scn.months, P["SV"].shape[1])
    blk = pool._Block(scn, P, [0], cap, pcap)
    actual = sum(a.nbytes for a in vars(blk).values() if isinstance(a, np.ndarray) and a is not blk.REPS)
    assert actual == per_rep
    assert runner._group_size([(scn.name, scn)], 1, 0, 100 * per_rep) == 100
    assert runner._group_size([(scn.name, scn)], 1, 0, 100 * per_rep - 1) == 99
    assert runner._group_size([(scn.name, scn)], 1, 0, per_rep // 2) == 1  # never below one replication
    assert runner._group_size([(scn.name, scn)], 1, 0, 1000 * per_rep) == 512
    # groups of at most the size, in order, never growing (a thread's arrays then have room for its next group), the
    # last ones smaller: the replications left over twice the threads, at least size // 16 (hand-computed: 10 over 2
    # threads in groups of at most 3 -> ceil(10/4) = 3, ceil(7/4) = 2, ceil(5/4) = 2, then 1, 1, 1)
    assert [len(g) for g in runner._groups(list(range(10)), 3, 2)] == [3, 2, 2, 1, 1, 1]
    assert [len(g) for g in runner._groups(list(range(10)), 3, 1)] == [3, 3, 3, 1]  # one thread: no tail to balance
    assert runner._groups(list(range(5)), 100, 2) == [[0, 1, 2], [3, 4]]  # a few replications still use both threads
    assert runner._groups([7], 100, 2) == [[7]]
    for n, size, threads in ((1000, 7, 2), (10_000, 228, 2), (1000, 228, 2), (333, 50, 3)):
        sizes = [len(g) for g in runner._groups(list(range(n)), size, threads)]
        assert sum(runner._groups(list(range(n)), size, threads), []) == list(range(n))
        assert max(sizes) <= size and all(a >= b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        assert sizes[-2] <= max(1, size // 16) or len(sizes) <= threads  # the threads end within a small group
    big = [len(g) for g in runner._groups(list(range(10_000)), 228, 2)]  # bench: 40 full groups, then 220, 165, ... 14
    assert big[:40] == [228] * 40 and big[40:44] == [220, 165, 124, 93] and big[-4:] == [14, 14, 14, 6]


def test_fast_run_resumes_and_refuses_a_checkpoint_of_the_other_engine(root, tmp_path):
    scn = parksim.load_scenario(root / "scenarios" / "xiushan-2024.toml")
    ckpt = tmp_path / "checkpoint.npz"
    full = parksim.simulate(scn, replications=30, batch=10, seed=4, jobs=2, quiet=True, engine="fast")
    parksim.simulate(scn, replications=10, batch=10, seed=4, jobs=1, quiet=True, checkpoint=ckpt, engine="fast")
    resumed = parksim.simulate(scn, replications=30, batch=10, seed=4, jobs=2, quiet=True, checkpoint=ckpt, resume=True, engine="fast")
    np.testing.assert_array_equal(resumed.values, full.values)
    with pytest.raises(ValueError, match="checkpoint of the fast engine; this run uses the simpy engine"):
        parksim.simulate(scn, replications=30, batch=10, seed=4, jobs=1, quiet=True, checkpoint=ckpt, resume=True, engine="simpy")


def test_a_scenario_the_fast_engine_cannot_run_falls_back_to_simpy_with_a_message(root, monkeypatch, capsys):
    # every built-in scenario is supported, so stand in a reason; both fast and auto must fall back and say why
    monkeypatch.setattr(runner, "unsupported", lambda scenario: "a feature it does not model")
    scn = root / "scenarios" / "xiushan-2024.toml"
    for engine in ("fast", "auto"):
        res = parksim.simulate(scn, replications=2, seed=1, jobs=1, engine=engine)
        assert res.engine == "simpy"
        err = capsys.readouterr().err
        assert "the fast engine cannot run this scenario (a feature it does not model); using the SimPy engine" in err
    with pytest.raises(ValueError, match='"engine" must be one of'):
        parksim.simulate(scn, replications=2, seed=1, jobs=1, engine="warp")


def test_starting_renters_above_the_stated_floor_space_fill_the_park_in_both_engines(root):
    # floor space drawn per starting renter can exceed the stated total in a rare replication: the park is then full
    # (its floor space is what they occupy) instead of the run stopping; a stated occupancy above the total is an error
    path = root / "scenarios" / "xiushan-2024.toml"
    tiny = parksim.load_scenario(path, ["capacity.factory_floor_m2=1000"])
    i_floor = list(parksim.rules.indicators.INDICATORS).index("factory_floor_m2")
    for engine in ("fast", "simpy"):
        res = parksim.simulate(tiny, replications=3, seed=2, jobs=1, quiet=True, engine=engine)
        assert (res.values[:, :, i_floor] > 1000).all()  # the renters occupy far more than 1,000 m²
    wrong = parksim.load_scenario(path, ["capacity.factory_floor_m2=1000", "capacity.factory_occupied_m2=5000"])
    for engine in ("fast", "simpy"):
        with pytest.raises(parksim.ScenarioError, match="less than the floor space occupied at the start"):
            parksim.simulate(wrong, replications=2, seed=2, jobs=1, quiet=True, engine=engine)
    # raised in a thread's group, the error reaches the caller; the other groups end and the memory is released
    with pytest.raises(parksim.ScenarioError, match="less than the floor space occupied at the start"):
        runner.run_block(wrong, 2, range(8), threads=2, budget=1)
    assert len(pool._SPARE) == 0


def test_a_run_that_must_compile_the_engine_says_so_unless_quiet(root, monkeypatch, capsys):
    scn = root / "scenarios" / "xiushan-2024.toml"
    monkeypatch.setattr(cache, "needs_compiling", lambda: True)
    parksim.simulate(scn, replications=2, seed=1, jobs=1, engine="fast")
    assert "compiling the fast engine (once after installing" in capsys.readouterr().err
    parksim.simulate(scn, replications=2, seed=1, jobs=1, engine="fast", quiet=True)
    assert "compiling" not in capsys.readouterr().err
    monkeypatch.undo()
    runner.run_block(parksim.load_scenario(scn), 1, [0])
    assert not cache.needs_compiling()  # compiled in this process now


def test_compile_helper_signatures_follow_the_functions_parameters(root):
    # a first run on two cores compiles parts of the engine in a helper process from cache._signatures(); a renamed
    # or reordered parameter would make the helper compile a version the engine never calls (the first run would be
    # slow, not wrong): the parameters must be those the signatures describe, ending in the State and Plan bundles
    import inspect

    def params(f):
        return tuple(inspect.signature(f.py_func).parameters)

    parts = {"end": events._end_of_month, "events": events._events, "init": events._init_rep, "starting": firms._starting_firms}
    assert cache._PARTS == parts
    assert params(events._end_of_month) == ("r", "m", "pr", "Y", "seed", "park", "S", "P")
    assert params(events._events) == ("r", "m", "H", "Y", "seed", "park", "S", "P")
    assert params(events._init_rep) == ("r", "H", "Y", "seed", "park", "S", "P")
    assert params(firms._starting_firms) == ("r", "Y", "pr", "seed", "park", "S", "P")
    assert sorted(cache._HELPER_PARTS + cache._RUN_PARTS) == ["end", "events", "init", "starting"]  # each part compiled once
    scn = parksim.load_scenario(root / "scenarios" / "bench.toml")
    P = planning.plan(scn, 1, [0])
    blk = pool._Block(scn, P, [0], *planning._capacity(P))
    sigs = cache._signatures()
    assert {k: len(v) for k, v in sigs.items()} == {k: len(params(f)) for k, f in parts.items()}
    state, plan = blk.args(0, 1, 0, 1, 3, 0, P)[-2:]
    assert all(sig[-2:] == (numba.typeof(state), numba.typeof(plan)) for sig in sigs.values())


def test_the_compile_helper_needs_no_scenario(root):
    # the helper starts before the scenario is read and compiles for cache._signatures(): the types of every block's
    # arrays, whatever the scenario. A scenario whose arrays had other types would make the helper compile versions
    # the run never calls (slow, not wrong): every built-in scenario's must be the same, and the plan's dimensions
    for path in sorted((root / "scenarios").glob("*.toml")):
        scn = parksim.load_scenario(path)
        P = planning.plan(scn, 3, [0, 1])
        blk = pool._Block(scn, P, [0, 1], *planning._capacity(P))
        standard = {k: numba.typeof(a) for k, a in cache._standard_arrays().items()}
        assert {k: numba.typeof(getattr(blk, k) if hasattr(blk, k) else P[k]) for k in standard} == standard, path.name
        assert tuple(numba.typeof(a) for a in blk.args(0, 2, 0, 1, 3, 0, P)) == cache._entry_signature(), path.name
        arrays = {k: (v.ndim, v.dtype) for k, v in P.items() if k != "E"}  # (E: the levers' effects, read in Python)
        assert arrays == {k: (nd, np.dtype(np.float64)) for k, nd in cache._PLAN_NDIM.items()}


def test_no_compile_helper_when_nothing_needs_compiling(root, monkeypatch):
    import subprocess
    import sys

    from parksim.engines.fast import compiling as _compiling

    scn = parksim.load_scenario(root / "scenarios" / "bench.toml")
    runner.run_block(scn, 1, [0], threads=1)  # this process has the engine now
    started = []
    monkeypatch.setattr(_compiling, "start", lambda: started.append(1))
    cache._compile(threads=2)
    assert started == []
    # a helper the command started early is ended by the run that finds nothing to compile
    early = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(_compiling, "_EARLY", [early])
    cache._compile(threads=2)
    assert early.poll() is not None and _compiling.take() is None


def test_the_compile_helper_program_runs(tmp_path):
    # the helper's program, as the command starts it: here the engine is in the cache (the tests compiled it), so
    # it has nothing to do and ends at once, with status 0 (an import error would end it with status 1)
    import pickle
    import subprocess
    import sys

    from parksim.engines.fast import compiling as _compiling

    runner.run_block(parksim.load_scenario(Path(__file__).parents[1] / "scenarios" / "xiushan-2024.toml"), 1, [0])  # cached
    done = subprocess.run([sys.executable, "-c", _compiling._CODE], input=pickle.dumps(list(sys.path)), cwd=tmp_path, timeout=120)
    assert done.returncode == 0


def test_the_entry_function_is_compiled_without_reoptimising_its_parts():
    # cache._linked_as_compiled skips numba's whole-module re-optimisation for the functions named, in this thread, and puts
    # numba back as it was; the function still computes what it should
    from numba.core.codegen import CPUCodeLibrary

    seen = []
    original = CPUCodeLibrary._optimize_final_module

    def record(library):
        seen.append(library.name)
        return original(library)

    @numba.njit
    def part(x):
        return x * 2.0 + 1.0

    @numba.njit
    def entry_fn(x):
        return part(x) - 1.0

    CPUCodeLibrary._optimize_final_module = record
    try:
        with cache._linked_as_compiled(entry_fn):
            entry_fn.compile((numba.types.float64,))
        assert CPUCodeLibrary._optimize_final_module is record  # restored
    finally:
        CPUCodeLibrary._optimize_final_module = original
    assert [n.rsplit(".", 1)[-1] for n in seen if "<locals>" in n] == ["part"]  # entry_fn's was skipped
    assert entry_fn(3.0) == 6.0


def test_compiled_code_cache_is_refreshed_when_any_compiled_source_changes(tmp_path):
    # numba keys a cached function on its own file only: an edited rule must still make the engine recompile
    pkg = tmp_path / "pkg"
    for d in ("rules", "model", "engines/fast"):
        (pkg / d).mkdir(parents=True)
    for name, text in (("engines/fast/events.py", "a"), ("model/fastrand.py", "b"), ("rules/growth.py", "c"), ("rules/_ops.py", "d")):
        (pkg / name).write_text(text)
    before = sources.sources_digest(pkg)
    assert sources.sources_digest(pkg) == before
    (pkg / "rules" / "growth.py").write_text("c, edited")
    after = sources.sources_digest(pkg)
    assert after != before
    (pkg / "engines" / "fast" / "runner.py").write_text("not compiled into the engine")
    assert sources.sources_digest(pkg) == after
    (pkg / "model" / "park.py").write_text("a procedure")
    assert sources.sources_digest(pkg) != after
    (pkg / "model" / "park.py").unlink()
    assert sources.sources_digest(pkg) == after

    cache, rules_cache = tmp_path / "cache", tmp_path / "rules-cache"
    cache.mkdir()
    rules_cache.mkdir()
    ours = [
        cache / "events._advance-1.py311.nbi",
        cache / "events._advance-1.py311.1.nbc",
        cache / "fastrand.normal-2.py311.nbi",
        cache / "rounds._hnte_round-3.py311.nbi",
        rules_cache / "_ops._ndtri.locals.scalar-74.py311.1.nbc",
    ]
    others = [cache / "other.f-1.py311.nbi", cache / "events.cpython-311.pyc"]

    def fill():
        for f in ours + others:
            f.write_bytes(b"compiled")

    fill()
    assert jit._refresh_cache([cache, rules_cache], before) == 5  # no stamp: compiled from unknown sources
    assert not any(f.exists() for f in ours) and all(f.exists() for f in others)
    assert (cache / sources.SOURCES_STAMP).read_text().strip() == before
    fill()  # compiled again, from `before`
    assert jit._refresh_cache([cache, rules_cache], before) == 0 and all(f.exists() for f in ours)
    assert jit._refresh_cache([cache, rules_cache], after) == 5  # a rule changed
    assert not any(f.exists() for f in ours) and all(f.exists() for f in others)
    assert (cache / sources.SOURCES_STAMP).read_text().strip() == after
    assert not list(cache.glob("*.tmp"))


def test_the_package_cache_carries_the_digest_of_its_sources():
    from pathlib import Path

    stamps = list(Path(events._advance._cache._cache_path).glob(sources.SOURCES_STAMP))
    assert [s.read_text().strip() for s in stamps] == [sources.sources_digest(sources.PACKAGE)]


def test_large_arrays_are_fresh_zeroed_memory():
    # the blocks' large arrays come from anonymous memory (pool._fresh_zeros: no request for huge pages, which made a
    # run's first group twice as slow on this machine); they must behave as np.zeros does for the engine
    import mmap

    a = pool._fresh_zeros((3, 4, 5), np.int64)
    assert a.shape == (3, 4, 5) and a.dtype == np.int64 and (a == 0).all()
    assert a.flags.writeable and a.flags.c_contiguous and a.flags.aligned
    assert isinstance(a.base.base.obj, mmap.mmap)  # (array <- array <- memoryview of the mapping)
    a[2, 3, 4] = 7
    assert a.sum() == 7
    assert pool._fresh_zeros((0, 4), np.float64).shape == (0, 4)


def test_the_command_can_tell_from_the_cache_files_whether_the_engine_is_compiled(tmp_path, monkeypatch):
    # parksim.model.sources.entry_cached_beside_sources, read before numba is imported (the command then starts no
    # compile helper): True only when the stamp beside the engine's entry holds the digest of the sources as they
    # are and numba's index of the entry function for this Python is there
    import sys

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    pkg = tmp_path / "pkg"
    for d in ("rules", "model", "engines/fast/__pycache__"):
        (pkg / d).mkdir(parents=True)
    for name, text in (("engines/fast/events.py", "a"), ("model/park.py", "b"), ("rules/growth.py", "c")):
        (pkg / name).write_text(text)
    cache = pkg / "engines" / "fast" / "__pycache__"
    assert not sources.entry_cached_beside_sources(pkg)  # nothing compiled
    (cache / sources.SOURCES_STAMP).write_text(sources.sources_digest(pkg) + "\n")
    assert not sources.entry_cached_beside_sources(pkg)  # sources stamped, the entry not compiled
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    (cache / "events._advance-465.py27.nbi").write_bytes(b"index")
    assert not sources.entry_cached_beside_sources(pkg)  # compiled for another Python
    (cache / f"events._advance-465.{tag}.nbi").write_bytes(b"index")
    assert sources.entry_cached_beside_sources(pkg)
    (pkg / "rules" / "growth.py").write_text("c, edited")
    assert not sources.entry_cached_beside_sources(pkg)  # a rule changed since: the engine compiles again
    (pkg / "rules" / "growth.py").write_text("c")
    assert sources.entry_cached_beside_sources(pkg)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert not sources.entry_cached_beside_sources(pkg)  # cached elsewhere: not looked for (the helper starts)
    # and the engine's own cache is seen as compiled once a run has compiled it (numba caches beside the sources
    # when their folder is writable)
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    runner.run_block(parksim.load_scenario(Path(__file__).parents[1] / "scenarios" / "bench.toml"), 1, [0], threads=1)
    assert sources.entry_cached_beside_sources() == os.access(sources.PACKAGE / "engines" / "fast", os.W_OK)

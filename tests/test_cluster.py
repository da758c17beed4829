"""Runs on a Dask cluster (``--cluster``): results byte-identical to a local run's, a worker killed mid-run loses
nothing, ``--resume`` after the client stopped computes only the blocks the checkpoint lacks, and a bad address
is refused quickly, naming it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("distributed")

from conftest import synthetic_park_file  # noqa: E402

import parksim  # noqa: E402
from parksim.cli import CHECKPOINT, main  # noqa: E402
from parksim.errors import InputError  # noqa: E402
from parksim.experiments import cluster as C  # noqa: E402
from parksim.experiments import montecarlo as MC  # noqa: E402
from parksim.experiments.checkpoint import Checkpoint, saved_replications  # noqa: E402

VARIANT = 'extends = "small.toml"\nname = "More signings"\n[pipeline]\nsignings_per_month = 12.0\n'
N = 800  # replications: 8 blocks of 100 on 2 workers


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    path = synthetic_park_file(folder)
    (folder / "variant.toml").write_text(VARIANT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def session():
    """A LocalCluster of 2 worker processes, closed after the module's tests."""
    with C.connect("local:2") as s:
        s.client.wait_for_workers(2, timeout=60)
        yield s


@pytest.fixture(scope="module")
def local(small):
    return parksim.simulate(small, replications=N, seed=7, engine="fast", jobs=2, quiet=True)


class Bar:
    """A progress bar that calls ``hook(k)`` at its k-th update (k = 1, 2, ...): the run's blocks as they finish."""

    def __init__(self, hook):
        self.hook, self.updates = hook, 0

    def update(self, n):
        self.updates += 1
        self.hook(self.updates)

    def close(self):
        pass


def with_bar(monkeypatch, hook):
    monkeypatch.setattr(MC, "_progress", lambda total, quiet, desc: Bar(hook))


def test_cluster_run_writes_the_files_of_a_local_run(small, tmp_path):
    """--cluster local:2 (a cluster started and closed by the run): the same files, byte for byte, as a local run."""
    common = ["run", str(small), "-n", "300", "--seed", "5", "--engine", "fast", "-q"]
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--out", str(tmp_path / "cluster"), "--cluster", "local:2"]) == 0
    for name in ("targets.csv", "annual.parquet", "quantiles.csv", "gaps.csv"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "cluster" / name).read_bytes(), name
    man = json.loads((tmp_path / "cluster" / "manifest.json").read_text())
    assert man["cluster"] == "local:2" and json.loads((tmp_path / "local" / "manifest.json").read_text())["cluster"] is None
    assert not (tmp_path / "cluster" / CHECKPOINT).exists()


def test_cluster_values_equal_local_for_both_engines(small, session, local):
    got = parksim.simulate(small, replications=N, seed=7, engine="fast", quiet=True, cluster=session)
    assert np.array_equal(got.values, local.values, equal_nan=True)
    assert got.cluster == "local:2"
    simpy_local = parksim.simulate(small, replications=12, seed=7, engine="simpy", jobs=1, quiet=True)
    simpy_cluster = parksim.simulate(small, replications=12, seed=7, engine="simpy", quiet=True, cluster=session)
    assert np.array_equal(simpy_cluster.values, simpy_local.values, equal_nan=True)


def test_cluster_compare_equals_local(small, session):
    variant = small.parent / "variant.toml"
    here = parksim.compare(small, [variant], replications=200, seed=3, engine="fast", jobs=2, quiet=True)
    there = parksim.compare(small, [variant], replications=200, seed=3, engine="fast", quiet=True, cluster=session)
    for a, b in zip(here.results, there.results, strict=True):
        assert np.array_equal(a.values, b.values, equal_nan=True)
    assert here.table.equals(there.table)


def test_a_worker_killed_mid_run_loses_nothing(small, session, local, monkeypatch):
    """After the first block finishes, a worker busy with another block is killed (SIGKILL): its block is run again
    elsewhere, and the result equals a local run's."""
    client = session.client
    pids = client.run(os.getpid)
    killed = []

    def kill(k):
        if k == 1:
            busy = [(w, keys) for w, keys in client.processing().items() if keys and w in pids]
            assert busy, "no block in flight to lose"
            os.kill(pids[busy[0][0]], signal.SIGKILL)
            killed.extend(busy[0][1])

    with_bar(monkeypatch, kill)
    got = parksim.simulate(small, replications=N, seed=7, engine="fast", cluster=session)
    assert np.array_equal(got.values, local.values, equal_nan=True)
    # the lost block was computed again (its story on the scheduler: processing on two workers)
    story = [t for t in client.story(killed[0]) if t[0] == "scheduler"]
    assert sum(t[3] == "processing" for t in story) >= 2, story
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    assert set(client.run(os.getpid).values()) != set(pids.values())


def test_resume_after_the_client_stopped_computes_only_missing_blocks(small, session, local, monkeypatch, tmp_path):
    ckpt = tmp_path / CHECKPOINT

    def stop(k):
        if k == 3:
            raise KeyboardInterrupt

    with_bar(monkeypatch, stop)
    with pytest.raises(KeyboardInterrupt):
        parksim.simulate(small, replications=N, seed=7, engine="fast", cluster=session, checkpoint=ckpt)
    kept = saved_replications(ckpt)
    assert kept == 300  # three blocks of 100, in whatever order they finished
    asked = []
    run_ranges = C.ClusterRunner.run_ranges

    def counted(self, ranges, progress=None, finished=None):
        asked.extend(ranges)
        return run_ranges(self, ranges, progress, finished)

    monkeypatch.setattr(C.ClusterRunner, "run_ranges", counted)
    with_bar(monkeypatch, lambda k: None)
    got = parksim.simulate(small, replications=N, seed=7, engine="fast", cluster=session, checkpoint=ckpt, resume=True)
    assert sum(b - a for a, b in asked) == N - kept  # no finished block is computed again
    assert np.array_equal(got.values, local.values, equal_nan=True)
    # a local run reads the blocks of a cluster's checkpoint too
    assert np.array_equal(
        parksim.simulate(small, replications=N, seed=7, engine="fast", jobs=2, quiet=True, checkpoint=ckpt, resume=True).values,
        local.values,
        equal_nan=True,
    )


def test_checkpoint_blocks_in_any_order(small, tmp_path):
    """An any-order checkpoint keeps blocks as they finish; one written in order is rewritten when a cluster continues it."""
    scn = parksim.load_scenario(small)
    values = MC.simpy_values(scn, 1, range(6))
    path = tmp_path / "c.blocks"
    ck = Checkpoint(path, scn, 1, "simpy", any_order=True)
    ck.add(values[4:6], 4)
    ck.add(values[0:2], 0)
    blocks = Checkpoint(path, scn, 1, "simpy").load_blocks()
    assert [(a, len(v)) for a, v in blocks] == [(0, 2), (4, 2)]
    assert np.array_equal(Checkpoint(path, scn, 1, "simpy").load(), values[:2], equal_nan=True)  # the contiguous start
    in_order = tmp_path / "d.blocks"
    Checkpoint(in_order, scn, 1, "simpy").add(values[:2], 0)
    ck = Checkpoint(in_order, scn, 1, "simpy", any_order=True)
    ck.load_blocks()
    ck.add(values[4:6], 4)
    assert [(a, len(v)) for a, v in Checkpoint(in_order, scn, 1, "simpy").load_blocks()] == [(0, 2), (4, 2)]


def test_bad_address_is_refused_quickly_naming_it(small, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(C, "CONNECT_TIMEOUT", 2.0)
    t = time.perf_counter()
    rc = main(["run", str(small), "-n", "10", "-q", "--out", str(tmp_path / "o"), "--cluster", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert rc == 2 and "tcp://127.0.0.1:9" in err and "Traceback" not in err, err
    assert time.perf_counter() - t < 15
    with pytest.raises(InputError, match="local:0"):
        C.connect("local:0")
    monkeypatch.setitem(sys.modules, "distributed", None)  # not installed
    with pytest.raises(InputError, match=r"pip install 'parksim\[cluster\]'"):
        C.connect("local:2")


def test_a_local_run_does_not_load_distributed(small):
    code = (
        "import sys, parksim\n"
        f"parksim.simulate({str(small)!r}, replications=2, seed=1, engine='simpy', jobs=1, quiet=True)\n"
        "assert 'distributed' not in sys.modules and 'dask' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

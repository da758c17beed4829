"""Nothing half-done looks done: a run killed while writing leaves no manifest beside other files; one run at
a time in a folder (a lock naming its holder, taken over from a dead process); no leftover ``.part`` files;
SimPy worker processes die with their parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_park

from parksim.cli import main
from parksim.experiments.lock import LOCK_NAME, OutputLock
from parksim.scenario.loader import load_scenario, scenario_hash

ROOT = Path(__file__).resolve().parents[1]
PARK = tiny_park("Lock park")


@pytest.fixture
def park(tmp_path):
    path = tmp_path / "park.toml"
    path.write_text(PARK, encoding="utf-8")
    return path


def env():
    return {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def consistent(out: Path, park: Path) -> bool:
    """No manifest, or a manifest that describes the data files beside it."""
    if not (out / "manifest.json").exists():
        return True
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    t = pd.read_csv(out / "targets.csv")
    annual = pd.read_parquet(out / "annual.parquet")
    return (
        int(t.replications.iloc[0]) == m["replications"]
        and annual.replication.nunique() == m["replications"]
        and set(annual.seed.unique()) == {m["seed"]}
        and m["scenario_sha256"] == scenario_hash(load_scenario(park))
    )


KILL_DURING_WRITE = """
import sys, time
from pathlib import Path
import parksim.results.report_files as rf
from parksim.cli import main

stop_after, marker = sys.argv[1], Path(sys.argv[2])
real_text, real_any = rf.atomic_write_text, rf.atomic_write

def hold(path):
    if Path(path).name == stop_after:
        marker.write_text("written")
        time.sleep(120)

def text(path, t):
    p = real_text(path, t); hold(path); return p

def any_(path, w):
    p = real_any(path, w); hold(path); return p

rf.atomic_write_text, rf.atomic_write = text, any_
import parksim.results.output as output  # (the figures are saved by figure_helper.write_figure through it)
output.atomic_write = any_
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("stop_after", ["targets.csv", "annual.parquet", "fan.png"])
def test_run_killed_while_writing_over_an_older_run_leaves_no_mismatched_manifest(capsys, tmp_path, park, stop_after):
    """Before: the old manifest.json stayed beside the new data files (3 of 3 trials)."""
    out = tmp_path / "out"
    assert run(capsys, "run", park, "-n", "4", "--seed", "1", "-j", "1", "--engine", "simpy", "-q", "--out", out)[0] == 0
    assert (out / "manifest.json").exists() and consistent(out, park)
    marker = tmp_path / "marker"
    script = tmp_path / "kill_during_write.py"
    script.write_text(textwrap.dedent(KILL_DURING_WRITE), encoding="utf-8")
    argv = ["run", str(park), "-n", "7", "--seed", "2", "-j", "1", "--engine", "simpy", "-q", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, str(script), stop_after, str(marker), *argv], env=env())
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the run ended before its write phase"
            assert time.monotonic() < deadline, "the run never reached its write phase"
            time.sleep(0.05)
        assert pd.read_csv(out / "targets.csv").replications.iloc[0] == 7  # new data files are in place
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not (out / "manifest.json").exists()
    assert consistent(out, park)
    # the next run takes over the dead run's lock and completes the folder
    assert run(capsys, "run", park, "-n", "7", "--seed", "2", "-j", "1", "--engine", "simpy", "-q", "--out", out)[0] == 0
    assert consistent(out, park) and (out / "manifest.json").exists() and not (out / LOCK_NAME).exists()


def test_second_run_into_a_locked_folder_is_refused_naming_the_holder(capsys, tmp_path, park):
    out = tmp_path / "out"
    with OutputLock(out):
        holder = json.loads((out / LOCK_NAME).read_text(encoding="utf-8"))
        assert holder["pid"] == os.getpid()
        rc, _, err = run(capsys, "run", park, "-n", "3", "-j", "1", "--engine", "simpy", "-q", "--out", out)
        assert rc == 2 and "Traceback" not in err
        assert f"is in use by parksim process {os.getpid()} on " in err and "choose another --out" in err
        assert not (out / "manifest.json").exists()
        rc, _, err = run(capsys, "compare", park, park, "-n", "3", "-j", "1", "--engine", "simpy", "-q", "--out", out)
        assert rc == 2 and "is in use by parksim process" in err
    assert not (out / LOCK_NAME).exists()
    assert run(capsys, "run", park, "-n", "3", "-j", "1", "--engine", "simpy", "-q", "--out", out)[0] == 0
    assert not (out / LOCK_NAME).exists()


def test_stale_lock_of_a_dead_process_is_taken_over(capsys, tmp_path, park):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": "here", "started": "earlier", "command": "parksim run"}))
    rc, _, err = run(capsys, "run", park, "-n", "3", "-j", "1", "--engine", "simpy", "-q", "--out", out)
    assert rc == 0, err
    assert (out / "manifest.json").exists() and not (out / LOCK_NAME).exists()


def test_lock_held_by_a_killed_process_is_released_by_the_kernel(capsys, tmp_path, park):
    out = tmp_path / "out"
    code = f"from parksim.experiments.lock import OutputLock; import time; OutputLock({str(out)!r}).acquire(); print('locked', flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env(), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        rc, _, err = run(capsys, "run", park, "-n", "3", "-j", "1", "--engine", "simpy", "-q", "--out", out)
        assert rc == 2 and f"parksim process {proc.pid}" in err
    finally:
        proc.kill()
        proc.wait()
    assert run(capsys, "run", park, "-n", "3", "-j", "1", "--engine", "simpy", "-q", "--out", out)[0] == 0


def test_stale_part_files_are_removed(capsys, tmp_path, park):
    out = tmp_path / "out"
    (out / "scenarios" / "base").mkdir(parents=True)
    stale = [out / ".targets.csv.k2j3h4.part", out / ".annual.parquet.x.part", out / "scenarios" / "base" / ".fan.png.y.part"]
    for p in stale:
        p.write_text("half")
    keep = out / "notes.part"  # not a hidden write of parksim's
    keep.write_text("mine")
    assert run(capsys, "run", park, "-n", "3", "-j", "1", "--engine", "simpy", "-q", "--out", out)[0] == 0
    assert not any(p.exists() for p in stale) and keep.exists()


def test_out_pointing_at_a_file_is_a_clean_error(capsys, tmp_path, park):
    f = tmp_path / "file"
    f.write_text("x")
    rc, _, err = run(capsys, "run", park, "-n", "3", "-j", "1", "--engine", "simpy", "-q", "--out", f)
    assert rc == 2 and f"--out {f}: is a file; expected a directory" in err
    rc, _, err = run(capsys, "trace", park, "--out", f)
    assert rc == 2 and f"--out {f}: is a file; expected a directory" in err and "Errno" not in err


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the worker processes")
def test_simpy_workers_die_with_a_killed_parent(tmp_path, park):
    """Before: after SIGKILL on the run, both workers lived on (parent PID 1) for over 90 s."""
    argv = [
        sys.executable,
        "-m",
        "parksim",
        "run",
        str(park),
        "-n",
        "20000",
        "--engine",
        "simpy",
        "-j",
        "2",
        "-q",
        "--out",
        str(tmp_path / "o"),
    ]
    proc = subprocess.Popen(argv, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the run did not start its 2 workers"
            time.sleep(0.1)
            workers = _children(proc.pid)
        time.sleep(1.0)  # the workers have run their initializer
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [w for w in workers if _alive(w)]
    for w in alive:  # do not leave them behind if the test fails
        os.kill(w, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their parent"

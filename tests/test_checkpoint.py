"""Checkpoints grow by appending one block per batch, and a resume validates them: a corrupt, forged or
foreign checkpoint exits 2 with a message naming the file; a save cut short by an interruption is dropped and
its replications run again, giving the same files as an uninterrupted run."""

from __future__ import annotations

import json
import struct

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_park

import parksim
from parksim.cli import CHECKPOINT, main
from parksim.experiments.checkpoint import MAGIC, Checkpoint, saved_replications
from parksim.experiments.montecarlo import load_checkpoint, save_checkpoint
from parksim.experiments.result import _INDEX

PARK = tiny_park("Checkpoint park")
RUN = ["-n", "30", "--seed", "1", "-j", "1", "--engine", "simpy", "-q"]


@pytest.fixture
def park(tmp_path):
    path = tmp_path / "park.toml"
    path.write_text(PARK, encoding="utf-8")
    return path


def first_batch(park, ckpt, n=10):
    """The checkpoint an interrupted run leaves: its first batch of ``n`` replications."""
    return parksim.simulate(park, replications=n, batch=n, seed=1, jobs=1, quiet=True, checkpoint=ckpt, engine="simpy")


def resume(capsys, park, out):
    rc = main([*map(str, ["run", park, *RUN, "--out", out, "--resume"])])
    o, e = capsys.readouterr()
    return rc, o, e


def test_checkpoint_grows_by_appending_blocks(park, tmp_path):
    ckpt = tmp_path / "c.blocks"
    first_batch(park, ckpt)
    head = ckpt.read_bytes()
    parksim.simulate(park, replications=30, batch=10, seed=1, jobs=1, quiet=True, checkpoint=ckpt, resume=True, engine="simpy")
    grown = ckpt.read_bytes()
    block = 4 + 3 * 8 + 32 + 10 * 2 * len(_INDEX) * 8  # tag, start, count, bytes, SHA-256, 10 x 2 years x columns
    assert grown[: len(head)] == head  # nothing before is rewritten
    assert len(grown) == len(head) + 2 * block
    assert saved_replications(ckpt) == 30


def test_resume_from_a_cut_short_save_equals_an_uninterrupted_run(capsys, park, tmp_path):
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    parksim.simulate(park, replications=20, batch=10, seed=1, jobs=1, quiet=True, checkpoint=out / CHECKPOINT, engine="simpy")
    path = out / CHECKPOINT
    path.write_bytes(path.read_bytes()[:-100])  # killed while appending the second block
    assert saved_replications(path) == 10
    rc, _, err = resume(capsys, park, out)
    assert rc == 0, err
    assert main([*map(str, ["run", park, *RUN, "--out", fresh])]) == 0
    capsys.readouterr()
    for name in ["targets.csv", "quantiles.csv", "binding.csv"]:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert pd.read_parquet(out / "annual.parquet").equals(pd.read_parquet(fresh / "annual.parquet"))


def _header_end(raw: bytes) -> int:
    (n,) = struct.unpack_from("<Q", raw, len(MAGIC))
    return len(MAGIC) + 8 + n


def _corrupt(kind: str, path, park):
    raw = path.read_bytes()
    h = _header_end(raw)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random bytes":
        path.write_bytes(np.random.default_rng(5).bytes(5000))
    elif kind == "old single-array file":
        with open(path, "wb") as fh:
            np.savez(fh, values=np.zeros((10, 2, len(_INDEX))))
    elif kind == "truncated header":
        path.write_bytes(raw[: len(MAGIC) + 12])
    elif kind == "header of absurd length":
        path.write_bytes(MAGIC + struct.pack("<Q", 2**62) + raw[len(MAGIC) + 8 :])
    elif kind == "missing keys":
        head = json.loads(raw[len(MAGIC) + 8 : h])
        del head["names"]
        b = json.dumps(head).encode()
        path.write_bytes(MAGIC + struct.pack("<Q", len(b)) + b + raw[h:])
    elif kind == "wrong shape":
        tag, start, n, nbytes, digest = struct.unpack_from("<4sQQQ32s", raw, h)
        path.write_bytes(raw[:h] + struct.pack("<4sQQQ32s", tag, start, n + 1, nbytes, digest) + raw[h + 60 :])
    elif kind == "not a block":
        path.write_bytes(raw[:h] + b"XXXX" + raw[h + 4 :])
    elif kind == "checksum":
        b = bytearray(raw)
        b[-3] ^= 0xFF
        path.write_bytes(bytes(b))
    elif kind == "directory":
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "not a parksim checkpoint"),
        ("random bytes", "not a parksim checkpoint"),
        ("old single-array file", "not a parksim checkpoint"),
        ("truncated header", "cut short in its header"),
        ("header of absurd length", "absurd length"),
        ("missing keys", "header lacks ['names']"),
        ("wrong shape", "expected replications from 0 with"),
        ("not a block", "is not a block"),
        ("checksum", "fails its checksum"),
        ("directory", "is a directory"),
    ],
)
def test_corrupt_checkpoint_is_refused_on_resume(capsys, park, tmp_path, kind, message):
    """Before: tracebacks for every one of these."""
    out = tmp_path / "out"
    first_batch(park, out / CHECKPOINT)
    _corrupt(kind, out / CHECKPOINT, park)
    rc, _, err = resume(capsys, park, out)
    assert rc == 2 and "Traceback" not in err
    assert str(out / CHECKPOINT) in err and message in err, err
    assert not (out / "manifest.json").exists()


@pytest.mark.parametrize(
    ("indicator", "value", "message"),
    [
        ("firms", -5.0, "firms = -5 (expected at least 0)"),
        ("total_output", 1e300, None),  # finite and non-negative: a big number is not impossible in itself
        ("total_output", np.nan, "total_output = nan"),
        ("hnte_share", 250.0, "hnte_share = 250 (expected a share from 0 to 100 %)"),
        ("output_growth", -150.0, "output_growth = -150 (expected at least -100 %)"),
        ("workers", np.inf, "workers = inf"),
    ],
)
def test_forged_checkpoint_with_the_right_hash_is_checked_value_by_value(capsys, park, tmp_path, indicator, value, message):
    """Before: a checkpoint with the right hash and absurd values was accepted silently."""
    out = tmp_path / "out"
    scn = parksim.load_scenario(park)
    values = first_batch(park, tmp_path / "real.blocks").values.copy()
    values[3, 1, _INDEX[indicator]] = value
    save_checkpoint(out / CHECKPOINT, scn, 1, values, "simpy")
    if message is None:
        assert np.array_equal(load_checkpoint(out / CHECKPOINT, scn, 1, "simpy"), values, equal_nan=True)
        return
    rc, _, err = resume(capsys, park, out)
    assert rc == 2 and "Traceback" not in err and "invalid checkpoint" in err
    assert f"replication 3, year 2024: {message}" in err, err


def test_checkpoint_of_another_run_names_what_differs(capsys, park, tmp_path):
    out = tmp_path / "out"
    parksim.simulate(park, replications=10, batch=10, seed=2, jobs=1, quiet=True, checkpoint=out / CHECKPOINT, engine="simpy")
    rc, _, err = resume(capsys, park, out)
    assert rc == 2 and "checkpoint of another scenario, seed or parksim version" in err and "invalid checkpoint" in err


def test_a_header_only_checkpoint_resumes_from_zero(park, tmp_path):
    scn = parksim.load_scenario(park)
    ckpt = tmp_path / "c.blocks"
    save_checkpoint(ckpt, scn, 1, np.empty((0, 2, len(_INDEX))), "simpy")
    got = Checkpoint(ckpt, scn, 1, "simpy").load()
    assert got is not None and got.shape == (0, 2, len(_INDEX))


def test_sigkill_mid_run_then_resume_gives_identical_files(capsys, park, tmp_path):
    """A real interruption: the run is killed once its first batch (200 SimPy replications) is saved."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    argv = ["run", str(park), "-n", "400", "--seed", "3", "-j", "1", "--engine", "simpy", "-q"]
    env = {**os.environ, "PYTHONPATH": str(root / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "parksim", *argv, "--out", str(out)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not ((out / CHECKPOINT).exists() and saved_replications(out / CHECKPOINT) >= 200):
            assert proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not (out / "manifest.json").exists()
    assert main([*argv, "--out", str(out), "--resume"]) == 0
    assert main([*argv, "--out", str(fresh)]) == 0
    capsys.readouterr()
    for name in ["targets.csv", "quantiles.csv", "binding.csv", "shortfall.csv"]:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert pd.read_parquet(out / "annual.parquet").equals(pd.read_parquet(fresh / "annual.parquet"))
    assert not (out / CHECKPOINT).exists()

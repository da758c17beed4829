"""The fast batch engine: reproducibility whatever the threads and blocks, and its wiring into runs.

Agreement with the SimPy engine in distribution is tested per scenario in
``tests/test_engine_agreement.py``.
"""

from __future__ import annotations

import json

import numpy as np

import parksim
from parksim import _engine_fast as E
from parksim._cli import main


def test_same_values_for_any_threads_and_blocks(root):
    scn = parksim.load_scenario(root / "scenarios" / "xiushan-2024.toml")
    whole = E.run_block(scn, 11, range(12), threads=1)
    threaded = E.run_block(scn, 11, range(12), threads=2)
    split = np.concatenate([E.run_block(scn, 11, range(0, 5), threads=2), E.run_block(scn, 11, range(5, 12), threads=1)])
    np.testing.assert_array_equal(whole, threaded)
    np.testing.assert_array_equal(whole, split)
    other_seed = E.run_block(scn, 12, range(12), threads=1)
    assert not np.array_equal(whole, other_seed)


def test_run_with_the_fast_engine_records_it(root, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", str(root / "scenarios" / "xiushan-2024.toml"), "-n", "40", "--engine", "fast", "--out", str(out), "-q"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"] == "fast"
    assert manifest["replications"] == 40

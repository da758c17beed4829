"""simulate and trace replay the run's replication with the chosen engine, for one park of a portfolio if asked."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim.cli import main


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_simulate_replays_the_runs_replication_with_its_engine(root, tmp_path, engine):
    path = root / "scenarios" / "xiushan-2024.toml"
    res = parksim.simulate(path, replications=3, seed=5, jobs=1, quiet=True, engine=engine)
    one = parksim.simulate_one(path, seed=5, replication=2, engine=engine).set_index(["year", "indicator"]).value
    for ind in ["total_output", "hnte_valid", "industrial_workers", "rd_intensity"]:
        for y in res.years:
            assert one.loc[(y, ind)] == res.value(ind, y)[2], (ind, y)


def test_simulate_a_park_of_a_portfolio_equals_its_values_in_the_portfolio_run(root):
    path = root / "scenarios" / "ningxia-2025.toml"
    res = parksim.simulate(path, replications=2, seed=3, jobs=1, quiet=True, engine="simpy")
    park = list(res.parks)[2]
    one = parksim.simulate_one(path, seed=3, replication=1, engine="simpy", park=park).set_index(["year", "indicator"]).value
    for ind in ["total_output", "hnte_valid", "rd_intensity"]:
        assert [one.loc[(y, ind)] for y in res.years] == res.parks[park].value_matrix(ind)[1].tolist()


def test_simulate_prints_engine_counts_as_integers_and_targets_met(root, capsys):
    path = root / "scenarios" / "xiushan-2024.toml"
    assert main(["simulate", str(path), "--seed", "2", "--engine", "simpy"]) == 0
    text = capsys.readouterr().out
    assert "replication 0 of seed 2, simpy engine" in text and "parksim run --seed 2 --engine simpy" in text
    workers = re.search(r"^industrial_workers \[persons\] +(\S+) +(\S+)$", text, flags=re.M)
    assert workers and all(re.fullmatch(r"[\d,]+", v) for v in workers.groups())  # whole persons, no decimals
    m = re.search(r"targets met in this replication: (\d+) of (\d+)", text)
    one = parksim.simulate_one(path, seed=2, engine="simpy").set_index(["year", "indicator"]).value
    scn = parksim.load_scenario(path)
    from parksim.experiments.result import expand_targets
    from parksim.experiments.stats import compare

    specs = expand_targets(scn)
    expected = sum(bool(compare(np.array([one.loc[(s.year, s.indicator)]]), s.comparison, s.threshold)[0]) for s in specs)
    assert (int(m.group(1)), int(m.group(2))) == (expected, len(specs))
    assert "assessment status after each year's assessment: 2023 " in text


def test_park_option_errors(root, capsys):
    path = str(root / "scenarios" / "ningxia-2025.toml")
    assert main(["simulate", path]) == 2
    assert "choose one with --park NAME, one of ['A-materials'" in capsys.readouterr().err
    assert main(["simulate", path, "--park", "Z"]) == 2
    assert "--park 'Z': not a park of" in capsys.readouterr().err
    assert main(["simulate", str(root / "scenarios" / "xiushan-2024.toml"), "--park", "Z"]) == 2
    assert "is a single park" in capsys.readouterr().err


def test_trace_a_park_of_a_portfolio(root, tmp_path, capsys):
    path = str(root / "scenarios" / "ningxia-2025.toml")
    logs = {}
    for park in ["A-materials", "E-new-zone"]:
        assert main(["trace", path, "--park", park, "--seed", "2", "--out", str(tmp_path / park)]) == 0
        logs[park] = pd.read_csv(tmp_path / park / "events.csv")
        assert f"({park}), SimPy engine" in capsys.readouterr().out
    assert len(logs["A-materials"]) and len(logs["E-new-zone"])
    assert not logs["A-materials"].equals(logs["E-new-zone"])  # each park's own projects and firms
    assert main(["trace", path, "--seed", "2", "--out", str(tmp_path / "x")]) == 2
    assert "choose one with --park NAME" in capsys.readouterr().err

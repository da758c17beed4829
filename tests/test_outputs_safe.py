"""A run's outputs are numbers and safe text: a non-finite indicator is an error naming indicator, year and
replication (nothing written); ALL is never a target label; CSV labels never become spreadsheet formulas."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_park

import parksim
from parksim.cli import main
from parksim.experiments import montecarlo as _montecarlo
from parksim.results.output import csv_text, neutralise
from parksim.scenario.finite import ResultError, check_finite

PARK = tiny_park("Output park", target=False)


def target(label: str, threshold: float = 1.0) -> str:
    return f'[[targets]]\nlabel = "{label}"\nindicator = "firms"\nthreshold = {threshold}\nyear = 2024\n'


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_check_finite_names_indicator_year_and_replication():
    names = ["total_output", "output_growth", "firms"]
    v = np.zeros((4, 2, 3))
    v[:, 0, 1] = np.nan  # growth over a zero base: undefined, not an error
    check_finite(v, names, 2023, 7, assessed=False)
    v[2, 1, 0] = np.inf
    v[3, 0, 2] = np.nan
    with pytest.raises(ResultError) as info:
        check_finite(v, names, 2023, 7, assessed=False)
    msg = str(info.value)
    assert "replication 2, year 2024: total_output = inf" in msg and "replication 3, year 2023: firms = nan" in msg
    assert "seed 7" in msg and "Nothing was written" in msg


def test_non_finite_results_fail_the_run_and_write_nothing(capsys, tmp_path, monkeypatch):
    """Before: inf and NaN totals were written and reported as numbers, exit 0."""
    path = tmp_path / "p.toml"
    path.write_text(PARK, encoding="utf-8")
    real = _montecarlo._Runner.run

    def poisoned(self, start, stop, progress=None, last=False):
        out = real(self, start, stop, progress, last)
        out[1, 1, _montecarlo._INDEX["total_output"]] = np.inf
        return out

    monkeypatch.setattr(_montecarlo._Runner, "run", poisoned)
    out_dir = tmp_path / "o"
    rc, _, err = run(capsys, "run", path, "-n", "3", "--engine", "simpy", "-j", "1", "-q", "--out", out_dir)
    assert rc == 2 and "Traceback" not in err
    assert "replication 1, year 2024: total_output = inf" in err
    assert not (out_dir / "manifest.json").exists() and not (out_dir / "targets.csv").exists()


def test_write_refuses_a_result_with_non_finite_values(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PARK, encoding="utf-8")
    res = parksim.simulate(path, replications=3, seed=1, jobs=1, quiet=True, engine="simpy")
    res.values[0, 0, _montecarlo._INDEX["firms"]] = -np.inf
    with pytest.raises(ResultError, match="replication 0, year 2023: firms = -inf"):
        res.write(tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("label", ["ALL", "all", " ALL "])
def test_a_target_labelled_all_is_refused(capsys, tmp_path, label):
    """Before: two ALL rows, and the report said every target is met with probability 1 when it was 0."""
    path = tmp_path / "p.toml"
    path.write_text(PARK + target(label, 1e9) + target("firms met"), encoding="utf-8")
    rc, _, err = run(capsys, "validate", path)
    assert rc == 2 and "targets.0.label" in err and "reserved for the row of every target" in err


def test_csv_labels_are_neutralised_and_parquet_json_keep_them(capsys, tmp_path):
    labels = ["=HYPERLINK(1)", "+1+1", "-2", "@SUM(A1)", "plain"]
    path = tmp_path / "p.toml"
    path.write_text(PARK + "".join(target(x, 1e9) for x in labels), encoding="utf-8")
    out_dir = tmp_path / "o"
    rc, _, err = run(capsys, "run", path, "-n", "4", "-q", "--engine", "simpy", "-j", "1", "--out", out_dir)
    assert rc == 0, err
    for name in ["targets.csv", "binding.csv", "shortfall.csv"]:
        column = pd.read_csv(out_dir / name, keep_default_na=False)["target"].tolist()
        assert set(column) - {"ALL"} == {"'=HYPERLINK(1)", "'+1+1", "'-2", "'@SUM(A1)", "plain"}, (name, column)
        raw = (out_dir / name).read_text(encoding="utf-8")
        assert not any(line.startswith(("=", "+", "-", "@")) for line in raw.splitlines())
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert [t["label"] for t in manifest["scenario"]["targets"]] == labels
    # numbers stay numbers: thresholds and probabilities are not touched
    t = pd.read_csv(out_dir / "targets.csv")
    assert t.threshold.iloc[0] == 1e9 and t.p_met.dtype == float


def test_csv_text_only_touches_text():
    df = pd.DataFrame({"label": ["=a", "b", None], "x": [-1.5, 2.0, 3.0], "=col": pd.Categorical(["-c", "d", "d"])})
    lines = csv_text(df).splitlines()
    assert lines[0] == "label,x,'=col" and lines[1] == "'=a,-1.5,'-c" and lines[3] == ",3.0,d"
    assert neutralise("\tx") == "'\tx" and neutralise("x=1") == "x=1"


def test_trace_neutralises_project_ids(capsys, tmp_path):
    (tmp_path / "p.csv").write_text(
        "project_id,signing_date,sector,mode,floor_space_m2,land_mu,planned_output\n=cmd|x,2023-02,a,rent,2000,,6000\n", encoding="utf-8"
    )
    path = tmp_path / "p.toml"
    text = PARK.replace("signings_per_month = 2.0", 'signings_per_month = 2.0\nknown_projects = "p.csv"')
    path.write_text(text, encoding="utf-8")
    rc, _, err = run(capsys, "trace", path, "--out", tmp_path / "t")
    assert rc == 0, err
    ev = (tmp_path / "t" / "events.csv").read_text(encoding="utf-8")
    assert "'=cmd|x" in ev and "\n=cmd" not in ev and ",=cmd" not in ev


def test_unlimited_factory_floor_is_a_choice_not_an_error(capsys, tmp_path):
    """inf means no limit to the floor space: accepted without a warning, and its year-end indicator is inf."""
    path = tmp_path / "p.toml"
    path.write_text(PARK + "[capacity]\nfactory_floor_m2 = inf\n", encoding="utf-8")
    rc, _, err = run(capsys, "run", path, "-n", "3", "-q", "--engine", "simpy", "-j", "1", "--out", tmp_path / "o")
    assert rc == 0 and "warning" not in err, err
    a = pd.read_parquet(tmp_path / "o" / "annual.parquet")
    assert np.isposinf(a[a.indicator == "factory_floor_m2"].value).all()
    assert a[a.indicator == "factory_utilisation"].value.isna().all()
    assert (a[a.indicator == "total_output"].value > 0).all()

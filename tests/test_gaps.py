"""What holds the park back: gap table (known answers on constructed runs), assessment result, the run's answer."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from parksim.cli import main
from parksim.experiments.result import _INDEX, TargetSpec, make_result
from parksim.experiments.stats import wilson
from parksim.results.gaps import format_gaps, gap_table, shortfall
from parksim.scenario.loader import scenario_from_dict

PARK = {
    "name": "Gap park",
    "simulation": {"start_year": 2023, "years": 2},
    "sectors": {"a": {}},
    "baseline": {"sectors": {"a": {"firms": 10}}},
    "targets": [
        {"label": "output", "indicator": "total_output", "comparison": ">", "threshold": 100.0, "year": 2024},
        {"label": "hnte", "indicator": "hnte_valid", "comparison": ">=", "threshold": 60.0, "year": 2024},
        {"label": "share", "indicator": "tech_based_share", "comparison": ">=", "threshold": 50.0, "year": 2024},
        {"label": "energy", "indicator": "firms", "comparison": "<=", "threshold": 40.0, "year": 2024},
    ],
}


def _run(values_by_indicator: dict, n: int):
    scn = scenario_from_dict(PARK)
    specs = [TargetSpec(t.label, t.indicator, int(t.year), t.comparison, t.threshold) for t in scn.targets]
    values = np.full((n, 2, len(_INDEX)), np.nan)
    for name, v in values_by_indicator.items():
        values[:, 1, _INDEX[name]] = v
    return make_result(scn, 1, values, specs)


def test_shortfall_known_answers():
    assert shortfall(np.array([50.0, 65.0, 60.0]), ">=", 60.0).tolist() == [10.0, 0.0, 0.0]
    assert shortfall(np.array([2.0, 4.0]), "<=", 3.0).tolist() == [0.0, 1.0]
    assert shortfall(np.array([5.0]), "==", 3.0).tolist() == [2.0]


def test_gap_table_known_answers_and_order():
    n = 10
    res = _run(
        {
            "total_output": np.arange(95.0, 105.0),  # 95..104: > 100 met by 101..104 -> 4 of 10; median 99.5
            "hnte_valid": np.full(n, 30.0),  # never met; median 30, gap 30 = 50% of 60
            "tech_based_share": np.full(n, 10.0),  # never met; gap 40 = 80% of 50: holds the park back more than hnte
            "firms": np.array([30.0] * 8 + [45.0, 50.0]),  # <= 40 met 8 of 10; shortfall 5 and 10 when missed
        },
        n,
    )
    g = res.gaps.set_index("target")
    # order: P(met) ascending, ties (share and hnte at 0) by relative gap at the median, largest first
    assert res.gaps.target.tolist() == ["share", "hnte", "output", "energy"]
    assert res.gaps["rank"].tolist() == [1, 2, 3, 4]
    assert g.loc["output", "p_met"] == 0.4
    assert (g.loc["output", "ci_low"], g.loc["output", "ci_high"]) == pytest.approx(wilson(4, 10), abs=0)
    assert g.loc["output", "median"] == 99.5 and g.loc["output", "median_gap"] == pytest.approx(0.5)
    # output misses at 95..100: shortfalls 5,4,3,2,1,0 (100 is not > 100) -> median 2.5
    assert g.loc["output", "median_shortfall_when_missed"] == pytest.approx(2.5)
    assert g.loc["hnte", "median_gap"] == 30.0 and g.loc["hnte", "median_gap_share"] == 0.5
    assert g.loc["share", "median_gap_share"] == pytest.approx(0.8)
    # an upper bound: the gap is median - threshold (a margin of 10 here), the shortfall is above it
    assert g.loc["energy", "median_gap"] == -10.0
    assert g.loc["energy", "median_shortfall_when_missed"] == 7.5
    assert g.loc["energy", "p_missed"] == 0.2
    assert g.loc["hnte", "unit"] == "firms"


def test_gap_table_p_met_equals_targets_csv():
    rng = np.random.default_rng(7)
    n = 50
    res = _run(
        {
            k: rng.normal(m, s, n)
            for k, m, s in [("total_output", 100, 5), ("hnte_valid", 58, 4), ("tech_based_share", 50, 3), ("firms", 40, 2)]
        },
        n,
    )
    t = res.targets.set_index("target")
    for r in res.gaps.itertuples():
        assert r.p_met == t.loc[r.target, "p_met"] and r.ci_low == t.loc[r.target, "ci_low"]
    assert np.all(np.diff(res.gaps.p_met.to_numpy()) >= 0)


def test_format_gaps_aligns_cjk_labels():
    g = pd.DataFrame(gap_table(_run({"total_output": np.full(4, 90.0), "hnte_valid": np.full(4, 61.0)}, 4)))
    g.loc[0, "target"] = "新专精特新"
    lines = format_gaps(g).splitlines()
    from parksim.results.gaps import display_width

    # every line's "needs" column starts at the same terminal column
    cols = {display_width(line[: line.index(">")]) if ">" in line else None for line in lines[1:]}
    assert len(cols - {None}) == 1


def test_run_prints_gaps_and_assessment_result(root, tmp_path, capsys):
    out = tmp_path / "xs"
    assert (
        main(["run", str(root / "scenarios" / "xiushan-2024.toml"), "-n", "20", "-q", "--out", str(out), "--engine", "simpy", "-j", "1"])
        == 0
    )
    text = capsys.readouterr().out
    assert "holds the park back most first" in text
    assert "assessment result: status after the 2024 assessment" in text
    assessment = pd.read_csv(out / "assessment.csv")
    rec = assessment[(assessment.year == 2024) & (assessment.status == "recognised")].iloc[0]
    assert re.search(rf"  recognised +{rec.probability:.3f}  \[{rec.ci_low:.3f}, {rec.ci_high:.3f}\]", text)
    gaps = pd.read_csv(out / "gaps.csv")
    targets = pd.read_csv(out / "targets.csv")
    assert sorted(gaps.target) == sorted(targets.target[:-1])
    # the printed order is the gaps.csv order
    pos = [text.index(f" {t} ") for t in gaps.target]
    assert pos == sorted(pos)
    assert "binding target" not in text


def test_wilson_bounds_are_exact_at_zero_and_n():
    assert wilson(0, 200) == (0.0, pytest.approx(0.018845, abs=1e-6))
    assert wilson(200, 200)[1] == 1.0

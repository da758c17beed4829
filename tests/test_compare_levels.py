"""What leadership reads from a comparison: changes in the targeted indicators' levels with their cost per unit,
the ranking's order, a hint when the ranked outcome cannot move, and what the manifest records."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_PARK

from parksim.cli import main
from parksim.experiments.compare import Comparison, rank_order
from parksim.experiments.result import _INDEX, TargetSpec, make_result
from parksim.results.levels import LEVEL_COLUMNS, yuan
from parksim.scenario.loader import scenario_from_dict

PARK = {
    "name": "Lever park",
    "simulation": {"start_year": 2023, "years": 2},
    "sectors": {"a": {}},
    "baseline": {"sectors": {"a": {"firms": 10}}},
    "targets": [
        {"label": "hnte", "indicator": "hnte_valid", "comparison": ">=", "threshold": 60.0, "year": 2024},
        {"label": "exits", "indicator": "firms", "comparison": "<=", "threshold": 5.0, "year": 2024},
    ],
}


def _result(hnte, firms, cost_per_rep):
    scn = scenario_from_dict(PARK)
    specs = [TargetSpec(t.label, t.indicator, int(t.year), t.comparison, t.threshold) for t in scn.targets]
    v = np.full((len(hnte), 2, len(_INDEX)), np.nan)
    v[:, 1, _INDEX["hnte_valid"]] = hnte
    v[:, 1, _INDEX["firms"]] = firms
    v[:, :, _INDEX["policy_cost"]] = cost_per_rep / 2 / 1e8  # yearly policy cost, 亿元
    return make_result(scn, 1, v, specs)


def test_level_table_known_answers():
    rng = np.random.default_rng(3)
    hnte = rng.integers(20, 40, 60).astype(float)
    firms = rng.integers(8, 12, 60).astype(float)
    base = _result(hnte, firms, 0.0)
    lever = _result(hnte + 4, firms + 1, 2_000_000.0)  # +4 HNTE in every replication, for 2 million yuan
    cmp = Comparison(["base", "lever"], [base, lever], [0.0, 2_000_000.0], seed=1)
    lv = cmp.levels
    assert list(lv.columns) == LEVEL_COLUMNS
    row = lv[(lv.scenario == "lever") & (lv.target == "hnte")].iloc[0]
    # every pair differs by exactly 4: mean, median and the whole bootstrap interval are 4
    assert (row.mean_change, row.change_ci_low, row.change_ci_high, row.median_change) == (4.0, 4.0, 4.0, 4.0)
    assert row.base_mean == pytest.approx(hnte.mean()) and row.extra_cost_yuan == pytest.approx(2_000_000.0)
    assert row.yuan_per_unit_gained == pytest.approx(500_000.0)
    # more firms moves a "<=" target the wrong way: no cost per unit gained
    bad = lv[(lv.scenario == "lever") & (lv.target == "exits")].iloc[0]
    assert bad.mean_change == 1.0 and np.isnan(bad.yuan_per_unit_gained)
    assert (lv[lv.scenario == "base"].mean_change == 0).all()


def test_rank_order_puts_the_best_lever_first():
    t = pd.DataFrame(
        {"scenario": ["base", "a", "b", "c"], "pp_per_100m_yuan": [np.nan, 1.0, 5.0, 1.0], "diff_vs_base": [0.0, 0.01, 0.05, 0.02]}
    )
    assert rank_order(t).scenario.tolist() == ["b", "c", "a", "base"]


def test_yuan_in_planners_units():
    assert yuan(48_000_000) == "4,800万 yuan" and yuan(2.47e9) == "24.7亿 yuan" and yuan(301_000) == "30.1万 yuan"


@pytest.fixture
def out_of_reach(write):
    base = write("base.toml", SMALL_PARK.replace("threshold = 30.0", "threshold = 1e6") + SMALL_PARK_EXTRA)
    lever = write("promo.toml", 'extends = "base.toml"\n[levers.promotion]\nextra_signings_per_month = 4.0\n')
    return base, lever


SMALL_PARK_EXTRA = """
[[targets]]
label = "projects producing"
indicator = "projects_producing"
threshold = 30.0
year = 2024
"""


def test_compare_reports_levels_and_hint_when_all_is_out_of_reach(out_of_reach, tmp_path, capsys):
    base, lever = out_of_reach
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(lever), "-n", "30", "-j", "1", "-q", "--engine", "simpy", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1 variant vs base" in text and "1 variants" not in text
    assert "note: P(ALL) = 0.000 in every scenario, so this ranking says nothing; rank by one target with --target LABEL" in text
    levels = pd.read_csv(out / "levels.csv")
    row = levels[(levels.scenario == "promo") & (levels.target == "output")].iloc[0]
    assert row.change_ci_low > 0  # four more signings a month: more output, although the target stays out of reach
    assert f"{row.mean_change:+.1f} 亿元 [{row.change_ci_low:+.1f}, {row.change_ci_high:+.1f}]" in text
    assert "per 亿元 gained" in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"] == "simpy" and manifest["engines"] == {"base": "simpy", "promo": "simpy"}
    assert manifest["versions"]["numba"][0].isdigit()
    run_manifest = json.loads((out / "scenarios" / "base" / "manifest.json").read_text())
    assert run_manifest["versions"]["numba"] == manifest["versions"]["numba"]


def test_compare_figure_is_ordered_by_rank_and_shows_cost():
    rng = np.random.default_rng(5)
    hnte = rng.integers(50, 70, 80).astype(float)
    firms = np.full(80, 4.0)
    base = _result(hnte, firms, 0.0)
    cheap = _result(hnte + 10, firms, 1_000_000.0)  # moves many replications over 60 for 1 million
    dear = _result(hnte + 10, firms, 50_000_000.0)  # the same gain for 50 million
    cmp = Comparison(["base", "dear", "cheap"], [base, dear, cheap], [0.0, 50_000_000.0, 1_000_000.0], seed=1)
    ax = cmp.plot("hnte")
    labels = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])  # top of the figure first
    texts = [t.get_text() for t in labels]
    assert [x.split("\n")[0] for x in texts] == ["cheap", "dear"]  # the best-ranked lever at the top
    assert "100万 yuan" in texts[0] and "5,000万 yuan" in texts[1]

"""Figures read as a planner reads them: status colours by meaning, steps at the decision month, labelled panels."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex

import parksim
from parksim.results.plots import fan_title, status_colours

matplotlib.use("Agg")

RED, GREEN_DARK, GREY = "#d62728", "#2ca02c", "#c7c7c7"


def test_status_colours_by_name():
    c = status_colours(["recognised", "criticised", "revoked", "commended", "candidate", "not_recognised", "warned", "mystery"])
    assert c["revoked"] == RED and c["not_recognised"] == RED  # "not_recognised" is not matched as "recognised"
    assert c["commended"] == GREEN_DARK and c["candidate"] == GREY
    assert c["criticised"] == c["warned"] == "#ff7f0e"
    assert c["recognised"] not in (RED, GREEN_DARK) and c["mystery"] not in (RED, GREEN_DARK, GREY)


@pytest.fixture(scope="module")
def ningxia():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scenarios" / "ningxia-2025.toml"
    return parksim.simulate(path, replications=20, seed=2, jobs=1, quiet=True, engine="simpy")


def test_assessment_plot_colours_and_steps_at_the_decision_month(ningxia):
    park = next(iter(ningxia.parks.values()))
    ax = park.plot_assessment()
    fills = {c.get_label(): c for c in ax.collections}
    assert set(fills) == set(park.statuses)
    assert to_hex(fills["revoked"].get_facecolor()[0]) == RED
    assert to_hex(fills["commended"].get_facecolor()[0]) == GREEN_DARK
    # steps: every vertex lies at the start, at a decision date (April of y+1) or at the right edge
    month = park.assessment_def.month
    allowed = {park.years[0], *(y + 1 + (month - 1) / 12 for y in park.years), park.years[-1] + 1 + (month - 1) / 12 + 0.5}
    xs = np.concatenate([p.vertices[:, 0] for c in ax.collections for p in c.get_paths()])
    assert {round(x, 9) for x in xs} <= {round(x, 9) for x in allowed}
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert f"{park.years[0] + 1}-{month:02d}" in labels


def test_fan_panels_are_titled_with_target_labels(ningxia):
    park = next(iter(ningxia.parks.values()))
    title = fan_title(park.specs, "total_output")
    assert "500亿元" in title and title.endswith("total_output [亿元]")


def test_portfolio_fan_figure_has_a_panel_per_park(ningxia):
    from parksim.results.plots import fan_figure

    fig = fan_figure(ningxia)
    n_ind = len({s.indicator for s in ningxia.specs})
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == n_ind * len(ningxia.parks)
    assert {a.get_title() for a in visible[: len(ningxia.parks)]} == set(ningxia.parks)

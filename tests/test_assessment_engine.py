"""The yearly assessment inside the simulation: path dependence, feedback, outputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim.cli import main
from parksim.engines.simpy import run_replication

NINGXIA = [
    {"from_status": "recognised", "on": "fail", "to": "warned"},
    {"from_status": "warned", "on": "fail", "to": "revoked"},
    {"from_status": "warned", "on": "pass", "to": "recognised"},
]


def park(signing_rule_threshold: float, effects: dict | None = None, years: int = 2, signings: float = 3.0):
    """A small park assessed on the projects it signs each year (Poisson, so years are independent)."""
    return parksim.scenario_from_dict(
        {
            "simulation": {"years": years},
            "pipeline": {"signings_per_month": signings},
            "sectors": {"a": {}},
            "baseline": {"sectors": {"a": {"firms": 5}}},
            "assessment": {
                "month": 4,
                "rules": [
                    {
                        "name": "promotion",
                        "kind": "thresholds",
                        "criteria": [{"indicator": "projects_signed", "threshold": signing_rule_threshold}],
                    }
                ],
                "transitions": NINGXIA,
                "effects": effects or {},
            },
        }
    )


def test_engine_applies_the_state_machine_year_by_year():
    # no signings: every year fails -> warned, revoked, revoked
    res = run_replication(park(1.0, signings=0.0, years=3), seed=1)
    assert res.statuses == [(2023, "fail", "warned"), (2024, "fail", "revoked"), (2025, "fail", "revoked")]


def test_revocation_is_the_product_of_yearly_fails_without_feedback_and_higher_with_it():
    n = 300
    threshold = 36.0  # about the median of Poisson(36): yearly fail probability ~ 0.46
    off = parksim.simulate(park(threshold), replications=n, seed=3, jobs=2, quiet=True)
    codes = off.status_codes()
    outcomes = off.values[:, :, off.values.shape[2] - 2]
    fail1, fail2 = (outcomes[:, 0] == 0), (outcomes[:, 1] == 0)
    revoked = codes[:, 1] == off.statuses.index("revoked")
    # revoked by year 2 <=> failed both years; with independent years P = p1 * p2
    assert np.array_equal(revoked, fail1 & fail2)
    p1, p2, joint = fail1.mean(), fail2.mean(), revoked.mean()
    # under independence, joint - p1 p2 has SE ~ sqrt(p1 p2 (1 - p1 p2) / n) = 0.023; 4 SE
    assert abs(joint - p1 * p2) < 4 * math.sqrt(p1 * p2 * (1 - p1 * p2) / n)
    assert 0.2 < p1 < 0.7 and 0.2 < p2 < 0.7  # the test exercises real uncertainty

    # feedback: a warned park loses 70% of its signings from April on, so it fails again more often
    on = parksim.simulate(park(threshold, {"warned": {"signing_factor": 0.3}}), replications=n, seed=3, jobs=2, quiet=True)
    p_on = (on.status_codes()[:, 1] == on.statuses.index("revoked")).mean()
    # same seeds (common random numbers): year 1 is identical, so the difference is all feedback
    assert np.array_equal(on.values[:, 0, :-2], off.values[:, 0, :-2], equal_nan=True)
    assert p_on > joint + 0.15


def test_first_passage_and_status_tables(tmp_path, capsys, write):
    scn = park(36.0, {"warned": {"land_quota_factor": 0.5, "signing_factor": 0.5}}, years=3)
    res = parksim.simulate(scn, replications=60, seed=2, jobs=1, quiet=True)
    a = res.assessment
    assert list(a.columns) == ["park", "year", "status", "probability", "ci_low", "ci_high", "replications"]
    sums = a.groupby("year").probability.sum()
    assert np.allclose(sums, 1.0)  # every replication is in exactly one status
    fp = res.first_passage.query("status == 'revoked'").sort_values("year").probability.to_numpy()
    assert (np.diff(fp) >= 0).all()  # reached by year y only grows
    st = res.assessment.query("status == 'revoked'").sort_values("year").probability.to_numpy()
    assert np.allclose(fp, st)  # revoked is absorbing here: in it = reached it
    ann = res.annual
    assert {"assessment_outcome", "assessment_status"} <= set(ann.indicator.cat.categories)


def test_run_writes_assessment_files(tmp_path, write):
    path = write(
        "a.toml",
        """
        [simulation]
        years = 2
        [sectors.a]
        [baseline.sectors.a]
        firms = 5
        [assessment]
        initial_status = "recognised"
        [[assessment.rules]]
        name = "growth"
        kind = "score"
        pass_mark = 70
        excellence_mark = 90
        criteria = [{indicator = "output_growth", floor = 0.0, ceiling = 20.0}]
        [[assessment.transitions]]
        from_status = "recognised"
        on = "excellent"
        to = "upgrade_eligible"
        streak = 2
        """,
    )
    out = tmp_path / "run"
    assert main(["run", str(path), "-n", "20", "-j", "1", "-q", "--out", str(out)]) == 0
    table = pd.read_csv(out / "assessment.csv")
    assert set(table.status) == {"recognised", "upgrade_eligible"}
    assert (out / "first_passage.csv").exists() and (out / "assessment.png").read_bytes()[:4] == b"\x89PNG"


def portfolio(n_parks: int, years: int = 1, overrides: dict | None = None):
    parks = [{"name": f"P{i}"} for i in range(n_parks)]
    if overrides:
        for i, o in overrides.items():
            parks[i]["overrides"] = o
    return parksim.scenario_from_dict(
        {
            "simulation": {"years": years},
            "pipeline": {"signings_per_month": 1.0},
            "sectors": {"a": {}},
            "baseline": {"sectors": {"a": {"firms": 6}}},
            "assessment": {
                "rules": [{"name": "ranking", "kind": "rank", "criteria": [{"indicator": "total_output"}], "fail_bottom": 1}],
                "transitions": [{"from_status": "recognised", "on": "fail", "to": "warned"}],
            },
            "portfolio": {"parks": parks},
        }
    )


def test_identical_parks_rank_last_equally_often():
    from scipy.stats import chisquare

    from parksim.engines.simpy import PortfolioModel
    from parksim.model.random import Streams

    scn, reps = portfolio(4), 200
    last = np.zeros(4, dtype=int)
    for r in range(reps):
        results = PortfolioModel(scn, Streams(12, r)).run()
        fails = [i for i, (_, res) in enumerate(results) if res.statuses[0][1] == "fail"]
        assert len(fails) == 1  # a bottom-1 rank rule fails exactly one park
        last[fails[0]] += 1
    # multinomial(200, 1/4 each): a chi-square test at the 1e-4 level (false-alarm rate 1e-4)
    assert chisquare(last).pvalue > 1e-4, last
    assert last.min() > 0


def test_portfolio_parks_share_regional_shocks_not_firms():
    from parksim.engines.simpy import PortfolioModel
    from parksim.model.random import Streams

    model = PortfolioModel(portfolio(2), Streams(3, 0))
    a, b = model.parks
    assert np.array_equal(a.shock, b.shock)  # sector and regional shocks are regional facts
    n = a.firms.n
    assert n == b.firms.n and not np.array_equal(a.firms.logB[:n], b.firms.logB[:n])  # but each park has its own firms


def test_rank_rule_without_portfolio_is_refused(write, capsys):
    path = write(
        "r.toml",
        """
        [sectors.a]
        [assessment]
        [[assessment.rules]]
        name = "ranking"
        kind = "rank"
        criteria = [{indicator = "total_output"}]
        fail_bottom = 1
        """,
    )
    assert main(["validate", str(path)]) == 2
    assert "a rank rule needs peers; expected a [portfolio] of parks" in capsys.readouterr().err


def test_portfolio_monte_carlo_tables_and_files(tmp_path):
    scn = portfolio(3, years=2)
    res = parksim.simulate(scn, replications=30, seed=5, jobs=2, quiet=True)
    a = res.assessment
    assert set(a.park) == {"P0", "P1", "P2"}
    # exactly one park fails the rank rule each year, so P(warned after the first year) sums to 1 over parks
    first = a.query("year == 2023 and status == 'warned'").probability.sum()
    assert first == pytest.approx(1.0)
    ann = res.annual
    assert list(ann.columns) == ["park", "replication", "seed", "year", "indicator", "value"]
    assert ann.park.nunique() == 3
    res.write(tmp_path / "a")
    parksim.simulate(scn, replications=30, seed=5, jobs=1, quiet=True).write(tmp_path / "b")
    for name in ("annual.parquet", "assessment.csv", "first_passage.csv", "targets.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "assessment.png").exists() and (tmp_path / "a" / "fan.png").exists()


def test_portfolio_targets_are_per_park_and_jointly(write):
    scn = parksim.scenario_from_dict(
        {
            "simulation": {"years": 1},
            "pipeline": {"signings_per_month": 0.0},
            "sectors": {"a": {}},
            "baseline": {"sectors": {"a": {"firms": 6}}},
            "targets": [{"label": "some firms", "indicator": "firms", "comparison": ">=", "threshold": 1.0, "year": 2023}],
            "portfolio": {"parks": [{"name": "big"}, {"name": "empty", "overrides": {"baseline.sectors.a.firms": 0}}]},
        }
    )
    t = parksim.simulate(scn, replications=10, seed=1, jobs=1, quiet=True).targets.set_index("target")
    assert t.loc["big: some firms", "p_met"] == 1.0 and t.loc["empty: some firms", "p_met"] == 0.0
    assert t.loc["ALL", "p_met"] == 0.0


@pytest.mark.parametrize("engine", ["fast", "simpy"])
def test_a_park_not_assessed_is_neither_ranked_nor_given_status_effects(engine, tmp_path):
    """[[portfolio.parks]] assessed = false (e.g. national zones in a region's yearly assessment of its own zones): the
    rank rule ranks only the assessed parks (one of the two fails every year, so P(warned after the first year) sums
    to 1 over them), the initial status's effects (no signings) act only on them, and the park has no status rows but
    counts in the portfolio's targets."""
    scn = parksim.scenario_from_dict(
        {
            "simulation": {"years": 2},
            "pipeline": {"signings_per_month": 3.0},
            "sectors": {"a": {}},
            "baseline": {"sectors": {"a": {"firms": 6}}},
            "assessment": {
                "rules": [{"name": "ranking", "kind": "rank", "criteria": [{"indicator": "total_output"}], "fail_bottom": 1}],
                "transitions": [{"from_status": "recognised", "on": "fail", "to": "warned"}],
                "effects": {"recognised": {"signing_factor": 0.0}, "warned": {"signing_factor": 0.0}},
            },
            "portfolio": {
                "parks": [{"name": "P0"}, {"name": "P1"}, {"name": "national", "assessed": False}],
                "targets": [{"label": "signed", "indicator": "projects_signed", "comparison": ">=", "threshold": 1.0, "year": 2023}],
            },
        }
    )
    res = parksim.simulate(scn, replications=12, seed=4, jobs=1, quiet=True, engine=engine)
    a = res.assessment
    assert set(a.park) == {"P0", "P1"}
    assert a.query("year == 2023 and status == 'warned'").probability.sum() == pytest.approx(1.0)
    signed = {p: r.value_matrix("projects_signed") for p, r in res.parks.items()}
    assert (signed["P0"] == 0).all() and (signed["P1"] == 0).all()
    assert (signed["national"][:, 0] > 0).mean() > 0.9  # Poisson(36) signings a year: P(0) ~ 2e-16
    assert res.targets.set_index("target").loc["portfolio: signed", "p_met"] > 0.9  # the sum counts the unassessed park
    assert set(res.annual.query("park == 'national'").indicator).isdisjoint({"assessment_outcome", "assessment_status"})
    res.write(tmp_path / "out")  # its missing statuses are not mistaken for non-finite results
    assert set(pd.read_csv(tmp_path / "out" / "assessment.csv").park) == {"P0", "P1"}


def test_an_assessment_of_no_park_is_refused(write, capsys):
    path = write(
        "n.toml",
        """
        [sectors.a]
        [assessment]
        [[assessment.rules]]
        name = "output"
        kind = "thresholds"
        criteria = [{indicator = "total_output", threshold = 1.0}]
        [[portfolio.parks]]
        name = "A"
        assessed = false
        [[portfolio.parks]]
        name = "B"
        assessed = false
        """,
    )
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "every park has assessed = false" in err and "Traceback" not in err

"""Known answers of the SimPy engine: queueing, growth, exits, capacity, reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim.engines.simpy import ParkModel
from parksim.model.random import Streams


def scenario(**over):
    """A small scenario from nested dicts (keys as in a TOML file)."""
    base = {
        "simulation": {"start_year": 2023, "years": 2},
        "sectors": {"a": {}},
    }
    for k, v in over.items():
        base[k] = v
    return parksim.scenario_from_dict(base)


FIXED_PIPELINE = {
    "signings_per_month": 2.0,
    "rent_share": 1.0,
    "landing": {"delay": 1.0, "dropout": 0.0},
    "rent": {"delay": 2.0, "dropout": 0.0, "patience": math.inf},
}


def producing_by(scn, months, reps, seed=11):
    out = []
    for r in range(reps):
        ev = parksim.trace(scn, seed=seed, replication=r)
        out.append(int(((ev.event == "production_start") & (ev.time <= months)).sum()))
    return np.array(out)


def test_mg_infinity_producing_count_is_poisson():
    """Constant delays (1 + 2 months), no drop-outs, unlimited space: the number of
    projects producing by month t is Poisson with mean lambda * (t - 3) (M/G/inf)."""
    scn = scenario(pipeline=FIXED_PIPELINE, capacity={"factory_floor_m2": math.inf})
    t, lam, reps = 15.0, 2.0, 300
    x = producing_by(scn, t, reps)
    mu = lam * (t - 3.0)  # 24
    # mean: SE = sqrt(24/300) = 0.28; 4 SE gives a false-alarm rate of 6e-5
    assert abs(x.mean() - mu) < 4 * math.sqrt(mu / reps)
    # variance: for a Poisson, Var(s^2) ~ (mu + 2 mu^2) / n, SE = 2.0; 4 SE
    assert abs(x.var(ddof=1) - mu) < 4 * math.sqrt((mu + 2 * mu * mu) / reps)


def test_warm_up_starts_with_the_pipeline_in_flight():
    """With a warm-up, production starts in the first year come from signings in [-3, 9):
    Poisson(12 lambda) instead of Poisson(9 lambda) with an empty pipeline."""
    lam, reps = 2.0, 150
    counts = {}
    for warm in (0.0, 12.0):
        pipe = dict(FIXED_PIPELINE, warm_up_months=warm)
        scn = scenario(pipeline=pipe, capacity={"factory_floor_m2": math.inf}, simulation={"years": 1})
        counts[warm] = np.array(
            [parksim.simulate_one(scn, seed=6, replication=r).query("indicator == 'projects_producing'").value.item() for r in range(reps)]
        )
    for warm, mu in ((0.0, 9 * lam), (12.0, 12 * lam)):
        # Poisson mean: SE = sqrt(mu / 150) <= 0.4; 4 SE
        assert abs(counts[warm].mean() - mu) < 4 * math.sqrt(mu / reps), warm
    # projects signed before the start are not counted as signed in the first year
    ev = parksim.trace(scenario(pipeline=dict(FIXED_PIPELINE, warm_up_months=12.0), simulation={"years": 1}), seed=1)
    warm_ids = set(ev.entity[ev.event == "production_start"]) - set(ev.entity[ev.event == "signed"])
    assert warm_ids and all(e.startswith("W") for e in warm_ids)
    starts = ev[ev.entity.isin(warm_ids) & (ev.event == "production_start")].time
    assert starts.max() <= 3.0 + 1e-9  # signed before 0, producing within the 3-month total delay


def test_growth_mean_and_variance_of_log_output_match_closed_form():
    """No shocks, no exits: after n months E[log B] = log B0 + n g/12, Var = n sigma^2/12."""
    g, sig, n_firms, b0 = 0.10, 0.30, 4000, 5000.0
    scn = scenario(
        pipeline={"signings_per_month": 0.0},
        shocks={"macro_sd": 0.0},
        sectors={"a": {"growth": g, "shock_sd": 0.0, "firm_noise_sd": sig, "exit_rate_young": 0.0, "exit_rate_mature": 0.0}},
        baseline={"sectors": {"a": {"firms": n_firms, "revenue": b0, "renting_share": 0.0}}},
    )
    m = ParkModel(scn, Streams(5, 0))
    m.run()
    n = 24
    logb = m.firms.logB[: m.firms.n]
    assert m.firms.n == n_firms and m.firms.alive[: m.firms.n].all()
    var = n * sig**2 / 12  # 0.18
    # mean: SE = sqrt(0.18 / 4000) = 0.0067; 4 SE
    # a starting firm begins at the year-end rate of its last-year revenue (rules.growth.year_end_level)
    log_start = math.log(b0 * 12 * math.expm1(-g / 12) / math.expm1(-g))
    assert abs(logb.mean() - (log_start + n * g / 12)) < 4 * math.sqrt(var / n_firms)
    # variance of a normal sample: SE = var * sqrt(2 / (n - 1)) = 0.004; 4 SE
    assert abs(logb.var(ddof=1) - var) < 4 * var * math.sqrt(2 / (n_firms - 1))


def test_sector_shock_is_shared_by_all_firms_of_a_sector():
    """With no firm noise, every firm of a sector moves by the same log amount."""
    scn = scenario(
        pipeline={"signings_per_month": 0.0},
        sectors={
            "a": {"firm_noise_sd": 0.0, "shock_sd": 0.2, "exit_rate_young": 0.0, "exit_rate_mature": 0.0},
            "b": {"firm_noise_sd": 0.0, "shock_sd": 0.2, "exit_rate_young": 0.0, "exit_rate_mature": 0.0},
        },
        baseline={"sectors": {"a": {"firms": 30}, "b": {"firms": 30}}},
    )
    m = ParkModel(scn, Streams(2, 0))
    start = m.firms.logB[: m.firms.n].copy()
    m.run()
    moved = m.firms.logB[: m.firms.n] - start
    a, b = moved[m.firms.sector[: m.firms.n] == 0], moved[m.firms.sector[: m.firms.n] == 1]
    assert np.ptp(a) < 1e-9 and np.ptp(b) < 1e-9
    assert abs(a[0] - b[0]) > 1e-6  # different sectors, different shocks


def test_capacity_limits_renting_firms_and_serves_signing_order():
    """Floor space for k firms: never more than k renting firms at once, and the
    projects that had to wait obtain space in the order they were signed."""
    k = 4
    pipe = dict(FIXED_PIPELINE, signings_per_month=3.0)
    pipe["landing"] = {"delay": {"dist": "uniform", "low": 0.1, "high": 3.0}, "dropout": 0.0}
    pipe["project"] = {"floor_space_m2": 1000.0}
    scn = scenario(
        pipeline=pipe,
        capacity={"factory_floor_m2": k * 1000.0},
        sectors={"a": {"exit_rate_young": 0.3, "exit_rate_mature": 0.3}},
    )
    ev = parksim.trace(scn, seed=4)
    occupying = 0
    for row in ev.itertuples():
        if row.event == "space_obtained":
            occupying += 1
        elif row.event == "exit":
            occupying -= 1
        assert occupying <= k
    assert (ev.event == "exit").sum() > 0 and (ev.event == "waiting").sum() > k  # the test exercised the queue
    waited = set(ev.entity[ev.event == "waiting"])
    signed = [e for e in ev.entity[ev.event == "signed"] if e in waited]
    served = [e for e in ev.entity[ev.event == "space_obtained"] if e in waited]
    assert served == signed[: len(served)]
    # landing order differs from signing order, so the queue (not arrival order) did the sorting
    landed = [e for e in ev.entity[ev.event == "landed"] if e in waited]
    assert landed != signed


def test_patience_gives_up_and_frees_the_queue():
    pipe = dict(FIXED_PIPELINE, signings_per_month=3.0)
    pipe["rent"] = {"delay": 2.0, "dropout": 0.0, "patience": 2.0}
    pipe["project"] = {"floor_space_m2": 1000.0}
    scn = scenario(pipeline=pipe, capacity={"factory_floor_m2": 2000.0})
    ev = parksim.trace(scn, seed=4)
    gave_up = ev[ev.event == "gave_up"]
    assert len(gave_up) > 0
    waits = ev[ev.event == "waiting"].set_index("entity").time
    assert np.allclose(gave_up.time.to_numpy() - waits.loc[gave_up.entity].to_numpy(), 2.0)


def test_same_seed_same_result_different_seed_different():
    scn = scenario(pipeline={"signings_per_month": 3.0}, baseline={"sectors": {"a": {"firms": 40}}})
    a = parksim.simulate_one(scn, seed=9)
    b = parksim.simulate_one(scn, seed=9)
    c = parksim.simulate_one(scn, seed=10)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    # replication r of a seed is the same whether simulated alone or after others
    d = parksim.simulate_one(scn, seed=9, replication=3)
    parksim.simulate_one(scn, seed=9, replication=2)
    pd.testing.assert_frame_equal(d, parksim.simulate_one(scn, seed=9, replication=3))


def test_common_random_numbers_across_variants():
    """A variant with slower landing sees the same signings (times, sizes) and sector shocks."""
    base = scenario(pipeline={"signings_per_month": 3.0}, baseline={"sectors": {"a": {"firms": 20}}})
    slow = scenario(
        pipeline={"signings_per_month": 3.0, "landing": {"delay": {"dist": "lognormal", "median": 6.0, "sigma": 1.0}}},
        baseline={"sectors": {"a": {"firms": 20}}},
    )
    ea, eb = parksim.trace(base, seed=5), parksim.trace(slow, seed=5)
    sa, sb = ea[ea.event == "signed"], eb[eb.event == "signed"]
    assert sa[["time", "entity", "value"]].reset_index(drop=True).equals(sb[["time", "entity", "value"]].reset_index(drop=True))
    la = ea[ea.event == "landed"].set_index("entity").time
    lb = eb[eb.event == "landed"].set_index("entity").time
    common = la.index.intersection(lb.index)
    # same uniform per project: landing delays are scaled by exactly 3 (the default median 2 -> 6);
    # the event log rounds times to 1e-6 months, hence rtol 1e-4
    sig = sa.set_index("entity").time
    assert len(common) > 30
    assert np.allclose((lb[common] - sig[common]) / (la[common] - sig[common]), 3.0, rtol=1e-4)
    ma, mb = ParkModel(base, Streams(5, 0)), ParkModel(slow, Streams(5, 0))
    assert np.array_equal(ma.shock, mb.shock)


def test_signing_rate_profile_zero_months_have_no_signings():
    profile = [1.0] * 6 + [0.0] * 6
    scn = scenario(pipeline={"signings_per_month": 5.0, "monthly_profile": profile})
    ev = parksim.trace(scn, seed=1)
    months = np.floor(ev.time[ev.event == "signed"]) % 12
    assert len(months) > 20 and months.max() <= 5


def test_known_projects_from_pipeline_csv(write):
    write(
        "pipe.csv",
        """
        project_id,signing_date,sector,mode,floor_space_m2,land_mu,planned_output,status
        K1,2022-11-15,a,build,,30,10000,landed
        K2,2023-03-01,a,rent,2000,,5000,signed
        """,
    )
    path = write(
        "s.toml",
        """
        [simulation]
        years = 2
        [pipeline]
        signings_per_month = 0.0
        known_projects = "pipe.csv"
        landing = {delay = 1.0, dropout = 0.0}
        rent = {delay = 2.0, dropout = 0.0}
        build = {delay = 6.0, dropout = 0.0}
        [sectors.a]
        """,
    )
    ev = parksim.trace(path, seed=1)
    start = ev[ev.event == "production_start"].set_index("entity").time
    # K1 signed on 15 Nov, 2 - 14/30 = 1.533 months before the start, already landed:
    # 6 - 1.533 = 4.467 months of building left (times are rounded to 1e-6 in the log)
    assert start["K1"] == pytest.approx(6.0 - (2 - 14 / 30), abs=1e-6)
    # K2 signed at 2 months: lands at 3, produces at 5
    assert start["K2"] == pytest.approx(5.0, abs=1e-6)


def test_indicators_are_the_documented_ones():
    df = parksim.simulate_one(scenario(baseline={"sectors": {"a": {"firms": 10}}}), seed=1)
    assert list(df.columns) == ["year", "indicator", "value"]
    assert set(df.indicator) == set(parksim.INDICATORS)
    assert sorted(df.year.unique()) == [2023, 2024]


def test_super_individuals_scale_counts_and_keep_expected_totals():
    """weight W: each simulated firm stands for W; counts are multiples of W and the
    expected total output matches a firm-by-firm run (the spread between firms is
    understated, so only means are compared)."""

    def park(weight):
        return scenario(
            simulation={"years": 1, "weight": weight},
            pipeline={"signings_per_month": 10.0},
            capacity={"factory_floor_m2": math.inf},
            baseline={"sectors": {"a": {"firms": 400, "revenue": {"dist": "lognormal", "median": 3000.0, "sigma": 0.5}}}},
        )

    def outputs(scn, reps):
        vals = []
        for r in range(reps):
            df = parksim.simulate_one(scn, seed=8, replication=r).set_index("indicator").value
            vals.append(df)
        return pd.DataFrame(vals)

    one, ten = outputs(park(1), 40), outputs(park(10), 40)
    for name in ("firms", "hnte_valid", "projects_signed", "above_size_firms"):
        assert (ten[name] % 10 == 0).all(), name
    # mean total output: firm-by-firm SD over replications ~ 4%, weighted ~ 12%; 40 reps each:
    # SE of the difference ~ 2%, so 8% is 4 SE
    assert abs(ten.total_output.mean() / one.total_output.mean() - 1) < 0.08
    assert abs(ten.firms.mean() / one.firms.mean() - 1) < 0.05

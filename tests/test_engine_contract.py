"""The engine contract: every engine of the registry passes the same known-answer tests.

Each test here runs a scenario through ``parksim.simulate(..., engine=NAME)`` for
every engine in :data:`parksim.engines.contract.ENGINES`, and checks what the model must
give whatever schedules it: closed forms of queueing, growth and survival, the
certification rules' consequences, capacity, and reproducibility. A new engine is
added to the registry and passes this class, nothing else. (Engine-specific checks,
such as the SimPy event log or the fast engine's memory, stay in their own files;
the two engines' full distributions are compared in ``test_engine_agreement.py``.)

Statistical checks state their tolerance beside the assertion: 4 standard errors,
a false-alarm rate of about 6e-5 each.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_certification import QUALIFYING_SECTOR, SURE_HNTE, one_firm

import parksim
from parksim.engines.contract import ENGINES


def scenario(**over):
    base = {"simulation": {"start_year": 2023, "years": 2}, "sectors": {"a": {}}}
    base.update(over)
    return parksim.scenario_from_dict(base)


def run(scn, engine, reps, seed=11, jobs=1):
    return parksim.simulate(scn, replications=reps, seed=seed, jobs=jobs, engine=engine, quiet=True)


STILL = {"growth": 0.0, "shock_sd": 0.0, "firm_noise_sd": 0.0, "exit_rate_young": 0.0, "exit_rate_mature": 0.0}
FIXED_PIPELINE = {
    "signings_per_month": 2.0,
    "rent_share": 1.0,
    "landing": {"delay": 1.0, "dropout": 0.0},
    "rent": {"delay": 2.0, "dropout": 0.0, "patience": math.inf},
}


class TestEngineContract:
    def test_mg_infinity_projects_producing_in_the_first_year_are_poisson(self, engine):
        """Constant delays (1 + 2 months), no drop-outs, unlimited space: projects producing by the end of the
        first year are Poisson with mean lambda (12 - 3) = 18 (M/G/inf)."""
        scn = scenario(pipeline=FIXED_PIPELINE, capacity={"factory_floor_m2": math.inf}, simulation={"years": 1})
        reps, mu = 400, 2.0 * 9.0
        x = run(scn, engine, reps).value_matrix("projects_producing")[:, 0]
        # mean: SE = sqrt(18 / 400) = 0.21; 4 SE
        assert abs(x.mean() - mu) < 4 * math.sqrt(mu / reps)
        # variance of a Poisson sample: Var(s^2) ~ (mu + 2 mu^2) / n, SE = 1.3; 4 SE
        assert abs(x.var(ddof=1) - mu) < 4 * math.sqrt((mu + 2 * mu * mu) / reps)

    def test_log_output_has_the_closed_form_mean_and_variance(self, engine):
        """One firm, no shocks or exits, productivity fixed at P: log(workers x P) is the firm's log level after
        24 months, normal with mean log B0 + 24 g / 12 and variance 24 sigma^2 / 12."""
        g, sig, b0, prod, reps = 0.10, 0.30, 5000.0, 100.0, 1000
        scn = scenario(
            pipeline={"signings_per_month": 0.0},
            shocks={"macro_sd": 0.0},
            sectors={"a": {**STILL, "growth": g, "firm_noise_sd": sig, "labour_productivity": prod}},
            baseline={"sectors": {"a": {"firms": 1, "revenue": b0, "renting_share": 0.0}}},
        )
        logb = np.log(run(scn, engine, reps).value_matrix("workers")[:, -1] * prod)
        var = 24 * sig**2 / 12  # 0.18
        # a starting firm begins at the year-end rate of its last-year revenue (rules.growth.year_end_level)
        log_start = math.log(b0 * 12 * math.expm1(-g / 12) / math.expm1(-g))
        # mean: SE = sqrt(0.18 / 1000) = 0.013; 4 SE
        assert abs(logb.mean() - (log_start + 24 * g / 12)) < 4 * math.sqrt(var / reps)
        # variance of a normal sample: SE = var sqrt(2 / (n - 1)) = 0.008; 4 SE
        assert abs(logb.var(ddof=1) - var) < 4 * var * math.sqrt(2 / (reps - 1))

    def test_deterministic_growth_is_exactly_e_to_the_g_every_year(self, engine):
        g = 0.10
        scn = scenario(
            simulation={"years": 3},
            pipeline={"signings_per_month": 0.0},
            shocks={"macro_sd": 0.0},
            sectors={"a": {**STILL, "growth": g}},
            baseline={"sectors": {"a": {"firms": 5}}},
        )
        assert np.allclose(run(scn, engine, 2).value_matrix("output_growth"), 100 * math.expm1(g), atol=1e-9)

    def test_three_year_survival_is_one_minus_q_cubed(self, engine):
        q, n = 0.10, 3000
        scn = scenario(
            simulation={"years": 3},
            pipeline={"signings_per_month": 0.0},
            sectors={"a": {"exit_rate_young": q, "exit_rate_mature": q}},
            baseline={"sectors": {"a": {"firms": n, "renting_share": 0.0}}},
        )
        survivors = run(scn, engine, 1).value_matrix("firms")[0, -1]
        p = (1 - q) ** 3  # 0.729; binomial SE = sqrt(p (1 - p) / n) = 0.0081; 4 SE
        assert abs(survivors / n - p) < 4 * math.sqrt(p * (1 - p) / n)

    def test_a_certificate_counts_three_year_ends_then_lapses_unless_renewed(self, engine, write):
        """One qualifying firm certified in the November 2023 round: valid at the ends of 2023-2025, expired in
        November 2026 with no re-application (reapply_prob 0), certified again in 2027 as an ordinary applicant."""
        path = one_firm(write, reapply_prob=0.0)
        res = run(path, engine, 1)
        assert res.value_matrix("hnte_valid")[0].tolist() == [1, 1, 1, 0, 1]
        assert res.value_matrix("new_hnte")[0].tolist() == [1, 0, 0, 0, 0]  # a renewal is not a new enterprise

    @pytest.mark.parametrize(
        "revenue, rd_share, certified",
        [
            (3000.0, 0.049, False),  # <= 50 million yuan: 5%
            (3000.0, 0.051, True),
            (10000.0, 0.039, False),  # 50-200 million: 4%
            (10000.0, 0.041, True),
            (30000.0, 0.029, False),  # above: 3%
            (30000.0, 0.031, True),
        ],
    )
    def test_firms_below_their_bands_rd_ratio_are_never_certified(self, engine, revenue, rd_share, certified):
        scn = scenario(
            simulation={"years": 3},
            pipeline={"signings_per_month": 0.0},
            shocks={"macro_sd": 0.0},
            certification={"hnte": SURE_HNTE},
            traits={"rd_share_growth": 0.0},  # the R&D share as drawn, every year
            sectors={"a": {**QUALIFYING_SECTOR, "rd_share": rd_share}},
            baseline={"sectors": {"a": {"firms": 200, "revenue": revenue, "hnte_share": 0.0, "age_years": 3.0}}},
        )
        valid = run(scn, engine, 1).value_matrix("hnte_valid")
        assert (valid == (200 if certified else 0)).all()

    def test_floor_space_for_k_firms_never_holds_more_than_k(self, engine):
        """Each project needs 1,000 m2 of a 4,000 m2 park: at every year end at most 4 are in, the space is used
        in whole units, and projects wait (the queue was exercised)."""
        k = 4
        pipe = dict(FIXED_PIPELINE, signings_per_month=3.0, project={"floor_space_m2": 1000.0})
        scn = scenario(
            pipeline=pipe,
            capacity={"factory_floor_m2": k * 1000.0},
            sectors={"a": {"exit_rate_young": 0.3, "exit_rate_mature": 0.3}},
        )
        res = run(scn, engine, 20)
        used = res.value_matrix("factory_utilisation") / 100 * res.value_matrix("factory_floor_m2")
        assert (used <= k * 1000.0 + 1e-6).all()
        assert np.allclose(used / 1000.0, np.round(used / 1000.0))
        assert res.value_matrix("projects_waiting").sum() > 0

    @pytest.mark.parametrize(
        "rent_share, landing, stage, kept",
        [
            (1.0, 0.5, 1.0, True),  # renting: lands at 0.5, produces at 1.5 <= 2 months after signing
            (1.0, 0.5, 1.6, False),  # produces at 2.1 > 2
            (1.0, 1.2, 0.5, False),  # produces at 1.7 but landed after the 1-month promise
            (0.0, 0.5, 5.0, True),  # building: built at 5.5 <= 6
            (0.0, 0.5, 5.6, False),  # built at 6.1 > 6
        ],
    )
    def test_the_promise_kpi_counts_projects_that_kept_seed_002s_promise(self, engine, rent_share, landing, stage, kept):
        """Constant delays, no drop-outs, unlimited space: either every project keeps the 1/2/6-month promise (share
        100%) or none does (0%). A project counts in the year its promise falls due: in the first year, those signed
        before November (renting) or July (building), Poisson with mean 2 x 10 (or 2 x 6) projects."""
        scn = scenario(
            pipeline={
                "signings_per_month": 2.0,
                "rent_share": rent_share,
                "landing": {"delay": landing, "dropout": 0.0},
                "rent": {"delay": stage, "dropout": 0.0, "patience": math.inf},
                "build": {"delay": stage, "dropout": 0.0, "patience": math.inf},
            },
            capacity={"factory_floor_m2": math.inf, "land_quota_mu_per_year": 1e6},
        )
        reps = 200
        res = run(scn, engine, reps)
        share, on_promise = res.value_matrix("promise_kept_share"), res.value_matrix("projects_on_promise")
        assert (share[on_promise > 0] == 100.0).all() if kept else (share == 0.0).all() and (on_promise == 0).all()
        if kept:
            mu = 2.0 * (10 if rent_share == 1.0 else 6)
            # mean of a Poisson count: SE = sqrt(mu / 200) <= 0.32; 4 SE
            assert abs(on_promise[:, 0].mean() - mu) < 4 * math.sqrt(mu / reps)

    def test_same_seed_same_values_whatever_the_jobs_and_another_seed_differs(self, engine):
        scn = scenario(pipeline={"signings_per_month": 3.0}, baseline={"sectors": {"a": {"firms": 40}}})
        a, b = run(scn, engine, 6, seed=9, jobs=1), run(scn, engine, 6, seed=9, jobs=2)
        np.testing.assert_array_equal(a.values, b.values)
        assert not np.array_equal(a.values, run(scn, engine, 6, seed=10).values, equal_nan=True)

    def test_replications_are_the_same_in_any_range(self, engine):
        """The contract's run(): replication r's values do not depend on which range it is run in."""
        scn = scenario(pipeline={"signings_per_month": 3.0}, baseline={"sectors": {"a": {"firms": 20}}})
        e = ENGINES[engine]
        whole = e.run(scn, 3, 5, jobs=1)
        runner = e.runner(scn, 3, 1, quiet=True, batch=2)
        try:
            parts = np.concatenate([runner.run(0, 2), runner.run(2, 5, last=True)])
        finally:
            runner.close()
        np.testing.assert_array_equal(whole, parts)
        assert whole.shape == (5, 2, len(parksim.experiments.montecarlo.column_names(scn)))

    def test_an_initial_status_acts_from_the_start(self, engine):
        """A park that starts in a status with signing_factor 0 signs nothing until its status changes (here:
        never); the same park without the effect signs projects."""

        def scn(factor):
            return scenario(
                pipeline={"signings_per_month": 5.0},
                baseline={"sectors": {"a": {"firms": 10}}},
                assessment={
                    "initial_status": "watched",
                    "rules": [{"name": "any", "kind": "thresholds", "criteria": [{"indicator": "firms", "threshold": 0.0}]}],
                    "effects": {"watched": {"signing_factor": factor}},
                },
            )

        assert (run(scn(0.0), engine, 4).value_matrix("projects_signed") == 0).all()
        assert run(scn(1.0), engine, 4).value_matrix("projects_signed").sum() > 0


def test_both_engines_start_from_the_same_firms(root):
    """The starting firms are one procedure with one state layout: replication r of a seed starts with the same firm
    table in the SimPy engine and in the fast engine (every column but the month end's scratch column)."""
    from parksim.engines.fast import plan as planning
    from parksim.engines.fast import pool
    from parksim.engines.simpy import ParkModel
    from parksim.model import layout
    from parksim.model.random import Streams

    scn = parksim.load_scenario(root / "scenarios" / "xiushan-2024.toml")
    reps = [0, 1, 2]
    P = planning.plan(scn, 7, reps, None, scn.assessment)
    blk = pool._Block(scn, P, reps, *planning._capacity(P))
    blk.advance(0, len(reps), 0, 0, 7, 0, P)  # months 0..0: the initialisation only
    columns = [k for k in range(blk.FF.shape[1]) if k != layout.FirmF.SHARE]
    for r in reps:
        m = ParkModel(scn, Streams(7, r))
        n = m.firms.n
        assert n == blk.RI[r, layout.RepI.FIRMS] > 100
        np.testing.assert_array_equal(m.FF[0, columns, :n], blk.FF[r, columns, :n])
        np.testing.assert_array_equal(m.FI[0, :, :n], blk.FI[r, :, :n])
        np.testing.assert_array_equal(m.SH[0, :, : scn.simulation.years], blk.SH[r, :, : scn.simulation.years])
    blk.release()

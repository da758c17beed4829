"""Distributions: inverse CDFs against SciPy, and the two kinds of uncertainty kept apart."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import parksim
from parksim.engines.fast import plan as planning
from parksim.engines.simpy import ParkModel
from parksim.model import layout
from parksim.model.random import Streams
from parksim.model.realise import realise, uncertain_parameters
from parksim.scenario.dists import LogNormal, Normal, Triangular, Uniform, ppf

U = np.linspace(0.01, 0.99, 25)


def test_ppf_matches_scipy():
    assert_allclose(Uniform(dist="uniform", low=2, high=5).ppf(U), stats.uniform(2, 3).ppf(U))
    assert_allclose(Triangular(dist="triangular", low=1, mode=2, high=5).ppf(U), stats.triang(0.25, loc=1, scale=4).ppf(U))
    assert_allclose(LogNormal(dist="lognormal", median=3, sigma=0.7).ppf(U), stats.lognorm(0.7, scale=3).ppf(U))
    assert_allclose(Normal(dist="normal", mean=1, sd=2).ppf(U), stats.norm(1, 2).ppf(U))
    tn = Normal(dist="normal", mean=1, sd=2, low=0, high=3)
    assert_allclose(tn.ppf(U), stats.truncnorm(-0.5, 1.0, loc=1, scale=2).ppf(U))
    assert ppf(4.0, 0.3) == 4.0


def test_lognormal_median_and_tail():
    d = LogNormal(dist="lognormal", median=2.0, sigma=0.7)
    assert d.ppf(0.5) == pytest.approx(2.0)
    # the documented tail: P(X > 2 * median) = 1 - Phi(ln 2 / 0.7) = 16%
    assert stats.norm.sf(np.log(2) / 0.7) == pytest.approx(0.161, abs=1e-3)


def test_uncertain_parameter_is_drawn_once_per_replication():
    scn = parksim.scenario_from_dict(
        {
            "simulation": {"years": 1},
            "certification": {"hnte": {"approval_prob": {"dist": "uniform", "low": 0.6, "high": 0.85}}},
            "sectors": {"a": {"rd_share": {"dist": "lognormal", "median": {"dist": "uniform", "low": 0.01, "high": 0.05}, "sigma": 0.5}}},
        }
    )
    listed = uncertain_parameters(scn)
    assert "sectors.a.rd_share.median" in listed
    assert "certification.hnte.approval_prob" in listed
    # the levers' unknown effect sizes are ranges by default (drawn even when a lever is off), and so are, among
    # others, the ranges of the high-tech renewal and cultivation pool and of the firms' traits over time (issue 16)
    assert {
        "levers.rd_subsidy.elasticity",
        "levers.credit.exit_factor",
        "levers.rent_subsidy.delay_factor",
        "levers.rent_subsidy.dropout_factor",
        "levers.rd_coverage.hazard_factor",
        "certification.hnte.renewal_approval_prob",
        "certification.hnte.pool_entry_prob",
        "certification.hnte.pool_approval_boost",
        "certification.hnte.pool_score_gain",
        "traits.rd_adoption_rate",
        "traits.rd_institution_adoption_rate",
        "traits.score_gain",
        "traits.hightech_share_gain",
        "traits.rd_share_growth",
    } <= set(listed)
    draws = [realise(scn, Streams(7, r)) for r in range(40)]
    probs = [d.certification.hnte.approval_prob for d in draws]
    assert all(isinstance(p, float) and 0.6 <= p <= 0.85 for p in probs)
    assert len(set(probs)) == 40  # differs between replications
    # same replication, same draw (realising twice is deterministic)
    assert realise(scn, Streams(7, 3)).certification.hnte.approval_prob == probs[3]
    # an entity distribution stays a distribution; only its uncertain median became a number
    rd = draws[0].sectors["a"].rd_share
    assert isinstance(rd, LogNormal) and isinstance(rd.median, float) and 0.01 <= rd.median <= 0.05


def test_entity_distribution_varies_between_firms_parameter_does_not():
    scn = parksim.scenario_from_dict(
        {
            "simulation": {"years": 1},
            "pipeline": {"signings_per_month": 0.0},
            "sectors": {
                "a": {
                    "labour_productivity": {"dist": "uniform", "low": 100, "high": 200},
                    "growth": {"dist": "uniform", "low": 0, "high": 0.2},
                }
            },
            "baseline": {"sectors": {"a": {"firms": 50}}},
        }
    )
    m = ParkModel(scn, Streams(1, 0))
    prod = m.firms.productivity[: m.firms.n]
    assert len(np.unique(prod)) == 50 and prod.min() >= 100 and prod.max() <= 200
    # one growth value for the replication, the same in the realised scenario and in the firms' procedures' plan
    g = m.scn.sectors["a"].growth
    assert isinstance(g, float) and 0 <= g <= 0.2 and m.P["SV"][0, 0, layout.Sec.GROWTH] == g


def test_param_uniforms_are_the_first_numbers_of_the_param_streams():
    # known answer: NumPy's own Generator(PCG64(SeedSequence(seed, spawn_key=(r, PARAM, key)))).random(), for
    # small, large (several 32-bit words) and zero seeds and keys, and replications up to 2**32 - 1
    from parksim.model.random import PARAM, param_uniforms

    rng = np.random.default_rng(5)
    seeds = [0, 1, 7, 2**32 - 1, 2**32, 2**63 + 12345, 2**64 - 1, 3 * 2**70 + 1, int(rng.integers(0, 2**63))]
    for seed in seeds:
        for key in (0, 1, 2**31 + 7, 2**32 - 1):
            reps = np.r_[np.arange(20), rng.integers(0, 2**32, 20), 2**32 - 1]
            expected = [
                np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(int(r), PARAM, key)))).random() for r in reps
            ]
            assert param_uniforms(seed, reps, key).tolist() == expected
            assert param_uniforms(seed, reps, key).tolist() == [Streams(seed, int(r)).rng(PARAM, key).random() for r in reps]
    assert param_uniforms(3, [2**40], 5).tolist() == [Streams(3, 2**40).rng(PARAM, 5).random()]  # two-word replication
    assert param_uniforms(3, [], 5).size == 0


def test_param_uniforms_of_many_keys_at_once_are_each_keys_own():
    # a plan draws all its uncertain parameters together (one and two-word keys mixed, a key given twice)
    from parksim.model.random import PARAM, key_of, param_uniforms_many

    keys = [0, 2**32 - 1, 2**32, key_of("pipeline.rent_share"), key_of("sectors.a.growth"), 0]
    for seed, reps in ((11, np.arange(30)), (2**70 + 3, np.array([4])), (5, np.array([2**40]))):
        got = param_uniforms_many(seed, reps, keys)
        assert set(got) == set(keys)
        for key in keys:
            assert got[key].tolist() == [Streams(seed, int(r)).rng(PARAM, key).random() for r in reps], (seed, key)


def test_fast_engine_plan_draws_the_parameters_realise_draws():
    # the fast engine draws a parameter for a whole group at once; the values are those of realise, replication by replication

    scn = parksim.scenario_from_dict(
        {
            "simulation": {"years": 1},
            "certification": {"hnte": {"approval_prob": {"dist": "uniform", "low": 0.6, "high": 0.85}}},
            "pipeline": {"signings_per_month": {"dist": "lognormal", "median": {"dist": "uniform", "low": 2, "high": 4}, "sigma": 0.3}},
        }
    )
    reps = [0, 5, 9, 1000]
    for seed in (11, 2**63 + 5):
        values = planning._Values(seed, reps, None)
        got_flat = values.num(scn.certification.hnte.approval_prob, "certification.hnte.approval_prob")
        got_nested = values.num(scn.pipeline.signings_per_month, "pipeline.signings_per_month")
        drawn = [realise(scn, Streams(seed, r)) for r in reps]
        assert got_flat.tolist() == [d.certification.hnte.approval_prob for d in drawn]
        assert got_nested.tolist() == [d.pipeline.signings_per_month for d in drawn]

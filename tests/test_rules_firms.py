"""The firm-attribute and pipeline-timing rules (parksim.rules.firms, parksim.rules.pipeline).

Both engines call these functions: the SimPy engine in Python, the fast engine compiled by numba.
Each rule is checked against a hand-computed or closed-form answer, and the compiled form against
the Python form on the same inputs (so the two engines apply the same rule).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from scipy import special, stats

from parksim.rules import _ops
from parksim.rules import firms as F
from parksim.rules import pipeline as P


# --- compiled forms, called on one firm's numbers as the fast engine does ---------------------------------------
@numba.njit(cache=True)
def _c_tech_score(rho, z0, z):
    return F.tech_score(rho, z0, z)


@numba.njit(cache=True)
def _c_present(score, threshold):
    return F.present(score, threshold)


@numba.njit(cache=True)
def _c_research(active, share, known):
    return F.research(active, share, known)


@numba.njit(cache=True)
def _c_exit_time(birth, e, age0, active, factor, hy, hm, young):
    return F.exit_time(birth, e, age0, active, factor, hy, hm, young)


@numba.njit(cache=True)
def _c_rd_efficiency(share, active, sd, z):
    return F.rd_efficiency(share, active, sd, z)


@numba.njit(cache=True)
def _c_starting(u_cert, u_h, u_z, u_zl, hs, ts, zs, hy, zy):
    return F.starting_certificates(u_cert, u_h, u_z, u_zl, hs, ts, zs, hy, zy)


@numba.njit(cache=True)
def _c_orientation(u):
    return F.starting_orientation(u)


@numba.njit(cache=True)
def _c_ndtri(p):
    return _ops.ndtri(p)


@numba.njit(cache=True)
def _c_exp(x):
    return _ops.exp(x)


@numba.njit(cache=True)
def _c_calibration(total, drawn):
    return F.calibration(total, drawn)


@numba.njit(cache=True)
def _c_pipeline(drawn, rent, share, factor, delay, elapsed, land, stage, drops):
    return (
        P.investment(drawn, rent, share),
        P.stage_delay(drawn, factor),
        P.remaining(delay, elapsed),
        P.in_the_past(land, stage, elapsed, drops),
    )


# --- the copula --------------------------------------------------------------------------------------------------
def test_tech_scores_are_standard_normal_with_correlation_rho_squared():
    # 200,000 firms: the standard error of a variance estimate is sqrt(2/n) ~ 0.003 and of a correlation
    # (1 - r^2)/sqrt(n) ~ 0.002, so 0.015 is over 5 standard errors (fixed seed: the test cannot flake)
    rng = np.random.default_rng(1)
    n, rho = 200_000, 0.6
    z0, za, zb = rng.standard_normal((3, n))
    a, b = F.tech_score(rho, z0, za), F.tech_score(rho, z0, zb)
    assert abs(a.var() - 1.0) < 0.015 and abs(b.var() - 1.0) < 0.015
    assert abs(np.corrcoef(a, b)[0, 1] - rho**2) < 0.015
    assert abs(np.corrcoef(a, z0)[0, 1] - rho) < 0.015
    # rho = 0: the attribute's own score; rho = 1: the orientation itself
    assert F.tech_score(0.0, 1.7, -0.3) == -0.3 and F.tech_score(1.0, 1.7, -0.3) == 1.7


def test_present_has_its_probability_and_favours_high_scores():
    # hand cases: threshold ndtri(0.5) = 0 keeps exactly the positive scores
    assert F.present(0.1, 0.0) and not F.present(-0.1, 0.0)
    assert not F.present(0.0, special.ndtri(0.5))  # -0 < 0 is false: the boundary belongs to "absent"
    # with probability p = Phi(t) the attribute is held by scores above -t: P = p exactly in distribution
    for p in (0.02, 0.3, 0.5, 0.9):
        z = np.linspace(-8, 8, 160_001)  # a fine grid: the share of normal mass above -t
        assert F.threshold(p) == special.ndtri(p)
        held = F.present(z, F.threshold(p))
        assert np.all(held[z > -special.ndtri(p)]) and not np.any(held[z < -special.ndtri(p)])
        assert stats.norm.sf(-special.ndtri(p)) == pytest.approx(p, rel=1e-12)


def test_research_uses_the_register_when_it_states_rd_spend():
    assert F.research(True, 0.04, math.nan) == (True, 0.04)
    assert F.research(False, 0.04, math.nan) == (False, 0.04)
    assert F.research(False, 0.04, 0.02) == (True, 0.02)
    assert F.research(True, 0.04, 0.0) == (False, 0.0)
    assert F.register_rd_share(30.0, 1000.0) == 0.03 and F.register_rd_share(30.0, 0.0) == 0.0
    assert F.register_productivity(1000.0, 50) == 20.0 and F.register_productivity(0.0, 10) == 1e-10


def test_exit_time_with_constant_hazard_and_the_credit_lever():
    # constant hazard h (young = mature): exit age = age0 + e / h; a starting firm (birth = -age0) exits at e / h
    h = 0.01
    assert F.exit_time(-24.0, 0.5, 24.0, False, 0.5, h, h, 36.0) == pytest.approx(50.0)
    # an R&D-active firm's hazard is scaled by the lever's factor: half the hazard, twice the time
    assert F.exit_time(-24.0, 0.5, 24.0, True, 0.5, h, h, 36.0) == pytest.approx(100.0)
    assert F.exit_time(10.0, 0.5, 0.0, True, 1.0, h, h, 36.0) == pytest.approx(60.0)
    assert F.exit_time(0.0, 0.5, 0.0, False, 1.0, 0.0, 0.0, 36.0) == math.inf


def test_rd_efficiency_has_mean_share_and_is_zero_when_inactive():
    # E[exp(sd Z - sd^2/2)] = 1: Gauss-Hermite quadrature with 40 nodes is exact to ~1e-15 here
    x, w = np.polynomial.hermite_e.hermegauss(40)
    for sd in (0.0, 0.3, 0.8):
        mean = np.sum(w * F.rd_efficiency(0.05, True, sd, x)) / np.sqrt(2 * np.pi)
        assert mean == pytest.approx(0.05, rel=1e-12)
    assert F.rd_efficiency(0.05, False, 0.3, 1.2) == 0.0
    # an inactive firm's intensity is 0 whatever its noise (the fast engine then draws no noise for it)
    z = np.linspace(-9.0, 9.0, 37)
    for sd in (0.0, 0.3, 0.8, 2.0):
        assert not np.any(F.rd_efficiency(0.05, False, sd, z))
        assert all(_c_rd_efficiency(0.05, False, sd, x) == 0.0 for x in z)


def test_starting_certificates_and_calibration_by_hand():
    # u_cert 0.1: under the high-tech share 0.2 and the tech-SME share 0.15; 专精特新 u 0.5 above its share 0.3
    hnte, h_exp, tsme, zjtx, z_exp = F.starting_certificates(0.1, 0.25, 0.5, 0.9, 0.2, 0.15, 0.3, 3, 3)
    assert (hnte, tsme, zjtx) == (True, True, False)
    assert h_exp == 0.25 * 12 * 3 and z_exp == -math.inf
    assert F.starting_certificates(0.18, 0.0, 0.1, 0.5, 0.2, 0.15, 0.3, 3, 2)[:4] == (True, 0.0, False, True)
    # orientation: the certified (small u) are the most oriented
    assert F.starting_orientation(0.5) == 0.0 and F.starting_orientation(0.1) == pytest.approx(special.ndtri(0.9))
    assert F.calibration(300.0, 200.0) == (1.5, math.log(1.5))
    assert F.calibration(300.0, 0.0) == (1.0, 0.0) and F.calibration(0.0, 200.0) == (0.0, -math.inf)


def test_pipeline_timing_by_hand():
    assert P.investment(100.0, True, 0.3) == 30.0 and P.investment(100.0, False, 0.3) == 100.0
    assert P.stage_delay(2.0, 0.5) == 1.0
    # a project 1.5 months into a 1-month stage waits 0 and carries 0.5 months; 0.5 months into it waits 0.5
    assert P.remaining(1.0, 1.5) == (0.0, 0.5) and P.remaining(1.0, 0.5) == (0.5, 0.0)
    # warm-up: signed 4 months before the start
    assert P.in_the_past(1.0, 2.0, 4.0, False)  # would produce at 3 < 4
    assert P.in_the_past(1.0, 6.0, 4.0, True)  # dropped out on landing at 1 < 4
    assert not P.in_the_past(1.0, 6.0, 4.0, False)  # landed, still building at the start
    assert not P.in_the_past(5.0, 6.0, 4.0, True)  # lands (and drops out) after the start: a future event


# --- the same rule compiled ---------------------------------------------------------------------------------------
def test_compiled_rules_equal_python_rules():
    rng = np.random.default_rng(7)
    for _ in range(200):
        rho, z0, z, t = rng.uniform(-1, 1), *rng.standard_normal(3)
        assert _c_tech_score(rho, z0, z) == F.tech_score(rho, z0, z)
        assert _c_present(z, t) == F.present(z, t)
        known = math.nan if rng.random() < 0.5 else rng.uniform(0, 0.1)
        active = bool(rng.random() < 0.5)
        assert _c_research(active, 0.03, known) == F.research(active, 0.03, known)
        args = (rng.uniform(-60, 60), rng.exponential(), rng.uniform(0, 60), bool(rng.random() < 0.5), rng.uniform(0.5, 1))
        haz = (rng.uniform(0, 0.02), rng.uniform(0, 0.02), rng.uniform(0, 48))
        assert _c_exit_time(*args, *haz) == F.exit_time(*args, *haz)
        sd = rng.uniform(0, 1)
        assert _c_rd_efficiency(0.04, True, sd, z) == pytest.approx(F.rd_efficiency(0.04, True, sd, z), rel=1e-15)
        u = tuple(rng.random(4))
        shares = tuple(rng.random(3))
        assert _c_starting(*u, *shares, 3.0, 2.0) == F.starting_certificates(*u, *shares, 3.0, 2.0)
        assert _c_orientation(u[0]) == pytest.approx(F.starting_orientation(u[0]), rel=1e-14, abs=1e-15)
        assert _c_calibration(300.0, u[1]) == F.calibration(300.0, u[1])
        p_args = (rng.uniform(1, 100), bool(u[2] < 0.5), u[3], rng.uniform(0.5, 1.5), *rng.uniform(0, 6, 4), bool(u[0] < 0.5))
        got = _c_pipeline(*p_args)
        drawn, rent, share, factor, delay, elapsed, land, stage, drops = p_args
        assert got == (
            P.investment(drawn, rent, share),
            P.stage_delay(drawn, factor),
            P.remaining(delay, elapsed),
            P.in_the_past(land, stage, elapsed, drops),
        )


def test_ndtri_is_scipy_in_python_and_compiled_for_a_number():
    p = np.array([1e-300, 1e-10, 0.02, 0.3, 0.5, 0.97, 1 - 1e-12])
    assert np.array_equal(_ops.ndtri(p), special.ndtri(p))
    compiled = np.array([_c_ndtri(x) for x in p])
    np.testing.assert_allclose(compiled, special.ndtri(p), rtol=1e-14)


def test_exp_is_numpy_in_python_and_the_table_exp_compiled_for_a_number():
    x = np.array([-700.0, -3.2, -1e-9, 0.0, 0.4, 1.0, 12.5, 700.0])
    assert np.array_equal(_ops.exp(x), np.exp(x))
    from parksim.model import fastrand as _fastrand

    compiled = np.array([_c_exp(v) for v in x])
    assert np.array_equal(compiled, np.array([_fastrand.exp(v) for v in x]))
    np.testing.assert_allclose(compiled, np.exp(x), rtol=4e-16)  # within 1.5 ulp (tests/test_fastrand.py: exp)
    assert _c_exp(2) == _fastrand.exp(2.0)  # an integer argument is taken as a float

"""Certification rules (DOMAIN §3): hand-computed cases and their effect in the engine."""

from __future__ import annotations

import numpy as np
import pytest

import parksim
from parksim.engines.simpy import ParkModel
from parksim.model.random import Streams
from parksim.rules import certification as C
from parksim.scenario.certification import Hnte, TechSme, Zjtx

HNTE = Hnte()


def test_hnte_rd_threshold_by_sales_band():
    # <= 50 million yuan: 5%; 50-200 million: 4%; above: 3% (万元)
    assert C.hnte_rd_threshold(np.array([1000, 5000, 5001, 20000, 20001]), HNTE).tolist() == [0.05, 0.05, 0.04, 0.04, 0.03]


def eligible(**over):
    args = dict(
        age_months=24,
        rd_3y=6.0,
        sales_3y=100.0,
        latest_sales=40.0,
        st_share=0.2,
        hightech_share=0.7,
        score=80,
        has_ip=True,
        in_field=True,
        violation=False,
        p=HNTE,
    )
    args.update(over)
    return bool(C.hnte_eligible(**args))


def test_hnte_each_condition_is_required():
    assert eligible()
    assert not eligible(rd_3y=4.99)  # 4.99% < 5% in the small band
    assert eligible(rd_3y=4.0, latest_sales=6000)  # medium band needs 4%
    assert not eligible(rd_3y=3.99, latest_sales=6000)
    assert eligible(rd_3y=3.0, latest_sales=30000)
    assert not eligible(age_months=11)
    assert not eligible(st_share=0.09)
    assert not eligible(hightech_share=0.59)
    assert not eligible(score=70)  # must exceed 70
    assert not eligible(has_ip=False)
    assert not eligible(in_field=False)
    assert not eligible(violation=True)
    assert not eligible(sales_3y=0.0, rd_3y=0.0)


def test_hnte_a_violation_only_ever_removes_eligibility():
    # the fast engine draws a firm's violation only when it meets every other condition (a firm that fails without a
    # violation fails with one): over random firms, eligible with a violation never, and without one exactly when
    # the other conditions hold
    rng = np.random.default_rng(5)
    n = 20_000
    args = dict(
        age_months=rng.uniform(0, 60, n),
        rd_3y=rng.uniform(0, 10, n),
        sales_3y=rng.choice([0.0, 50.0, 100.0, 40_000.0], n),
        latest_sales=rng.choice([40.0, 6000.0, 30000.0], n),
        st_share=rng.uniform(0, 0.3, n),
        hightech_share=rng.uniform(0.4, 1.0, n),
        score=rng.uniform(50, 100, n),
        has_ip=rng.random(n) < 0.7,
        in_field=rng.random(n) < 0.8,
        p=HNTE,
    )
    clean = C.hnte_eligible(violation=np.zeros(n, bool), **args)
    assert 0 < clean.sum() < n  # both kinds of firm occur
    assert not C.hnte_eligible(violation=np.ones(n, bool), **args).any()
    mixed = rng.random(n) < 0.5
    np.testing.assert_array_equal(C.hnte_eligible(violation=mixed, **args), clean & ~mixed)


def test_tech_sme_points_hand_computed():
    p = C.tech_sme_params(TechSme())
    total, staff = C.tech_sme_points(
        st_share=np.array([0.31, 0.22, 0.05, 0.10]),
        rd_ratio=np.array([0.065, 0.045, 0.10, 0.019]),
        ip_class1=np.array([True, False, True, False]),
        ip_class2=np.array([0, 2, 0, 7]),
        p=p,
    )
    # firm 0: 20 + 50 + 30; firm 1: 12 + 30 + 12; firm 2: 0 + 50 + 30; firm 3: 4 + 0 + 24
    assert total.tolist() == [100, 54, 80, 28]
    assert staff.tolist() == [20, 12, 0, 4]
    ok = C.tech_sme_eligible(
        employees=np.array([100, 100, 100, 100]),
        revenue=np.array([1000, 1000, 1000, 1000]),
        st_share=np.array([0.31, 0.22, 0.05, 0.10]),
        rd_ratio=np.array([0.065, 0.045, 0.10, 0.019]),
        ip_class1=np.array([True, False, True, False]),
        ip_class2=np.array([0, 2, 0, 7]),
        hnte_valid=np.array([False, False, False, True]),
        p=p,
    )
    # firm 2 scores 80 but has no S&T-staff points; firm 3 qualifies directly as a high-tech enterprise
    assert ok.tolist() == [True, False, False, True]
    too_big = C.tech_sme_eligible(
        employees=501, revenue=1000, st_share=0.31, rd_ratio=0.065, ip_class1=True, ip_class2=0, hnte_valid=False, p=p
    )
    assert not too_big


def test_zjtx_conditions():
    p = Zjtx()
    base = dict(age_months=24, niche=True, rd_last=100.0, revenue_last=3000.0, p=p)
    assert C.zjtx_eligible(**base)
    assert not C.zjtx_eligible(**{**base, "rd_last": 99.0})
    assert not C.zjtx_eligible(**{**base, "revenue_last": 4000.0})  # 100/4000 = 2.5% < 3%
    assert not C.zjtx_eligible(**{**base, "age_months": 23})
    assert not C.zjtx_eligible(**{**base, "niche": False})


QUALIFYING_SECTOR = {
    "growth": 0.0,
    "shock_sd": 0.0,
    "firm_noise_sd": 0.0,
    "exit_rate_young": 0.0,
    "exit_rate_mature": 0.0,
    "rd_noise_sd": 0.0,
    "rd_active": 1.0,
    "innovation_score": 90.0,
    "hnte_field": 1.0,
    "ip_class1": 1.0,
    "st_staff_share": 0.2,
    "hightech_revenue_share": 0.8,
}
SURE_HNTE = {
    "apply_prob": 1.0,
    "reapply_prob": 1.0,
    "approval_prob": 1.0,
    "renewal_approval_prob": 1.0,
    "pool_apply_prob": 1.0,
    "violation_prob": 0.0,
    "revocation_prob": 0.0,
}


def one_firm(write, years=5, reapply_prob=1.0):
    write("firms.csv", "firm_id,sector,revenue,rd_spend,age_years\nF1,a,4000,240,5\n")  # R&D 6% of sales
    path = write(
        "s.toml",
        f"""
        [simulation]
        years = {years}
        [pipeline]
        signings_per_month = 0.0
        [baseline]
        enterprises = "firms.csv"
        [shocks]
        macro_sd = 0.0
        [certification.hnte]
        apply_prob = 1.0
        reapply_prob = {reapply_prob}
        approval_prob = 1.0
        renewal_approval_prob = 1.0
        pool_apply_prob = 1.0
        violation_prob = 0.0
        revocation_prob = 0.0
        [sectors.a]
        """
        + "\n".join(f"{k} = {v}" for k, v in QUALIFYING_SECTOR.items()),
    )
    return parksim.load_scenario(path)


def yearly(model, name):
    rows = [(y, v) for y, n, v in model.result.rows if n == name]
    return [v for _, v in sorted(rows)]


def test_certificate_counts_exactly_three_years_unless_renewed(write):
    scn = one_firm(write)
    renewed = ParkModel(scn, Streams(1, 0))
    renewed.run()
    assert yearly(renewed, "hnte_valid") == [1, 1, 1, 1, 1]
    assert yearly(renewed, "new_hnte") == [1, 0, 0, 0, 0]  # re-certification is not a new enterprise

    # granted in the November 2023 round (month 11), valid 36 months, renewed in the round its certificate expires
    # (a certificate that is not renewed counts for exactly three year ends: tests/test_engine_contract.py)
    assert renewed.firms.hnte_expiry[0] == pytest.approx(11 + 36 + 36)

"""Policy levers: each mechanism moves the park the right way, and costs are accounted exactly."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL_PARK

import parksim


def park(**levers):
    return parksim.scenario_from_dict(
        {
            "simulation": {"years": 2},
            "pipeline": {"signings_per_month": 3.0},
            "capacity": {"factory_floor_m2": 1e8},
            "sectors": {"a": {"rd_active": 1.0}},
            "baseline": {"sectors": {"a": {"firms": 40}}},
            "levers": levers,
        }
    )


def run(scn, reps=6):
    res = parksim.simulate(scn, replications=reps, seed=7, jobs=1, quiet=True)
    return res


def values(res, name):
    return res.value_matrix(name)


def test_no_lever_costs_nothing():
    assert np.all(values(run(park()), "policy_cost") == 0.0)


def test_promotion_adds_signings_at_its_price():
    base, more = run(park()), run(park(promotion={"extra_signings_per_month": 2.0, "cost_per_project_yuan": 500_000}))
    assert (values(more, "projects_signed") >= values(base, "projects_signed")).all()  # time change: a superset of signings
    assert values(more, "projects_signed").sum() > values(base, "projects_signed").sum()
    assert np.allclose(values(more, "policy_cost"), 2 * 12 * 500_000 / 1e8)  # 0.12 亿元 a year


def test_faster_service_scales_every_delay():
    slow = parksim.trace(park(), seed=2)
    fast = parksim.trace(park(service={"delay_factor": 0.5, "cost_yuan_per_year": 1e6}), seed=2)
    sig = slow[slow.event == "signed"].set_index("entity").time
    la = slow[slow.event == "landed"].set_index("entity").time
    lb = fast[fast.event == "landed"].set_index("entity").time
    common = la.index.intersection(lb.index)
    assert len(common) > 20
    # the same projects (same uniforms) land after exactly half the delay (times rounded to 1e-6 in the log)
    assert np.allclose((lb[common] - sig[common]) / (la[common] - sig[common]), 0.5, rtol=1e-4)


def test_factory_and_land_are_added_and_paid_for():
    res = run(
        park(
            factories={"floor_space_m2": 10_000, "cost_per_m2_yuan": 2000},
            land={"extra_quota_mu_per_year": 100, "cost_per_mu_yuan": 150_000},
        )
    )
    base = run(park())
    assert np.allclose(values(res, "factory_floor_m2") - values(base, "factory_floor_m2"), 10_000)
    # factories in the first year only (0.2 亿元); land every year (0.15 亿元)
    assert np.allclose(values(res, "policy_cost")[:, 0], 0.2 + 0.15) and np.allclose(values(res, "policy_cost")[:, 1], 0.15)


def test_rd_subsidy_raises_rd_by_elasticity_times_rate_and_costs_its_rate():
    base = run(park())
    sub = run(park(rd_subsidy={"rate": 0.1, "elasticity": 0.5}))
    # R&D spending is 1 + 0.5 x 0.1 = 1.05 times the base's in every replication (same firms, same output)
    assert np.allclose(values(sub, "rd_spending") / values(base, "rd_spending"), 1.05)
    assert np.allclose(values(sub, "total_output"), values(base, "total_output"))
    assert np.allclose(values(sub, "policy_cost"), 0.1 * values(sub, "rd_spending"))


def test_cultivation_certifies_more_and_pays_per_application():
    hnte = {
        "sectors": {
            "a": {
                "rd_active": 1.0,
                "rd_share": 0.08,
                "innovation_score": 90.0,
                "hnte_field": 1.0,
                "ip_class1": 1.0,
                "st_staff_share": 0.3,
                "hightech_revenue_share": 0.9,
            }
        }
    }

    def scn(levers):
        d = {
            "simulation": {"years": 2},
            "pipeline": {"signings_per_month": 0.0},
            "baseline": {"sectors": {"a": {"firms": 60, "hnte_share": 0.0}}},
            "certification": {"hnte": {"apply_prob": 0.3}},
            "levers": levers,
            **hnte,
        }
        return parksim.scenario_from_dict(d)

    base, cult = run(scn({})), run(scn({"cultivation": {"apply_boost": 0.5, "cost_per_application_yuan": 50_000}}))
    first_round = values(cult, "new_hnte")[:, 0]
    assert (first_round >= values(base, "new_hnte")[:, 0]).all() and first_round.sum() > values(base, "new_hnte")[:, 0].sum()
    assert (values(cult, "policy_cost") > 0).all() and np.all(values(base, "policy_cost") == 0)
    # cost = applications x 50,000 yuan: a multiple of 0.0005 亿元
    assert np.allclose(np.round(values(cult, "policy_cost") / 0.0005), values(cult, "policy_cost") / 0.0005)


def test_credit_keeps_tech_firms_alive():
    base = run(park())
    credit = run(park(credit={"fund_yuan": 1e8, "loss_rate": 0.1, "exit_factor": 0.3, "growth_bonus": 0.0}))
    assert (values(credit, "firms") >= values(base, "firms")).all()
    assert values(credit, "firms").sum() > values(base, "firms").sum()
    assert np.allclose(values(credit, "policy_cost"), 1e8 * 0.1 / 2 / 1e8)  # the expected losses, spread over 2 years


def test_platforms_add_institutions():
    base, plat = run(park(), reps=20), run(park(platforms={"extra_institutions_per_year": 5, "cost_per_institution_yuan": 5e6}), reps=20)
    # Poisson(5 + 5) vs Poisson(5) births a year: over 20 replications the mean gap is ~5 a year (SE ~ 1)
    gap = (values(plat, "institutions") - values(base, "institutions"))[:, -1].mean()
    assert 5 < gap < 15
    assert np.allclose(values(plat, "policy_cost"), 0.25)


def test_compare_reports_cost_and_points_per_100m(write):
    base = write("b.toml", SMALL_PARK)
    lever = write("p.toml", 'extends = "b.toml"\n[levers.promotion]\nextra_signings_per_month = 3.0\ncost_per_project_yuan = 1000000\n')
    cmp = parksim.compare(base, [lever], replications=40, seed=2, jobs=1, quiet=True)
    row = cmp.table.query("scenario == 'p' and target == 'output'").iloc[0]
    assert row.cost_yuan == pytest.approx(2 * 3 * 12 * 1e6)  # 72 million yuan over two years
    assert row.pp_per_100m_yuan == pytest.approx(100 * row.diff_vs_base / 0.72)


def test_special_bonds_build_factories_and_land_and_cost_their_interest():
    bonds = {"amount_yuan": 4e8, "factory_share": 0.5, "interest_rate": 0.03}
    prices = {"factories": {"cost_per_m2_yuan": 2000.0}, "land": {"cost_per_mu_yuan": 200_000.0}}
    res, base = run(park(bonds=bonds, **prices)), run(park(**prices))
    # 2 亿元 of factories at 2,000 yuan/m2 = 100,000 m2; 2 亿元 of land at 200,000 yuan/mu = 1,000 mu
    assert np.allclose(values(res, "factory_floor_m2") - values(base, "factory_floor_m2"), 100_000)
    assert (values(res, "land_quota_left_mu") >= values(base, "land_quota_left_mu")).all()
    assert np.allclose(values(res, "policy_cost"), 4e8 * 0.03 / 1e8)  # 0.12 亿元 of interest a year


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_bond_land_outlasts_the_year_start_when_the_quota_does_not_carry_over(engine):
    """Known answer: without signings nothing is used, so the land left at each year end is the year's quota (the
    unused quota of the year before lapses) plus the land prepared with bond money (no quota: it never lapses)."""

    def scn(bonds):
        return parksim.scenario_from_dict(
            {
                "simulation": {"years": 3},
                "pipeline": {"signings_per_month": 0.0},
                "capacity": {"land_quota_mu_per_year": 500.0, "quota_carry_over": False},
                "sectors": {"a": {}},
                "baseline": {"sectors": {"a": {"firms": 5}}},
                "levers": {"bonds": bonds, "land": {"cost_per_mu_yuan": 150_000.0}},
            }
        )

    bonds = {"amount_yuan": 3e8, "factory_share": 0.5, "interest_rate": 0.03}
    with_bonds = parksim.simulate(scn(bonds), replications=3, seed=1, jobs=1, engine=engine, quiet=True)
    without = parksim.simulate(scn({}), replications=3, seed=1, jobs=1, engine=engine, quiet=True)
    # 1.5 亿元 of land at 150,000 yuan/mu = 1,000 mu, on top of the 500-mu quota, in every year
    assert np.allclose(values(without, "land_quota_left_mu"), 500.0)
    assert np.allclose(values(with_bonds, "land_quota_left_mu"), 1500.0)
    assert np.allclose(values(with_bonds, "policy_cost"), 3e8 * 0.03 / 1e8)


def renting_park(engine_levers=None, **over):
    """Every project rents; nothing waits for space, and no project drops out on landing."""
    d = {
        "simulation": {"years": 2},
        "pipeline": {"signings_per_month": 4.0, "rent_share": 1.0, "landing": {"dropout": 0.0}, "rent": {"dropout": 0.4}},
        "capacity": {"factory_floor_m2": 1e8},
        "sectors": {"a": {}},
        "baseline": {"sectors": {"a": {"firms": 20, "renting_share": 1.0}}},
        "levers": engine_levers or {},
    }
    d.update(over)
    return parksim.scenario_from_dict(d)


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_rent_subsidy_is_paid_per_occupied_m2(engine):
    lever = {"rent_subsidy": {"yuan_per_m2_year": 60.0, "coverage": 0.5}}
    res = parksim.simulate(renting_park(lever), replications=4, seed=5, jobs=1, engine=engine, quiet=True)
    used = values(res, "factory_utilisation") / 100.0 * values(res, "factory_floor_m2")
    assert (used > 0).all()
    # known answer: 60 yuan x half the occupied floor space, each year, in 亿元
    assert np.allclose(values(res, "policy_cost"), 60.0 * 0.5 * used / 1e8, rtol=1e-9)


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_rent_subsidy_keeps_renting_projects_and_is_inert_when_off(engine):
    on = {"rent_subsidy": {"yuan_per_m2_year": 60.0, "delay_factor": 0.5, "dropout_factor": 0.0}}
    off = {"rent_subsidy": {"yuan_per_m2_year": 0.0, "delay_factor": 0.5, "dropout_factor": 0.0}}
    base = parksim.simulate(renting_park(), replications=8, seed=5, jobs=1, engine=engine, quiet=True)
    sub = parksim.simulate(renting_park(on), replications=8, seed=5, jobs=1, engine=engine, quiet=True)
    inert = parksim.simulate(renting_park(off), replications=8, seed=5, jobs=1, engine=engine, quiet=True)
    # without landing drop-outs or waiting, a renting project drops out only at its renting stage (probability 0.4
    # x 0 with the subsidy): none does
    assert values(base, "projects_dropped").sum() > 0
    assert np.all(values(sub, "projects_dropped") == 0)
    # the same projects (common random numbers), each moving in after half its delay and none lost: every project
    # producing without the subsidy produces with it, so the count over the horizon never falls
    assert (values(sub, "projects_producing").sum(axis=1) >= values(base, "projects_producing").sum(axis=1)).all()
    assert values(sub, "projects_producing").sum() > values(base, "projects_producing").sum()
    # a lever that is off changes nothing, whatever its effect parameters say
    assert np.array_equal(inert.values, base.values, equal_nan=True)

"""Policy levers: what each lever changes in the park model, and what it costs, in one place.

Both engines read a lever only through this module. :func:`effects` turns the
scenario's ``[levers]`` table into :class:`Effects`: factors on the pipeline's
delays and drop-outs, additions to rates, capacity added in given months, and
the cost parameters. :func:`yearly_cost` prices a year from what the engine
records at the year end (:class:`CostDrivers`). A new lever is a new block in
:func:`effects` (and, if it is paid for, in :func:`yearly_cost`), its schema
class and its variant: the engines do not change.

``num(value, path)`` maps a scenario value to a number. The SimPy engine passes
a realised scenario (``float(value)``); the fast engine passes the per-
replication arrays of its plan, so every field of :class:`Effects` is a number
or an array with one entry per replication, and the arithmetic here is written
to broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: the months (from the start, 0-based) in which special bonds' land is prepared and their factories are finished
BOND_LAND_MONTH, BOND_FACTORY_MONTH = 0, 5


@dataclass(frozen=True)
class Effects:
    """What the scenario's levers change (numbers, or arrays with one entry per replication)."""

    #: signings added to the base rate (projects/month, real park)
    extra_signings_per_month: object = 0.0
    #: factors on each pipeline stage's drawn delay
    landing_delay_factor: object = 1.0
    rent_delay_factor: object = 1.0
    build_delay_factor: object = 1.0
    #: factors on each stage's drop-out probability
    landing_dropout_factor: object = 1.0
    rent_dropout_factor: object = 1.0
    build_dropout_factor: object = 1.0
    #: R&D spending multiplier (R&D subsidy)
    rd_multiplier: object = 1.0
    #: added to the yearly log-growth of R&D-active firms, and factor on their exit hazard (credit)
    rd_active_growth_bonus: object = 0.0
    rd_active_exit_factor: object = 1.0
    #: institutions added each year (platforms)
    extra_institutions_per_year: object = 0.0
    #: land quota added each year (mu)
    extra_quota_mu_per_year: object = 0.0
    #: added to the cultivation pool's enrolment, application and approval probabilities (cultivation)
    hnte_pool_entry_boost: object = 0.0
    hnte_apply_boost: object = 0.0
    hnte_approval_boost: object = 0.0
    #: factor on the yearly hazards of starting R&D and setting up an R&D institution (R&D coverage)
    rd_adoption_factor: object = 1.0
    #: capacity added: (month from the start, standard-factory m², land mu) of the real park
    additions: list = field(default_factory=list)
    #: costs (yuan): each year; in the first year only; per yuan of R&D; per high-tech application; per m² of
    #: occupied standard-factory floor space at the year end
    cost_per_year: object = 0.0
    cost_first_year: object = 0.0
    cost_per_rd_yuan: object = 0.0
    cost_per_application: object = 0.0
    cost_per_occupied_m2: object = 0.0
    cost_per_new_institution: object = 0.0


@dataclass(frozen=True)
class CostDrivers:
    """What a year's lever costs depend on, as an engine records it at the year end (real park, not simulated firms)."""

    year: int  # 0 for the first simulated year
    rd_yuan: object  # R&D spending of all firms during the year (yuan)
    hnte_applications: object  # high-tech applications during the year
    factory_used_m2: object  # occupied standard-factory floor space at the year end
    new_rd_institutions: object = 0.0  # firms that set up an R&D institution during the year


def _on(x) -> np.ndarray:
    return np.asarray(x) > 0


def effects(levers, num, months: int) -> Effects:
    """The :class:`Effects` of a scenario's ``levers`` table over a horizon of ``months``."""
    L = levers
    e: dict = {}
    cost_per_year = 0.0

    # investment promotion: more signings, each at a price
    extra = num(L.promotion.extra_signings_per_month, "levers.promotion.extra_signings_per_month")
    e["extra_signings_per_month"] = extra
    cost_per_year = cost_per_year + extra * 12.0 * num(L.promotion.cost_per_project_yuan, "levers.promotion.cost_per_project_yuan")

    # faster service: every stage's delay scaled, at a yearly cost
    service = num(L.service.delay_factor, "levers.service.delay_factor")
    cost_per_year = cost_per_year + num(L.service.cost_yuan_per_year, "levers.service.cost_yuan_per_year")

    # rent subsidy: renting projects move in sooner and drop out less; paid per m² of occupied factory space
    rent = L.rent_subsidy
    subsidy = num(rent.yuan_per_m2_year, "levers.rent_subsidy.yuan_per_m2_year")
    active = _on(subsidy)
    rent_delay = np.where(active, num(rent.delay_factor, "levers.rent_subsidy.delay_factor"), 1.0)
    e["rent_dropout_factor"] = np.where(active, num(rent.dropout_factor, "levers.rent_subsidy.dropout_factor"), 1.0)
    e["cost_per_occupied_m2"] = subsidy * num(rent.coverage, "levers.rent_subsidy.coverage")
    e["landing_delay_factor"] = service
    e["rent_delay_factor"] = service * rent_delay
    e["build_delay_factor"] = service

    # standard factories built by the park in the first year
    per_m2 = num(L.factories.cost_per_m2_yuan, "levers.factories.cost_per_m2_yuan")
    per_mu = num(L.land.cost_per_mu_yuan, "levers.land.cost_per_mu_yuan")
    floor = num(L.factories.floor_space_m2, "levers.factories.floor_space_m2")
    additions = []
    if L.factories.month - 1 < months:
        additions.append((L.factories.month - 1, floor, 0.0))
        e["cost_first_year"] = floor * per_m2

    # special bonds: factories (finished by mid-year) and prepared land (at once); the interest is the yearly cost
    bonds = num(L.bonds.amount_yuan, "levers.bonds.amount_yuan")
    share = num(L.bonds.factory_share, "levers.bonds.factory_share")
    additions.append((BOND_LAND_MONTH, 0.0, bonds * (1.0 - share) / np.maximum(per_mu, 1e-9)))
    if BOND_FACTORY_MONTH < months:
        additions.append((BOND_FACTORY_MONTH, bonds * share / np.maximum(per_m2, 1e-9), 0.0))
    cost_per_year = cost_per_year + bonds * num(L.bonds.interest_rate, "levers.bonds.interest_rate")
    e["additions"] = additions

    # more land quota, prepared every year
    quota = num(L.land.extra_quota_mu_per_year, "levers.land.extra_quota_mu_per_year")
    e["extra_quota_mu_per_year"] = quota
    cost_per_year = cost_per_year + quota * per_mu

    # R&D subsidy: firms spend more on R&D; the park refunds a share of all R&D
    rate = num(L.rd_subsidy.rate, "levers.rd_subsidy.rate")
    e["rd_multiplier"] = 1.0 + num(L.rd_subsidy.elasticity, "levers.rd_subsidy.elasticity") * rate
    e["cost_per_rd_yuan"] = rate

    # high-tech cultivation, through the cultivation pool: more firms enrolled, more applications and approvals of
    # pool firms, paid per application
    cult = L.cultivation
    entry_boost = num(cult.entry_boost, "levers.cultivation.entry_boost")
    apply_boost = num(cult.apply_boost, "levers.cultivation.apply_boost")
    approval_boost = num(cult.approval_boost, "levers.cultivation.approval_boost")
    e["hnte_pool_entry_boost"], e["hnte_apply_boost"], e["hnte_approval_boost"] = entry_boost, apply_boost, approval_boost
    cultivating = _on(entry_boost) | _on(apply_boost) | _on(approval_boost)
    e["cost_per_application"] = np.where(
        cultivating, num(cult.cost_per_application_yuan, "levers.cultivation.cost_per_application_yuan"), 0.0
    )

    # R&D coverage campaign (研发机构全覆盖): firms adopt R&D and R&D institutions sooner; each new institution is
    # subsidised, and the campaign has a yearly cost
    cov = L.rd_coverage
    per_inst = num(cov.subsidy_per_institution_yuan, "levers.rd_coverage.subsidy_per_institution_yuan")
    campaign = _on(per_inst)
    e["rd_adoption_factor"] = np.where(campaign, num(cov.hazard_factor, "levers.rd_coverage.hazard_factor"), 1.0)
    e["cost_per_new_institution"] = per_inst
    cost_per_year = cost_per_year + np.where(campaign, num(cov.cost_yuan_per_year, "levers.rd_coverage.cost_yuan_per_year"), 0.0)

    # credit for tech firms: R&D-active firms grow faster and exit less; the fund's expected losses spread over the years
    fund = num(L.credit.fund_yuan, "levers.credit.fund_yuan")
    credit = _on(fund)
    e["rd_active_exit_factor"] = np.where(credit, num(L.credit.exit_factor, "levers.credit.exit_factor"), 1.0)
    e["rd_active_growth_bonus"] = np.where(credit, num(L.credit.growth_bonus, "levers.credit.growth_bonus"), 0.0)
    cost_per_year = cost_per_year + fund * num(L.credit.loss_rate, "levers.credit.loss_rate") / (months / 12.0)

    # platforms: institutions added each year, subsidised one by one
    inst = num(L.platforms.extra_institutions_per_year, "levers.platforms.extra_institutions_per_year")
    e["extra_institutions_per_year"] = inst
    cost_per_year = cost_per_year + inst * num(L.platforms.cost_per_institution_yuan, "levers.platforms.cost_per_institution_yuan")

    e["cost_per_year"] = cost_per_year
    return Effects(**e)


def yearly_cost(e: Effects, d: CostDrivers):
    """The levers' cost of one year (yuan), from the year's :class:`CostDrivers`."""
    cost = e.cost_per_year + (e.cost_first_year if d.year == 0 else 0.0)
    # each driver only where its lever pays for it: an unlimited factory floor (inf) has no finite occupied space,
    # and nothing is owed on it when no rent is subsidised
    cost = cost + _priced(e.cost_per_rd_yuan, d.rd_yuan)
    cost = cost + _priced(e.cost_per_application, d.hnte_applications)
    cost = cost + _priced(e.cost_per_new_institution, d.new_rd_institutions)
    return cost + _priced(e.cost_per_occupied_m2, d.factory_used_m2)


def _priced(price, quantity):
    """``price x quantity``, 0 where the price is 0 (whatever the quantity, inf or NaN included)."""
    price, quantity = np.asarray(price, dtype=float), np.asarray(quantity, dtype=float)
    return np.where(price != 0, price * np.where(price != 0, quantity, 0.0), 0.0)


def drivers_from_record(rec, year: int) -> CostDrivers:
    """The :class:`CostDrivers` of year-end records (last axis :data:`parksim.rules.indicators.RECORD`)."""
    from parksim.rules.indicators import AT, TEN_THOUSAND

    rec = np.asarray(rec)
    return CostDrivers(
        year=year,
        rd_yuan=rec[..., AT.rd] * rec[..., AT.weight] * TEN_THOUSAND,  # R&D of simulated firms, 万元
        hnte_applications=rec[..., AT.hnte_applications],
        factory_used_m2=rec[..., AT.factory_used_m2],
        new_rd_institutions=rec[..., AT.new_rd_institutions],
    )


def price_record(rec: np.ndarray, e: Effects, year: int) -> np.ndarray:
    """Write the levers' cost of year ``year`` (亿元) into year-end records ``rec`` (in place) and return them."""
    from parksim.rules.indicators import AT

    rec[..., AT.policy_cost] = yearly_cost(e, drivers_from_record(rec, year)) / 1e8
    return rec

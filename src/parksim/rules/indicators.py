"""The park's yearly indicators (DOMAIN §4), computed from a year-end state.

:data:`INDICATORS` lists every indicator with its unit and meaning; targets
and assessments refer to these names. Shares and intensities are in percent
so that a target reads as the seed writes it (R&D intensity >= 3 means 3%).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba.extending import register_jitable

from parksim.rules._ops import total, where
from parksim.rules.certification import above_size

#: name -> (unit, meaning)
INDICATORS: dict[str, tuple[str, str]] = {
    "total_output": (
        "亿元",
        "Output of all firms in the park during the year: their revenue (营业收入, 主营业务收入), which in parksim is also"
        " their gross output (总产值, e.g. 高新区总产值): firms hold no inventories, so a year's output is sold in it.",
    ),
    "output_growth": ("%", "Growth of total output over the previous year."),
    "industrial_output": ("亿元", "Output of firms in industrial sectors (工业总产值; revenue, as total_output)."),
    "value_added": (
        "亿元",
        "Value added of all firms during the year: revenue x their sector's value-added ratio. A zone's GDP"
        " (地区生产总值, 经济总量), as distinct from its revenue or gross output.",
    ),
    "firms": ("firms", "Firms operating in the park at year end."),
    "hnte_valid": ("firms", "Firms with a valid high-tech enterprise certificate at year end (有效期内高新技术企业)."),
    "hnte_share": ("%", "Valid high-tech enterprises ÷ firms."),
    "new_hnte": ("firms", "Firms certified high-tech for the first time during the year."),
    "new_rd_institutions": ("firms", "Firms that set up their own R&D institution during the year."),
    "tech_based": (
        "firms",
        "Tech-based firms (科技型企业) at year end, as the scenario defines them (certification.tech_based): registered"
        " national tech-based SMEs or firms in Chongqing's registry, and valid high-tech enterprises.",
    ),
    "tech_based_share": ("%", "Tech-based firms ÷ all firms (科技型企业占比)."),
    "new_tech_based": ("firms", "Firms tech-based at this year end that were not at the previous one."),
    "zjtx_valid": ("firms", "Firms with a valid 专精特新 recognition at year end."),
    "new_zjtx": ("firms", "Firms recognised 专精特新 for the first time during the year."),
    "above_size_firms": ("firms", "Industrial firms in the park at year end whose yearly revenue >= the above-size threshold (规上)."),
    "new_above_size": ("firms", "Above-size firms this year that were not above size the previous year."),
    "above_size_output": ("亿元", "Revenue of above-size industrial firms."),
    "above_size_output_growth": (
        "%",
        "Growth of above-size industrial revenue on a comparable basis (可比口径): this year's above-size firms' revenue over the same firms' revenue the previous year.",
    ),
    "above_size_rd_intensity": ("%", "R&D ÷ revenue of above-size industrial firms."),
    "above_size_rd_active_share": ("%", "Share of above-size industrial firms with R&D activity."),
    "above_size_rd_institution_share": ("%", "Share of above-size industrial firms with their own R&D institution."),
    "rd_spending": ("亿元", "R&D spending of all firms during the year."),
    "rd_growth": ("%", "Growth of R&D spending over the previous year."),
    "rd_intensity": (
        "%",
        "R&D spending ÷ total output (revenue) of all firms: firms' R&D ÷ 营业收入 / 主营业务收入. Not a zone's"
        " 研发投入强度, which is ÷ GDP (rd_gdp_intensity).",
    ),
    "rd_gdp_intensity": (
        "%",
        "R&D spending ÷ value added: a zone's 研发投入强度, a region's 全社会R&D经费投入强度 (R&D ÷ GDP).",
    ),
    "hightech_service_share": ("%", "High-tech service revenue ÷ total output (operating revenue)."),
    "workers": ("persons", "Employees of all firms at year end."),
    "industrial_workers": ("persons", "Employees of industrial firms at year end (产业工人)."),
    "institutions": ("institutions", "R&D and S&T-service institutions at year end."),
    "incubation_m2": ("m²", "Incubation floor space at year end."),
    "listed_companies": ("companies", "Listed companies at year end."),
    "industrial_land_km2": ("km²", "Industrial land in use at year end (start + land bought by projects)."),
    "output_per_km2": ("亿元/km²", "Industrial output ÷ industrial land."),
    "output_per_mu": ("万元/mu", "Industrial output ÷ industrial land in mu (1 km² = 1,500 mu)."),
    "factory_floor_m2": ("m²", "Standard-factory floor space at year end."),
    "factory_utilisation": ("%", "Occupied ÷ total standard-factory floor space at year end."),
    "land_quota_left_mu": ("mu", "Unused land quota at year end."),
    "projects_signed": ("projects", "Projects signed during the year."),
    "projects_landed": ("projects", "Projects that landed during the year."),
    "projects_producing": ("projects", "Projects that started production during the year."),
    "projects_dropped": ("projects", "Projects that dropped out or gave up waiting during the year."),
    "projects_waiting": ("projects", "Projects waiting for factory space or land at year end."),
    "projects_promise_due": (
        "projects",
        "Projects signed since the start whose promise (seed 002: produce within 2 months renting, 6 building) fell due during the year.",
    ),
    "projects_on_promise": (
        "projects",
        "Projects whose promise fell due during the year that kept it: landed within 1 month of signing and producing"
        " within 2 (renting) or 6 (building) months of it (seed 002).",
    ),
    "promise_kept_share": (
        "%",
        "Projects on promise ÷ signed projects whose promise fell due during the year (signed since the start;"
        " those that dropped out count as not kept).",
    ),
    "investment_cum": ("亿元", "Fixed-asset investment of projects since the start, counted when they obtain space or land."),
    "policy_cost": ("亿元", "Cost of the scenario's policy levers during the year."),
}

TEN_THOUSAND = 1e4  # 万元 per 亿元


#: what :func:`add_year_sums` adds up over the firms, in order
FIRM_SUMS = (
    "revenue",
    "revenue_prev",
    "industrial_revenue",
    "rd",
    "rd_prev",
    "firms",
    "hnte",
    "tech",
    "new_tech",
    "zjtx",
    "above",
    "new_above",
    "above_revenue",
    "above_revenue_prev",
    "above_rd",
    "above_rd_active",
    "above_rd_institution",
    "hightech_service_revenue",
    "workers",
    "industrial_workers",
    "listed",
    "value_added",
)
#: park-level quantities an engine appends to the firm sums, in order
PARK_VALUES = (
    "weight",
    "new_hnte",
    "new_zjtx",
    "institutions",
    "incubation_m2",
    "industrial_land_km2",
    "factory_floor_m2",
    "factory_used_m2",
    "land_quota_left_mu",
    "projects_signed",
    "projects_landed",
    "projects_producing",
    "projects_dropped",
    "projects_waiting",
    "projects_promise_due",  # signed projects whose promise (seed 002) fell due during the year
    "projects_promise_kept",  # of which kept it
    "investment_cum",
    "hnte_applications",  # high-tech applications during the year (a lever's cost driver)
    "new_rd_institutions",  # firms that set up an R&D institution during the year (a lever's cost driver)
    "policy_cost",  # 亿元: priced from the record by rules.levers.price_record
    "baseline_output",  # nan: use the starting firms' revenue
    "listed_initial",
)
#: a year-end record: firm sums then park values (see :func:`from_record`)
RECORD = FIRM_SUMS + PARK_VALUES
R = {name: k for k, name in enumerate(RECORD)}
#: the record's places by name, as a named tuple (a compile-time constant in the fast engine: ``REC[..., AT.weight]``)
AT = namedtuple("RecordPlaces", RECORD)(*range(len(RECORD)))


@register_jitable
def add_year_sums(
    out,
    alive,
    industrial,
    revenue,
    revenue_prev,
    rd,
    rd_prev,
    hightech_service_share,
    employees,
    hnte_valid,
    tech_based,
    zjtx_valid,
    rd_active,
    rd_institution,
    listed,
    prev_above,
    prev_tech,
    above_size_revenue,
    value_added_ratio,
):
    """Add to ``out`` the firm sums (:data:`FIRM_SUMS`) of one year end.

    The arguments are numbers (one firm: the year end, compiled, adds the firms
    one by one, for both engines) or arrays (one entry per firm, e.g. in a check).
    Revenue and R&D count every firm (an exit's part-year output is the park's);
    stocks (firms, certificates, workers) count the firms alive at the year end, and so do the above-size
    firms and their sums (the year's above-size firms are those in the park at its end). Their growth is on a
    comparable basis (可比口径, as the statistics bureau computes 规上 growth): this year's above-size firms'
    revenue over the same firms' last-year revenue. ``prev_above`` marks last year's above-size firms (for the new
    ones). ``hnte_valid`` and ``zjtx_valid`` are the certificates valid at the year end. Value added is revenue
    times the firm's sector's value-added ratio.
    """
    a = alive != 0
    ind = industrial != 0
    tech = a & (tech_based != 0)
    above = a & above_size(revenue, industrial, above_size_revenue)  # 规上: in the park at the year end
    out[0] += total(revenue)
    out[1] += total(revenue_prev)
    out[2] += total(where(ind, revenue, 0.0))
    out[3] += total(rd)
    out[4] += total(rd_prev)
    out[5] += total(a)
    out[6] += total(a & (hnte_valid != 0))
    out[7] += total(tech)
    out[8] += total(tech & (prev_tech == 0))
    out[9] += total(a & (zjtx_valid != 0))
    out[10] += total(above)
    out[11] += total(above & (prev_above == 0))
    out[12] += total(where(above, revenue, 0.0))
    out[13] += total(where(above, revenue_prev, 0.0))  # the same firms' last year (可比口径)
    out[14] += total(where(above, rd, 0.0))
    out[15] += total(above & (rd_active != 0))
    out[16] += total(above & (rd_institution != 0))
    out[17] += total(revenue * hightech_service_share)
    out[18] += total(where(a, employees, 0.0))
    out[19] += total(where(a & ind, employees, 0.0))
    out[20] += total(a & (listed != 0))
    out[21] += total(revenue * value_added_ratio)


def _pct(num, den):
    num, den = np.broadcast_arrays(np.asarray(num, dtype=float), np.asarray(den, dtype=float))
    out = np.zeros(num.shape)
    np.divide(100.0 * num, den, out=out, where=den > 0)
    return out


def _growth(now, before):
    now, before = np.broadcast_arrays(np.asarray(now, dtype=float), np.asarray(before, dtype=float))
    out = np.full(now.shape, np.nan)
    np.divide(100.0 * now, before, out=out, where=before > 0)
    return out - 100.0


def from_record(rec) -> dict[str, np.ndarray]:
    """All indicators of :data:`INDICATORS` from year-end records (last axis :data:`RECORD`).

    Works on one record or on a stack of them (replications x years x ...).
    """
    rec = np.asarray(rec, dtype=float)
    g = lambda name: rec[..., R[name]]  # noqa: E731
    w = g("weight")
    scale = w / TEN_THOUSAND
    total = g("revenue") * scale
    base = g("baseline_output")
    prev_total = np.where(np.isnan(base), g("revenue_prev") * scale, base)
    industrial_out = g("industrial_revenue") * scale
    rd_total = g("rd") * scale
    rd_prev = g("rd_prev") * scale
    va = g("value_added") * scale
    firms = g("firms")
    n_above = g("above")
    above_out = g("above_revenue") * scale
    land = g("industrial_land_km2")
    safe_land = np.where(land > 0, land, 1.0)
    return {
        "total_output": total,
        "output_growth": _growth(total, prev_total),
        "industrial_output": industrial_out,
        "value_added": va,
        "firms": firms * w,
        "hnte_valid": g("hnte") * w,
        "hnte_share": _pct(g("hnte"), firms),
        "new_hnte": g("new_hnte") * w,
        "new_rd_institutions": g("new_rd_institutions"),
        "tech_based": g("tech") * w,
        "tech_based_share": _pct(g("tech"), firms),
        "new_tech_based": g("new_tech") * w,
        "zjtx_valid": g("zjtx") * w,
        "new_zjtx": g("new_zjtx") * w,
        "above_size_firms": n_above * w,
        "new_above_size": g("new_above") * w,
        "above_size_output": above_out,
        "above_size_output_growth": _growth(above_out, g("above_revenue_prev") * scale),
        "above_size_rd_intensity": _pct(g("above_rd"), g("above_revenue")),
        "above_size_rd_active_share": _pct(g("above_rd_active"), n_above),
        "above_size_rd_institution_share": _pct(g("above_rd_institution"), n_above),
        "rd_spending": rd_total,
        "rd_growth": _growth(rd_total, rd_prev),
        "rd_intensity": _pct(rd_total, total),
        "rd_gdp_intensity": _pct(rd_total, va),
        "hightech_service_share": _pct(g("hightech_service_revenue") * scale, total),
        "workers": g("workers") * w,
        "industrial_workers": g("industrial_workers") * w,
        "institutions": g("institutions"),
        "incubation_m2": g("incubation_m2"),
        "listed_companies": g("listed") * w + g("listed_initial"),
        "industrial_land_km2": land,
        "output_per_km2": np.where(land > 0, industrial_out / safe_land, np.nan),
        "output_per_mu": np.where(land > 0, industrial_out * TEN_THOUSAND / (safe_land * 1500.0), np.nan),
        "factory_floor_m2": g("factory_floor_m2"),
        "factory_utilisation": _pct(g("factory_used_m2"), g("factory_floor_m2")),
        "land_quota_left_mu": g("land_quota_left_mu"),
        "projects_signed": g("projects_signed") * w,
        "projects_landed": g("projects_landed") * w,
        "projects_producing": g("projects_producing") * w,
        "projects_dropped": g("projects_dropped") * w,
        "projects_waiting": g("projects_waiting") * w,
        "projects_promise_due": g("projects_promise_due") * w,
        "projects_on_promise": g("projects_promise_kept") * w,
        "promise_kept_share": _pct(g("projects_promise_kept"), g("projects_promise_due")),
        "investment_cum": g("investment_cum"),
        "policy_cost": g("policy_cost"),
    }


# --- over several parks, and the year before the first ---------------------------------------------------------
#: how a portfolio adds an indicator up over its parks: "sum" (counts and amounts), ("ratio", d) (a share or
#: intensity: the sums' ratio, i.e. the parks' values weighted by their denominator indicator d), or
#: ("growth", level) (the growth of the parks' summed level)
AGGREGATE: dict[str, object] = {
    "total_output": "sum",
    "output_growth": ("growth", "total_output"),
    "industrial_output": "sum",
    "value_added": "sum",
    "firms": "sum",
    "hnte_valid": "sum",
    "hnte_share": ("ratio", "firms"),
    "new_hnte": "sum",
    "new_rd_institutions": "sum",
    "tech_based": "sum",
    "tech_based_share": ("ratio", "firms"),
    "new_tech_based": "sum",
    "zjtx_valid": "sum",
    "new_zjtx": "sum",
    "above_size_firms": "sum",
    "new_above_size": "sum",
    "above_size_output": "sum",
    "above_size_output_growth": ("growth", "above_size_output"),
    "above_size_rd_intensity": ("ratio", "above_size_output"),
    "above_size_rd_active_share": ("ratio", "above_size_firms"),
    "above_size_rd_institution_share": ("ratio", "above_size_firms"),
    "rd_spending": "sum",
    "rd_growth": ("growth", "rd_spending"),
    "rd_intensity": ("ratio", "total_output"),
    "rd_gdp_intensity": ("ratio", "value_added"),
    "hightech_service_share": ("ratio", "total_output"),
    "workers": "sum",
    "industrial_workers": "sum",
    "institutions": "sum",
    "incubation_m2": "sum",
    "listed_companies": "sum",
    "industrial_land_km2": "sum",
    "output_per_km2": ("ratio", "industrial_land_km2"),
    "output_per_mu": ("ratio", "industrial_land_km2"),
    "factory_floor_m2": "sum",
    "factory_utilisation": ("ratio", "factory_floor_m2"),
    "land_quota_left_mu": "sum",
    "projects_signed": "sum",
    "projects_landed": "sum",
    "projects_producing": "sum",
    "projects_dropped": "sum",
    "projects_waiting": "sum",
    "projects_promise_due": "sum",
    "projects_on_promise": "sum",
    "promise_kept_share": ("ratio", "projects_promise_due"),
    "investment_cum": "sum",
    "policy_cost": "sum",
}
#: a level indicator -> the indicator of its growth over the previous year (its value the year before the first)
GROWTH_OF = {rule[1]: name for name, rule in AGGREGATE.items() if isinstance(rule, tuple) and rule[0] == "growth"}


def previous_level(level, growth):
    """A level's value the year before: ``level / (1 + growth/100)``, and 0 where the growth is undefined (it is
    undefined exactly when there was nothing the year before); NaN where the level is."""
    level, growth = np.broadcast_arrays(np.asarray(level, dtype=float), np.asarray(growth, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isnan(growth), level * 0.0, level / (1.0 + growth / 100.0))


def aggregate(name: str, value_of) -> np.ndarray:
    """Indicator ``name`` over several parks: ``value_of(indicator)`` gives an array (..., parks).

    A sum for counts and amounts; for a ratio, the ratio of the sums (so 2 of 10 firms and 8 of 10 make 50%, not
    the mean of 20% and 80% weighted equally by park size only by chance); for a growth, the growth of the summed
    level over the summed previous-year levels (a park that had nothing the year before adds 0 to them).
    """
    rule = AGGREGATE[name]
    v = np.asarray(value_of(name), dtype=float)
    if rule == "sum":
        return v.sum(axis=-1)
    kind, other = rule
    if kind == "ratio":
        d = np.asarray(value_of(other), dtype=float)
        num = np.where(d > 0, v * d, 0.0).sum(axis=-1)
        den = d.sum(axis=-1)
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    level = np.asarray(value_of(other), dtype=float)
    return _growth(level.sum(axis=-1), previous_level(level, v).sum(axis=-1))


def average_growth(now, base, years):
    """Average (compound) growth in % a year from ``base`` to ``now`` over ``years`` years (年均增长):
    ``100 ((now / base) ** (1 / years) - 1)``; NaN where the base is not positive or the value is negative."""
    now, base = np.broadcast_arrays(np.asarray(now, dtype=float), np.asarray(base, dtype=float))
    ok = (base > 0) & (now >= 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(ok, now / np.where(ok, base, 1.0), np.nan)
        return 100.0 * (ratio ** (1.0 / years) - 1.0)

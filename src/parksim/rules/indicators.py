"""The park's yearly indicators (DOMAIN §4), computed from a year-end state.

:data:`INDICATORS` lists every indicator with its unit and meaning; targets
and assessments refer to these names. Shares and intensities are in percent
so that a target reads as the seed writes it (R&D intensity >= 3 means 3%).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .certification import above_size

#: name -> (unit, meaning)
INDICATORS: dict[str, tuple[str, str]] = {
    "total_output": ("亿元", "Output (revenue) of all firms in the park during the year (高新区总产值)."),
    "output_growth": ("%", "Growth of total output over the previous year."),
    "industrial_output": ("亿元", "Output of firms in industrial sectors."),
    "firms": ("firms", "Firms operating in the park at year end."),
    "hnte_valid": ("firms", "Firms with a valid high-tech enterprise certificate at year end (有效期内高新技术企业)."),
    "hnte_share": ("%", "Valid high-tech enterprises ÷ firms."),
    "new_hnte": ("firms", "Firms certified high-tech for the first time during the year."),
    "tech_based": ("firms", "Tech-based firms at year end: registered tech-based SMEs or valid high-tech enterprises."),
    "tech_based_share": ("%", "Tech-based firms ÷ all firms (科技型企业占比)."),
    "new_tech_based": ("firms", "Firms tech-based at this year end that were not at the previous one."),
    "zjtx_valid": ("firms", "Firms with a valid 专精特新 recognition at year end."),
    "new_zjtx": ("firms", "Firms recognised 专精特新 for the first time during the year."),
    "above_size_firms": ("firms", "Industrial firms with yearly revenue >= the above-size threshold (规上)."),
    "new_above_size": ("firms", "Above-size firms this year that were not above size the previous year."),
    "above_size_output": ("亿元", "Revenue of above-size industrial firms."),
    "above_size_output_growth": ("%", "Growth of above-size industrial revenue over the previous year's above-size revenue."),
    "above_size_rd_intensity": ("%", "R&D ÷ revenue of above-size industrial firms."),
    "above_size_rd_active_share": ("%", "Share of above-size industrial firms with R&D activity."),
    "above_size_rd_institution_share": ("%", "Share of above-size industrial firms with their own R&D institution."),
    "rd_spending": ("亿元", "R&D spending of all firms during the year."),
    "rd_growth": ("%", "Growth of R&D spending over the previous year."),
    "rd_intensity": ("%", "R&D spending ÷ total output (研发投入强度)."),
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
    "investment_cum": ("亿元", "Fixed-asset investment of projects since the start, counted when they obtain space or land."),
    "policy_cost": ("亿元", "Cost of the scenario's policy levers during the year."),
}

TEN_THOUSAND = 1e4  # 万元 per 亿元


@dataclass
class YearState:
    """What an engine knows at a year end, one entry per firm ever simulated."""

    weight: int
    alive: np.ndarray
    industrial: np.ndarray
    revenue: np.ndarray
    revenue_prev: np.ndarray
    rd: np.ndarray
    rd_prev: np.ndarray
    hightech_service_share: np.ndarray
    employees: np.ndarray
    hnte_valid: np.ndarray
    tech_based: np.ndarray
    zjtx_valid: np.ndarray
    rd_active: np.ndarray
    rd_institution: np.ndarray
    listed: np.ndarray
    prev_above: np.ndarray
    prev_tech: np.ndarray
    above_size_revenue: float
    new_hnte: int
    new_zjtx: int
    institutions: int
    incubation_m2: float
    industrial_land_km2: float
    factory_floor_m2: float
    factory_used_m2: float
    land_quota_left_mu: float
    projects_signed: int
    projects_landed: int
    projects_producing: int
    projects_dropped: int
    projects_waiting: int
    investment_cum: float
    policy_cost: float = 0.0
    baseline_output: float | None = None


def _pct(num, den):
    return 100.0 * num / den if den > 0 else 0.0


def _growth(now, before):
    return 100.0 * (now / before - 1.0) if before > 0 else float("nan")


def compute(s: YearState) -> dict[str, float]:
    """All indicators of :data:`INDICATORS` for one year end."""
    w = float(s.weight)
    alive = s.alive
    ind = s.industrial
    total = s.revenue.sum() * w / TEN_THOUSAND
    prev_total = s.baseline_output if s.baseline_output is not None else s.revenue_prev.sum() * w / TEN_THOUSAND
    industrial_out = s.revenue[ind].sum() * w / TEN_THOUSAND
    rd_total = s.rd.sum() * w / TEN_THOUSAND
    rd_prev = s.rd_prev.sum() * w / TEN_THOUSAND
    firms = int(alive.sum())
    hnte = alive & s.hnte_valid
    tech = alive & s.tech_based
    above = above_size(s.revenue, ind, s.above_size_revenue)
    above_prev_out = s.revenue_prev[s.prev_above].sum() * w / TEN_THOUSAND
    above_out = s.revenue[above].sum() * w / TEN_THOUSAND
    n_above = int(above.sum())
    land = s.industrial_land_km2
    return {
        "total_output": total,
        "output_growth": _growth(total, prev_total),
        "industrial_output": industrial_out,
        "firms": firms * w,
        "hnte_valid": int(hnte.sum()) * w,
        "hnte_share": _pct(hnte.sum(), firms),
        "new_hnte": s.new_hnte * w,
        "tech_based": int(tech.sum()) * w,
        "tech_based_share": _pct(tech.sum(), firms),
        "new_tech_based": int((tech & ~s.prev_tech).sum()) * w,
        "zjtx_valid": int((alive & s.zjtx_valid).sum()) * w,
        "new_zjtx": s.new_zjtx * w,
        "above_size_firms": n_above * w,
        "new_above_size": int((above & ~s.prev_above).sum()) * w,
        "above_size_output": above_out,
        "above_size_output_growth": _growth(above_out, above_prev_out),
        "above_size_rd_intensity": _pct(s.rd[above].sum(), s.revenue[above].sum()),
        "above_size_rd_active_share": _pct((above & s.rd_active).sum(), n_above),
        "above_size_rd_institution_share": _pct((above & s.rd_institution).sum(), n_above),
        "rd_spending": rd_total,
        "rd_growth": _growth(rd_total, rd_prev),
        "rd_intensity": _pct(rd_total, total),
        "hightech_service_share": _pct((s.revenue * s.hightech_service_share).sum() * w / TEN_THOUSAND, total),
        "workers": float(s.employees[alive].sum()) * w,
        "industrial_workers": float(s.employees[alive & ind].sum()) * w,
        "institutions": s.institutions,
        "incubation_m2": s.incubation_m2,
        "listed_companies": int((alive & s.listed).sum()) * w,
        "industrial_land_km2": land,
        "output_per_km2": industrial_out / land if land > 0 else float("nan"),
        "output_per_mu": industrial_out * TEN_THOUSAND / (land * 1500.0) if land > 0 else float("nan"),
        "factory_floor_m2": s.factory_floor_m2,
        "factory_utilisation": _pct(s.factory_used_m2, s.factory_floor_m2),
        "land_quota_left_mu": s.land_quota_left_mu,
        "projects_signed": s.projects_signed * w,
        "projects_landed": s.projects_landed * w,
        "projects_producing": s.projects_producing * w,
        "projects_dropped": s.projects_dropped * w,
        "projects_waiting": s.projects_waiting * w,
        "investment_cum": s.investment_cum,
        "policy_cost": s.policy_cost,
    }

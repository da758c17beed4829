"""Certifications and statuses of enterprises (DOMAIN §3).

* **High-tech enterprise** (高新技术企业, 国科发火〔2016〕32号): registered >= 1
  year, owns core IP, in a supported field, S&T staff >= 10%, R&D over the last
  three fiscal years ÷ sales over them >= 5% / 4% / 3% by latest-year sales
  band (<= 50 million, 50-200 million, above), high-tech revenue >= 60%,
  innovation score > 70, no major violation. Valid 3 years.
* **Tech-based SME** (科技型中小企业, 国科发政〔2017〕115号): <= 500 staff,
  revenue <= 200 million; score >= 60 with S&T-staff points > 0, from staff
  share, R&D ratio and IP points. A valid high-tech certificate qualifies
  directly.
* **Chongqing's registry of tech-based firms** (重庆市科技型企业入库培育实施细则): an R&D-active firm with S&T
  staff >= 5% of employees, or one associate-senior S&T person (here: at least a few S&T staff); no size limit,
  no score. What Chongqing's documents count as 科技型企业 (``certification.tech_based``).
* **专精特新**: >= 2 years in a niche, last-year R&D >= 1 million yuan and >= 3%
  of revenue, revenue >= 10 million yuan.
* **Above designated size** (规上): industrial, yearly revenue >= 20 million yuan.

Thresholds are scenario parameters (``certification.*``), passed in as ``p``
(the scenario's section; for the tech-based SME the point tables as arrays:
:func:`tech_sme_params`). The functions are written in the subset of NumPy that
numba compiles (with ``where`` of :mod:`parksim.rules._ops`): the firms' compiled
month end, which both engines run, applies them to one firm at a time, where they
are plain arithmetic on numbers; in Python they also take arrays of firms.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba.extending import register_jitable

from parksim.rules._ops import where


@register_jitable
def _ratio(num, den):
    return where(den > 0, num / where(den > 0, den, 1.0), 0.0)


@register_jitable
def hnte_rd_threshold(latest_sales, p):
    """Minimum 3-year R&D ÷ sales ratio for a firm's latest-year sales band."""
    return where(latest_sales <= p.band_small, p.rd_ratio_small, where(latest_sales <= p.band_medium, p.rd_ratio_medium, p.rd_ratio_large))


@register_jitable
def hnte_eligible(age_months, rd_3y, sales_3y, latest_sales, st_share, hightech_share, score, has_ip, in_field, violation, p):
    """Whether each firm meets every high-tech-enterprise condition (before applying)."""
    ratio = _ratio(rd_3y, sales_3y)
    return (
        (age_months >= p.min_age_months)
        & (sales_3y > 0)
        & (ratio >= hnte_rd_threshold(latest_sales, p))
        & (st_share >= p.min_st_staff_share)
        & (hightech_share >= p.min_hightech_revenue_share)
        & (score > p.min_innovation_score)
        & (has_ip != 0)
        & (in_field != 0)
        & (violation == 0)
    )


@register_jitable
def hnte_near(rd_3y, sales_3y, latest_sales, score, in_field, score_margin, rd_share_of_threshold, p):
    """Whether each firm is close enough to the high-tech conditions to enter a cultivation pool (高企培育库).

    A pool takes R&D-active firms of a supported field whose innovation score is within ``score_margin`` points
    of the threshold and whose 3-year R&D ÷ sales reaches ``rd_share_of_threshold`` of their band's ratio: the
    firms that coaching (IP filings, R&D book-keeping) can bring over the line. A firm that already meets the
    conditions is near them too.
    """
    ratio = _ratio(rd_3y, sales_3y)
    return (
        (rd_3y > 0)
        & (in_field != 0)
        & (score > p.min_innovation_score - score_margin)
        & (ratio >= rd_share_of_threshold * hnte_rd_threshold(latest_sales, p))
    )


@register_jitable
def hnte_approval(renewal, in_pool, first_time_prob, renewal_prob, pool_boost, lever_boost):
    """Chance an application is approved: a re-certification (重新认定, ``renewal``) passes with its own chance, a
    first application with the first-time chance; a pool firm's application (coached) adds the pool's and the
    cultivation lever's boosts. At most 1."""
    base = where(renewal != 0, renewal_prob, first_time_prob)
    return np.minimum(1.0, base + where(in_pool != 0, pool_boost + lever_boost, 0.0))


@register_jitable
def hnte_apply(expiring, in_pool, apply_prob, reapply_prob, pool_apply_prob, lever_boost):
    """Chance an eligible firm applies: a firm whose certificate expires in this round re-applies with
    ``reapply_prob``, a pool firm with the pool's chance plus the cultivation lever's boost, any other with
    ``apply_prob``. At most 1."""
    pool = np.minimum(1.0, pool_apply_prob + lever_boost)
    return where(expiring != 0, reapply_prob, where(in_pool != 0, np.maximum(pool, apply_prob), apply_prob))


class TechSmeParams(NamedTuple):
    """The tech-based SME evaluation's parameters, point tables as arrays sorted by threshold."""

    max_staff: float
    max_revenue: float
    pass_score: float
    staff_points: np.ndarray  # (k, 2): threshold, points
    rd_points: np.ndarray
    ip_class1_points: float
    ip_class2_points: np.ndarray  # points for 0, 1, 2, ... Class II items (first entry 0)
    hnte_qualifies: bool


def point_tables(p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The point tables of a scenario's ``certification.tech_sme`` section as :class:`TechSmeParams` holds them:
    S&T staff and R&D (threshold, points) rows sorted by threshold, and Class II IP points from 0 items on."""

    def table(rows):
        a = np.asarray(rows, dtype=float).reshape(-1, 2)
        return np.ascontiguousarray(a[np.argsort(a[:, 0], kind="stable")])

    return table(p.staff_points), table(p.rd_points), np.concatenate([[0.0], np.asarray(p.ip_class2_points, dtype=float)])


def tech_sme_params(p) -> TechSmeParams:
    """:class:`TechSmeParams` of a (realised) scenario's ``certification.tech_sme`` section."""
    staff, rd, ip2 = point_tables(p)
    return TechSmeParams(
        float(p.max_staff), float(p.max_revenue), float(p.pass_score), staff, rd, float(p.ip_class1_points), ip2, bool(p.hnte_qualifies)
    )


@register_jitable
def _points(x, table):
    out = x * 0.0
    for k in range(table.shape[0]):
        out = where(x >= table[k, 0], table[k, 1], out)
    return out


@register_jitable
def tech_sme_points(st_share, rd_ratio, ip_class1, ip_class2, p):
    """(total score, S&T staff points) of the tech-based SME evaluation (``p``: :class:`TechSmeParams`)."""
    staff = _points(st_share, p.staff_points)
    rd = _points(rd_ratio, p.rd_points)
    n2 = np.minimum(np.maximum(ip_class2, 0), p.ip_class2_points.shape[0] - 1)
    ip = where(ip_class1 != 0, p.ip_class1_points, p.ip_class2_points[n2])
    return staff + rd + ip, staff


@register_jitable
def tech_sme_eligible(employees, revenue, st_share, rd_ratio, ip_class1, ip_class2, hnte_valid, p):
    """Whether each firm qualifies as a tech-based SME this year (``p``: :class:`TechSmeParams`)."""
    sme = (employees <= p.max_staff) & (revenue <= p.max_revenue)
    total, staff = tech_sme_points(st_share=st_share, rd_ratio=rd_ratio, ip_class1=ip_class1, ip_class2=ip_class2, p=p)
    by_score = (total >= p.pass_score) & (staff > 0)
    direct = (hnte_valid != 0) & p.hnte_qualifies
    return sme & (by_score | direct)


@register_jitable
def registry_eligible(employees, st_share, rd_active, hnte_valid, min_st_share, senior_staff, requires_rd, hnte_qualifies):
    """Whether each firm qualifies for Chongqing's registry of tech-based firms this year: S&T staff at least
    ``min_st_share`` of employees or at least ``senior_staff`` S&T staff (for the one associate-senior S&T person the
    rules also accept), and R&D activity if ``requires_rd``; or a valid high-tech certificate if ``hnte_qualifies``."""
    staff = (st_share >= min_st_share) | (employees * st_share >= senior_staff)
    research = (rd_active != 0) | (requires_rd == 0)
    direct = (hnte_valid != 0) & (hnte_qualifies != 0)
    return (staff & research) | direct


@register_jitable
def zjtx_eligible(age_months, niche, rd_last, revenue_last, p):
    """Whether each firm meets the 专精特新 conditions."""
    return (
        (age_months >= p.min_age_months)
        & (niche != 0)
        & (rd_last >= p.min_rd)
        & (_ratio(rd_last, revenue_last) >= p.min_rd_ratio)
        & (revenue_last >= p.min_revenue)
    )


@register_jitable
def above_size(revenue, industrial, threshold):
    """Industrial firms whose yearly revenue reaches the above-size threshold."""
    return (industrial != 0) & (revenue >= threshold)

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
* **专精特新**: >= 2 years in a niche, last-year R&D >= 1 million yuan and >= 3%
  of revenue, revenue >= 10 million yuan.
* **Above designated size** (规上): industrial, yearly revenue >= 20 million yuan.

Thresholds are scenario parameters (``certification.*``), passed in as ``p``.
"""

from __future__ import annotations

import numpy as np


def _ratio(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def hnte_rd_threshold(latest_sales, p):
    """Minimum 3-year R&D ÷ sales ratio for a firm's latest-year sales band."""
    s = np.asarray(latest_sales, dtype=float)
    return np.where(s <= p.band_small, p.rd_ratio_small, np.where(s <= p.band_medium, p.rd_ratio_medium, p.rd_ratio_large))


def hnte_eligible(*, age_months, rd_3y, sales_3y, latest_sales, st_share, hightech_share, score, has_ip, in_field, violation, p):
    """Whether each firm meets every high-tech-enterprise condition (before applying)."""
    ratio = _ratio(rd_3y, sales_3y)
    return (
        (np.asarray(age_months) >= p.min_age_months)
        & (np.asarray(sales_3y) > 0)
        & (ratio >= hnte_rd_threshold(latest_sales, p))
        & (np.asarray(st_share) >= p.min_st_staff_share)
        & (np.asarray(hightech_share) >= p.min_hightech_revenue_share)
        & (np.asarray(score) > p.min_innovation_score)
        & np.asarray(has_ip, dtype=bool)
        & np.asarray(in_field, dtype=bool)
        & ~np.asarray(violation, dtype=bool)
    )


def _points(x, table):
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    for threshold, pts in sorted(table, key=lambda tp: tp[0]):
        out = np.where(x >= threshold, pts, out)
    return out


def tech_sme_points(*, st_share, rd_ratio, ip_class1, ip_class2, p):
    """(total score, S&T staff points) of the tech-based SME evaluation."""
    staff = _points(st_share, p.staff_points)
    rd = _points(rd_ratio, p.rd_points)
    n2 = np.clip(np.asarray(ip_class2, dtype=int), 0, len(p.ip_class2_points))
    table = np.concatenate([[0.0], np.asarray(p.ip_class2_points, dtype=float)])
    ip = np.where(np.asarray(ip_class1, dtype=bool), p.ip_class1_points, table[n2])
    return staff + rd + ip, staff


def tech_sme_eligible(*, employees, revenue, st_share, rd_ratio, ip_class1, ip_class2, hnte_valid, p):
    """Whether each firm qualifies as a tech-based SME this year."""
    sme = (np.asarray(employees) <= p.max_staff) & (np.asarray(revenue) <= p.max_revenue)
    total, staff = tech_sme_points(st_share=st_share, rd_ratio=rd_ratio, ip_class1=ip_class1, ip_class2=ip_class2, p=p)
    by_score = (total >= p.pass_score) & (staff > 0)
    direct = np.asarray(hnte_valid, dtype=bool) & p.hnte_qualifies
    return sme & (by_score | direct)


def zjtx_eligible(*, age_months, niche, rd_last, revenue_last, p):
    """Whether each firm meets the 专精特新 conditions."""
    return (
        (np.asarray(age_months) >= p.min_age_months)
        & np.asarray(niche, dtype=bool)
        & (np.asarray(rd_last) >= p.min_rd)
        & (_ratio(rd_last, revenue_last) >= p.min_rd_ratio)
        & (np.asarray(revenue_last) >= p.min_revenue)
    )


def above_size(revenue, industrial, threshold):
    """Industrial firms whose yearly revenue reaches the above-size threshold."""
    return np.asarray(industrial, dtype=bool) & (np.asarray(revenue) >= threshold)

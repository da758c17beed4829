"""The certification rules of a scenario: national high-tech enterprise (高新技术企业), technology-based SME (科技型中小企业),
Chongqing's registry of technology-based enterprises and 专精特新 (specialised and sophisticated) SMEs; each field with its
unit and source (see :mod:`parksim.scenario.spec`)."""

from __future__ import annotations

from pydantic import Field, conlist, field_validator

from parksim.scenario.schema import (
    ASSUMPTION,
    CQ_REGISTRY,
    HNTE_RULE,
    NBS,
    TSME_RULE,
    ZJTX_RULE,
    NonNeg,
    Pos,
    Prob,
    _Model,
    _p,
    _unif,
)


# --- certifications -----------------------------------------------------------------
class Hnte(_Model):
    """High-tech enterprise (高新技术企业) certification."""

    rd_ratio_small: Prob = _p(0.05, "ratio", "Min 3-year R&D ÷ sales if latest sales <= `band_small`.", HNTE_RULE)
    rd_ratio_medium: Prob = _p(0.04, "ratio", "Min 3-year R&D ÷ sales if latest sales in (`band_small`, `band_medium`].", HNTE_RULE)
    rd_ratio_large: Prob = _p(0.03, "ratio", "Min 3-year R&D ÷ sales above `band_medium`.", HNTE_RULE)
    band_small: Pos = _p(5000.0, "万元", "Upper sales bound of the small band (50 million yuan).", HNTE_RULE, plausible=(100, 1e6))
    band_medium: Pos = _p(20000.0, "万元", "Upper sales bound of the medium band (200 million yuan).", HNTE_RULE, plausible=(100, 1e7))
    min_st_staff_share: Prob = _p(0.10, "ratio", "Min S&T staff share.", HNTE_RULE)
    min_hightech_revenue_share: Prob = _p(0.60, "ratio", "Min high-tech product/service revenue share.", HNTE_RULE)
    min_innovation_score: NonNeg = _p(70.0, "points", "Innovation score must exceed this.", HNTE_RULE, limit=(0, 100))
    min_age_months: NonNeg = _p(12.0, "months", "Registered at least this long.", HNTE_RULE, limit=(0, 1200), plausible=(0, 120))
    validity_years: int = _p(
        3,
        "years",
        "A certificate is valid this many years, then the firm must re-apply.",
        HNTE_RULE,
        ge=1,
        limit=(1, 50),
        plausible=(1, 10),
    )
    round_month: int = _p(11, "month", "Month in which each yearly round's results take effect.", ASSUMPTION, ge=1, le=12)
    apply_prob: Prob = _p(0.7, "probability", "Chance that an eligible firm without a certificate applies in a round.")
    reapply_prob: Prob = _p(
        0.95,
        "probability",
        "Chance that an eligible firm whose certificate expires in this round applies again (its approval: `renewal_approval_prob`).",
    )
    approval_prob: Prob = _p(
        _unif(0.65, 0.75),
        "probability",
        "Chance a first application (首次认定) by an eligible firm is approved. Ningxia 2021: 139 of 180 applications"
        " approved (77%), 79 first-time and 60 re-certifications (宁夏财经网, 2022-01-27); with re-certifications passing"
        " at 85-95% (`renewal_approval_prob`), 79 ÷ (180 - 60 ÷ 0.85..0.95) = 67-72% of first applications passed"
        " (derived); widened to 65-75%.",
        "Ningxia S&T department via 宁夏财经网 2022-01-27 (research/ningxia-national.md §2, §3b; derived)",
    )
    renewal_approval_prob: Prob = _p(
        _unif(0.85, 0.95),
        "probability",
        "Chance a re-certification (重新认定: a firm that held a certificate before applies again) is approved. Not"
        " published at the application stage; a firm that met the conditions three years before files a proven"
        " application, and at the Torch Centre's filing check renewals passed 97.8% (one city, 2014). With Ningxia's"
        " 77% overall in 2021 (60 of 139 approvals renewals) it implies first applications at 67-72%.",
        "assumption (research/ningxia-national.md §3b: filing check 97.8% renewals; Ningxia 2021 77% overall)",
    )
    pool_score_margin: NonNeg = _p(
        10.0,
        "points",
        "Cultivation pool (高企培育库): an R&D-active firm of a supported field whose innovation score is within this many"
        " points of `min_innovation_score` (and whose R&D ratio reaches `pool_rd_share` of its band's) is near the"
        " conditions and may be enrolled. Pools enrol firms 'with the potential to qualify within 1-3 years'; the"
        " margin is an assumption: about one year and a half of a pool firm's yearly gain (`traits.score_gain`"
        " + `pool_score_gain`) below the threshold.",
        limit=(0, 100),
        plausible=(0, 40),
    )
    pool_rd_share: Prob = _p(
        0.5,
        "ratio",
        "Share of its band's minimum 3-year R&D ratio a firm must reach to be near the conditions (with"
        " `pool_score_margin`); assumption: half, e.g. 2.5% of sales for a small firm whose threshold is 5%.",
    )
    pool_entry_prob: Prob = _p(
        _unif(0.3, 0.7),
        "1/year",
        "Yearly chance that a firm near the conditions is enrolled in the pool (firms apply to be enrolled; zones"
        " recruit them). Pool sizes and conversion are not published (Jiangsu funds its provincial pool: 2.26亿元 in"
        " 2022, research/ningxia-national.md §3b): an assumption, a wide range.",
    )
    pool_apply_prob: Prob = _p(
        0.9,
        "probability",
        "Chance that an eligible pool firm applies in a round (coached firms are prepared to apply as soon as they"
        " qualify; assumption, above `apply_prob`). The cultivation lever's apply boost is added to it.",
    )
    pool_approval_boost: Prob = _p(
        _unif(0.0, 0.10),
        "probability",
        "Added to a pool firm's approval chance (a coached application); unknown effect: 0-10 points (assumption).",
    )
    pool_score_gain: NonNeg = _p(
        _unif(1.0, 3.0),
        "points/year",
        "Innovation points a pool firm gains a year on top of `traits.score_gain` (coaching on IP filings, conversion"
        " of results and R&D management, the score's parts); assumption.",
        limit=(0, 100),
        plausible=(0, 20),
    )
    violation_prob: Prob = _p(0.02, "1/year", "Chance of a major safety/quality/environmental violation in a year (disqualifies).")
    revocation_prob: Prob = _p(0.01, "1/year", "Chance a valid certificate is revoked in a year (fraud, incident, missing reports).")


class TechSme(_Model):
    """Tech-based SME (科技型中小企业), evaluated yearly."""

    max_staff: NonNeg = _p(500.0, "employees", "At most this many staff.", TSME_RULE, plausible=(10, 1e5))
    max_revenue: NonNeg = _p(20000.0, "万元", "Revenue at most 200 million yuan.", TSME_RULE, plausible=(100, 1e6))
    pass_score: NonNeg = _p(60.0, "points", "Score needed (with staff points > 0).", TSME_RULE, limit=(0, 1000), plausible=(0, 100))
    staff_points: list[conlist(float, min_length=2, max_length=2)] = _p(
        lambda: [[0.30, 20.0], [0.25, 16.0], [0.20, 12.0], [0.15, 8.0], [0.10, 4.0]],
        "(share, points)",
        "S&T staff share thresholds and their points.",
        TSME_RULE,
    )
    rd_points: list[conlist(float, min_length=2, max_length=2)] = _p(
        lambda: [[0.06, 50.0], [0.05, 40.0], [0.04, 30.0], [0.03, 20.0], [0.02, 10.0]],
        "(ratio, points)",
        "R&D ÷ sales thresholds and their points.",
        TSME_RULE,
    )
    ip_class1_points: NonNeg = _p(30.0, "points", "Points for any Class I IP item.", TSME_RULE, limit=(0, 1000), plausible=(0, 100))
    ip_class2_points: list[float] = _p(
        lambda: [6.0, 12.0, 18.0, 24.0], "points", "Points for 1, 2, 3, 4+ Class II items (no Class I).", TSME_RULE
    )
    hnte_qualifies: bool = _p(True, "flag", "A firm with a valid high-tech certificate counts as tech-based (if SME-sized).", TSME_RULE)
    register_prob: Prob = _p(0.8, "probability", "Share of qualifying firms that register (a firm's lasting propensity).")
    round_month: int = _p(5, "month", "Month of the yearly evaluation.", ASSUMPTION, ge=1, le=12)


class ChongqingRegistry(_Model):
    """Chongqing's registry of tech-based firms (重庆市科技型企业 入库), evaluated yearly: what Chongqing's documents
    (seeds 000, 002, 003) count as 科技型企业. Looser than the national tech-SME evaluation: no size limit, no score;
    a resident firm doing R&D with S&T staff >= 5% of employees or one associate-senior S&T person qualifies (the
    only alternatives of the rules that were found; a major violation, which also bars entry, is not modelled)."""

    min_st_staff_share: Prob = _p(
        0.05, "ratio", "Qualifies with S&T staff at least this share of employees (科技人员占比≥5%).", CQ_REGISTRY
    )
    senior_st_staff: NonNeg = _p(
        _unif(5.0, 20.0),
        "S&T staff",
        "Or with at least this many S&T staff (employees x S&T staff share), taken to include the one associate-senior"
        " S&T person (副高级及以上职称的科技人员1名) the rules accept instead. Assumption: parksim has no titles; a range"
        " around 10 (if about one S&T worker in ten holds such a title).",
        plausible=(0, 1000),
    )
    requires_rd_activity: bool = _p(
        True,
        "flag",
        "Only R&D-active firms qualify: the registry is for firms that 依托一定数量的科技人员从事科学技术研究开发活动.",
        CQ_REGISTRY,
    )
    hnte_qualifies: bool = _p(
        True,
        "flag",
        "A firm with a valid high-tech certificate counts (an HNTE meets the staff condition; registry firms are the"
        " cultivation pool of HNTE, 列为高新技术企业培育对象).",
        CQ_REGISTRY,
    )
    register_prob: Prob = _p(
        _unif(0.6, 0.9),
        "probability",
        "Share of qualifying firms that register (入库 is voluntary, 自愿申请; a firm's lasting propensity). Assumption:"
        " most do, for the registry's benefits (创新券, 知识价值信用贷款, priority for S&T projects); unknown: a range.",
    )
    round_month: int = _p(
        5, "month", "Month of the yearly evaluation (firms update their yearly data, 更新年度数据).", ASSUMPTION, ge=1, le=12
    )


class Zjtx(_Model):
    """Specialised and sophisticated SME (专精特新)."""

    min_age_months: NonNeg = _p(24.0, "months", "At least 2 years in its niche.", ZJTX_RULE, limit=(0, 1200), plausible=(0, 120))
    min_rd: NonNeg = _p(100.0, "万元", "Last year's R&D at least 1 million yuan.", ZJTX_RULE, plausible=(0, 1e5))
    min_rd_ratio: Prob = _p(0.03, "ratio", "Last year's R&D at least 3% of revenue.", ZJTX_RULE)
    min_revenue: NonNeg = _p(1000.0, "万元", "Revenue at least 10 million yuan.", ZJTX_RULE, plausible=(0, 1e6))
    validity_years: int = _p(3, "years", "Recognition valid this many years.", ASSUMPTION, ge=1, limit=(1, 50), plausible=(1, 10))
    round_month: int = _p(9, "month", "Month of the yearly round.", ASSUMPTION, ge=1, le=12)
    apply_prob: Prob = _p(0.5, "probability", "Chance an eligible firm applies in a round.")
    approval_prob: Prob = _p(0.6, "probability", "Chance an application is approved.")


#: the definitions of a tech-based firm a scenario can choose (certification.tech_based)
TECH_BASED = ("national_tech_sme", "chongqing_registry")


class Certification(_Model):
    above_size_revenue: NonNeg = _p(
        2000.0,
        "万元",
        "Revenue from which an industrial firm is above designated size (20 million yuan).",
        NBS,
        plausible=(100, 1e5),
    )
    tech_based: str = _p(
        "national_tech_sme",
        "-",
        "What counts as a tech-based firm (科技型企业, the tech_based indicators): 'national_tech_sme' (科技型中小企业,"
        " [certification.tech_sme]) or 'chongqing_registry' (Chongqing's registry, [certification.chongqing_registry]:"
        " what Chongqing's documents mean, looser).",
        "scenario",
    )
    hnte: Hnte = Field(default_factory=Hnte)
    tech_sme: TechSme = Field(default_factory=TechSme)
    chongqing_registry: ChongqingRegistry = Field(default_factory=ChongqingRegistry)
    zjtx: Zjtx = Field(default_factory=Zjtx)

    @field_validator("tech_based")
    @classmethod
    def _tech_based(cls, v):
        if v not in TECH_BASED:
            raise ValueError(f"unknown definition {v!r}; expected one of {list(TECH_BASED)}")
        return v

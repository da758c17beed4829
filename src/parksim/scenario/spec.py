"""The scenario schema: every number that shapes results, with unit and source.

Each field is declared with :func:`_p`, which records its unit and the source
of its default (a seed file, a public source named in the domain notes, or
``assumption``). ``parksim params`` prints the whole table; the README links
to its committed copy ``docs/parameters.md``.

Money is in 万元 (10,000 yuan) at firm level; park totals are reported in 亿元
(100 million yuan). Time is in months from 1 January of ``simulation.start_year``.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_serializer, model_validator

from parksim.scenario.certification import Certification
from parksim.scenario.observations import Observation, check_input, cross_problems
from parksim.scenario.policy import (
    Assessment,
    Levers,
    Portfolio,
)
from parksim.scenario.schema import (
    ASSUMPTION,
    FUNNEL,
    SEED_000,
    SEED_002,
    SEED_003,
    VALUE_ADDED,
    EPos,
    EProb,
    EScore,
    NonNeg,
    Pos,
    Prob,
    Real,
    _known_comparison,
    _known_indicator,
    _logn,
    _Model,
    _p,
    _tri,
    _unif,
)


# --- simulation ---------------------------------------------------------------------
class Simulation(_Model):
    start_year: int = _p(
        2023,
        "year",
        "First simulated calendar year; the state read in is at 1 January of it.",
        "scenario",
        limit=(1949, 2200),
        plausible=(2000, 2040),
    )
    years: int = _p(
        2,
        "years",
        "Number of simulated years; indicators are reported at each year end.",
        "scenario",
        ge=1,
        le=50,
        plausible=(1, 15),
    )
    weight: int = _p(
        1,
        "firms per simulated firm",
        "Super-individual weight: each simulated firm and project stands for this many real ones. Counts and sums"
        " are multiplied by it; rates in the scenario are real-park rates and are divided by it internally.",
        "scenario",
        ge=1,
        limit=(1, 1_000_000),
        plausible=(1, 100),
    )


# --- pipeline -----------------------------------------------------------------------
class Stage(_Model):
    """One stage of the project pipeline: a right-tailed delay and a drop-out chance."""

    delay: EPos = _p(_logn(1.0, 0.7), "months", "Delay of this stage, per project.", plausible=(0.05, 60))
    dropout: Prob = _p(0.0, "probability", "Chance that a project drops out during this stage.")


class SpaceStage(Stage):
    """A stage that first needs space (factory floor or land) and may give up waiting."""

    patience: EPos = _p(
        12.0,
        "months",
        "How long a project waits for factory space or land before giving up (inf: waits for ever).",
        plausible=(0.5, 120),
        allow_inf=True,
    )


class LandingStage(Stage):
    delay: EPos = _p(
        _logn(2.0, 1.0),
        "months",
        "Signing to landing (落地). Median 2 months, twice the 1-month promise: Liangping signed 31 pre-made-food projects"
        ' Apr-Oct 2022 and "20余家" had landed by late October (重庆日报, 2022-11-02), ~65% within 0-6 months of signing,'
        " which this delay gives (~55-60%); sigma 1.0 (long right tail): P(> 6 months) = 14%, P(<= 1 month) = 24%.",
        FUNNEL,
        plausible=(0.05, 60),
    )
    dropout: Prob = _p(
        _unif(0.05, 0.18),
        "probability",
        "Signed projects that never land (履约 fails): Sichuan fair projects 95% honoured a year after signing (DOMAIN §2);"
        " Yunnan 2015 fair projects 82% (云南省投资促进局, 2015-10-30). Unknown in between: a range.",
        FUNNEL,
    )


class RentStage(SpaceStage):
    delay: EPos = _p(
        _logn(5.0, 1.0),
        "months",
        "Landing (and factory space obtained) to production start (投产, trial production included) for projects renting a"
        " standard factory. Median 5 months, 2.5x the 2-month promise (assumption: fitting out, equipment, permits;"
        " landing and building run at about twice their promise), sigma 1.0.",
        ASSUMPTION,
        plausible=(0.05, 60),
    )
    dropout: Prob = _p(
        0.15,
        "probability",
        "Renting projects that land but never produce (assumption, below the build rate: less sunk investment to lose).",
    )


class BuildStage(SpaceStage):
    delay: EPos = _p(
        _logn(12.0, 0.9),
        "months",
        "Landing (and land obtained: construction starts, 开工) to built and producing for projects buying land. Median 12"
        " months, twice the 6-month promise: Sichuan fair projects a year after signing 86% started but 30% producing"
        " (DOMAIN §2); 安庆's 2018 key industrial projects 91% started, 54% producing by the next September, 9-21 months"
        " after signing (安庆市经信局); sigma 0.9: P(> 24 months) = 22%.",
        FUNNEL,
        plausible=(0.05, 60),
    )
    dropout: Prob = _p(
        _unif(0.10, 0.30),
        "probability",
        "Building projects that land (start) but are never completed: investment-fair projects ~3 years after signing"
        " 22-25% producing, another 31-33% started or with land (DOMAIN §2); 资金到位率 20-28%. A range.",
        FUNNEL,
    )


class Promise(_Model):
    """What the park promises signed projects (seed 002: 签约项目1个月落地,租赁厂房项目2个月投产,购地建设项目6个月建成投用).

    Not the delays (those are `landing`, `rent`, `build`): the yardstick of the `promise_kept_share` indicator."""

    landing_months: Pos = _p(1.0, "months", "A signed project lands within this many months of signing.", SEED_002, limit=(0, 12))
    rent_months: Pos = _p(2.0, "months", "A renting project produces within this many months of signing.", SEED_002, limit=(0, 12))
    build_months: Pos = _p(
        6.0, "months", "A building project is built and in use within this many months of signing.", SEED_002, limit=(0, 12)
    )


class ProjectSizes(_Model):
    """Sizes of synthetic signed projects (known projects come from the pipeline CSV)."""

    planned_output: EPos = _p(_logn(8000.0, 1.0), "万元/year", "Planned yearly output at full capacity.", plausible=(10, 1e7))
    output_realisation: EPos = _p(
        _logn(0.8, 0.4),
        "ratio",
        "Achieved ÷ planned output at full capacity; projects under-deliver on average.",
        plausible=(0.05, 5),
    )
    floor_space_m2: EPos = _p(_logn(3000.0, 0.6), "m²", "Standard-factory floor space a renting project needs.", plausible=(50, 1e6))
    land_mu: EPos = _p(_logn(40.0, 0.8), "mu", "Land a building project buys (1 km² = 1,500 mu).", plausible=(0.5, 1e4))
    investment: EPos = _p(_logn(20000.0, 1.0), "万元", "Fixed-asset investment of a building project.", plausible=(10, 1e8))
    rent_investment_share: Prob = _p(0.2, "ratio", "Investment of a renting project as a share of a building project's (equipment only).")


class Pipeline(_Model):
    signings_per_month: NonNeg = _p(
        5.0,
        "projects/month",
        "Mean rate of new signed projects (Poisson process).",
        limit=(0, 10_000),
        plausible=(0, 1000),
    )
    monthly_profile: list[float] = _p(
        lambda: [1.0] * 12,
        "multiplier",
        "Twelve multipliers of the signing rate, January to December (their mean need not be 1).",
    )
    rent_share: Prob = _p(0.6, "probability", "Share of signed projects that rent a standard factory rather than buy land.")
    warm_up_months: NonNeg = _p(
        0.0,
        "months",
        "Synthetic signings are also generated this many months before the start; those still in the pipeline on 1 January"
        " (not yet producing, not dropped out) start in flight. 0: the pipeline starts empty (give known projects instead).",
        "scenario",
        limit=(0, 600),
        plausible=(0, 120),
    )
    known_projects: str | None = _p(
        None, "path", "CSV of signed projects (see README: pipeline CSV), relative to the scenario file.", "scenario"
    )
    landing: LandingStage = Field(default_factory=LandingStage)
    rent: RentStage = Field(default_factory=RentStage)
    build: BuildStage = Field(default_factory=BuildStage)
    promise: Promise = Field(default_factory=Promise)
    project: ProjectSizes = Field(default_factory=ProjectSizes)

    @field_validator("monthly_profile")
    @classmethod
    def _profile(cls, v):
        if len(v) != 12:
            raise ValueError(f"expected 12 values (January..December), got {len(v)}: {v}")
        if not all(math.isfinite(x) and 0 <= x <= 100 for x in v):
            raise ValueError(f"expected finite values >= 0 and <= 100 (multipliers of the signing rate), got {v}")
        return v


# --- capacity -----------------------------------------------------------------------
class Addition(_Model):
    year: int = _p(..., "year", "Calendar year of the addition.", "scenario", limit=(1949, 2200))
    month: int = _p(1, "month", "Month (1-12) in which the addition becomes available.", "scenario", ge=1, le=12)
    amount: NonNeg = _p(..., "m² or mu", "Amount added.", "scenario", plausible=(0, 1e8))


class Capacity(_Model):
    factory_floor_m2: NonNeg = _p(
        200_000.0,
        "m²",
        "Standard-factory floor space in the park at the start (if the starting renters, whose floor space is drawn, occupy more in a replication, the park starts full at that size; inf: no limit).",
        plausible=(0, 1e8),
        allow_inf=True,
    )
    factory_occupied_m2: NonNeg | None = _p(
        None,
        "m²",
        "Floor space occupied at the start; default: the floor space of the starting firms that rent.",
        "scenario",
        plausible=(0, 1e8),
    )
    factory_additions: list[Addition] = _p(list, "m²", "Standard-factory floor space completed later.", "scenario")
    land_quota_mu_per_year: NonNeg = _p(
        1500.0,
        "mu/year",
        "Industrial land the park may supply each year (Xiushan plans >= 1 km² = 1,500 mu a year).",
        SEED_000,
        plausible=(0, 1e6),
    )
    land_quota_changes: list[Addition] = _p(list, "mu/year", "From the given year on, the yearly land quota becomes `amount`.", "scenario")
    quota_carry_over: bool = _p(True, "flag", "Unused land quota carries over to the next year.")
    industrial_land_km2: Pos = _p(5.0, "km²", "Industrial land in use at the start (for output per km² / per mu).", plausible=(0.1, 2000))


# --- sectors ------------------------------------------------------------------------
class Sector(_Model):
    """How firms of one sector grow, spend on R&D and qualify for certifications."""

    industrial: bool = _p(
        True, "flag", "Industrial sector (counts for above-size industry, industrial workers, output per land).", "scenario"
    )
    signing_weight: NonNeg = _p(1.0, "weight", "Relative share of new synthetic signings in this sector.", "scenario", plausible=(0, 1e3))
    growth: Real = _p(
        0.08,
        "log/year",
        "Mean yearly log-growth of a firm's output (Chongqing parks >= 6%/yr; Liangping +9.1%).",
        SEED_003,
        limit=(-5, 5),
        plausible=(-0.5, 0.5),
    )
    shock_sd: NonNeg = _p(
        0.08,
        "log/year",
        "SD of the yearly sector shock shared by all firms of the sector.",
        limit=(0, 5),
        plausible=(0, 0.5),
    )
    firm_noise_sd: NonNeg = _p(
        0.20,
        "log/year",
        "SD of a firm's own yearly log-growth noise (applied monthly).",
        limit=(0, 5),
        plausible=(0, 1),
    )
    exit_rate_young: Prob = _p(
        0.059, "1/year", "Yearly exit probability in a firm's first years: 3-year survival 83.4%.", "DOMAIN §3 (Chongqing new firms)"
    )
    exit_rate_mature: Prob = _p(0.03, "1/year", "Yearly exit probability after `young_years`.")
    young_years: NonNeg = _p(
        3.0,
        "years",
        "Age until which `exit_rate_young` applies.",
        "DOMAIN §3 (Chongqing new firms)",
        limit=(0, 100),
        plausible=(0, 10),
    )
    ramp_up_months: NonNeg = _p(
        12.0,
        "months",
        "Months from production start to full output (linear ramp).",
        limit=(0, 1200),
        plausible=(0, 60),
    )
    ramp_start: Prob = _p(0.3, "ratio", "Output at production start as a share of full output.")
    labour_productivity: EPos = _p(
        _logn(120.0, 0.5),
        "万元/worker/year",
        "Output per worker (employees = output ÷ productivity).",
        plausible=(1, 5000),
    )
    rd_active: Prob = _p(0.6, "probability", "Share of firms with any R&D activity.")
    rd_share: EPos = _p(_logn(0.025, 0.8), "ratio", "R&D spending ÷ revenue of an R&D-active firm.", plausible=(0.0005, 0.5))
    rd_noise_sd: NonNeg = _p(0.2, "log/year", "Year-to-year log noise of a firm's R&D share.", limit=(0, 5), plausible=(0, 1))
    st_staff_share: EProb = _p(_tri(0.02, 0.10, 0.35), "ratio", "S&T staff ÷ employees.")
    hightech_revenue_share: EProb = _p(_tri(0.0, 0.5, 1.0), "ratio", "High-tech products/services ÷ revenue.")
    hightech_service_share: EProb = _p(0.0, "ratio", "High-tech service revenue ÷ revenue (technology services, testing, software).")
    innovation_score: EScore = _p(
        {"dist": "normal", "mean": 65.0, "sd": 12.0, "low": 0.0, "high": 100.0},
        "points",
        "Innovation score of the high-tech assessment (IP 30, conversion 30, R&D management 20, growth 20).",
    )
    ip_class1: Prob = _p(0.25, "probability", "Share of firms owning a Class I IP item (invention patent etc.).")
    ip_class2_mean: NonNeg = _p(3.0, "items", "Mean number of Class II IP items (Poisson).", limit=(0, 1000), plausible=(0, 50))
    hnte_field: Prob = _p(0.8, "probability", "Share of firms in one of the 8 state-supported high-tech fields.")
    niche: Prob = _p(0.15, "probability", "Share of firms in a niche market (专精特新 precondition).")
    rd_institution: Prob = _p(0.3, "probability", "Share of firms with their own R&D institution.")
    value_added_ratio: NonNeg = _p(
        _unif(0.22, 0.31),
        "ratio",
        "Value added ÷ revenue of the sector's firms (for value_added, a zone's GDP). Unknown for a given park: a range"
        " from Shenzhen's above-size industry (0.22) to the national high-tech zones' GDP ÷ revenue (0.31). By sector"
        " (research notes eastlake-nanjing-zunyi.md §4): electronics 0.165 (WIOD, China 2014) to 0.25; autos 0.17-0.21;"
        " pharma 0.30-0.40 (judgement, margins 11% vs 7%); baijiu above 1 (Renhuai 2021: value added 1.9 x gross output).",
        VALUE_ADDED,
        limit=(0, 10),
        plausible=(0.02, 3),
    )
    tech_correlation: Prob = _p(
        0.7,
        "correlation",
        "Loading of R&D, S&T staff, high-tech revenue, innovation score, IP, field, niche and R&D institution on a firm's latent"
        " tech orientation (Gaussian copula; 0 = independent attributes).",
    )


# --- starting state -----------------------------------------------------------------
class SectorBaseline(_Model):
    firms: int = _p(
        0,
        "firms",
        "Number of firms of the sector at the start (synthetic baseline).",
        "scenario",
        ge=0,
        limit=(0, 1_000_000),
        plausible=(0, 50_000),
    )
    revenue: EPos = _p(_logn(3000.0, 1.3), "万元/year", "Last year's revenue of a starting firm.", plausible=(1, 1e7))
    total_revenue: NonNeg | None = _p(
        None,
        "亿元",
        "If set, the drawn revenues of the sector's starting firms are rescaled to sum to this (the sector's known last-year"
        " output), so that only the split between firms is random.",
        "scenario",
        limit=(0, 1e6),
        plausible=(0, 2e4),
    )
    age_years: EPos = _p(_unif(1.0, 15.0), "years", "Age of a starting firm.", limit=(0, 200), plausible=(0, 60))
    hnte_share: Prob = _p(
        0.1,
        "probability",
        "Share of starting firms with a valid high-tech certificate (expiry uniform over 3 years); they are the firms of highest"
        " tech orientation.",
    )
    tech_sme_share: Prob = _p(
        0.2,
        "probability",
        "Share of starting firms that are tech-based under the national tech-SME evaluation (certified), the firms of"
        " highest tech orientation; each year's evaluation then applies its rules. Not used under Chongqing's registry"
        " (certification.tech_based = 'chongqing_registry'): there the starting members are the firms that register and"
        " meet the registry's conditions with their starting traits.",
    )
    zjtx_share: Prob = _p(0.02, "probability", "Share of starting firms recognised as 专精特新.")
    renting_share: Prob = _p(0.3, "probability", "Share of starting firms that rent standard-factory space.")
    floor_space_m2: EPos = _p(_logn(2500.0, 0.6), "m²", "Floor space of a renting starting firm.", plausible=(50, 1e6))


class Baseline(_Model):
    enterprises: str | None = _p(None, "path", "CSV enterprise register (see README), relative to the scenario file.", "scenario")
    sectors: dict[str, SectorBaseline] = _p(dict, "-", "Synthetic starting firms by sector (added to the register, if any).", "scenario")
    baseline_output: NonNeg | None = _p(
        None,
        "亿元",
        "Last year's total output, for growth indicators; default: sum of the starting firms' revenue.",
        "scenario",
        limit=(0, 1e6),
        plausible=(0, 2e4),
    )


# --- traits over time ------------------------------------------------------------------
class Traits(_Model):
    """How firms' R&D traits change after their creation (adoption and improvement, yearly)."""

    rd_adoption_rate: NonNeg = _p(
        _unif(0.05, 0.08),
        "1/year",
        "Yearly hazard that an above-size firm without R&D starts R&D. China's share of above-size industrial firms with"
        " R&D activity rose 11.5% (2011) -> 28.0% (2018) -> 37.3% (2022), about +2.3 points a year (NBS yearbook 2012;"
        " 科技部 via 中新社 2020-04-17; NBS 75-year report via 新华社 2024-09-10). Without entries and exits, +2.3 points"
        " out of the 63-72% without R&D is a hazard of 3.2-3.7% a year (derived); a park's entries (new firms at the"
        " sector's R&D share) and exits hold its share back, and at 5-8% a zone starting at the national share rises"
        " about 2.3 points a year (calibrated, tests/test_dynamics.py).",
        "NBS and MOST (research/ningxia-national.md §3c; derived and calibrated)",
        limit=(0, 10),
        plausible=(0, 0.5),
    )
    rd_institution_adoption_rate: NonNeg = _p(
        _unif(0.05, 0.15),
        "1/year",
        "Yearly hazard that an above-size R&D-active firm without its own R&D institution sets one up. National 2018:"
        " 19.2% of above-size industrial firms had one and 28% R&D activity (科技部 via 中新社 2020-04-17), Chongqing"
        " about 30% in 2021 (research/chongqing.md); the trend is not published. Assumption: at 5-15% a year the"
        " institution share follows the R&D-active share, rising 1-2 points a year.",
        "assumption (research/ningxia-national.md §3c, research/chongqing.md)",
        limit=(0, 10),
        plausible=(0, 1),
    )
    small_firm_factor: NonNeg = _p(
        0.5,
        "ratio",
        "Factor on both adoption hazards for a firm below the above-size threshold (larger firms adopt more: R&D"
        " activity is far more common among large than small firms); assumption.",
        limit=(0, 10),
        plausible=(0, 2),
    )
    score_gain: NonNeg = _p(
        _unif(1.0, 3.0),
        "points/year",
        "Innovation points (of the high-tech score's 100) an R&D-active firm gains a year as it files IP and converts"
        " results; together with `rd_share_growth` it lets firms cross the thresholds over time, as the national"
        " HNTE stock's growth (about 20-24% a year, 2012-2022) requires. Assumption, calibrated so that a typical zone's"
        " valid HNTE stock grows within 10-45% a year (tests/test_dynamics.py).",
        limit=(0, 100),
        plausible=(0, 10),
    )
    hightech_share_gain: Real = _p(
        _unif(0.02, 0.06),
        "ratio/year",
        "Yearly gain of an R&D-active firm's high-tech product/service share of revenue (new products from its R&D"
        " replace old ones; the high-tech enterprise needs 60%). Assumption: 2-6 points a year, so that a firm at 50%"
        " needs several years; with `score_gain` and `rd_share_growth` calibrated to the HNTE stock's growth.",
        limit=(-1, 1),
        plausible=(-0.1, 0.2),
    )
    rd_share_growth: Real = _p(
        _unif(0.02, 0.08),
        "log/year",
        "Yearly log-growth of an R&D-active firm's R&D share of revenue. Ningxia above-size industrial R&D ÷ revenue"
        " rose 0.72% (2017) -> 0.94% (2020), about +9% a year, which includes firms starting R&D"
        " (research/ningxia-national.md §2); the part of firms already active is taken as 2-8% a year (assumption).",
        "assumption (research/ningxia-national.md §2)",
        limit=(-1, 1),
        plausible=(-0.2, 0.3),
    )


# --- institutions, listing, shocks ----------------------------------------------------
class Institutions(_Model):
    initial: int = _p(
        20,
        "institutions",
        "R&D and S&T-service institutions at the start.",
        "scenario",
        ge=0,
        limit=(0, 100_000),
        plausible=(0, 5_000),
    )
    new_per_year: NonNeg = _p(5.0, "1/year", "Mean number of new institutions a year (Poisson).", limit=(0, 10_000), plausible=(0, 500))
    closure_prob: Prob = _p(0.03, "1/year", "Chance an institution closes in a year.")
    incubation_m2: NonNeg = _p(20_000.0, "m²", "Incubation floor space at the start.", "scenario", plausible=(0, 1e7))
    incubation_added_m2_per_year: NonNeg = _p(5_000.0, "m²/year", "Incubation floor space added each year.", plausible=(0, 1e6))


class Listing(_Model):
    initial: int = _p(0, "companies", "Listed companies at the start.", "scenario", ge=0, limit=(0, 100_000), plausible=(0, 1_000))
    min_revenue: NonNeg = _p(50_000.0, "万元", "Revenue from which a firm may list.", plausible=(100, 1e7))
    prob: Prob = _p(0.03, "1/year", "Yearly chance a large enough unlisted firm lists.")


class Shocks(_Model):
    macro_sd: NonNeg = _p(
        0.03,
        "log/year",
        "SD of the yearly regional shock shared by every sector (on top of sector shocks).",
        limit=(0, 5),
        plausible=(0, 0.3),
    )


# --- targets --------------------------------------------------------------------------
class Target(_Model):
    """A target the park is held to: ``indicator comparison threshold`` at a year end (a level), or the indicator's
    average yearly growth from a base year (``kind = "average_growth"``, 年均增长 X%)."""

    label: str = _p(..., "-", "Short name of the target, as in the source document.", "scenario")
    indicator: str = _p(..., "-", "An indicator name (see `parksim indicators`).", "scenario")
    comparison: str = _p(">=", "-", 'One of >, >=, <, <=, ==, or "~" (about, 左右: within threshold ± tolerance, a band).', "scenario")
    threshold: float = _p(..., "indicator's unit (% a year for an average growth)", "The target value.", "scenario")
    year: int | str = _p(
        ..., "year", 'Year whose end is checked, or "each" for a yearly target checked at every simulated year end.', "scenario"
    )
    kind: str = _p(
        "level",
        "-",
        '"level": the indicator at the end of `year`; "average_growth": its average (compound) growth in % a year from'
        " `base_year` to `year` (年均增长: (value / base) ** (1 / years) - 1), not growth in every year.",
        "scenario",
    )
    base_year: int | None = _p(
        None,
        "year",
        "average_growth: the base year. A simulated year, or the year before the first (the model's own value then, for an"
        " indicator with a growth indicator: total_output, above_size_output, rd_spending), or any earlier year with"
        " `base_value`.",
        "scenario",
        limit=(1949, 2200),
    )
    base_value: float | None = _p(
        None,
        "indicator's unit",
        "average_growth: the indicator's value in `base_year` (a published figure; default: the model's).",
        "scenario",
        gt=0,
        plausible=(0, 1e9),
    )
    tolerance: float = _p(
        0.0,
        "indicator's unit",
        'Comparison "~" (about, 左右): met within threshold ± tolerance (state why this tolerance).',
        "scenario",
        ge=0,
        plausible=(0, 1e9),
    )
    source: str = _p("", "-", "Where the target comes from (seed file, clause).", "scenario")
    parks: list[str] | None = _p(
        None,
        "-",
        "Portfolio: the parks held to this target (default: every park); in [[portfolio.targets]], the parks added up"
        " (default: all). Names from `portfolio.parks`.",
        "scenario",
    )

    _check_indicator = field_validator("indicator")(classmethod(lambda cls, v: _known_indicator(v)))

    @field_validator("comparison")
    @classmethod
    def _comparison(cls, v):
        return v if v == "~" else _known_comparison(v)

    @model_validator(mode="after")
    def _kind(self):
        from parksim.rules.indicators import AGGREGATE

        if self.kind not in ("level", "average_growth"):
            raise ValueError(f"kind: {self.kind!r} is not a target kind; expected 'level' or 'average_growth'")
        if (self.comparison == "~") != (self.tolerance > 0):
            raise ValueError(
                'tolerance: a band needs comparison "~" and a tolerance > 0 (and a tolerance needs "~"),'
                f" got comparison {self.comparison!r} and tolerance {self.tolerance!r}"
            )
        if self.kind == "level":
            for key in ("base_year", "base_value"):
                if getattr(self, key) is not None:
                    raise ValueError(f'{key}: only an average_growth target has one (kind = "average_growth")')
            return self
        if self.base_year is None:
            raise ValueError("base_year: an average_growth target needs the year its growth is measured from")
        if not isinstance(self.year, int):
            raise ValueError(f"year: an average_growth target is checked in one year, got {self.year!r}")
        if self.base_year >= self.year:
            raise ValueError(f"base_year: {self.base_year} is not before the target's year {self.year}")
        if AGGREGATE.get(self.indicator) != "sum":
            raise ValueError(
                f"indicator: the average growth of {self.indicator!r} (a share, ratio or growth) is not a 年均增长 target;"
                " expected a level (a count or amount, e.g. total_output, above_size_output, rd_spending)"
            )
        return self

    def check_base(self, start_year: int) -> str | None:
        """Why the base of an average_growth target cannot be known for a run starting in ``start_year`` (None: it can)."""
        from parksim.rules.indicators import GROWTH_OF

        if self.kind != "average_growth" or self.base_value is not None or self.base_year >= start_year:
            return None
        if self.base_year == start_year - 1 and self.indicator in GROWTH_OF:
            return None
        return (
            f"base_year: {self.base_year} is before the simulated years and the model knows {self.indicator!r} only from"
            f" {start_year}{' (and, for total_output, above_size_output, rd_spending, the year before)' if self.indicator not in GROWTH_OF else ''};"
            " expected base_value (the published figure of the base year)"
        )

    @field_validator("label")
    @classmethod
    def _label(cls, v):
        if not v.strip():
            raise ValueError("expected a non-empty label")
        if v.strip().upper() == "ALL":
            raise ValueError(f"{v!r} is reserved for the row of every target met together; expected another label")
        return v

    @field_validator("year")
    @classmethod
    def _year(cls, v):
        if isinstance(v, str) and v != "each":
            raise ValueError(f'expected a year or "each", got {v!r}')
        return v

    @model_serializer(mode="wrap")
    def _without_default_parks(self, handler):
        # a target that uses none of the later keys serialises as before they existed: scenario hashes stay valid
        out = handler(self)
        for key, default in (("parks", None), ("kind", "level"), ("base_year", None), ("base_value", None), ("tolerance", 0.0)):
            if getattr(self, key) == default:
                out.pop(key, None)
        return out


Portfolio.model_rebuild(_types_namespace={"Target": Target})


# --- the scenario ---------------------------------------------------------------------
class Scenario(_Model):
    """A park scenario, as read from a TOML file (after ``extends`` is resolved)."""

    name: str = _p("unnamed park", "-", "Name of the park and question.", "scenario")
    description: str = _p("", "-", "What the scenario represents.", "scenario")
    sources: list[str] = _p(list, "-", "Seed files and public sources the scenario uses.", "scenario")
    simulation: Simulation = Field(default_factory=Simulation)
    pipeline: Pipeline = Field(default_factory=Pipeline)
    capacity: Capacity = Field(default_factory=Capacity)
    sector_defaults: dict[str, Any] = _p(dict, "-", "Values applied to every sector before its own keys.", "scenario")
    sectors: dict[str, Sector] = _p(lambda: {"industry": {}}, "-", "The park's sectors by name.", "scenario")
    baseline: Baseline = Field(default_factory=Baseline)
    certification: Certification = Field(default_factory=Certification)
    traits: Traits = Field(default_factory=Traits)
    institutions: Institutions = Field(default_factory=Institutions)
    listing: Listing = Field(default_factory=Listing)
    shocks: Shocks = Field(default_factory=Shocks)
    targets: list[Target] = _p(list, "-", "Targets checked by `parksim run` (P(met) per target and jointly).", "scenario")
    observations: list[Observation] = _p(
        list,
        "-",
        "Published figures of the park's indicators in simulated years, for calibration and backtests; they do not change"
        ' a run. [[observations]] tables, or observations = "file.csv" (columns as the table\'s keys; README), relative to'
        " the scenario file.",
        "scenario",
    )
    assessment: Assessment | None = _p(None, "-", "Yearly assessment with status consequences (none: not assessed).", "scenario")
    portfolio: Portfolio | None = _p(None, "-", "Simulate several parks together (shared regional shocks) and rank them.", "scenario")
    levers: Levers = Field(default_factory=Levers)

    # set by the loader: the resolved TOML data, where it came from, parsed CSV inputs
    _raw: dict | None = PrivateAttr(None)
    _source: str = PrivateAttr("<python>")
    _register: Any = PrivateAttr(None)
    _projects: Any = PrivateAttr(None)
    _members: Any = PrivateAttr(None)  # portfolio: [(park name, Scenario)]
    _warnings: Any = PrivateAttr(None)  # values outside their plausible range (set by the loader)
    _uncertain: Any = PrivateAttr(None)  # the keys of its uncertain parameters (set by the first plan: engines/fast/plan.py)
    _given: Any = PrivateAttr(None)  # uncertain parameters given, not drawn: a posterior's (model.realise.with_given)

    @model_validator(mode="before")
    @classmethod
    def _merge_sector_defaults(cls, data):
        if not isinstance(data, dict) or not isinstance(data.get("sector_defaults"), dict):
            return data
        defaults = data["sector_defaults"]
        for key in defaults:
            if key not in Sector.model_fields:
                raise ValueError(f"sector_defaults.{key}: unknown sector key; expected one of {sorted(Sector.model_fields)}")
        sectors = data.get("sectors", {"industry": {}})
        if isinstance(sectors, dict):
            merged = {n: ({**defaults, **s} if isinstance(s, dict) else s) for n, s in sectors.items()}
            data = {**data, "sectors": merged}
        return data

    _check_observations = field_validator("observations", mode="before")(classmethod(lambda cls, v: check_input(v)))

    @model_serializer(mode="wrap")
    def _without_no_observations(self, handler):
        # a scenario without observations serialises as before they existed: scenario hashes stay valid
        out = handler(self)
        if not self.observations:
            out.pop("observations", None)
        return out

    @model_validator(mode="after")
    def _cross(self):
        for name in self.baseline.sectors:
            if name not in self.sectors:
                raise ValueError(f"baseline.sectors.{name}: unknown sector {name!r}; sectors are {sorted(self.sectors)}")
        if not self.sectors:
            raise ValueError("sectors: at least one sector is needed")
        first = self.simulation.start_year
        last = first + self.simulation.years - 1
        own = self.portfolio.targets if self.portfolio is not None else []
        for where, targets in (("targets", self.targets), ("portfolio.targets", own)):
            for i, t in enumerate(targets):
                if isinstance(t.year, int) and not first <= t.year <= last:
                    raise ValueError(f"{where}.{i}.year: {t.year} is outside the simulated years; expected {first} to {last}")
                if (why := t.check_base(first)) is not None:
                    raise ValueError(f"{where}.{i}.{why}")
        if self.assessment is not None and self.portfolio is None:
            for i, r in enumerate(self.assessment.rules):
                if r.kind == "rank":
                    raise ValueError(f"assessment.rules.{i}.kind: a rank rule needs peers; expected a [portfolio] of parks")
        if self.assessment is not None and self.portfolio is not None:
            assessed = [p.name for p in self.portfolio.parks if p.assessed]
            if not assessed:
                raise ValueError(
                    "portfolio.parks: every park has assessed = false, so [assessment] applies to none; expected at least one assessed park"
                )
            for i, r in enumerate(self.assessment.rules):
                if r.kind == "rank" and len(assessed) < 2:
                    raise ValueError(
                        f"assessment.rules.{i}.kind: a rank rule needs peers; expected at least 2 parks with assessed = true, got {assessed}"
                    )
        for where, targets in (("targets", self.targets), ("portfolio.targets", own)):
            labels = [t.label for t in targets]
            for lab in {x for x in labels if labels.count(x) > 1}:
                raise ValueError(f"{where}: label {lab!r} is used twice; expected unique labels")
        for key, message in cross_problems(self):
            raise ValueError(f"{key}: {message}")
        return self

    @property
    def warnings(self) -> list:
        """Values outside their plausible range (accepted; most often a value in another unit), as
        :class:`parksim.Problem` items naming file, key, value, unit and the plausible range; a portfolio's
        parks' own values included."""
        from parksim.scenario.bounds import plausibility_problems

        if self._warnings is None:
            self._warnings = plausibility_problems(self, lambda key: self._source)
        out = list(self._warnings)
        for name, member in self._members or []:
            out += [type(p)(p.file, f"{p.where} (park {name})", p.message) for p in member.warnings if p not in self._warnings]
        return out

    @property
    def months(self) -> int:
        return 12 * self.simulation.years

    @property
    def sector_names(self) -> list[str]:
        return list(self.sectors)

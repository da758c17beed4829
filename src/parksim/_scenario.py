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
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, conlist, field_validator, model_serializer, model_validator

from ._dists import ENTITY, Param, in_range

# --- typed quantities -------------------------------------------------------------
_PQ = Param
Prob = Annotated[_PQ, AfterValidator(in_range(0.0, 1.0))]
NonNeg = Annotated[_PQ, AfterValidator(in_range(0.0))]
Pos = Annotated[_PQ, AfterValidator(in_range(0.0, strict_lo=True))]
Real = _PQ
EProb = Annotated[_PQ, ENTITY, AfterValidator(in_range(0.0, 1.0))]
ENonNeg = Annotated[_PQ, ENTITY, AfterValidator(in_range(0.0))]
EPos = Annotated[_PQ, ENTITY, AfterValidator(in_range(0.0, strict_lo=True))]
EScore = Annotated[_PQ, ENTITY, AfterValidator(in_range(0.0, 100.0))]

ASSUMPTION = "assumption"
SEED_000 = "seed 000_33ecaa117b1942e4.txt (Xiushan)"
SEED_001 = "seed 001_72549c66496bd046.txt (Zunyi, Nanjing, Quanzhou, East Lake)"
SEED_002 = "seed 002_e4c908b9ddb99f14.txt (Liangping 1/2/6-month promise)"
SEED_003 = "seed 003_1a37f358bfc2a9f6.txt (Chongqing parks)"
SEED_004 = "seed 004_8688862d7be7c5d3.txt (Ningxia)"
HNTE_RULE = "国科发火〔2016〕32号 and guideline 〔2016〕195号 (DOMAIN §3)"
TSME_RULE = "国科发政〔2017〕115号 (DOMAIN §3)"
ZJTX_RULE = "专精特新 SME criteria (DOMAIN §3)"
NBS = "National Bureau of Statistics above-size threshold (DOMAIN §3)"
FUNNEL = "funnel evidence, Chongqing/Sichuan 2020-2025 (DOMAIN §2)"


def _p(default: Any, unit: str, doc: str, source: str = ASSUMPTION, **kw) -> Any:
    """A documented field: default, unit, meaning and where the default comes from."""
    extra = {"unit": unit, "source": source}
    if callable(default) and not isinstance(default, (int, float, str, bool)):
        return Field(default_factory=default, description=doc, json_schema_extra=extra, **kw)
    return Field(default, description=doc, json_schema_extra=extra, **kw)


class _Model(BaseModel):
    # strict: TOML values are typed, so "6" or true where a number is expected is an error
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)


def _logn(median: float, sigma: float) -> dict:
    return {"dist": "lognormal", "median": median, "sigma": sigma}


def _tri(low: float, mode: float, high: float) -> dict:
    return {"dist": "triangular", "low": low, "mode": mode, "high": high}


def _unif(low: float, high: float) -> dict:
    return {"dist": "uniform", "low": low, "high": high}


# --- simulation ---------------------------------------------------------------------
class Simulation(_Model):
    start_year: int = _p(2023, "year", "First simulated calendar year; the state read in is at 1 January of it.", "scenario")
    years: int = _p(2, "years", "Number of simulated years; indicators are reported at each year end.", "scenario", ge=1, le=50)
    weight: int = _p(
        1,
        "firms per simulated firm",
        "Super-individual weight: each simulated firm and project stands for this many real ones. Counts and sums"
        " are multiplied by it; rates in the scenario are real-park rates and are divided by it internally.",
        "scenario",
        ge=1,
    )


# --- pipeline -----------------------------------------------------------------------
class Stage(_Model):
    """One stage of the project pipeline: a right-tailed delay and a drop-out chance."""

    delay: EPos = _p(_logn(1.0, 0.7), "months", "Delay of this stage, per project.")
    dropout: Prob = _p(0.0, "probability", "Chance that a project drops out during this stage.")


class SpaceStage(Stage):
    """A stage that first needs space (factory floor or land) and may give up waiting."""

    patience: EPos = _p(12.0, "months", "How long a project waits for factory space or land before giving up (inf: waits for ever).")


class LandingStage(Stage):
    delay: EPos = _p(
        _logn(1.0, 0.7),
        "months",
        "Signing to landing (落地). Median = the promise of 1 month; sigma 0.7 gives P(> 2 months) = 16% (right tail: assumption).",
        SEED_002,
    )
    dropout: Prob = _p(
        0.10, "probability", "Signed projects that never land: Sichuan fair projects 95% honoured, 86% started within a year.", FUNNEL
    )


class RentStage(SpaceStage):
    delay: EPos = _p(
        _logn(2.0, 0.7),
        "months",
        "Landing (and factory space obtained) to production start for projects renting a standard factory. Median = promise of 2 months.",
        SEED_002,
    )
    dropout: Prob = _p(0.05, "probability", "Renting projects that land but never produce (assumption, below the build rate).")


class BuildStage(SpaceStage):
    delay: EPos = _p(
        _logn(6.0, 0.8),
        "months",
        "Landing (and land obtained) to built and in use for projects buying land. Median = promise of 6 months;"
        " sigma 0.8 gives P(> 12 months) = 19%.",
        SEED_002,
    )
    dropout: Prob = _p(
        0.12, "probability", "Building projects that land but are never completed (开工率 54-81%, investment arrival 20-28%).", FUNNEL
    )


class ProjectSizes(_Model):
    """Sizes of synthetic signed projects (known projects come from the pipeline CSV)."""

    planned_output: EPos = _p(_logn(8000.0, 1.0), "万元/year", "Planned yearly output at full capacity.")
    output_realisation: EPos = _p(
        _logn(0.8, 0.4), "ratio", "Achieved ÷ planned output at full capacity; projects under-deliver on average."
    )
    floor_space_m2: EPos = _p(_logn(3000.0, 0.6), "m²", "Standard-factory floor space a renting project needs.")
    land_mu: EPos = _p(_logn(40.0, 0.8), "mu", "Land a building project buys (1 km² = 1,500 mu).")
    investment: EPos = _p(_logn(20000.0, 1.0), "万元", "Fixed-asset investment of a building project.")
    rent_investment_share: Prob = _p(0.2, "ratio", "Investment of a renting project as a share of a building project's (equipment only).")


class Pipeline(_Model):
    signings_per_month: NonNeg = _p(5.0, "projects/month", "Mean rate of new signed projects (Poisson process).")
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
    )
    known_projects: str | None = _p(
        None, "path", "CSV of signed projects (see README: pipeline CSV), relative to the scenario file.", "scenario"
    )
    landing: LandingStage = Field(default_factory=LandingStage)
    rent: RentStage = Field(default_factory=RentStage)
    build: BuildStage = Field(default_factory=BuildStage)
    project: ProjectSizes = Field(default_factory=ProjectSizes)

    @field_validator("monthly_profile")
    @classmethod
    def _profile(cls, v):
        if len(v) != 12:
            raise ValueError(f"expected 12 values (January..December), got {len(v)}: {v}")
        if not all(math.isfinite(x) and x >= 0 for x in v):
            raise ValueError(f"expected finite values >= 0, got {v}")
        return v


# --- capacity -----------------------------------------------------------------------
class Addition(_Model):
    year: int = _p(..., "year", "Calendar year of the addition.", "scenario")
    month: int = _p(1, "month", "Month (1-12) in which the addition becomes available.", "scenario", ge=1, le=12)
    amount: NonNeg = _p(..., "m² or mu", "Amount added.", "scenario")


class Capacity(_Model):
    factory_floor_m2: NonNeg = _p(
        200_000.0,
        "m²",
        "Standard-factory floor space in the park at the start (if the starting renters, whose floor space is drawn, occupy more in a replication, the park starts full at that size).",
    )
    factory_occupied_m2: NonNeg | None = _p(
        None,
        "m²",
        "Floor space occupied at the start; default: the floor space of the starting firms that rent.",
        "scenario",
    )
    factory_additions: list[Addition] = _p(list, "m²", "Standard-factory floor space completed later.", "scenario")
    land_quota_mu_per_year: NonNeg = _p(
        1500.0, "mu/year", "Industrial land the park may supply each year (Xiushan plans >= 1 km² = 1,500 mu a year).", SEED_000
    )
    land_quota_changes: list[Addition] = _p(list, "mu/year", "From the given year on, the yearly land quota becomes `amount`.", "scenario")
    quota_carry_over: bool = _p(True, "flag", "Unused land quota carries over to the next year.")
    industrial_land_km2: Pos = _p(5.0, "km²", "Industrial land in use at the start (for output per km² / per mu).")


# --- sectors ------------------------------------------------------------------------
class Sector(_Model):
    """How firms of one sector grow, spend on R&D and qualify for certifications."""

    industrial: bool = _p(
        True, "flag", "Industrial sector (counts for above-size industry, industrial workers, output per land).", "scenario"
    )
    signing_weight: NonNeg = _p(1.0, "weight", "Relative share of new synthetic signings in this sector.", "scenario")
    growth: Real = _p(0.08, "log/year", "Mean yearly log-growth of a firm's output (Chongqing parks >= 6%/yr; Liangping +9.1%).", SEED_003)
    shock_sd: NonNeg = _p(0.08, "log/year", "SD of the yearly sector shock shared by all firms of the sector.")
    firm_noise_sd: NonNeg = _p(0.20, "log/year", "SD of a firm's own yearly log-growth noise (applied monthly).")
    exit_rate_young: Prob = _p(
        0.059, "1/year", "Yearly exit probability in a firm's first years: 3-year survival 83.4%.", "DOMAIN §3 (Chongqing new firms)"
    )
    exit_rate_mature: Prob = _p(0.03, "1/year", "Yearly exit probability after `young_years`.")
    young_years: NonNeg = _p(3.0, "years", "Age until which `exit_rate_young` applies.", "DOMAIN §3 (Chongqing new firms)")
    ramp_up_months: NonNeg = _p(12.0, "months", "Months from production start to full output (linear ramp).")
    ramp_start: Prob = _p(0.3, "ratio", "Output at production start as a share of full output.")
    labour_productivity: EPos = _p(_logn(120.0, 0.5), "万元/worker/year", "Output per worker (employees = output ÷ productivity).")
    rd_active: Prob = _p(0.6, "probability", "Share of firms with any R&D activity.")
    rd_share: EPos = _p(_logn(0.025, 0.8), "ratio", "R&D spending ÷ revenue of an R&D-active firm.")
    rd_noise_sd: NonNeg = _p(0.2, "log/year", "Year-to-year log noise of a firm's R&D share.")
    st_staff_share: EProb = _p(_tri(0.02, 0.10, 0.35), "ratio", "S&T staff ÷ employees.")
    hightech_revenue_share: EProb = _p(_tri(0.0, 0.5, 1.0), "ratio", "High-tech products/services ÷ revenue.")
    hightech_service_share: EProb = _p(0.0, "ratio", "High-tech service revenue ÷ revenue (technology services, testing, software).")
    innovation_score: EScore = _p(
        {"dist": "normal", "mean": 65.0, "sd": 12.0, "low": 0.0, "high": 100.0},
        "points",
        "Innovation score of the high-tech assessment (IP 30, conversion 30, R&D management 20, growth 20).",
    )
    ip_class1: Prob = _p(0.25, "probability", "Share of firms owning a Class I IP item (invention patent etc.).")
    ip_class2_mean: NonNeg = _p(3.0, "items", "Mean number of Class II IP items (Poisson).")
    hnte_field: Prob = _p(0.8, "probability", "Share of firms in one of the 8 state-supported high-tech fields.")
    niche: Prob = _p(0.15, "probability", "Share of firms in a niche market (专精特新 precondition).")
    rd_institution: Prob = _p(0.3, "probability", "Share of firms with their own R&D institution.")
    tech_correlation: Prob = _p(
        0.7,
        "correlation",
        "Loading of R&D, S&T staff, high-tech revenue, innovation score, IP, field, niche and R&D institution on a firm's latent"
        " tech orientation (Gaussian copula; 0 = independent attributes).",
    )


# --- starting state -----------------------------------------------------------------
class SectorBaseline(_Model):
    firms: int = _p(0, "firms", "Number of firms of the sector at the start (synthetic baseline).", "scenario", ge=0)
    revenue: EPos = _p(_logn(3000.0, 1.3), "万元/year", "Last year's revenue of a starting firm.")
    total_revenue: NonNeg | None = _p(
        None,
        "亿元",
        "If set, the drawn revenues of the sector's starting firms are rescaled to sum to this (the sector's known last-year"
        " output), so that only the split between firms is random.",
        "scenario",
    )
    age_years: EPos = _p(_unif(1.0, 15.0), "years", "Age of a starting firm.")
    hnte_share: Prob = _p(
        0.1,
        "probability",
        "Share of starting firms with a valid high-tech certificate (expiry uniform over 3 years); they are the firms of highest"
        " tech orientation.",
    )
    tech_sme_share: Prob = _p(
        0.2,
        "probability",
        "Share of starting firms that are tech-based (registered SMEs or certified), the firms of highest tech orientation.",
    )
    zjtx_share: Prob = _p(0.02, "probability", "Share of starting firms recognised as 专精特新.")
    renting_share: Prob = _p(0.3, "probability", "Share of starting firms that rent standard-factory space.")
    floor_space_m2: EPos = _p(_logn(2500.0, 0.6), "m²", "Floor space of a renting starting firm.")


class Baseline(_Model):
    enterprises: str | None = _p(None, "path", "CSV enterprise register (see README), relative to the scenario file.", "scenario")
    sectors: dict[str, SectorBaseline] = _p(dict, "-", "Synthetic starting firms by sector (added to the register, if any).", "scenario")
    baseline_output: NonNeg | None = _p(
        None,
        "亿元",
        "Last year's total output, for growth indicators; default: sum of the starting firms' revenue.",
        "scenario",
    )


# --- certifications -----------------------------------------------------------------
class Hnte(_Model):
    """High-tech enterprise (高新技术企业) certification."""

    rd_ratio_small: Prob = _p(0.05, "ratio", "Min 3-year R&D ÷ sales if latest sales <= `band_small`.", HNTE_RULE)
    rd_ratio_medium: Prob = _p(0.04, "ratio", "Min 3-year R&D ÷ sales if latest sales in (`band_small`, `band_medium`].", HNTE_RULE)
    rd_ratio_large: Prob = _p(0.03, "ratio", "Min 3-year R&D ÷ sales above `band_medium`.", HNTE_RULE)
    band_small: Pos = _p(5000.0, "万元", "Upper sales bound of the small band (50 million yuan).", HNTE_RULE)
    band_medium: Pos = _p(20000.0, "万元", "Upper sales bound of the medium band (200 million yuan).", HNTE_RULE)
    min_st_staff_share: Prob = _p(0.10, "ratio", "Min S&T staff share.", HNTE_RULE)
    min_hightech_revenue_share: Prob = _p(0.60, "ratio", "Min high-tech product/service revenue share.", HNTE_RULE)
    min_innovation_score: NonNeg = _p(70.0, "points", "Innovation score must exceed this.", HNTE_RULE)
    min_age_months: NonNeg = _p(12.0, "months", "Registered at least this long.", HNTE_RULE)
    validity_years: int = _p(3, "years", "A certificate is valid this many years, then the firm must re-apply.", HNTE_RULE, ge=1)
    round_month: int = _p(11, "month", "Month in which each yearly round's results take effect.", ASSUMPTION, ge=1, le=12)
    apply_prob: Prob = _p(0.7, "probability", "Chance that an eligible firm without a certificate applies in a round.")
    reapply_prob: Prob = _p(0.95, "probability", "Chance that an eligible firm whose certificate expires in this round applies again.")
    approval_prob: Prob = _p(
        _unif(0.60, 0.85),
        "probability",
        "Chance an application by an eligible firm is approved (not published: 60-85%).",
        "DOMAIN §3 (assumption range)",
    )
    violation_prob: Prob = _p(0.02, "1/year", "Chance of a major safety/quality/environmental violation in a year (disqualifies).")
    revocation_prob: Prob = _p(0.01, "1/year", "Chance a valid certificate is revoked in a year (fraud, incident, missing reports).")


class TechSme(_Model):
    """Tech-based SME (科技型中小企业), evaluated yearly."""

    max_staff: NonNeg = _p(500.0, "employees", "At most this many staff.", TSME_RULE)
    max_revenue: NonNeg = _p(20000.0, "万元", "Revenue at most 200 million yuan.", TSME_RULE)
    pass_score: NonNeg = _p(60.0, "points", "Score needed (with staff points > 0).", TSME_RULE)
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
    ip_class1_points: NonNeg = _p(30.0, "points", "Points for any Class I IP item.", TSME_RULE)
    ip_class2_points: list[float] = _p(
        lambda: [6.0, 12.0, 18.0, 24.0], "points", "Points for 1, 2, 3, 4+ Class II items (no Class I).", TSME_RULE
    )
    hnte_qualifies: bool = _p(True, "flag", "A firm with a valid high-tech certificate counts as tech-based (if SME-sized).", TSME_RULE)
    register_prob: Prob = _p(0.8, "probability", "Share of qualifying firms that register (a firm's lasting propensity).")
    round_month: int = _p(5, "month", "Month of the yearly evaluation.", ASSUMPTION, ge=1, le=12)


class Zjtx(_Model):
    """Specialised and sophisticated SME (专精特新)."""

    min_age_months: NonNeg = _p(24.0, "months", "At least 2 years in its niche.", ZJTX_RULE)
    min_rd: NonNeg = _p(100.0, "万元", "Last year's R&D at least 1 million yuan.", ZJTX_RULE)
    min_rd_ratio: Prob = _p(0.03, "ratio", "Last year's R&D at least 3% of revenue.", ZJTX_RULE)
    min_revenue: NonNeg = _p(1000.0, "万元", "Revenue at least 10 million yuan.", ZJTX_RULE)
    validity_years: int = _p(3, "years", "Recognition valid this many years.", ASSUMPTION, ge=1)
    round_month: int = _p(9, "month", "Month of the yearly round.", ASSUMPTION, ge=1, le=12)
    apply_prob: Prob = _p(0.5, "probability", "Chance an eligible firm applies in a round.")
    approval_prob: Prob = _p(0.6, "probability", "Chance an application is approved.")


class Certification(_Model):
    above_size_revenue: NonNeg = _p(
        2000.0, "万元", "Revenue from which an industrial firm is above designated size (20 million yuan).", NBS
    )
    hnte: Hnte = Field(default_factory=Hnte)
    tech_sme: TechSme = Field(default_factory=TechSme)
    zjtx: Zjtx = Field(default_factory=Zjtx)


# --- institutions, listing, shocks ----------------------------------------------------
class Institutions(_Model):
    initial: int = _p(20, "institutions", "R&D and S&T-service institutions at the start.", "scenario", ge=0)
    new_per_year: NonNeg = _p(5.0, "1/year", "Mean number of new institutions a year (Poisson).")
    closure_prob: Prob = _p(0.03, "1/year", "Chance an institution closes in a year.")
    incubation_m2: NonNeg = _p(20_000.0, "m²", "Incubation floor space at the start.", "scenario")
    incubation_added_m2_per_year: NonNeg = _p(5_000.0, "m²/year", "Incubation floor space added each year.")


class Listing(_Model):
    initial: int = _p(0, "companies", "Listed companies at the start.", "scenario", ge=0)
    min_revenue: NonNeg = _p(50_000.0, "万元", "Revenue from which a firm may list.")
    prob: Prob = _p(0.03, "1/year", "Yearly chance a large enough unlisted firm lists.")


class Shocks(_Model):
    macro_sd: NonNeg = _p(0.03, "log/year", "SD of the yearly regional shock shared by every sector (on top of sector shocks).")


# --- targets --------------------------------------------------------------------------
COMPARISONS = (">", ">=", "<", "<=", "==")


class Target(_Model):
    """A target the park is held to: ``indicator comparison threshold`` at a year end."""

    label: str = _p(..., "-", "Short name of the target, as in the source document.", "scenario")
    indicator: str = _p(..., "-", "An indicator name (see `parksim indicators`).", "scenario")
    comparison: str = _p(">=", "-", "One of >, >=, <, <=, ==.", "scenario")
    threshold: float = _p(..., "indicator's unit", "The target value.", "scenario")
    year: int | str = _p(
        ..., "year", 'Year whose end is checked, or "each" for a yearly target checked at every simulated year end.', "scenario"
    )
    source: str = _p("", "-", "Where the target comes from (seed file, clause).", "scenario")
    parks: list[str] | None = _p(
        None, "-", "Portfolio: the parks held to this target (default: every park); names from `portfolio.parks`.", "scenario"
    )

    _check_indicator = field_validator("indicator")(classmethod(lambda cls, v: _known_indicator(v)))
    _check_comparison = field_validator("comparison")(classmethod(lambda cls, v: _known_comparison(v)))

    @field_validator("year")
    @classmethod
    def _year(cls, v):
        if isinstance(v, str) and v != "each":
            raise ValueError(f'expected a year or "each", got {v!r}')
        return v

    @model_serializer(mode="wrap")
    def _without_default_parks(self, handler):
        # a target of every park serialises as before `parks` existed: scenario hashes (stored references) stay valid
        out = handler(self)
        if self.parks is None:
            out.pop("parks", None)
        return out


# --- policy levers --------------------------------------------------------------------
class PromotionLever(_Model):
    """Investment promotion (招商引资): more signed projects."""

    extra_signings_per_month: NonNeg = _p(0.0, "projects/month", "Signings added to the base rate.")
    cost_per_project_yuan: NonNeg = _p(500_000.0, "yuan", "Promotion cost per extra signed project (events, agents, incentives).")


class FasterServiceLever(_Model):
    """Faster landing and approval service (one-stop service; Liangping's 1/2/6-month promise)."""

    delay_factor: Pos = _p(1.0, "ratio", "Multiplies every project's landing, rent and build delays (0.7 = 30% faster).", SEED_002)
    cost_yuan_per_year: NonNeg = _p(0.0, "yuan/year", "Cost of the service (staff, service specialists visiting firms).")


class FactoryLever(_Model):
    """More standard-factory floor space."""

    floor_space_m2: NonNeg = _p(0.0, "m²", "Floor space added in the first simulated year's `month`.")
    month: int = _p(1, "month", "Month the space becomes available.", "scenario", ge=1, le=12)
    cost_per_m2_yuan: NonNeg = _p(
        2000.0,
        "yuan/m²",
        "Cost of building standard factories (assumption; seed 003 subsidises 20 yuan/m², at most 3 million per project).",
    )


class LandLever(_Model):
    """More industrial land quota."""

    extra_quota_mu_per_year: NonNeg = _p(0.0, "mu/year", "Added to the yearly land quota.")
    cost_per_mu_yuan: NonNeg = _p(150_000.0, "yuan/mu", "Cost of preparing a mu of industrial land (acquisition, roads, utilities).")


class RdSubsidyLever(_Model):
    """R&D subsidy: a share of firms' R&D spending refunded."""

    rate: Prob = _p(0.0, "ratio", "Share of R&D spending subsidised.", SEED_003)
    elasticity: NonNeg = _p(
        {"dist": "uniform", "low": 0.2, "high": 0.8},
        "ratio",
        "R&D share rises by elasticity x rate (e.g. 0.5 x 10% = +5%); unknown: a range.",
    )


class CultivationLever(_Model):
    """High-tech-enterprise cultivation (培育库, one firm one policy)."""

    apply_boost: Prob = _p(0.0, "probability", "Added to the chance an eligible firm applies.", SEED_000)
    approval_boost: Prob = _p(0.0, "probability", "Added to the approval chance (better applications); unknown effect.")
    cost_per_application_yuan: NonNeg = _p(50_000.0, "yuan", "Coaching and fees per application.")


class CreditLever(_Model):
    """Credit for tech firms (knowledge-value loans, risk-compensation fund)."""

    fund_yuan: NonNeg = _p(
        0.0, "yuan", "Size of the risk-compensation fund (Liangping: 100 million backed 260 million of loans).", SEED_002
    )
    loss_rate: Prob = _p(0.1, "ratio", "Share of the fund expected to be spent on defaults over the horizon.")
    exit_factor: NonNeg = _p(
        {"dist": "uniform", "low": 0.6, "high": 0.9},
        "ratio",
        "Multiplies the exit hazard of R&D-active firms (credit keeps them alive); unknown: a range.",
    )
    growth_bonus: Real = _p(0.01, "log/year", "Added to the growth of R&D-active firms.")


class PlatformLever(_Model):
    """Subsidies for public service and tech-innovation platforms (institutions)."""

    extra_institutions_per_year: NonNeg = _p(0.0, "1/year", "Institutions added each year.")
    cost_per_institution_yuan: NonNeg = _p(
        5_000_000.0, "yuan", "Subsidy per platform (seed 003: 10-20% of equipment investment, at most 5-10 million).", SEED_003
    )


class BondsLever(_Model):
    """Special bonds (专项债券) for the zone's infrastructure (seed 000: >= 60% of the county's special bonds)."""

    amount_yuan: NonNeg = _p(0.0, "yuan", "Bond money spent on the zone in the first simulated year.", SEED_000)
    factory_share: Prob = _p(
        0.5,
        "ratio",
        "Share spent on standard factories (at levers.factories.cost_per_m2_yuan); the rest prepares land (at levers.land.cost_per_mu_yuan).",
    )
    interest_rate: Prob = _p(0.03, "1/year", "Yearly interest: the bonds' cost to the budget within the horizon (repaid later).")


class RentSubsidyLever(_Model):
    """Rent subsidy for standard factories: renting projects move in sooner and drop out less (rules.levers)."""

    yuan_per_m2_year: NonNeg = _p(
        0.0,
        "yuan/m²/year",
        "Subsidy per m² of subsidised standard-factory floor space and year; 0: the lever is off. Assumption: about half"
        " a county standard factory's rent of 8-15 yuan/m² a month, i.e. 50-90 yuan/m² a year.",
    )
    coverage: Prob = _p(1.0, "ratio", "Share of the occupied standard-factory floor space (at each year end) that is subsidised.")
    delay_factor: Pos = _p(
        _unif(0.7, 0.95),
        "ratio",
        "Multiplies renting projects' move-in delay (a cheaper factory is taken sooner); unknown effect: a range.",
    )
    dropout_factor: Prob = _p(
        _unif(0.5, 0.9),
        "ratio",
        "Multiplies the probability that a renting project drops out before production; unknown effect: a range.",
    )


class Levers(_Model):
    """Policy levers, each with its mechanism and its cost. Default: none active."""

    promotion: PromotionLever = Field(default_factory=PromotionLever)
    service: FasterServiceLever = Field(default_factory=FasterServiceLever)
    factories: FactoryLever = Field(default_factory=FactoryLever)
    rent_subsidy: RentSubsidyLever = Field(default_factory=RentSubsidyLever)
    land: LandLever = Field(default_factory=LandLever)
    rd_subsidy: RdSubsidyLever = Field(default_factory=RdSubsidyLever)
    cultivation: CultivationLever = Field(default_factory=CultivationLever)
    credit: CreditLever = Field(default_factory=CreditLever)
    platforms: PlatformLever = Field(default_factory=PlatformLever)
    bonds: BondsLever = Field(default_factory=BondsLever)


# --- assessment -----------------------------------------------------------------------
class Criterion(_Model):
    """One indicator of an assessment rule."""

    indicator: str = _p(..., "-", "An indicator name (see `parksim indicators`).", "scenario")
    comparison: str = _p(">=", "-", "thresholds rule: one of >, >=, <, <=, ==.", "scenario")
    threshold: float | None = _p(None, "indicator's unit", "thresholds rule: the value to meet.", "scenario")
    floor: float | None = _p(None, "indicator's unit", "score rule: value scoring 60 (功效系数法 floor).", "scenario")
    ceiling: float | None = _p(
        None, "indicator's unit", "score rule: value scoring 100; below the floor means lower is better.", "scenario"
    )
    weight: float = _p(1.0, "weight", "score rule: weight of the indicator.", "scenario", gt=0)

    _check_indicator = field_validator("indicator")(classmethod(lambda cls, v: _known_indicator(v)))
    _check_comparison = field_validator("comparison")(classmethod(lambda cls, v: _known_comparison(v)))


class AssessmentRule(_Model):
    """A rule of the yearly assessment: k-of-n thresholds or an efficacy-coefficient score."""

    name: str = _p(..., "-", "Name of the rule.", "scenario")
    kind: str = _p(..., "-", "thresholds (pass if min_met criteria are met) or score (weighted efficacy score).", "scenario")
    criteria: list[Criterion] = _p(list, "-", "The indicators the rule looks at.", "scenario")
    min_met: int | None = _p(None, "criteria", "thresholds: pass if at least this many criteria are met (default: all).", "scenario")
    excellent_min: int | None = _p(
        None, "criteria", "thresholds: excellent if at least this many are met (default: no excellence).", "scenario"
    )
    pass_mark: float = _p(60.0, "points", "score: pass from this weighted score.", "scenario")
    excellence_mark: float | None = _p(None, "points", "score: excellent from this weighted score (default: no excellence).", "scenario")
    fail_bottom: int = _p(0, "parks", "rank: the bottom this many parks of the portfolio fail.", "scenario", ge=0)
    excellent_top: int = _p(0, "parks", "rank: the top this many parks are excellent.", "scenario", ge=0)
    higher_is_better: bool = _p(True, "flag", "rank on a single indicator: whether a higher value ranks higher.", "scenario")

    @model_validator(mode="after")
    def _shape(self):
        if self.kind not in ("thresholds", "score", "rank"):
            raise ValueError(f"kind: {self.kind!r} is not a rule shape; expected 'thresholds', 'score' or 'rank'")
        if not self.criteria:
            raise ValueError("criteria: a rule needs at least one criterion")
        scored = self.kind == "score" or (self.kind == "rank" and len(self.criteria) > 1)
        for i, c in enumerate(self.criteria):
            if self.kind == "thresholds" and c.threshold is None:
                raise ValueError(f"criteria.{i}.threshold: required for a thresholds rule")
            if scored and (c.floor is None or c.ceiling is None or c.floor == c.ceiling):
                raise ValueError(f"criteria.{i}: a score (or a rank on several criteria) needs floor and ceiling, and they must differ")
        n = len(self.criteria)
        for key in ("min_met", "excellent_min"):
            v = getattr(self, key)
            if v is not None and not 0 <= v <= n:
                raise ValueError(f"{key}: {v} is not between 0 and the number of criteria ({n})")
        return self

    @property
    def awards_excellence(self) -> bool:
        if self.kind == "rank":
            return self.excellent_top > 0
        return (self.excellent_min if self.kind == "thresholds" else self.excellence_mark) is not None


class TransitionRule(_Model):
    """A status transition: ``from_status --on--> to``."""

    from_status: str = _p(..., "-", 'Status the park is in ("*": any).', "scenario")
    on: str = _p(..., "-", "Outcome that triggers it: fail, pass, excellent or any.", "scenario")
    to: str = _p(..., "-", "Status the park moves to.", "scenario")
    streak: int = _p(1, "years", "The outcome must have occurred this many assessments in a row.", "scenario", ge=1)
    min_years: int = _p(
        0, "years", "The park must have been in its status for this many assessments (this one included).", "scenario", ge=0
    )

    @field_validator("on")
    @classmethod
    def _on(cls, v):
        if v not in ("fail", "pass", "excellent", "any"):
            raise ValueError(f"{v!r} is not an outcome; expected fail, pass, excellent or any")
        return v


class StatusEffect(_Model):
    """What being in a status does to the park (from the assessment that puts it there)."""

    land_quota_factor: NonNeg = _p(
        1.0, "ratio", "Multiplies the yearly land quota (Zunyi: poorly ranked zones get their quota restricted).", SEED_001
    )
    signing_factor: NonNeg = _p(1.0, "ratio", "Multiplies the signing rate (promotion funds gained or withheld).")
    growth_bonus: Real = _p(0.0, "log/year", "Added to every sector's growth (funds, priority support).")


class Assessment(_Model):
    """The park's yearly assessment and the consequences of its outcome."""

    initial_status: str = _p("recognised", "-", "Status at the start.", "scenario")
    month: int = _p(
        4, "month", "Month of year y+1 in which year y's result is decided (Ningxia: report due before May).", SEED_004, ge=1, le=12
    )
    rules: list[AssessmentRule] = _p(list, "-", "The rules; the year fails if any rule fails.", "scenario")
    transitions: list[TransitionRule] = _p(list, "-", "Status transitions, first match wins.", "scenario")
    effects: dict[str, StatusEffect] = _p(dict, "-", "Effects of being in each status (by status name).", "scenario")

    @model_validator(mode="after")
    def _statuses(self):
        if not self.rules:
            raise ValueError("rules: an assessment needs at least one rule")
        known = self.statuses
        for name in self.effects:
            if name not in known:
                raise ValueError(f"effects.{name}: unknown status; statuses are {known}")
        return self

    @property
    def statuses(self) -> list[str]:
        out = [self.initial_status]
        for t in self.transitions:
            for name in (t.from_status, t.to):
                if name != "*" and name not in out:
                    out.append(name)
        return out


def _known_indicator(v):
    from .rules.indicators import INDICATORS

    if v not in INDICATORS:
        raise ValueError(f"unknown indicator {v!r}; expected one of {sorted(INDICATORS)}")
    return v


def _known_comparison(v):
    if v not in COMPARISONS:
        raise ValueError(f"unknown comparison {v!r}; expected one of {list(COMPARISONS)}")
    return v


class PortfolioPark(_Model):
    """One park of a portfolio: the scenario's own park with some keys overridden."""

    name: str = _p(..., "-", "Name of the park (unique in the portfolio).", "scenario")
    overrides: dict[str, Any] = _p(
        dict, "-", 'Keys of this scenario to change for this park, as in --set: {"baseline.sectors.a.total_revenue" = 300.0}.', "scenario"
    )


class Portfolio(_Model):
    """Several parks simulated together in each replication and assessed against each other."""

    parks: list[PortfolioPark] = _p(list, "-", "The parks; each is this scenario with its overrides.", "scenario")

    @model_validator(mode="after")
    def _names(self):
        names = [p.name for p in self.parks]
        if len(names) < 2:
            raise ValueError(f"parks: a portfolio needs at least 2 parks, got {len(names)}")
        for n in {x for x in names if names.count(x) > 1}:
            raise ValueError(f"parks: name {n!r} is used twice; expected unique names")
        return self


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
    institutions: Institutions = Field(default_factory=Institutions)
    listing: Listing = Field(default_factory=Listing)
    shocks: Shocks = Field(default_factory=Shocks)
    targets: list[Target] = _p(list, "-", "Targets checked by `parksim run` (P(met) per target and jointly).", "scenario")
    assessment: Assessment | None = _p(None, "-", "Yearly assessment with status consequences (none: not assessed).", "scenario")
    portfolio: Portfolio | None = _p(None, "-", "Simulate several parks together (shared regional shocks) and rank them.", "scenario")
    levers: Levers = Field(default_factory=Levers)

    # set by the loader: the resolved TOML data, where it came from, parsed CSV inputs
    _raw: dict | None = PrivateAttr(None)
    _source: str = PrivateAttr("<python>")
    _register: Any = PrivateAttr(None)
    _projects: Any = PrivateAttr(None)
    _members: Any = PrivateAttr(None)  # portfolio: [(park name, Scenario)]

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

    @model_validator(mode="after")
    def _cross(self):
        for name in self.baseline.sectors:
            if name not in self.sectors:
                raise ValueError(f"baseline.sectors.{name}: unknown sector {name!r}; sectors are {sorted(self.sectors)}")
        if not self.sectors:
            raise ValueError("sectors: at least one sector is needed")
        first = self.simulation.start_year
        last = first + self.simulation.years - 1
        for i, t in enumerate(self.targets):
            if isinstance(t.year, int) and not first <= t.year <= last:
                raise ValueError(f"targets.{i}.year: {t.year} is outside the simulated years; expected {first} to {last}")
        if self.assessment is not None and self.portfolio is None:
            for i, r in enumerate(self.assessment.rules):
                if r.kind == "rank":
                    raise ValueError(f"assessment.rules.{i}.kind: a rank rule needs peers; expected a [portfolio] of parks")
        labels = [t.label for t in self.targets]
        for lab in {x for x in labels if labels.count(x) > 1}:
            raise ValueError(f"targets: label {lab!r} is used twice; expected unique labels")
        return self

    @property
    def months(self) -> int:
        return 12 * self.simulation.years

    @property
    def sector_names(self) -> list[str]:
        return list(self.sectors)

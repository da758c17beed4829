"""The scenario schema, policy part: levers, the yearly assessment, portfolios of parks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from parksim.scenario.schema import (
    SEED_000,
    SEED_001,
    SEED_002,
    SEED_003,
    SEED_004,
    NonNeg,
    Pos,
    Prob,
    Real,
    _known_comparison,
    _known_indicator,
    _Model,
    _p,
    _unif,
)

if TYPE_CHECKING:  # (defined with the scenario; Portfolio is rebuilt there)
    from parksim.scenario.spec import Target


# --- policy levers --------------------------------------------------------------------
class PromotionLever(_Model):
    """Investment promotion (招商引资): more signed projects."""

    extra_signings_per_month: NonNeg = _p(0.0, "projects/month", "Signings added to the base rate.", limit=(0, 10_000), plausible=(0, 100))
    cost_per_project_yuan: NonNeg = _p(
        500_000.0,
        "yuan",
        "Promotion cost per extra signed project (events, agents, incentives).",
        plausible=(0, 1e9),
    )


class FasterServiceLever(_Model):
    """Faster landing and approval service (one-stop service; Liangping's 1/2/6-month promise)."""

    delay_factor: Pos = _p(
        1.0,
        "ratio",
        "Multiplies every project's landing, rent and build delays (0.7 = 30% faster; 0.5 puts the default median landing and"
        " building delays, about twice the promise, at seed 002's 1 and 6 months).",
        SEED_002,
        limit=(0, 100),
        plausible=(0.1, 2),
    )
    cost_yuan_per_year: NonNeg = _p(
        0.0,
        "yuan/year",
        "Cost of the service (staff, service specialists visiting firms).",
        plausible=(0, 1e10),
    )


class FactoryLever(_Model):
    """More standard-factory floor space."""

    floor_space_m2: NonNeg = _p(0.0, "m²", "Floor space added in the first simulated year's `month`.", plausible=(0, 1e7))
    month: int = _p(1, "month", "Month the space becomes available.", "scenario", ge=1, le=12)
    cost_per_m2_yuan: NonNeg = _p(
        2000.0,
        "yuan/m²",
        "Cost of building standard factories (assumption; seed 003 subsidises 20 yuan/m², at most 3 million per project).",
        plausible=(100, 1e5),
    )


class LandLever(_Model):
    """More industrial land quota."""

    extra_quota_mu_per_year: NonNeg = _p(0.0, "mu/year", "Added to the yearly land quota.", plausible=(0, 1e5))
    cost_per_mu_yuan: NonNeg = _p(
        150_000.0,
        "yuan/mu",
        "Cost of preparing a mu of industrial land (acquisition, roads, utilities).",
        plausible=(1e3, 1e7),
    )


class RdSubsidyLever(_Model):
    """R&D subsidy: a share of firms' R&D spending refunded."""

    rate: Prob = _p(0.0, "ratio", "Share of R&D spending subsidised.", SEED_003)
    elasticity: NonNeg = _p(
        {"dist": "uniform", "low": 0.2, "high": 0.8},
        "ratio",
        "R&D share rises by elasticity x rate (e.g. 0.5 x 10% = +5%); unknown: a range.",
        plausible=(0, 5),
    )


class CultivationLever(_Model):
    """High-tech-enterprise cultivation (培育库, one firm one policy): acts on the firms of the cultivation pool
    (``certification.hnte.pool_*``)."""

    apply_boost: Prob = _p(0.0, "probability", "Added to the chance an eligible pool firm applies.", SEED_000)
    approval_boost: Prob = _p(0.0, "probability", "Added to a pool firm's approval chance (better applications); unknown effect.")
    entry_boost: Prob = _p(
        0.0, "probability", "Added to the yearly chance that a firm near the conditions is enrolled in the pool (the zone recruits)."
    )
    cost_per_application_yuan: NonNeg = _p(50_000.0, "yuan", "Coaching and fees per application.", plausible=(0, 1e7))


class CreditLever(_Model):
    """Credit for tech firms (knowledge-value loans, risk-compensation fund)."""

    fund_yuan: NonNeg = _p(
        0.0,
        "yuan",
        "Size of the risk-compensation fund (Liangping: 100 million backed 260 million of loans).",
        SEED_002,
        plausible=(0, 1e11),
    )
    loss_rate: Prob = _p(0.1, "ratio", "Share of the fund expected to be spent on defaults over the horizon.")
    exit_factor: NonNeg = _p(
        {"dist": "uniform", "low": 0.6, "high": 0.9},
        "ratio",
        "Multiplies the exit hazard of R&D-active firms (credit keeps them alive); unknown: a range.",
        plausible=(0, 2),
    )
    growth_bonus: Real = _p(0.01, "log/year", "Added to the growth of R&D-active firms.", limit=(-5, 5), plausible=(-0.2, 0.2))


class PlatformLever(_Model):
    """Subsidies for public service and tech-innovation platforms (institutions)."""

    extra_institutions_per_year: NonNeg = _p(0.0, "1/year", "Institutions added each year.", limit=(0, 10_000), plausible=(0, 100))
    cost_per_institution_yuan: NonNeg = _p(
        5_000_000.0,
        "yuan",
        "Subsidy per platform (seed 003: 10-20% of equipment investment, at most 5-10 million).",
        SEED_003,
        plausible=(0, 1e9),
    )


class BondsLever(_Model):
    """Special bonds (专项债券) for the zone's infrastructure (seed 000: >= 60% of the county's special bonds)."""

    amount_yuan: NonNeg = _p(0.0, "yuan", "Bond money spent on the zone in the first simulated year.", SEED_000, plausible=(0, 1e11))
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
        plausible=(0, 500),
    )
    coverage: Prob = _p(1.0, "ratio", "Share of the occupied standard-factory floor space (at each year end) that is subsidised.")
    delay_factor: Pos = _p(
        _unif(0.7, 0.95),
        "ratio",
        "Multiplies renting projects' move-in delay (a cheaper factory is taken sooner); unknown effect: a range.",
        limit=(0, 100),
        plausible=(0.3, 1.2),
    )
    dropout_factor: Prob = _p(
        _unif(0.5, 0.9),
        "ratio",
        "Multiplies the probability that a renting project drops out before production; unknown effect: a range.",
    )


class RdCoverageLever(_Model):
    """A campaign for R&D in every above-size firm (研发机构全覆盖): firms start R&D and set up R&D institutions sooner."""

    subsidy_per_institution_yuan: NonNeg = _p(
        0.0,
        "yuan",
        "Paid to each firm that sets up an R&D institution while the campaign runs; 0: the lever is off. Assumption:"
        " 100,000-300,000 yuan, the order of the awards for a firm's new R&D centre, far below the 5-10 million of a"
        " platform (seed 003).",
        plausible=(0, 1e8),
    )
    hazard_factor: Pos = _p(
        _unif(1.5, 3.0),
        "ratio",
        "Multiplies the yearly hazards of starting R&D and of setting up an R&D institution (traits.*) while the"
        " campaign runs; unknown effect: a range (assumption).",
        limit=(0, 100),
        plausible=(1, 10),
    )
    cost_yuan_per_year: NonNeg = _p(
        1_000_000.0,
        "yuan/year",
        "The campaign's own yearly cost (service staff visiting firms, training); assumption.",
        plausible=(0, 1e9),
    )


class Levers(_Model):
    """Policy levers, each with its mechanism and its cost. Default: none active."""

    promotion: PromotionLever = Field(default_factory=PromotionLever)
    service: FasterServiceLever = Field(default_factory=FasterServiceLever)
    factories: FactoryLever = Field(default_factory=FactoryLever)
    rent_subsidy: RentSubsidyLever = Field(default_factory=RentSubsidyLever)
    rd_coverage: RdCoverageLever = Field(default_factory=RdCoverageLever)
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
    weight: float = _p(1.0, "weight", "score rule: weight of the indicator.", "scenario", gt=0, plausible=(0, 1e3))

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
    pass_mark: float = _p(60.0, "points", "score: pass from this weighted score.", "scenario", limit=(-1e6, 1e6))
    excellence_mark: float | None = _p(None, "points", "score: excellent from this weighted score (default: no excellence).", "scenario")
    fail_bottom: int = _p(0, "parks", "rank: the bottom this many parks of the portfolio fail.", "scenario", ge=0, limit=(0, 1000))
    excellent_top: int = _p(0, "parks", "rank: the top this many parks are excellent.", "scenario", ge=0, limit=(0, 1000))
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
    streak: int = _p(1, "years", "The outcome must have occurred this many assessments in a row.", "scenario", ge=1, limit=(1, 100))
    min_years: int = _p(
        0,
        "years",
        "The park must have been in its status for this many assessments (this one included).",
        "scenario",
        ge=0,
        limit=(0, 100),
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
        1.0,
        "ratio",
        "Multiplies the yearly land quota (Zunyi: poorly ranked zones get their quota restricted).",
        SEED_001,
        limit=(0, 100),
        plausible=(0, 5),
    )
    signing_factor: NonNeg = _p(
        1.0,
        "ratio",
        "Multiplies the signing rate (promotion funds gained or withheld).",
        limit=(0, 10),
        plausible=(0, 3),
    )
    growth_bonus: Real = _p(
        0.0,
        "log/year",
        "Added to every sector's growth (funds, priority support).",
        limit=(-5, 5),
        plausible=(-0.2, 0.2),
    )


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


#: parks of a portfolio at most (a province's development zones number in the tens)
MAX_PARKS = 200


class PortfolioPark(_Model):
    """One park of a portfolio: the scenario's own park with some keys overridden."""

    name: str = _p(..., "-", "Name of the park (unique in the portfolio).", "scenario")
    overrides: dict[str, Any] = _p(
        dict, "-", 'Keys of this scenario to change for this park, as in --set: {"baseline.sectors.a.total_revenue" = 300.0}.', "scenario"
    )
    assessed: bool = _p(
        True,
        "flag",
        "Whether the portfolio's [assessment] applies to this park. false: a park outside the assessing authority's rule"
        " (e.g. the national zones in a region's yearly assessment of its own zones, or several zones held as one): it"
        " counts in the portfolio's targets and in ALL, has no status, no status effects and no place in rank rules.",
        "scenario",
    )


#: a park may not take this name: the portfolio's own targets are reported under it
PORTFOLIO_NAME = "portfolio"


class Portfolio(_Model):
    """Several parks simulated together in each replication and assessed against each other."""

    parks: list[PortfolioPark] = _p(list, "-", "The parks; each is this scenario with its overrides.", "scenario")
    targets: list[Target] = _p(
        list,
        "-",
        "Targets of the parks together (a region's total, e.g. > 400 high-tech enterprises in all its zones): on each"
        " indicator added up over the parks (counts and amounts summed, shares and intensities as ratios of the sums,"
        " growth of the sums); reported as 'portfolio: label'. A target's `parks`: the parks added up (default: all).",
        "scenario",
    )

    @model_validator(mode="after")
    def _names(self):
        names = [p.name for p in self.parks]
        if PORTFOLIO_NAME in names:
            raise ValueError(f"parks: {PORTFOLIO_NAME!r} is reserved for the portfolio's own targets; expected another park name")
        for i, t in enumerate(self.targets):
            if t.parks is not None and (unknown := [p for p in t.parks if p not in names] or (not t.parks and ["(none)"])):
                raise ValueError(f"targets.{i}.parks: unknown or no park(s) {unknown}; expected names from portfolio.parks: {names}")
        if len(names) < 2:
            raise ValueError(f"parks: a portfolio needs at least 2 parks, got {len(names)}")
        if len(names) > MAX_PARKS:  # each park is a whole scenario, simulated in every replication
            raise ValueError(f"parks: a portfolio of at most {MAX_PARKS} parks, got {len(names)}")
        for n in {x for x in names if names.count(x) > 1}:
            raise ValueError(f"parks: name {n!r} is used twice; expected unique names")
        return self

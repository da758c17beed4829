"""What a run returns: the targets it checks, the value array's columns, and :class:`RunResult` /
:class:`PortfolioResult` with their tables (P(met) with Wilson intervals, quantiles, binding targets, shortfalls,
assessment statuses), computed from the array when asked."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from parksim.experiments.stats import compare, nanquantile, wilson
from parksim.rules.assessment import assessments
from parksim.rules.indicators import GROWTH_OF, INDICATORS, aggregate, average_growth, previous_level
from parksim.scenario.policy import PORTFOLIO_NAME

if TYPE_CHECKING:  # pandas is loaded when a table is made: a run's engine does not wait for it (the CLI loads it meanwhile)
    import pandas as pd

TARGET_COLUMNS = ["target", "indicator", "year", "comparison", "threshold", "p_met", "ci_low", "ci_high", "replications", "unit"]
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_NAMES = list(INDICATORS)
#: per replication and year, beside the indicators: the assessment's outcome code
#: (0 fail, 1 pass, 2 excellent) and the status after it (index into the scenario's statuses)
_ASSESS = ["assessment_outcome", "assessment_status"]
_COLUMNS = _NAMES + _ASSESS
_INDEX = {n: i for i, n in enumerate(_COLUMNS)}


#: the name under which a portfolio's own targets (over its parks together) are reported
PORTFOLIO = PORTFOLIO_NAME


@dataclass(frozen=True)
class TargetSpec:
    """One checked target (a yearly target expands into one per simulated year).

    Its value (:meth:`values`) is the indicator at the end of ``year`` (a level), or, with ``base_year``, the
    indicator's average (compound) growth in % a year from ``base_year`` to ``year`` (年均增长): from
    ``base_value`` if given, else from the indicator's value in the base year (the model's own). Comparison ``~`` is
    a band (左右, "about"): met within ``threshold ± tolerance``. ``parks``: a portfolio's target, on the indicator
    over these parks together (:func:`parksim.rules.indicators.aggregate`).
    """

    label: str
    indicator: str
    year: int
    comparison: str
    threshold: float
    tolerance: float = 0.0
    base_year: int | None = None
    base_value: float | None = None
    parks: tuple[str, ...] | None = None

    @property
    def unit(self) -> str:
        """The unit of the target's value: the indicator's, or % a year for an average growth."""
        return "%/year" if self.base_year is not None else INDICATORS.get(self.indicator, ("",))[0]

    def values(self, level) -> np.ndarray:
        """Per-replication values of what the target checks; ``level(indicator, year)`` gives an indicator's
        values (also the year before the first simulated one, for an indicator with a growth indicator)."""
        v = level(self.indicator, self.year)
        if self.base_year is None:
            return v
        base = np.full(np.shape(v), float(self.base_value)) if self.base_value is not None else level(self.indicator, self.base_year)
        return average_growth(v, base, self.year - self.base_year)

    def met(self, level) -> np.ndarray:
        return compare(self.values(level), self.comparison, self.threshold, self.tolerance)


def _specs(targets, years, parks=None) -> list[TargetSpec]:
    out = []
    for t in targets:
        extra = dict(
            tolerance=float(t.tolerance),
            base_year=t.base_year,
            base_value=None if t.base_value is None else float(t.base_value),
            parks=parks if parks is None else tuple(t.parks or parks),
        )
        if t.year == "each":
            out += [TargetSpec(f"{t.label} ({y})", t.indicator, y, t.comparison, float(t.threshold), **extra) for y in years]
        else:
            out.append(TargetSpec(t.label, t.indicator, int(t.year), t.comparison, float(t.threshold), **extra))
    return out


def expand_targets(scenario) -> list[TargetSpec]:
    """The scenario's targets as checks (a yearly target expands into one per simulated year)."""
    first = scenario.simulation.start_year
    return _specs(scenario.targets, range(first, first + scenario.simulation.years))


def portfolio_targets(scenario) -> list[TargetSpec]:
    """A portfolio's own targets (``[[portfolio.targets]]``), each over its parks together (default: all)."""
    if scenario.portfolio is None:
        return []
    first = scenario.simulation.start_year
    names = tuple(p.name for p in scenario.portfolio.parks)
    return _specs(scenario.portfolio.targets, range(first, first + scenario.simulation.years), names)


def park_names(scenario) -> list[str]:
    """The parks of a run: the portfolio's, or the scenario's one park."""
    return [name for name, _ in scenario._members] if scenario.portfolio is not None else [scenario.name]


def column_names(scenario) -> list[str]:
    """Names of the last axis of a run's value array (parks side by side for a portfolio)."""
    if scenario.portfolio is None:
        return list(_COLUMNS)
    return [f"{park}:{c}" for park in park_names(scenario) for c in _COLUMNS]


# --- results ------------------------------------------------------------------------
def binding_table(specs: list[TargetSpec], met: np.ndarray) -> pd.DataFrame:
    """Among replications missing the joint target: how often each target fails, and is the only failure."""
    import pandas as pd

    failed_all = ~met.all(axis=1)
    n_fail = int(failed_all.sum())
    rows = []
    for k, s in enumerate(specs):
        fails = ~met[:, k] & failed_all
        only = fails & (met.sum(axis=1) == len(specs) - 1)
        rows.append((s.label, n_fail, fails.sum() / n_fail if n_fail else np.nan, only.sum() / n_fail if n_fail else np.nan))
    df = pd.DataFrame(rows, columns=["target", "replications_missing_all", "p_fails_given_all_missed", "p_only_failure"])
    return df.sort_values("p_fails_given_all_missed", ascending=False, kind="stable").reset_index(drop=True)


def binding_target(binding: pd.DataFrame) -> str | None:
    """The target that fails most often when the joint target fails (None if it never fails)."""
    if binding.empty or binding.p_fails_given_all_missed.isna().all():
        return None
    return str(binding.iloc[0].target)


def target_table(specs: list[TargetSpec], met: np.ndarray, labels: list[str] | None = None) -> pd.DataFrame:
    """One row per target (P(met) with its Wilson 95% interval) and a last row ``ALL`` (every target met)."""
    import pandas as pd

    n = met.shape[0]
    rows = []
    for k, s in enumerate(specs):
        hits = int(met[:, k].sum())
        lo, hi = wilson(hits, n)
        label = s.label if labels is None else labels[k]
        rows.append((label, s.indicator, s.year, s.comparison, s.threshold, hits / n if n else np.nan, lo, hi, n, s.unit))
    all_met = int(met.all(axis=1).sum())
    lo, hi = wilson(all_met, n)
    rows.append(("ALL", "", pd.NA, "", np.nan, all_met / n if n else np.nan, lo, hi, n, ""))
    df = pd.DataFrame(rows, columns=TARGET_COLUMNS)
    df["year"] = df["year"].astype("Int64")
    return df


def shortfall_table(specs: list[TargetSpec], met: np.ndarray, value) -> pd.DataFrame:
    """Mean shortfall of each target when missed (in its unit and as a share of the threshold); ``value(spec)``
    gives what the target checks."""
    import pandas as pd

    rows = []
    for k, s in enumerate(specs):
        v = value(s)
        miss = ~met[:, k] & ~np.isnan(v)
        gap = np.abs(v[miss] - s.threshold)
        if s.comparison == "~":
            gap = np.maximum(gap - s.tolerance, 0.0)
        mean_gap = float(gap.mean()) if miss.any() else 0.0
        rel = mean_gap / abs(s.threshold) if s.threshold else np.nan
        rows.append((s.label, s.indicator, s.year, int(miss.sum()), mean_gap, rel))
    return pd.DataFrame(rows, columns=["target", "indicator", "year", "replications_missed", "mean_shortfall", "mean_shortfall_share"])


@dataclass
class RunResult:
    """Results of a Monte Carlo run.

    Attributes
    ----------
    annual : pandas.DataFrame
        Tidy per-replication indicators: ``replication, seed, year, indicator, value``.
    targets : pandas.DataFrame
        One row per target and a last row ``ALL`` (every target met):
        ``target, indicator, year, comparison, threshold, p_met, ci_low, ci_high, replications``
        (Wilson 95% intervals).
    quantiles : pandas.DataFrame
        5/25/50/75/95% of every indicator per year.
    binding : pandas.DataFrame
        For the replications that miss the joint target: how often each target
        fails, and how often it is the only one that fails.
    shortfall : pandas.DataFrame
        Expected shortfall of each target when missed (in the indicator's unit
        and as a share of the threshold).
    gaps : pandas.DataFrame
        Every target's P(met), median against the threshold and median shortfall,
        ordered by how much it holds the park back (``gaps.csv``).
    assessment_result : pandas.DataFrame
        P(each status) after the last assessment, with 95% intervals.
    """

    scenario: object
    seed: int
    values: np.ndarray  # (replications, years, indicators)
    specs: list[TargetSpec]
    started: str = ""
    finished: str = ""
    stopped_by: str = "replications"
    precision: float | None = None
    jobs: int = 1
    park: str | None = None  # the park's name, inside a portfolio
    assessment_def: object = None  # a portfolio's assessment (its parks' scenarios have none)
    engine: str = "simpy"  # the engine that produced the values
    #: the replications' numbers (default 0, 1, ...): a conditioned run keeps some (parksim.experiments.nowcast)
    replication_ids: np.ndarray | None = None
    conditioning: object = None  # parksim.experiments.nowcast.Conditioning of a conditioned run
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.assessment_def is None:
            self.assessment_def = self.scenario.assessment

    @property
    def replications(self) -> int:
        return int(self.values.shape[0])

    @property
    def years(self) -> list[int]:
        first = self.scenario.simulation.start_year
        return list(range(first, first + self.scenario.simulation.years))

    def value(self, indicator: str, year: int) -> np.ndarray:
        """Per-replication values of ``indicator`` at the end of ``year``."""
        return self.values[:, year - self.years[0], _INDEX[indicator]]

    def value_matrix(self, indicator: str) -> np.ndarray:
        """(replications, years) values of ``indicator``."""
        return self.values[:, :, _INDEX[indicator]]

    def level(self, indicator: str, year: int) -> np.ndarray:
        """:meth:`value`, and for the year before the first, a level's value then (from its growth in the first
        year: :data:`parksim.rules.indicators.GROWTH_OF`)."""
        if year == self.years[0] - 1 and indicator in GROWTH_OF:
            return previous_level(self.value(indicator, year + 1), self.value(GROWTH_OF[indicator], year + 1))
        return self.value(indicator, year)

    def target_value(self, spec: TargetSpec) -> np.ndarray:
        """Per-replication values of what ``spec`` checks (the indicator, or its average growth)."""
        return spec.values(self.level)

    def met(self) -> np.ndarray:
        """Boolean matrix (replications, targets): which targets each replication meets."""
        if "met" not in self._cache:
            cols = [s.met(self.level) for s in self.specs]
            self._cache["met"] = np.column_stack(cols) if cols else np.ones((self.replications, 0), dtype=bool)
        return self._cache["met"]

    def _annual_columns(self) -> tuple[list[str], dict]:
        """The tidy table's columns as arrays: the indicator as codes into the names."""
        names = _COLUMNS if self.assessment_def is not None else _NAMES
        vals = self.values[:, :, : len(names)]
        r, y, i = vals.shape
        return list(names), {
            "replication": np.repeat(np.arange(r, dtype=np.int64) if self.replication_ids is None else self.replication_ids, y * i),
            "seed": np.full(r * y * i, self.seed, dtype=np.uint64),
            "year": np.tile(np.repeat(np.array(self.years, dtype=np.int64), i), r),
            # codes: no 2.6 million strings for 10,000 replications (building them took half the write)
            "indicator": np.tile(np.arange(i, dtype=np.int16), r * y),
            "value": vals.reshape(-1),
        }

    @property
    def annual(self) -> pd.DataFrame:
        """Tidy per-replication values; with an assessment, also its outcome and status codes."""
        import pandas as pd

        if "annual" not in self._cache:
            names, cols = self._annual_columns()
            cols["indicator"] = pd.Categorical.from_codes(cols["indicator"], categories=names)
            self._cache["annual"] = pd.DataFrame(cols)
        return self._cache["annual"]

    def write_annual(self, path) -> None:
        """:attr:`annual` as Parquet, written from the arrays (no pandas frame: a third of the write for 10,000
        replications); read back with pandas it is :attr:`annual` (the indicator a categorical of the same names)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        names, cols = self._annual_columns()
        cols["indicator"] = pa.DictionaryArray.from_arrays(cols["indicator"], pa.array(names, pa.string()))
        # dictionary encoding for the columns that repeat, not for the values: trying it on 2.8 million values
        # doubled the write (0.7 s against 0.35 s for 10,000 replications) for a file 1% larger without it
        pq.write_table(pa.table(cols), path, use_dictionary=[k for k in cols if k != "value"])

    @property
    def statuses(self) -> list[str]:
        return self.assessment_def.statuses if self.assessment_def is not None else []

    def status_codes(self) -> np.ndarray:
        """(replications, years) index of the status after each year's assessment."""
        return self.values[:, :, _INDEX["assessment_status"]]

    @property
    def assessment(self) -> pd.DataFrame:
        """P(in each status after each year's assessment), Wilson 95%: ``park, year, status, probability, ci_low, ci_high, replications``."""
        codes = self.status_codes()
        return self._status_table(lambda k, yi: codes[:, yi] == k)

    @property
    def first_passage(self) -> pd.DataFrame:
        """P(a status reached at some assessment up to each year), e.g. P(revoked by year y)."""
        codes = self.status_codes()
        return self._status_table(lambda k, yi: (codes[:, : yi + 1] == k).any(axis=1))

    def _status_table(self, hit) -> pd.DataFrame:
        import pandas as pd

        cols = ["park", "year", "status", "probability", "ci_low", "ci_high", "replications"]
        if self.assessment_def is None:
            return pd.DataFrame(columns=cols)
        n = self.replications
        rows = []
        for yi, year in enumerate(self.years):
            for k, name in enumerate(self.statuses):
                c = int(hit(k, yi).sum())
                lo, hi = wilson(c, n)
                rows.append((self.park or self.scenario.name, year, name, c / n if n else np.nan, lo, hi, n))
        return pd.DataFrame(rows, columns=cols)

    def plot_assessment(self, ax=None):
        """Stacked probabilities of each status over the years; returns the Axes."""
        from parksim.results.plots import plot_assessment

        return plot_assessment(self, ax=ax)

    @property
    def targets(self) -> pd.DataFrame:
        return target_table(self.specs, self.met())

    @property
    def quantiles(self) -> pd.DataFrame:
        import pandas as pd

        v = self.values[:, :, : len(_NAMES)]
        # an indicator with no value in a year (NaN) or an unlimited one (+inf) has NaN or inf quantiles and mean, and
        # no warning
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            q = nanquantile(v, QUANTILES, axis=0)  # (q, years, indicators)
            mean = np.nanmean(v, axis=0) if len(v) else np.full(v.shape[1:], np.nan)
        rows = []
        for yi, year in enumerate(self.years):
            for ii, name in enumerate(_NAMES):
                rows.append((year, name, INDICATORS[name][0], *q[:, yi, ii], mean[yi, ii]))
        return pd.DataFrame(rows, columns=["year", "indicator", "unit", "p5", "p25", "p50", "p75", "p95", "mean"])

    @property
    def binding(self) -> pd.DataFrame:
        return binding_table(self.specs, self.met())

    @property
    def shortfall(self) -> pd.DataFrame:
        met = self.met()
        return shortfall_table(self.specs, met, self.target_value)

    @property
    def binding_target(self) -> str | None:
        """The target that fails most often when the joint target fails (the first of ties; see :attr:`gaps`)."""
        return binding_target(self.binding)

    @property
    def gaps(self) -> pd.DataFrame:
        """Every target's gap (P(met), median vs threshold, shortfall), ordered by how much it holds the park back."""
        from parksim.results.gaps import gap_table

        return gap_table(self)

    @property
    def assessment_result(self) -> pd.DataFrame:
        """P(each status) after the last assessment, with Wilson 95% intervals and P(reached by then)."""
        from parksim.results.gaps import assessment_result

        return assessment_result(self)

    def plot_fan(self, indicator: str, ax=None):
        """Fan chart (5-95%, 25-75%, median) of ``indicator`` over the years; returns the Axes."""
        from parksim.results.plots import plot_fan

        return plot_fan(self, indicator, ax=ax)

    def write(self, out) -> list:
        """Write targets.csv, annual.parquet, quantiles.csv, binding.csv, manifest.json, fan.png into ``out``."""
        from parksim.results.report_files import write_run

        return write_run(self, out)


def make_result(scn, seed, values, specs, started="", finished="", stopped="replications", precision=None, jobs=1, engine="simpy"):
    """A :class:`RunResult`, or a :class:`PortfolioResult` for a portfolio scenario."""
    if scn.portfolio is None:
        return RunResult(scn, seed, values, specs, started, finished, stopped, precision, jobs, engine=engine)
    width = len(_COLUMNS)
    parks = {
        name: RunResult(
            member,
            seed,
            values[:, :, p * width : (p + 1) * width],
            expand_targets(member),  # a park's own targets (a target may name only some parks)
            started,
            finished,
            stopped,
            precision,
            jobs,
            park=name,
            assessment_def=assessment,
            engine=engine,
        )
        for p, ((name, member), assessment) in enumerate(zip(scn._members, assessments(scn), strict=True))
    }
    return PortfolioResult(scn, seed, parks, started, finished, stopped, precision, jobs, engine)


def subset(result, rows):
    """``result`` of some of its replications (``rows``: positions), each keeping its number."""
    rows = np.asarray(rows, dtype=np.int64)
    if hasattr(result, "parks"):
        return replace(result, parks={name: subset(r, rows) for name, r in result.parks.items()})
    ids = rows if result.replication_ids is None else result.replication_ids[rows]
    return replace(result, values=result.values[rows], replication_ids=ids, _cache={})


@dataclass
class PortfolioResult:
    """Results of a portfolio run: one :class:`RunResult` per park (``.parks``), and the
    same tables as a single park's with a ``park`` column (targets are labelled
    ``"PARK: target"``; ``ALL`` means every target of every park)."""

    scenario: object
    seed: int
    parks: dict
    started: str = ""
    finished: str = ""
    stopped_by: str = "replications"
    precision: float | None = None
    jobs: int = 1
    engine: str = "simpy"
    conditioning: object = None  # parksim.experiments.nowcast.Conditioning of a conditioned run

    @property
    def replications(self) -> int:
        return next(iter(self.parks.values())).replications

    @property
    def years(self) -> list[int]:
        return next(iter(self.parks.values())).years

    @property
    def statuses(self) -> list[str]:
        return self.scenario.assessment.statuses if self.scenario.assessment is not None else []

    @property
    def own_specs(self) -> list[TargetSpec]:
        """The portfolio's own targets (``[[portfolio.targets]]``), each on its parks together."""
        return portfolio_targets(self.scenario)

    @property
    def specs(self) -> list[TargetSpec]:
        """Every park's targets (labelled ``"PARK: target"``), then the portfolio's own (``"portfolio: target"``)."""
        parks = [replace(s, label=f"{name}: {s.label}") for name, r in self.parks.items() for s in r.specs]
        return parks + [replace(s, label=f"{PORTFOLIO}: {s.label}") for s in self.own_specs]

    def level(self, indicator: str, year: int, parks=None) -> np.ndarray:
        """``indicator`` over ``parks`` (default: all) together (:func:`parksim.rules.indicators.aggregate`)."""
        names = list(self.parks) if parks is None else list(parks)
        return aggregate(indicator, lambda name: np.stack([self.parks[p].level(name, year) for p in names], axis=-1))

    def target_value(self, spec: TargetSpec) -> np.ndarray:
        """Per-replication values of what a portfolio target checks, on its parks together."""
        return spec.values(lambda indicator, year: self.level(indicator, year, spec.parks))

    def own_met(self) -> np.ndarray:
        """Boolean matrix (replications, portfolio targets)."""
        cols = [s.met(lambda indicator, year, s=s: self.level(indicator, year, s.parks)) for s in self.own_specs]
        return np.column_stack(cols) if cols else np.ones((self.replications, 0), dtype=bool)

    def met(self) -> np.ndarray:
        return np.column_stack([r.met() for r in self.parks.values()] + [self.own_met()])

    def _concat(self, attr: str) -> pd.DataFrame:
        import pandas as pd

        frames = []
        for name, r in self.parks.items():
            df = getattr(r, attr).copy()
            if "park" not in df.columns:
                df.insert(0, "park", name)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    @property
    def annual(self) -> pd.DataFrame:
        import pandas as pd

        df = self._concat("annual")
        df["park"] = pd.Categorical(df["park"], categories=list(self.parks))
        return df[["park", "replication", "seed", "year", "indicator", "value"]]

    def write_annual(self, path) -> None:
        """:attr:`annual` as Parquet."""
        self.annual.to_parquet(path, index=False, engine="pyarrow")

    @property
    def targets(self) -> pd.DataFrame:
        import pandas as pd

        frames = []
        for name, r in self.parks.items():
            t = r.targets
            t["target"] = [f"{name}: {x}" for x in t.target]
            frames.append(t)
        own = self.own_specs
        if own:
            frames.append(target_table(own, self.own_met(), [f"{PORTFOLIO}: {s.label}" for s in own]).iloc[:-1])
        met = self.met()
        n = self.replications
        hits = int(met.all(axis=1).sum())
        lo, hi = wilson(hits, n)
        frames.append(pd.DataFrame([("ALL", "", pd.NA, "", np.nan, hits / n if n else np.nan, lo, hi, n, "")], columns=TARGET_COLUMNS))
        out = pd.concat(frames, ignore_index=True)
        out["year"] = out["year"].astype("Int64")
        return out

    @property
    def quantiles(self) -> pd.DataFrame:
        return self._concat("quantiles")

    @property
    def shortfall(self) -> pd.DataFrame:
        import pandas as pd

        df = self._concat("shortfall")
        own = self.own_specs
        if own:
            t = shortfall_table(own, self.own_met(), self.target_value)
            t.insert(0, "park", PORTFOLIO)
            df = pd.concat([df, t], ignore_index=True)
        return df

    @property
    def assessment(self) -> pd.DataFrame:
        return self._concat("assessment")

    @property
    def first_passage(self) -> pd.DataFrame:
        return self._concat("first_passage")

    @property
    def binding(self) -> pd.DataFrame:
        return binding_table(self.specs, self.met())

    @property
    def binding_target(self) -> str | None:
        return binding_target(self.binding)

    @property
    def gaps(self) -> pd.DataFrame:
        """Every park's targets with their gaps, one list ordered by how much each holds its park back."""
        from parksim.results.gaps import portfolio_gap_table

        return portfolio_gap_table(self)

    @property
    def assessment_result(self) -> pd.DataFrame:
        from parksim.results.gaps import assessment_result

        return assessment_result(self)

    def plot_fan(self, indicator: str, ax=None):
        """Median and 25-75% band of ``indicator`` for every park; returns the Axes."""
        from parksim.results.plots import plot_fan_parks

        return plot_fan_parks(self, indicator, ax=ax)

    def plot_assessment(self, ax=None):
        """Stacked status probabilities, one panel per park; returns the first Axes."""
        from parksim.results.plots import plot_assessment_parks

        return plot_assessment_parks(self)

    def write(self, out) -> list:
        from parksim.results.report_files import write_run

        return write_run(self, out)

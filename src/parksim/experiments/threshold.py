"""What it would take: the smallest value of a scenario key at which P(target) reaches ``p`` (stochastic root finding).

A user asks, e.g., how many signings a month the Xiushan zone needs for P(status recognised after 2024) ≥ 0.8. The
answer ``x*`` is the root of ``P(x) = p``, where ``P(x)`` is only estimated by Monte Carlo. The search uses common
random numbers (CRN): every evaluation runs the same ``replications`` with the same seed, so replication ``r`` sees
the same random streams whatever the key's value. Why that makes the search cheap and its answer stable:

* **each replication's outcome is nearly a step function of the key**: replication ``r`` fixed, raising the signing
  rate adds projects to the same park without redrawing its firms, so the target tends to be missed below some value
  and met above it. Not exactly: a change shifts later draws of the same streams, so some outcomes flip both ways
  near the answer (on the small park of ``tests/test_threshold.py``, between signing rates 0.1 a month apart, about
  8% of the replications change outcome with CRN against about 50% with a seed of its own at every point). ``P̂(x)``,
  the share of the ``R`` replications met at ``x``, is then smooth and nearly monotone, and the differences between
  evaluated points, which place the crossing, are nearly free of noise. CRN does not make the answer itself more
  precise than ``P̂``'s own precision at it allows (about ``sqrt(p(1-p)/R)`` divided by the slope of ``P``: raise
  ``replications`` for a narrower interval); it makes the search well defined: one crossing, found by comparing
  like with like;
* **so a coarse grid and bisection suffice**: ``P̂`` is evaluated on a grid over ``[low, high]`` (9 points by
  default); the answer lies in the cell where ``P̂`` first reaches ``p`` (the last, for a decreasing ``P``), which is
  bisected (one evaluation each) until it is narrower than the tolerance. Within the final cell ``x*`` is interpolated
  linearly. With a nearly monotone ``P̂`` the first crossing is the only one; where noise makes ``P̂`` cross more than
  once, the smallest (largest) value at which it is reached is the answer, as the question asks;
* **its confidence interval comes from resampling replications**: every evaluated point keeps each replication's
  outcome, so a bootstrap resample of the replication indices (whole replications: the unit CRN shares across the
  points) gives ``P̂`` at every evaluated point at once, and the answer recomputed on it; the 2.5 and 97.5
  percentiles of 1,000 such answers are the 95% interval. No simulation is repeated. An interval end outside
  ``[low, high]`` is reported as such (``-inf`` or ``inf``).

Whether ``P`` rises or falls with the key (a cost or an exit rate lowers it) is read from the ends of the range: the
answer is then the largest value at which ``P(x) ≥ p``. ``status`` says where the answer lies: ``found``,
``below_range`` (below ``low``: for a rising ``P`` already met at ``low``; for a falling one not reached even at
``low``) or ``above_range`` (above ``high``: for a rising ``P`` not reached within the range; for a falling one still
met at ``high``).

A key that holds a distribution (an uncertain parameter) may be varied: each evaluated value replaces the distribution
by that fixed value; the scenario's own P (with the distribution) is reported beside the answer.
"""

from __future__ import annotations

import copy
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from parksim.errors import InputError, ParameterWarning, ScenarioError

#: points of the first grid over [low, high]
GRID = 9
#: bootstrap resamples of the replications for the answer's 95% interval
BOOTSTRAP = 1000
#: most evaluations of P (grid, bisection and the scenario's own value)
MAX_EVALUATIONS = 40
STATUSES = ("found", "below_range", "above_range")
TABLE_COLUMNS = ["key", "value", "p_met", "ci_low", "ci_high", "replications", "stage"]
_STATUS_LABEL = re.compile(r"^status (?P<name>.+) after (?P<year>\d{4})$")


@dataclass
class Threshold:
    """The answer of :func:`threshold`: the value of ``key`` at which P(``target``) reaches ``p``.

    ``answer`` is the smallest value (``direction`` "increasing") or the largest one ("decreasing") at which P ≥ p,
    NaN unless ``status`` is "found"; ``ci`` its 95% bootstrap interval. ``table`` holds every evaluated point
    (``threshold.csv``): ``key, value, p_met, ci_low, ci_high, replications, stage`` (grid, refine or scenario).
    """

    scenario: object
    key: str
    target: str
    p: float
    low: float
    high: float
    direction: str
    answer: float
    ci: tuple
    status: str
    table: object  # pandas.DataFrame of TABLE_COLUMNS
    seed: int
    replications: int
    tolerance: float
    engine: str
    crn: bool = True
    integer: bool = False
    current: object = None  # the scenario's own value of the key: a number, a distribution (dict) or None (unset)
    current_p: float | None = None  # P(target) in the scenario as it is (with its distribution, if any)
    notes: list = field(default_factory=list)
    outcomes: object = field(default=None, repr=False)  # (evaluations, replications) bool, in the table's order

    @property
    def evaluations(self) -> int:
        """The Monte Carlo runs the search made (every row of ``table``)."""
        return len(self.table)

    @property
    def message(self) -> str:
        """Where the answer lies, in words (for a status other than "found": why there is no answer in the range)."""
        rng = f"[{self.fmt(self.low)}, {self.fmt(self.high)}]"
        p_low, p_high = (float(self.table.loc[self.table.value == v, "p_met"].iloc[0]) for v in (self.low, self.high))
        if self.status == "found":
            return f"found within {rng}"
        if self.direction == "increasing":
            if self.status == "below_range":
                return f"already met at LOW: P at {self.fmt(self.low)} = {p_low:.3f} ≥ {self.p:g}"
            return f"not reached within {rng}: P at HIGH {self.fmt(self.high)} = {p_high:.3f} < {self.p:g}"
        if self.status == "below_range":
            return f"not reached within {rng} (P falls as {self.key} grows): P at LOW {self.fmt(self.low)} = {p_low:.3f} < {self.p:g}"
        return f"still met at HIGH (P falls as {self.key} grows): P at {self.fmt(self.high)} = {p_high:.3f} ≥ {self.p:g}"

    def fmt(self, x: float) -> str:
        """``x`` to the tolerance's precision (one more decimal than the tolerance's first digit)."""
        if not math.isfinite(x):
            return str(x)
        if self.integer:
            return f"{round(x):d}"
        decimals = max(0, -math.floor(math.log10(self.tolerance)) + 1) if self.tolerance > 0 else 6
        return f"{x:,.{decimals}f}"

    def _ci_text(self) -> str:
        lo, hi = self.ci
        lo_t = self.fmt(lo) if math.isfinite(lo) else f"below {self.fmt(self.low)}"
        hi_t = self.fmt(hi) if math.isfinite(hi) else f"above {self.fmt(self.high)}"
        return f"95% CI {lo_t} to {hi_t}"

    def _current_text(self) -> str:
        if self.current_p is None:
            return ""
        if isinstance(self.current, dict):
            return (
                f"; in the scenario as it is ({self.key} a distribution: {describe_distribution(self.current)}) it is {self.current_p:.2f}"
            )
        return f"; at the scenario's value {self.fmt(float(self.current))} it is {self.current_p:.2f}"

    def sentence(self) -> str:
        """The answer in one plain sentence, e.g. ``P(status recognised after 2024) ≥ 0.8 needs
        pipeline.signings_per_month ≥ 7.3 (95% CI 6.9 to 7.8); at the scenario's value 5.0 it is 0.41``."""
        what = f"P({self.target}) ≥ {self.p:g}"
        sign = "≥" if self.direction == "increasing" else "≤"
        if self.status == "found":
            return f"{what} needs {self.key} {sign} {self.fmt(self.answer)} ({self._ci_text()}){self._current_text()}"
        return f"{what}: {self.message}{self._current_text()}"

    def summary(self) -> dict:
        """``answer.json``: the answer, its interval and how it was found."""
        from parksim.scenario.loader import scenario_hash

        return {
            "key": self.key,
            "target": self.target,
            "p": self.p,
            "direction": self.direction,
            "answer": self.answer,
            "ci_low": self.ci[0],
            "ci_high": self.ci[1],
            "status": self.status,
            "message": self.message,
            "sentence": self.sentence(),
            "low": self.low,
            "high": self.high,
            "tolerance": self.tolerance,
            "evaluations": self.evaluations,
            "seed": self.seed,
            "replications": self.replications,
            "engine": self.engine,
            "common_random_numbers": self.crn,
            "scenario_value": self.current,
            "scenario_p": self.current_p,
            "scenario_name": self.scenario.name,
            "scenario_file": self.scenario._source,
            "scenario_sha256": scenario_hash(self.scenario),
            "notes": list(self.notes),
        }

    def plot(self, ax=None):
        """P(target) against the key with its Wilson 95% band, the line at ``p``, and the answer with its interval."""
        from parksim.results.threshold_files import plot_threshold

        return plot_threshold(self, ax=ax)

    def write(self, out) -> list:
        """Write threshold.csv, threshold.png, answer.json and manifest.json (last) into ``out``."""
        from parksim.results.threshold_files import write_threshold

        return write_threshold(self, out)


def describe_distribution(d: dict) -> str:
    """``{dist = "uniform", low = 2, high = 10}`` as ``uniform 2 to 10`` (other distributions: their parameters)."""
    rest = {k: v for k, v in d.items() if k != "dist" and v is not None}
    if set(rest) == {"low", "high"}:
        return f"{d['dist']} {rest['low']:g} to {rest['high']:g}"
    return f"{d['dist']} " + ", ".join(f"{k} {v:g}" if isinstance(v, int | float) else f"{k} {v}" for k, v in rest.items())


# --- the outcome a label names ------------------------------------------------------------------------------------


def outcome_labels(scn) -> list[str]:
    """The outcomes a label may name for ``scn``: each target's label, ``ALL``, and ``status NAME after YEAR`` for every
    assessment status and simulated year (``parksim compare --target`` takes those after the last year)."""
    from parksim.experiments.result import expand_targets

    labels = [s.label for s in expand_targets(scn)] + ["ALL"]
    if scn.assessment is not None:
        first = scn.simulation.start_year
        for year in range(first, first + scn.simulation.years):
            labels += [f"status {st} after {year}" for st in scn.assessment.statuses]
    return labels


def check_target(scn, target: str) -> None:
    """An :class:`InputError` naming ``target`` and the labels expected, unless ``scn`` has that outcome."""
    labels = outcome_labels(scn)
    if target not in labels:
        shown = labels if len(labels) <= 30 else [*labels[:30], "..."]
        raise InputError(f"--target {target!r} is not an outcome of {scn.name!r}; expected one of {shown}")


def outcome(res, target: str) -> np.ndarray:
    """Per-replication boolean: does each replication of ``res`` meet ``target`` (a label of :func:`outcome_labels`)?

    The target labels, ``ALL`` and the statuses after the last assessment are the outcomes ``parksim compare`` ranks
    (:meth:`parksim.experiments.compare.Comparison._outcomes`); a status after an earlier year is read the same way
    from that year's assessment."""
    from parksim.experiments.compare import Comparison

    cmp = Comparison([res.scenario.name], [res], [None], res.seed)
    labels = cmp._labels()
    if target in labels:
        return np.asarray(cmp._outcomes(res)[:, labels.index(target)], dtype=bool)
    m = _STATUS_LABEL.match(target)
    if m and m["name"] in res.statuses and int(m["year"]) in res.years:
        codes = res.status_codes()[:, res.years.index(int(m["year"]))]
        return codes == res.statuses.index(m["name"])
    raise InputError(f"target {target!r} is not an outcome of {res.scenario.name!r}; expected one of {labels}")


# --- the scenario at a value of the key ---------------------------------------------------------------------------


def _lookup(data, key: str):
    """The value at ``key`` (dotted path) of the resolved scenario ``data``, and whether the path exists."""
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None, False
        node = node[part]
    return node, True


class _Builder:
    """Builds the scenario with ``key`` set to a value: from its file (and the overrides) when given a path, so the
    value is validated exactly like ``--set``; from a :class:`Scenario`'s resolved data otherwise."""

    def __init__(self, scenario, overrides):
        from parksim.scenario.loader import as_scenario, load_scenario, parse_override
        from parksim.scenario.spec import Scenario

        if isinstance(scenario, Scenario):
            if overrides:
                raise InputError('"overrides" apply to a scenario file; give the path, or set the values on the Scenario')
            self.path, self.overrides = None, {}
            self.base = scenario
        else:
            if not isinstance(scenario, str | Path):
                as_scenario(scenario)  # the usual TypeError
            self.path = Path(scenario)
            if overrides is None:
                overrides = {}
            elif not isinstance(overrides, dict):
                overrides = dict(parse_override(o) for o in overrides)
            self.overrides = dict(overrides)
            self.base = load_scenario(self.path, self.overrides)

    def __call__(self, key: str, value):
        from parksim.scenario.loader import _apply_overrides, load_scenario, scenario_from_dict

        if self.path is not None:
            return load_scenario(self.path, {**self.overrides, key: value})
        raw = self.base._raw
        if raw is None:
            raise InputError("threshold: the Scenario has no resolved data (build it with load_scenario or scenario_from_dict)")
        data = _apply_overrides(copy.deepcopy(raw), {}, {key: value})
        src = self.base._source
        base_dir = Path(src).resolve().parent if src not in ("<dict>", "<python>") else None
        return scenario_from_dict(data, base_dir=base_dir, source=src)


def _key_value(scn, key: str):
    """The scenario's value of ``key`` (a number, a distribution table or None), or an :class:`InputError` for a key
    that holds something else."""
    dumped = scn.model_dump(mode="json")
    value, found = _lookup(dumped, key)
    if not found or value is None:
        return None
    if isinstance(value, bool) or isinstance(value, str) or isinstance(value, list):
        kind = {bool: "a boolean", str: "a string", list: "a list"}[type(value)]
        raise InputError(f"--vary {key}: holds {value!r} ({kind}), not a number; expected a key holding a number or a distribution")
    if isinstance(value, dict):
        if "dist" in value:
            return value
        raise InputError(f"--vary {key}: is a table ({', '.join(sorted(value))}), not a number; expected a key holding a number")
    return value


# --- the search ---------------------------------------------------------------------------------------------------


def _crossing(xs: np.ndarray, P: np.ndarray, p: float, direction: str, integer: bool):
    """The answer on sorted points ``xs`` with P̂ = ``P`` (last axis: points; leading axes: bootstrap resamples).

    Returns (answer, code): code 0 found, -1 below the range, +1 above it (answer -inf / inf)."""
    P = np.asarray(P, dtype=float)
    met = P >= p
    if direction == "decreasing":  # the largest x with P ≥ p: the smallest of the reversed axis
        xs, P, met = xs[::-1], P[..., ::-1], met[..., ::-1]
    first = np.argmax(met, axis=-1)
    anymet = met.any(axis=-1)
    j = np.maximum(first, 1)
    x0, x1 = xs[j - 1], xs[j]
    p0 = np.take_along_axis(P, (j - 1)[..., None], axis=-1)[..., 0]
    p1 = np.take_along_axis(P, j[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(p1 != p0, (p - p0) / (p1 - p0), 1.0)
    ans = x1 if integer else x0 + np.clip(frac, 0.0, 1.0) * (x1 - x0)
    inc = direction == "increasing"
    # increasing: met at the first point -> below the range; never met -> above. Decreasing: the mirror image.
    at_start = anymet & (first == 0)
    code = np.where(~anymet, 1 if inc else -1, np.where(at_start, -1 if inc else 1, 0))
    ans = np.where(code == 0, ans, np.where(code < 0, -np.inf, np.inf))
    return ans, code


def _grid(low: float, high: float, points: int, integer: bool) -> list:
    xs = np.linspace(low, high, points)
    if integer:
        return sorted({int(round(x)) for x in xs})
    return [_tidy(x) for x in xs]


def _tidy(x: float) -> float:
    """``x`` to 12 significant digits: 0.225, not linspace's 0.22499999999999998, in the table and the files."""
    return float(f"{x:.12g}")


def _direction(xs: np.ndarray, P: np.ndarray) -> tuple[str, str | None]:
    """Rising or falling, from the ends of the range (from the grid's least-squares slope when the ends are equal)."""
    if P[-1] != P[0]:
        return ("increasing" if P[-1] > P[0] else "decreasing"), None
    slope = np.polyfit(xs, P, 1)[0] if len(xs) > 1 and np.ptp(P) > 0 else 0.0
    if slope < 0:
        return "decreasing", "P is equal at both ends of the range; the grid's trend says it falls with the key"
    if slope > 0:
        return "increasing", "P is equal at both ends of the range; the grid's trend says it rises with the key"
    return "increasing", "P is the same at every point of the grid: the key does not move it within the range"


def threshold(
    scenario,
    key: str,
    low: float,
    high: float,
    *,
    target: str = "ALL",
    p: float = 0.8,
    replications: int = 500,
    seed: int | None = 1,
    jobs: int | None = None,
    engine: str = "fast",
    tolerance: float | None = None,
    direction: str = "auto",
    overrides=None,
    grid: int = GRID,
    crn: bool = True,
    progress=None,
) -> Threshold:
    """The smallest value of ``key`` in ``[low, high]`` at which P(``target``) ≥ ``p`` (the largest, if P falls as the
    key grows), with a 95% interval; see :mod:`parksim.experiments.threshold` for the method.

    Parameters
    ----------
    scenario : Scenario or path
        A single park's scenario (not a portfolio). Given a path, each value of the key is applied like
        ``--set key=value`` on top of ``overrides`` and validated like the file.
    key : str
        A numeric scenario key (dotted path, as for ``--set``), e.g. ``pipeline.signings_per_month``,
        ``certification.hnte.approval_prob`` or a lever's size (``levers.rd_subsidy.rate``). A key holding a
        distribution may be varied: each value replaces it.
    low, high : float
        The range searched; both must be values the key accepts, and ``low < high``. An integer key is searched over
        integers.
    target : str
        A target's label, ``ALL`` (every target met together) or ``status NAME after YEAR`` (the assessment status).
    p : float
        The probability asked for, in (0, 1).
    replications, seed, jobs, engine
        As in :func:`parksim.simulate`; every evaluation uses the same seed and replications (common random numbers).
    tolerance : float, optional
        Bisect until the cell holding the answer is at most this wide (default: ``(high - low) / 100``; at least 1
        for an integer key).
    direction : {"auto", "increasing", "decreasing"}
        Whether P rises or falls with the key; ``auto`` reads it from the ends of the range.
    overrides : mapping or iterable of "key.path=value", optional
        Values applied to the scenario file first (as ``--set``).
    grid : int
        Points of the first, even grid (default 9).
    crn : bool
        Common random numbers (default). ``False`` gives every evaluation its own seed: only to measure what CRN saves.
    progress : callable, optional
        Called with a line of text after each evaluation.

    Returns
    -------
    Threshold
        ``answer``, ``ci``, ``status`` ("found", "below_range" or "above_range"), ``table`` (every evaluated point),
        ``sentence()``, ``plot()`` and ``write(out)``.

    Examples
    --------
    >>> import parksim
    >>> th = parksim.threshold("scenarios/xiushan-2024.toml", "pipeline.signings_per_month", 1, 10,
    ...                        target="status recognised after 2024", replications=20, jobs=1)  # doctest: +SKIP
    >>> th.status  # doctest: +SKIP
    'found'
    """
    import pandas as pd

    from parksim.experiments.montecarlo import simulate
    from parksim.experiments.stats import wilson
    from parksim.model.random import normalize_seed

    seed = normalize_seed(seed)
    if not isinstance(key, str) or not key:
        raise InputError(f'"key" must be a scenario key path such as pipeline.signings_per_month, got {key!r}')
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) or not math.isfinite(v):
            raise InputError(f"--vary {key}: {name.upper()} must be a finite number, got {v!r}")
    if not low < high:
        raise InputError(f"--vary {key}={low}:{high}: LOW must be below HIGH (got LOW {low} ≥ HIGH {high})")
    if not (isinstance(p, int | float) and 0 < p < 1):
        raise InputError(f"--p must be a probability strictly between 0 and 1, got {p!r}")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InputError(f"--replications must be >= 1, got {replications!r}")
    if direction not in ("auto", "increasing", "decreasing"):
        raise InputError(f'"direction" must be auto, increasing or decreasing, got {direction!r}')
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 2:
        raise InputError(f'"grid" must be an integer >= 2, got {grid!r}')
    build = _Builder(scenario, overrides)
    base = build.base
    if base.portfolio is not None:
        raise InputError("threshold: portfolios of parks are not supported yet; vary one park's scenario")
    current = _key_value(base, key)
    integer = isinstance(current, int) and not isinstance(current, bool)
    check_target(base, target)
    # LOW and HIGH validated up front, exactly like --set key=LOW and --set key=HIGH
    ends = {}
    for name, v in (("LOW", low), ("HIGH", high)):
        try:
            ends[v] = build(key, v)
        except ScenarioError as err:
            why = "; ".join(f"{pr.where}: {pr.message}" if pr.where else pr.message for pr in err.problems)
            raise InputError(f"--vary {key}={low}:{high}: {name} {v} is refused: {why}") from None
    if current is None:  # an unset (optional) key: the value it takes once set must be a number too
        _key_value(ends[low], key)
    if integer and not (float(low).is_integer() and float(high).is_integer()):
        raise InputError(f"--vary {key}={low}:{high}: {key} is an integer key; expected whole numbers for LOW and HIGH")
    if integer:
        low, high = int(low), int(high)
    else:
        low, high = float(low), float(high)
    if tolerance is None:
        tolerance = (high - low) / 100
    if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance > 0):
        raise InputError(f"--tolerance must be a positive number, got {tolerance!r}")
    if integer:
        tolerance = max(1.0, float(tolerance))

    notes: list[str] = []
    if isinstance(current, dict):
        notes.append(
            f"{key} holds a distribution in the scenario ({describe_distribution(current)}); each evaluated value replaces it"
            " by that fixed value"
        )
    points: dict = {}  # value -> (outcomes, stage)
    seen_warnings: dict = {}
    state = {"evaluations": 0, "engine": engine}

    def run(scn, k: int):
        state["evaluations"] += 1
        if state["evaluations"] > MAX_EVALUATIONS:
            raise InputError(f"threshold: more than {MAX_EVALUATIONS} evaluations; raise --tolerance")
        run_seed = seed if crn else int(np.random.SeedSequence([seed, 0x7E5, k]).generate_state(1)[0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ParameterWarning)
            res = simulate(scn, replications=replications, seed=run_seed, jobs=jobs, quiet=True, engine=engine)
        for w in caught:
            if issubclass(w.category, ParameterWarning):
                seen_warnings.setdefault(str(w.message), None)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        state["engine"] = res.engine
        return outcome(res, target)

    def evaluate(x, stage: str):
        if x in points:
            return
        scn = ends[x] if x in ends else (base if stage == "scenario" else build(key, x))
        met = run(scn, len(points))
        points[x] = (met, stage)
        if progress is not None:
            progress(f"{key} = {x:g}: P({target}) = {met.mean():.3f} ({stage})")

    def inside():
        return [x for x in sorted(points) if low <= x <= high]

    def curve():
        xs = inside()
        return np.array(xs, dtype=float), np.array([points[x][0].mean() for x in xs])

    for x in _grid(low, high, grid, integer):
        evaluate(x, "grid")
    cv = None if current is None or isinstance(current, dict) else (int(current) if integer else float(current))
    if cv is not None and low <= cv <= high:  # the scenario's own value: a point of the search like any other
        evaluate(cv, "scenario")
    xs, P = curve()
    if direction == "auto":
        direction, note = _direction(xs, P)
        if note:
            notes.append(note)
    # bisect the cell where P̂ reaches p until it is at most `tolerance` wide
    while True:
        xs, P = curve()
        ans, code = _crossing(xs, P, p, direction, integer)
        if int(code) != 0:
            break
        if direction == "increasing":  # cell (x[j-1], x[j]]: the first point with P ≥ p is x[j]
            j = int(np.argmax(P >= p))
            a, b = xs[j - 1], xs[j]
        else:
            j = len(xs) - 1 - int(np.argmax((P >= p)[::-1]))
            a, b = xs[j], xs[j + 1]
        if b - a <= tolerance * (1 + 1e-9):
            break
        mid = (a + b) / 2
        if integer:
            mid = int(math.floor(mid))
            if mid <= a or mid >= b:
                break
        evaluate(mid if integer else _tidy(mid), "refine")
    xs, P = curve()
    ans, code = _crossing(xs, P, p, direction, integer)
    status = {0: "found", -1: "below_range", 1: "above_range"}[int(code)]
    answer = float(ans) if status == "found" else math.nan
    # the bootstrap over whole replications, at every evaluated point at once
    O = np.array([points[x][0] for x in inside()], dtype=float)  # (points, replications)
    ci = (math.nan, math.nan)
    if status == "found":
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x7E, 0x5E)))
        idx = rng.integers(0, replications, size=(BOOTSTRAP, replications))
        flat = (np.arange(BOOTSTRAP)[:, None] * replications + idx).ravel()
        counts = np.bincount(flat, minlength=BOOTSTRAP * replications).reshape(BOOTSTRAP, replications)
        Pb = counts @ O.T / replications  # (resamples, points): P̂ of each resample at every evaluated point
        xb, _ = _crossing(xs, Pb, p, direction, integer)
        lo, hi = np.quantile(xb, [0.025, 0.975], method="inverted_cdf" if integer else "linear")
        ci = (float(lo), float(hi))

    # the scenario as it is: its own value (or distribution) of the key
    current_p = None
    if isinstance(current, dict):
        current_p = float(run(base, len(points) + 1).mean())
    elif cv is not None:
        if cv not in points:  # outside the range: evaluated for the sentence, not part of the search
            evaluate(cv, "scenario")
        current_p = float(points[cv][0].mean())
    rows = []
    order = sorted(points)
    for x in order:
        met, stage = points[x]
        k = int(met.sum())
        lo_w, hi_w = wilson(k, replications)
        rows.append((key, x, k / replications, lo_w, hi_w, replications, stage))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    outcomes = np.array([points[x][0] for x in order], dtype=bool)
    for text in seen_warnings:
        warnings.warn(text, ParameterWarning, stacklevel=2)
    return Threshold(
        scenario=base,
        key=key,
        target=target,
        p=float(p),
        low=low,
        high=high,
        direction=direction,
        answer=answer,
        ci=ci,
        status=status,
        table=table,
        seed=seed,
        replications=replications,
        tolerance=float(tolerance),
        engine=state["engine"],
        crn=crn,
        integer=integer,
        current=current,
        current_p=current_p,
        notes=notes,
        outcomes=outcomes,
    )

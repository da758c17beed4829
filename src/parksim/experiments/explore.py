"""Exploration: which assumptions drive P(target), and under which of them targets are met.

A design is a set of points in the space of the varied inputs: the scenario's uncertain parameters (each over its
distribution, as the quantile of a uniform) and any key named with ``vary`` (over ``[low, high]``, as a uniform
distribution put in its place). At every point the same ``replications`` are simulated: slot ``p * R + r`` of one
run is replication ``r`` at point ``p`` (:class:`parksim.model.random.GivenUniforms` with ``period=R``), so every
point sees the same random paths (common random numbers) and the points differ only in their inputs. The whole
design is one run of the fast engine (batches, progress, checkpoints and ``cluster`` as for any run), without a
start-up per point. Inputs not varied keep being drawn per replication, the same at every point.

Designs (in the uniforms' unit cube; a point's value of an input is its distribution's quantile there):

* ``lhs``: a Latin hypercube of ``points`` points (:class:`scipy.stats.qmc.LatinHypercube`); first-order
  sensitivity by random balance designs FAST (SALib ``rbd_fast``, Tarantola et al. 2006);
* ``sobol``: Saltelli's extension of a scrambled Sobol sequence, ``points`` base points, ``points x (2d + 2)``
  evaluations (SALib ``sobol.sample``); first and total Sobol indices with bootstrap intervals (``sobol.analyze``);
* ``morris``: ``points`` one-at-a-time trajectories on a 4-level grid, ``points x (d + 1)`` evaluations (SALib
  ``morris.sample``); the elementary effects' mean absolute value ``mu_star`` (with a bootstrap interval) and
  their spread ``sigma`` (Morris 1991; Campolongo et al. 2007).

The outputs analysed are every target's P(met) (and ``ALL``) and every targeted indicator's mean at each point.
The variance of a target's met/not-met over points and replications splits into the part the inputs explain (the
variance of the points' true P(met), estimated as the variance of their P̂ less its binomial noise) and the part
left to replication noise (law of total variance).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from parksim.errors import InputError
from parksim.experiments.calibrate import Parameter

DESIGNS = ("lhs", "sobol", "morris")
#: uniforms are kept this far inside (0, 1): a design's corner would be a distribution's infinite quantile
_EDGE = 1e-6


@dataclass(frozen=True)
class Input(Parameter):
    """A varied input: an uncertain parameter (:class:`parksim.experiments.calibrate.Parameter`), and whether it was
    named with ``vary`` (a range given) rather than being one of the scenario's own uncertain parameters."""

    varied: bool

    def values(self, u: np.ndarray) -> np.ndarray:
        """The input's value at uniforms ``u`` (the first park's: a portfolio's parks share the uniform)."""
        return next(iter(self.value(u).values()))


def parse_vary(items) -> dict:
    """``["key.path=LOW:HIGH", ...]`` (or a mapping key -> (low, high)) as ``{key: (low, high)}``, checked."""
    if items is None:
        return {}
    if isinstance(items, dict):
        pairs = [(k, v) for k, v in items.items()]
    else:
        pairs = []
        for text in items:
            key, sep, rng = str(text).partition("=")
            lo, sep2, hi = rng.partition(":")
            if not sep or not sep2 or not key.strip():
                raise InputError(f"--vary {text!r}: expected KEY=LOW:HIGH, e.g. pipeline.signings_per_month=3:9")
            try:
                pairs.append((key.strip(), (float(lo), float(hi))))
            except ValueError:
                raise InputError(f"--vary {text!r}: LOW and HIGH must be numbers, got {lo!r} and {hi!r}") from None
    out = {}
    for key, (lo, hi) in pairs:
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
            raise InputError(f"--vary {key}={lo:g}:{hi:g}: LOW must be below HIGH (both finite)")
        out[key] = (float(lo), float(hi))
    return out


def varied_scenario(scenario, vary: dict, overrides=None):
    """``scenario`` with each ``vary`` key replaced by a uniform distribution over its range (validated like
    ``--set``: an unknown key, or one that takes no distribution, is an error naming it)."""
    from parksim.errors import ScenarioError
    from parksim.scenario.loader import as_scenario, load_scenario

    if not vary:
        return as_scenario(scenario) if not overrides else load_scenario(scenario, overrides)
    source = scenario if isinstance(scenario, str | Path) else getattr(scenario, "_source", "<dict>")
    if not Path(str(source)).is_file():
        raise InputError("vary needs the scenario's file (a scenario made in Python has none): pass its path")
    sets = dict(overrides or {}) if isinstance(overrides, dict) else dict(_pairs(overrides))
    for key, (lo, hi) in vary.items():
        sets[key] = {"dist": "uniform", "low": lo, "high": hi}
    try:
        return load_scenario(source, sets)
    except ScenarioError as err:
        raise InputError(f"--vary: {err}\n(a varied key must be a model parameter that takes a number or a distribution)") from None


def _pairs(overrides):
    from parksim.scenario.loader import parse_override

    return [parse_override(o) for o in (overrides or [])]


def inputs(scenario, vary: dict, params=None) -> list[Input]:
    """The varied inputs: the ``vary`` keys and the scenario's uncertain parameters (all, or those in ``params``)."""
    from parksim.experiments.calibrate import parameters

    found = {p.path: p for p in parameters(scenario)}
    missing = [k for k in vary if k not in found]
    if missing:  # the override was accepted but is not drawn (e.g. a lever that is off): nothing would vary
        raise InputError(
            f"--vary {missing[0]}: the key does not act in this scenario (a lever that is off?), so varying it changes nothing"
        )
    chosen = list(found) if params is None else list(dict.fromkeys([*vary, *params]))
    unknown = [p for p in chosen if p not in found]
    if unknown:
        raise InputError(
            f"--params {unknown[0]}: not an uncertain parameter of the scenario; expected one of: {', '.join(found) or '(none)'}"
        )
    out = [Input(p, found[p].key, found[p].priors, p in vary) for p in chosen]
    if not out:
        raise InputError("nothing to explore: the scenario has no uncertain parameters; name inputs with --vary KEY=LOW:HIGH")
    return out


def design(kind: str, d: int, points: int, seed: int) -> np.ndarray:
    """(points', d) uniforms of a design (see the module); points' is ``points`` for lhs, ``points x (2d + 2)`` for
    sobol, ``points x (d + 1)`` for morris."""
    problem = _problem(d)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xE7, 0x01)))
    if kind == "lhs":
        if points < 2:
            raise InputError(f"--points {points}: a Latin hypercube needs at least 2 points")
        from scipy.stats import qmc

        U = _quiet(lambda: qmc.LatinHypercube(d=d, rng=rng).random(points))
    elif kind == "sobol":
        from SALib.sample import sobol

        if points < 2 or points & (points - 1):
            raise InputError(f"--points {points}: a Sobol design needs a power of 2 base points (e.g. 64, 256)")
        U = _quiet(lambda: sobol.sample(problem, points, calc_second_order=True, scramble=True, seed=rng))
    elif kind == "morris":
        from SALib.sample import morris

        if points < 2:
            raise InputError(f"--points {points}: a Morris design needs at least 2 trajectories (10 or more is usual)")
        U = _quiet(lambda: morris.sample(problem, points, num_levels=4, seed=rng))
    else:
        raise InputError(f"--design {kind!r}: expected one of {', '.join(DESIGNS)}")
    return np.clip(np.asarray(U, dtype=float), _EDGE, 1 - _EDGE)


def _problem(d: int) -> dict:
    return {"num_vars": d, "names": [f"x{j}" for j in range(d)], "bounds": [[0.0, 1.0]] * d}


def _quiet(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f()


@dataclass
class Exploration:
    """An exploration's design and per-point results (see the module)."""

    scenario: object
    kind: str
    inputs: list
    uniforms: np.ndarray  # (points, d)
    replications: int
    seed: int
    labels: list  # target labels, then "ALL"
    met: np.ndarray  # (points, replications, targets + 1) bool
    means: dict  # "indicator year" -> (points,) mean of a targeted indicator
    base_points: int
    started: str = ""
    finished: str = ""
    engine: str = "fast"
    crn: bool = True  # common random numbers across points
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def points(self) -> int:
        return len(self.uniforms)

    def input_values(self) -> dict:
        """``{key path: (points,) values}`` in each input's unit."""
        return {i.path: i.values(self.uniforms[:, j]) for j, i in enumerate(self.inputs)}

    def p_met(self) -> np.ndarray:
        """(points, targets + 1) P̂(met) at each point."""
        return self.met.mean(axis=1)

    def experiments(self):
        """``experiments.parquet``: one row per point and target (``ALL`` included), with the inputs' values and
        the point's means of the targeted indicators."""
        import pandas as pd

        P, T = self.points, len(self.labels)
        cols = {"point": np.repeat(np.arange(P), T)}
        for path, v in self.input_values().items():
            cols[path] = np.repeat(v, T)
        cols["target"] = pd.Categorical(np.tile(np.array(self.labels, dtype=object), P), categories=self.labels)
        cols["p_met"] = self.p_met().reshape(-1)
        cols["replications"] = np.full(P * T, self.replications)
        for name, m in self.means.items():
            cols[f"mean {name}"] = np.repeat(m, T)
        return pd.DataFrame(cols)

    def outputs(self) -> dict:
        """``{output name: (points,) values}``: every target's P(met) and every targeted indicator's mean."""
        pm = self.p_met()
        out = {f"P({label})": pm[:, k] for k, label in enumerate(self.labels)}
        out.update({f"mean {name}": m for name, m in self.means.items()})
        return out

    def sensitivity(self):
        """``sensitivity.csv``: ``output, parameter, method, index, value, ci_low, ci_high``."""
        import pandas as pd

        if "sensitivity" not in self._cache:
            rows = []
            for name, y in self.outputs().items():
                rows += _indices(self.kind, self.inputs, self.uniforms, y, self.seed, name)
            self._cache["sensitivity"] = pd.DataFrame(
                rows, columns=["output", "parameter", "method", "index", "value", "ci_low", "ci_high"]
            )
        return self._cache["sensitivity"]

    def variance(self):
        """``variance.csv``: for every target, the variance of met/not-met split into what the inputs explain and
        what is left to replication noise (law of total variance)."""
        import pandas as pd

        R = self.replications
        rows = []
        for k, label in enumerate(self.labels):
            p = self.met[:, :, k].mean(axis=1)
            mean = float(p.mean())
            total = mean * (1 - mean)
            noise = float(np.mean(p * (1 - p))) * R / (R - 1) if R > 1 else math.nan  # E[Var(met | point)], unbiased
            # the estimate is unbiased, not bounded: clipped to [0, total] (a share above 1 would read as nonsense)
            between = min(total, max(0.0, float(np.var(p, ddof=1)) - noise / R)) if len(p) > 1 and R > 1 else math.nan
            share = between / total if total > 0 else math.nan
            rows.append((label, mean, total, between, total - between if total > 0 else 0.0, share, 1 - share if total > 0 else math.nan))
        return pd.DataFrame(
            rows, columns=["target", "p_mean", "variance_total", "from_inputs", "from_replications", "share_inputs", "share_replications"]
        )


def _indices(kind, inputs, U, y, seed, name) -> list:
    rows = []
    y = np.asarray(y, dtype=float)
    if not np.all(np.isfinite(y)) or np.ptp(y) == 0:  # nothing varies (or an undefined value): no index to estimate
        methods = {"lhs": ["S1"], "sobol": ["S1", "ST"], "morris": ["mu_star", "sigma"]}[kind]
        value = 0.0 if np.all(np.isfinite(y)) else math.nan
        return [(name, i.path, _METHOD[kind], m, value, value, value) for i in inputs for m in methods]
    problem = _problem(len(inputs))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xE7, 0x02)))
    if kind == "sobol":
        from SALib.analyze import sobol

        s = _quiet(lambda: sobol.analyze(problem, y, calc_second_order=True, num_resamples=200, seed=rng))
        for j, i in enumerate(inputs):
            for m in ("S1", "ST"):
                v, c = float(s[m][j]), float(s[f"{m}_conf"][j])
                rows.append((name, i.path, _METHOD[kind], m, v, v - c, v + c))
    elif kind == "morris":
        from SALib.analyze import morris

        X = np.round(U * 3) / 3  # the grid the trajectories were sampled on (the simulated uniforms were kept off 0 and 1)
        s = _quiet(lambda: morris.analyze(problem, X, y, num_resamples=200, num_levels=4, seed=rng))
        for j, i in enumerate(inputs):
            v, c = float(s["mu_star"][j]), float(s["mu_star_conf"][j])
            rows.append((name, i.path, _METHOD[kind], "mu_star", v, v - c, v + c))
            rows.append((name, i.path, _METHOD[kind], "sigma", float(s["sigma"][j]), math.nan, math.nan))
    else:
        from SALib.analyze import rbd_fast

        s = _quiet(lambda: rbd_fast.analyze(problem, U, y, num_resamples=200, seed=rng))
        for j, i in enumerate(inputs):
            v, c = float(s["S1"][j]), float(s["S1_conf"][j])
            rows.append((name, i.path, _METHOD[kind], "S1", v, v - c, v + c))
    return rows


_METHOD = {"lhs": "rbd_fast", "sobol": "sobol", "morris": "morris"}


def explore(
    scenario,
    *,
    design_kind: str = "lhs",
    points: int = 64,
    replications: int = 100,
    vary=None,
    params=None,
    overrides=None,
    seed: int | None = 1,
    jobs: int | None = None,
    quiet: bool = True,
    checkpoint=None,
    resume: bool = False,
    cluster=None,
    common_random_numbers: bool = True,
) -> Exploration:
    """Explore ``scenario`` over a design of its inputs (see the module).

    Parameters
    ----------
    scenario : path or Scenario
    design_kind : {"lhs", "sobol", "morris"}
    points : int
        lhs: the points; sobol: the base points (a power of 2; points x (2d + 2) evaluations); morris: the
        trajectories (points x (d + 1) evaluations).
    replications : int
        Replications at every point, the same random paths at each (common random numbers).
    vary : list of "KEY=LOW:HIGH" or {key: (low, high)}
        Keys to vary over a range (each a uniform distribution in its place).
    params : list of key paths, optional
        The scenario's uncertain parameters to vary (default: all); the others keep being drawn per replication.
    common_random_numbers : bool
        True (default): every point runs the same replications' random paths. False: each point its own (only to
        measure what common random numbers gain).
    """
    from datetime import UTC, datetime

    from parksim.experiments.montecarlo import simulate
    from parksim.experiments.result import expand_targets
    from parksim.model.random import GivenUniforms, normalize_seed
    from parksim.model.realise import with_given

    seed = normalize_seed(seed)
    if not isinstance(replications, int) or replications < 2:
        raise InputError(f"--replications {replications!r}: at least 2 at every point (the variance split needs them)")
    if not isinstance(points, int) or isinstance(points, bool):
        raise InputError(f"--points {points!r}: a whole number expected")
    vary = parse_vary(vary)
    scn = varied_scenario(scenario, vary, overrides)
    if scn.portfolio is not None:
        raise InputError(f"{scn._source}: explore runs single parks, not portfolios (explore a park's own scenario)")
    ins = inputs(scn, vary, params)
    if design_kind in ("sobol", "morris") and len(ins) < 2:
        raise InputError(f"--design {design_kind}: needs at least 2 varied inputs, got {len(ins)}")
    U = design(design_kind, len(ins), points, seed)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {"design": design_kind, "points": len(U)}
    if common_random_numbers:
        given = GivenUniforms([i.key for i in ins], U, period=replications, meta=meta)
    else:  # slot v: point v // R, with random path v of its own
        given = GivenUniforms([i.key for i in ins], np.repeat(U, replications, axis=0), meta=meta)
    res = simulate(
        with_given(scn, given),
        replications=len(U) * replications,
        seed=seed,
        jobs=jobs,
        quiet=quiet,
        checkpoint=checkpoint,
        resume=resume,
        engine="fast",
        cluster=cluster,
    )
    specs = expand_targets(scn)
    met = res.met()
    met = np.concatenate([met, met.all(axis=1, keepdims=True)], axis=1).reshape(len(U), replications, -1)
    means = {}
    for ind, year in dict.fromkeys((s.indicator, s.year) for s in specs):
        v = res.level(ind, year).reshape(len(U), replications)
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            means[f"{ind} {year}"] = np.nanmean(v, axis=1)
    return Exploration(
        scn,
        design_kind,
        ins,
        U,
        replications,
        seed,
        [s.label for s in specs] + ["ALL"],
        met,
        means,
        points,
        started,
        datetime.now(UTC).isoformat(timespec="seconds"),
        crn=common_random_numbers,
    )


# --- scenario discovery ---------------------------------------------------------------------------------------
#: PRIM's density threshold: a box is kept while at least this share of its points meet P(met) >= p
PRIM_DENSITY = 0.8
PRIM_BOXES = 3


def discover(ex: Exploration, p: float = 0.8):
    """``scenarios.csv`` (``target, box, coverage, density, mass, parameter, low, high``: one restriction per row)
    and one plain sentence per box: PRIM (Friedman and Fisher 1999, as implemented by the EMA Workbench) on the
    points where each target's P̂(met) >= ``p``. A target met at every point or at none has no box (its sentence
    says so)."""
    import pandas as pd

    if not 0 < p < 1:
        raise InputError(f"--p {p!r}: a probability between 0 and 1 expected")
    x = pd.DataFrame(ex.input_values())
    pm = ex.p_met()
    rows, sentences = [], []
    for k, label in enumerate(ex.labels):
        y = pm[:, k] >= p
        if y.all() or not y.any():
            where = "at every point of the design" if y.all() else "at no point of the design"
            sentences.append(f"{label}: P(met) >= {p:g} {where}.")
            continue
        for b, box in enumerate(_boxes(x, y), start=1):
            restricted = []
            for col, (lo, hi, lo0, hi0) in box["limits"].items():
                if lo > lo0 or hi < hi0:
                    rows.append(
                        (
                            label,
                            b,
                            box["coverage"],
                            box["density"],
                            box["mass"],
                            col,
                            lo if lo > lo0 else math.nan,
                            hi if hi < hi0 else math.nan,
                        )
                    )
                    restricted.append(_rule(col, lo, hi, lo0, hi0))
            if restricted:
                sentences.append(
                    f"{label} is met with P >= {p:g} at {box['density']:.0%} of the points where "
                    + " and ".join(restricted)
                    + f" ({box['mass']:.0%} of the points; {box['coverage']:.0%} of those where it is met)."
                )
    table = pd.DataFrame(rows, columns=["target", "box", "coverage", "density", "mass", "parameter", "low", "high"])
    return table, sentences


def _rule(col, lo, hi, lo0, hi0) -> str:
    if lo > lo0 and hi < hi0:
        return f"{col} is {lo:.4g} to {hi:.4g}"
    return f"{col} >= {lo:.4g}" if lo > lo0 else f"{col} <= {hi:.4g}"


def _boxes(x, y) -> list:
    """Up to :data:`PRIM_BOXES` boxes of PRIM's default peeling (each on the points the earlier ones left)."""
    import logging

    logging.getLogger("EMA").setLevel(logging.ERROR)

    def run():
        from ema_workbench.analysis import prim

        found = []
        pr = prim.Prim(x, y, threshold=PRIM_DENSITY, mass_min=0.05)
        init = pr.box_init
        for _ in range(PRIM_BOXES):
            box = pr.find_box()
            if box is None or not math.isfinite(box.density) or box.density < PRIM_DENSITY or box.coverage <= 0:
                break
            lims = box.box_lims[-1]
            found.append(
                {
                    "coverage": float(box.coverage),
                    "density": float(box.density),
                    "mass": float(box.mass),
                    "limits": {c: (float(lims[c][0]), float(lims[c][1]), float(init[c][0]), float(init[c][1])) for c in x.columns},
                }
            )
        return found

    return _quiet(run)

"""Calibration to observed history: the scenario's uncertain parameters given its ``observations``, by approximate
Bayesian computation with sequential Monte Carlo (ABC-SMC).

The model has no likelihood one could write down (projects, firms, certifications and exits are simulated), so the
posterior is approximated by keeping parameter sets whose simulated indicators come close to the observed ones:

* **Parameters** are the scenario's uncertain parameters (its distributions), in the space of their uniforms
  (:class:`parksim.model.random.GivenUniforms`: a parameter is its distribution's quantile at a uniform, so a
  portfolio's parks share one uniform per key path as when drawn). The sampler works on ``z = Φ⁻¹(u)``, where every
  prior is a standard normal: one perturbation kernel fits every parameter, whatever its unit.
* **Distance**: the observed indicators (indicator, year, park) of each simulation against the observed values,
  each divided by its scale (the median absolute deviation of the prior's simulations combined with the
  observation's stated ``sd``), as the root mean square. An observation with an ``sd`` gets that measurement error added to its
  simulated value first ("noisy ABC": the posterior then allows for it; Wilkinson 2013).
* **SMC with MCMC replenishment** (Drovandi and Pettitt 2011; Del Moral, Doucet and Jasra 2012): generation 0
  simulates ``population`` draws of the prior. Each later generation sets its tolerance at the median distance, keeps
  the closer half, resamples the other half from it, and moves each resampled particle by Metropolis-Hastings steps
  (a normal random walk with the kept half's covariance x 2.38² / parameters, the optimal scaling of Roberts and
  Rosenthal 2001; a move is accepted with the prior's ratio if its simulation is within the tolerance). The steps are
  as many as make a particle move with probability 0.99 at the last generation's acceptance rate. Every particle
  keeps the same weight, so the weights never degenerate with many parameters (importance weights of a population
  sampler collapsed to an ESS of 1-2 on Xiushan's 37 parameters); the effective sample size is the number of
  distinct particles. It stops when the budget of simulations is spent or the moves' acceptance rate falls below
  ``min_acceptance``.
* **Simulations** run in batches through the fast engine, one replication per proposal, each with a replication
  number of its own (so that no two proposals share their random path); results do not depend on ``jobs``.

Why not a library: pyabc (0.13) calls the model once per particle through its own sampler and database layer, and
ELFI (0.8) pins matplotlib < 3.9 and needs GPy; the fast engine runs thousands of replications per call and costs
milliseconds per call to start, so a sampler that proposes whole batches is what makes a calibration take minutes.
The algorithm is the textbook one above, about 150 lines, tested on known answers (tests/test_calibrate.py).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from parksim.errors import InputError
from parksim.model.random import GivenUniforms, key_of, normalize_seed
from parksim.model.realise import has_uncertain_parameters, uncertain_parameters, with_given
from parksim.scenario.assumptions import _resolve

#: the key of the sampler's own stream (proposals, perturbations), apart from every stream of the model
_SAMPLER_KEY = key_of("~calibrate")
#: replications of the posterior predictive check (fit.csv)
PREDICTIVE = 1000


@dataclass(frozen=True)
class Parameter:
    """An uncertain parameter: its key path, its stream key, and its prior distribution in each park that has it."""

    path: str
    key: int
    priors: tuple  # ((park name or None, distribution), ...)

    def value(self, u: np.ndarray) -> dict:
        """Its value in each park at uniforms ``u``: ``{column name: array}`` (NaN for a distribution whose own
        parameters are uncertain: its value depends on them too)."""
        out = {}
        u = np.asarray(u, dtype=float)
        for park, spec in self.priors:
            name = self.path if park is None else f"{park}:{self.path}"
            out[name] = np.full(u.shape, np.nan) if has_uncertain_parameters(spec) else np.asarray(spec.ppf(u), dtype=float)
        return out


def parameters(scenario) -> list[Parameter]:
    """The scenario's uncertain parameters (a portfolio's: every park's, one per key path)."""
    members = list(scenario._members) if scenario.portfolio is not None else [(None, scenario)]
    found: dict[str, list] = {}
    for park, m in members:
        for path in uncertain_parameters(m):
            found.setdefault(path, []).append((park, _resolve(m, path)[0]))
    return [Parameter(path, key_of(path), tuple(priors)) for path, priors in found.items()]


@dataclass
class Observed:
    """The scenario's observations as arrays, and how to read them from a run's result."""

    indicator: list
    year: np.ndarray
    park: list  # park name, or None: the scenario's park (a portfolio: its parks together)
    value: np.ndarray
    sd: np.ndarray  # 0 where not stated

    @classmethod
    def of(cls, scenario, observations=None) -> Observed:
        """The scenario's observations (or ``observations``, a list of them)."""
        obs = list((getattr(scenario, "observations", None) if observations is None else observations) or [])
        if not obs:
            raise InputError(
                f"{scenario._source}: observations: none; calibration needs published figures of the park's indicators"
                " in simulated years: add [[observations]] tables (indicator, year, value, sd, source) or"
                ' observations = "file.csv"'
            )
        return cls(
            [o.indicator for o in obs],
            np.array([o.year for o in obs], dtype=int),
            [o.park for o in obs],
            np.array([o.value for o in obs], dtype=float),
            np.array([o.sd if o.sd is not None else 0.0 for o in obs], dtype=float),
        )

    def __len__(self) -> int:
        return len(self.value)

    def simulated(self, result) -> np.ndarray:
        """(replications, observations) of a run's result."""
        cols = []
        for ind, year, park in zip(self.indicator, self.year, self.park, strict=True):
            if park is None:
                cols.append(result.level(ind, int(year)))
            else:
                cols.append(result.parks[park].level(ind, int(year)))
        return np.column_stack(cols) if cols else np.empty((result.replications, 0))


@dataclass
class Generation:
    """What one SMC generation did."""

    tolerance: float
    proposed: int
    accepted: int
    ess: float
    seconds: float

    @property
    def acceptance(self) -> float:
        return self.accepted / self.proposed if self.proposed else 0.0


@dataclass
class Calibration:
    """A calibrated posterior: particles (uniforms of :attr:`parameters`) with weights, and how it was reached."""

    scenario: object
    seed: int
    parameters: list
    observed: Observed
    uniforms: np.ndarray  # (particles, parameters)
    weights: np.ndarray  # normalised
    distances: np.ndarray
    prior_simulated: np.ndarray  # (prior draws, observations): generation 0's simulations, for the fit's prior column
    simulations: int
    generations: list = field(default_factory=list)
    stopped_by: str = ""
    seconds: float = 0.0

    @property
    def ess(self) -> float:
        """Effective sample size: the distinct particles (each has the same weight; a particle that an MCMC move did not
        change is a copy of another)."""
        return float(len(np.unique(self.uniforms, axis=0)))

    def given(self) -> GivenUniforms:
        """The posterior as given parameters: each replication takes a particle drawn by weight."""
        return GivenUniforms([p.key for p in self.parameters], self.uniforms, self.weights)

    def posterior_scenario(self):
        """The scenario with its uncertain parameters drawn from this posterior (:func:`with_given`)."""
        return with_given(self.scenario, self.given())


def _batch(scenario, keys, U, first: int, seed: int, jobs: int):
    """Simulate one replication per row of the uniforms ``U``, replications ``first ..``: the run's result."""
    from parksim.engines.contract import ENGINES
    from parksim.experiments.result import make_result

    scn = with_given(scenario, GivenUniforms(keys, U, first=first))
    runner = ENGINES["fast"].runner(scn, seed, jobs, quiet=True, batch=len(U))
    try:
        values = runner.run(first, first + len(U), None, last=True)
    finally:
        runner.close()
    return make_result(scn, seed, values, [])


def calibrate(
    scenario,
    *,
    budget: int = 20_000,
    population: int = 500,
    seed: int | None = 1,
    jobs: int | None = None,
    min_acceptance: float = 0.02,
    quiet: bool = False,
) -> Calibration:
    """Calibrate ``scenario``'s uncertain parameters to its observations (see the module's docstring).

    ``budget``: most simulations (one replication each); ``population``: particles per generation. Same scenario,
    seed, budget and population give the same posterior, whatever ``jobs``.
    """
    import os

    from parksim.scenario.loader import as_scenario

    scn = as_scenario(scenario)
    seed = normalize_seed(seed)
    jobs = jobs or os.cpu_count() or 1
    if not (isinstance(population, int) and 20 <= population <= 100_000):
        raise InputError(f'"population" must be a whole number between 20 and 100,000, got {population!r}')
    if not (isinstance(budget, int) and budget >= 2 * population):
        raise InputError(
            f'"budget" must be a whole number of simulations, at least twice the population ({2 * population:,}), got {budget!r}'
        )
    if scn._given is not None:
        raise InputError("the scenario's parameters are given already (a posterior); calibrate the scenario itself")
    observed = Observed.of(scn)
    params = parameters(scn)
    if not params:
        raise InputError(f"{scn._source}: the scenario has no uncertain parameters (distributions) to calibrate")
    keys = [p.key for p in params]
    d = len(params)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_SAMPLER_KEY,)))
    t0 = time.perf_counter()
    gens: list[Generation] = []
    used = 0

    def say(msg: str) -> None:
        if not quiet:
            print(msg, file=sys.stderr, flush=True)

    def run(z: np.ndarray) -> np.ndarray:
        """The observed indicators of one simulation per row of ``z`` (without measurement error)."""
        nonlocal used
        u = np.clip(ndtr(z), 1e-12, 1 - 1e-12)
        res = _batch(scn, keys, u, used, seed, jobs)
        used += len(z)
        return observed.simulated(res)

    def noisy(sim: np.ndarray) -> np.ndarray:
        return sim + rng.standard_normal(sim.shape) * observed.sd  # noisy ABC: the measurement error

    # generation 0: the prior
    g0 = time.perf_counter()
    z = rng.standard_normal((population, d))
    sim0 = run(z)
    med = np.nanmedian(sim0, axis=0)
    scale = 1.4826 * np.nanmedian(np.abs(sim0 - med), axis=0)
    spread = np.nanstd(sim0, axis=0)
    scale = np.where(scale > 0, scale, np.where(np.isfinite(spread), spread, 0.0))
    scale = np.sqrt(scale**2 + observed.sd**2)  # the spread of a simulated observation, its measurement error with it
    scale = np.where(scale > 0, scale, np.maximum(np.abs(observed.value) * 0.01, 1e-9))

    def distance(sim: np.ndarray) -> np.ndarray:
        r = (noisy(sim) - observed.value) / scale
        r = np.where(np.isfinite(r), r, 1e6)  # an undefined indicator (NaN) is as far as can be
        return np.sqrt(np.mean(r * r, axis=1))

    dist = distance(sim0)
    gens.append(Generation(float(dist.max()), population, population, float(population), time.perf_counter() - g0))
    say(f"generation 0 (prior): {population:,} simulations")
    stopped, moves_accepted = "budget", 0.5
    n_keep = population - population // 2  # each generation keeps the closer half and replenishes the other
    while True:
        order = np.argsort(dist, kind="stable")
        z, dist = z[order], dist[order]
        eps = float(dist[n_keep - 1])
        steps = max(1, math.ceil(math.log(0.01) / math.log(max(1e-9, 1.0 - max(moves_accepted, 1e-3)))))
        steps = min(steps, 50)
        n_new = population - n_keep
        if used + n_new > budget:
            break
        g0 = time.perf_counter()
        cov = (2.38**2 / d) * np.atleast_2d(np.cov(z[:n_keep], rowvar=False)) + 1e-9 * np.eye(d)  # optimal random-walk scaling
        chol = np.linalg.cholesky(cov)
        pick = rng.integers(0, n_keep, size=n_new)
        zc, dc = z[pick].copy(), dist[pick].copy()
        tried = moved = 0
        for _ in range(steps):
            if used + n_new > budget:
                break
            zp = zc + rng.standard_normal((n_new, d)) @ chol.T
            dp = distance(run(zp))
            log_prior = -0.5 * (np.sum(zp * zp, axis=1) - np.sum(zc * zc, axis=1))
            ok = (dp <= eps) & (np.log(rng.random(n_new)) < log_prior)
            zc[ok], dc[ok] = zp[ok], dp[ok]
            tried += n_new
            moved += int(ok.sum())
        moves_accepted = moved / tried if tried else 0.0
        z = np.concatenate([z[:n_keep], zc])
        dist = np.concatenate([dist[:n_keep], dc])
        distinct = len(np.unique(z, axis=0))
        gens.append(Generation(eps, tried, moved, float(distinct), time.perf_counter() - g0))
        say(
            f"generation {len(gens) - 1}: tolerance {eps:.3g}, {steps} moves, {moves_accepted:.1%} accepted,"
            f" {distinct:,} distinct particles, {used:,} simulations"
        )
        if used + n_new > budget:
            break
        if moves_accepted < min_acceptance:
            stopped = "acceptance"
            break
    w = np.full(len(z), 1.0 / len(z))
    u = np.clip(ndtr(z), 1e-12, 1 - 1e-12)
    cal = Calibration(scn, seed, params, observed, u, w, dist, sim0, used, gens, stopped, time.perf_counter() - t0)
    say(
        f"calibrated to {len(observed)} observations: {used:,} simulations, {len(gens) - 1} generations, final ESS {cal.ess:,.0f} ({stopped})"
    )
    return cal


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` of ``x`` with weights ``w`` (inverse of the weighted empirical distribution, midpoints)."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    if not ok.any():
        return np.full(np.shape(q), np.nan)
    x, w = x[ok], np.asarray(w, dtype=float)[ok]
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    c = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, c, x)

"""Nowcasting: a run conditioned on what has already been observed, e.g. P(2024 target | 2023 figures).

A planner in mid-2024 knows the zone's 2023 statistics. Every replication of a run is a whole path (parameters,
projects, certifications, shocks), so conditioning the run on the observed years means keeping the replications
whose observed years look like the published figures, and reading the later years from them:

* **Likelihood.** A published figure is the true value plus a measurement error: normal, with the observation's
  ``sd`` when it states one, else ``relative_error`` (default 5%) of the figure (assumption: yearly figures are
  rounded, and revised by a few per cent between the first and the final release). A replication's weight is the
  product of these densities at its own values of the observed indicators; a replication with no value of an
  observed indicator (NaN) has none.
* **Rejection.** Replication ``r`` is kept when its uniform (a stream of the run's seed, the same whatever the
  number of workers) is below its weight divided by the largest weight: the kept replications are independent draws
  of the conditional distribution, so their number is the effective sample size (ESS), and every table of the run
  (P(met) with Wilson intervals, quantiles, assessments) is computed from them as from any run.
* **Reach.** An observation no replication comes within :data:`REACH` measurement errors of is out of the model's
  reach: the run stops naming it rather than keep a handful of replications from the tail. So it does when fewer
  than :data:`MIN_KEPT` replications are kept (ESS ≈ 0), naming the observation that alone keeps the fewest. Below
  :data:`WARN_ESS` kept replications the run warns: probabilities from few replications have wide intervals.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from parksim.errors import InputError
from parksim.experiments.calibrate import Observed
from parksim.model.random import key_of, normalize_seed

#: measurement error of an observation that states no ``sd``, as a share of its value (assumption, see the module)
RELATIVE_ERROR = 0.05
#: an observation no replication comes within this many measurement errors of is out of the model's reach
REACH = 4.0
#: fewer kept replications than this: the observations are out of reach together (ESS ≈ 0)
MIN_KEPT = 10
#: fewer kept replications than this: a warning
WARN_ESS = 200
#: the stream of the keep-or-drop uniforms, apart from every stream of the model
_KEEP_KEY = key_of("~nowcast")
_Q = (0.05, 0.5, 0.95)


class FewReplicationsWarning(UserWarning):
    """A conditioned run kept fewer than :data:`WARN_ESS` replications."""


def select(observed: Observed, until: int | None) -> Observed:
    """The observations of years up to ``until`` (all if None)."""
    if until is None:
        return observed
    keep = observed.year <= until
    return Observed(
        [x for x, k in zip(observed.indicator, keep, strict=True) if k],
        observed.year[keep],
        [x for x, k in zip(observed.park, keep, strict=True) if k],
        observed.value[keep],
        observed.sd[keep],
    )


def observation_label(observed: Observed, k: int) -> str:
    park = f" ({observed.park[k]})" if observed.park[k] is not None else ""
    return f"{observed.indicator[k]} {int(observed.year[k])}{park} = {observed.value[k]:g}"


@dataclass
class Conditioning:
    """What conditioning a run did: the observations, each replication's weight, and the kept replications."""

    observed: Observed
    sigma: np.ndarray  # (observations,) measurement error used
    simulated: np.ndarray  # (replications, observations) of every simulated replication
    weights: np.ndarray  # (replications,) likelihood ÷ the largest
    kept: np.ndarray  # indices of the kept replications, ascending
    until: int | None
    relative_error: float

    @property
    def ess(self) -> int:
        """Effective sample size: the kept replications (independent draws of the conditional distribution)."""
        return len(self.kept)

    @property
    def replications_simulated(self) -> int:
        return len(self.weights)

    @property
    def stated(self) -> np.ndarray:
        return self.observed.sd > 0

    def table(self):
        """``conditioning.csv``: each observation against every simulated replication and the kept ones."""
        import pandas as pd

        from parksim.experiments.stats import nanquantile

        o = self.observed
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            every = nanquantile(self.simulated, _Q, axis=0)
            kept = nanquantile(self.simulated[self.kept], _Q, axis=0)
        return pd.DataFrame(
            {
                "indicator": o.indicator,
                "year": o.year.astype(int),
                "park": o.park,
                "observed": o.value,
                "sd": self.sigma,
                "sd_stated": self.stated,
                "sim_p05": every[0],
                "sim_p50": every[1],
                "sim_p95": every[2],
                "kept_p05": kept[0],
                "kept_p50": kept[1],
                "kept_p95": kept[2],
            }
        )

    def manifest(self) -> dict:
        return {
            "observations": len(self.observed),
            "until": self.until,
            "replications_simulated": self.replications_simulated,
            "kept": self.ess,
            "ess": self.ess,
            "relative_error": self.relative_error,
        }

    def describe(self) -> str:
        upto = f" up to {self.until}" if self.until is not None else ""
        return (
            f"conditioned on {len(self.observed)} observations{upto}: ESS {self.ess:,} of {self.replications_simulated:,} replications kept"
        )


def measurement_error(observed: Observed, relative_error: float = RELATIVE_ERROR) -> np.ndarray:
    """Each observation's measurement error: its ``sd``, else ``relative_error`` × |value| (at least 0.5 of a unit
    for a zero figure, the rounding of a count)."""
    return np.where(observed.sd > 0, observed.sd, np.maximum(relative_error * np.abs(observed.value), 0.5))


def log_likelihood(simulated: np.ndarray, observed: Observed, sigma: np.ndarray) -> np.ndarray:
    """(replications,) log density of the observations given each replication (up to a constant); -inf where an
    observed indicator has no value."""
    z = (simulated - observed.value) / sigma
    with np.errstate(invalid="ignore"):
        out = -0.5 * np.sum(z * z, axis=1)
    return np.where(np.isnan(out), -np.inf, out)


def keep_uniforms(seed: int, n: int) -> np.ndarray:
    """Replication ``r``'s keep-or-drop uniform is the ``r``-th of one stream of the run's seed (the same for any ``n``
    larger than ``r``, any number of workers)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([normalize_seed(seed), _KEEP_KEY]))).random(n)


def kish(w: np.ndarray) -> float:
    """Kish's effective sample size of weights ``w``: (Σw)² / Σw²."""
    total = float(np.sum(w))
    return total * total / float(np.sum(w * w)) if total > 0 else 0.0


def likelihood(result, observed: Observed, *, relative_error: float = RELATIVE_ERROR, what: str = "--given-observations") -> tuple:
    """(simulated, measurement errors, weights ÷ the largest) of each replication given ``observed``; an error naming
    the first observation out of the model's reach."""
    if not 0 < relative_error < 1:
        raise InputError(f"relative_error must be between 0 and 1 (a share of the observed value), got {relative_error!r}")
    sim = observed.simulated(result)
    sigma = measurement_error(observed, relative_error)
    z = np.abs(sim - observed.value) / sigma
    n = len(sim)
    nearest = np.min(np.where(np.isnan(z), np.inf, z), axis=0) if n else np.full(len(observed), np.inf)
    for k in np.flatnonzero(nearest > REACH):
        raise InputError(_out_of_reach(observed, k, sim[:, k], sigma[k], n, what))
    logw = log_likelihood(sim, observed, sigma)
    return sim, sigma, np.exp(logw - logw.max())


def together(observed: Observed, sim: np.ndarray, sigma: np.ndarray, found: float, what: str) -> str:
    """The message of observations out of reach together: ``found`` effective replications of all of them."""
    z = (sim - observed.value) / sigma
    with np.errstate(invalid="ignore"):
        alone = [kish(np.nan_to_num(np.exp(-0.5 * (z[:, k] ** 2 - np.nanmin(z[:, k] ** 2))))) for k in range(len(observed))]
    k = int(np.argmin(alone))
    return (
        f"{what}: the observations are out of the model's reach together: {found:,.0f} of {len(sim):,} replications are"
        f" consistent with all {len(observed)} of them (ESS ≈ 0; at least {MIN_KEPT} needed). The one the model"
        f" reaches least: {observation_label(observed, k)} (alone: ESS {alone[k]:,.0f}; simulated 5-95%"
        f" {_range(sim[:, k])}). Run more replications, give the observations their measurement error (sd), or"
        " check them and the scenario"
    )


def weigh(
    result, observed: Observed, *, until=None, relative_error: float = RELATIVE_ERROR, what: str = "--given-observations"
) -> Conditioning:
    """Each replication's weight given ``observed``, the kept replications, and the checks of reach."""
    sim, sigma, w = likelihood(result, observed, relative_error=relative_error, what=what)
    kept = np.flatnonzero(keep_uniforms(result.seed, len(sim)) < w)
    if len(kept) < MIN_KEPT:
        raise InputError(together(observed, sim, sigma, len(kept), what))
    return Conditioning(observed, sigma, sim, w, kept, until, relative_error)


def _range(x: np.ndarray) -> str:
    x = x[np.isfinite(x)]
    if not len(x):
        return "none (no replication has a value)"
    lo, hi = np.quantile(x, [0.05, 0.95])
    return f"{lo:.4g} to {hi:.4g}"


def _out_of_reach(observed: Observed, k: int, sim: np.ndarray, sigma: float, n: int, what: str) -> str:
    how = f"sd {observed.sd[k]:g}" if observed.sd[k] > 0 else f"no sd stated: {sigma:.4g} assumed"
    return (
        f"{what}: observation {observation_label(observed, k)} ({how}) is out of the model's reach: no replication"
        f" of {n:,} comes within {REACH:g} measurement errors of it (simulated 5-95% {_range(sim)}). Check the"
        " figure and its sd, or the scenario's parameters for it (parksim calibrate shows how far the model is)"
    )


def condition(result, observations=None, *, until: int | None = None, relative_error: float = RELATIVE_ERROR, warn: bool = True):
    """``result`` conditioned on observations: only the replications consistent with them (see the module).

    Parameters
    ----------
    result : RunResult or PortfolioResult
        A run of the scenario (every replication simulated to the horizon).
    observations : list of Observation, optional
        Default: the scenario's ``[[observations]]``.
    until : int, optional
        Use only the observations of years up to this one (e.g. 2023 to forecast 2024 as seen in early 2024).
    relative_error : float
        Measurement error of an observation without ``sd``, as a share of its value.

    Returns
    -------
    The same kind of result, of the kept replications (their numbers kept in ``annual``), with ``.conditioning``
    (:class:`Conditioning`: ESS, weights, the observations' table).

    Raises
    ------
    InputError
        No observations (up to ``until``), or observations out of the model's reach (ESS ≈ 0), naming the one.

    Warns
    -----
    FewReplicationsWarning
        Fewer than 200 replications kept.
    """
    from parksim.experiments.result import subset

    scn = result.scenario
    observed = select(Observed.of(scn, observations), until)
    if not len(observed):
        raise InputError(f"{scn._source}: observations: none of a year up to {until}; nothing to condition on")
    cond = weigh(result, observed, until=until, relative_error=relative_error)
    if warn and cond.ess < WARN_ESS:
        warnings.warn(
            f"{cond.describe()}: fewer than {WARN_ESS}; probabilities rest on few replications (run more)",
            FewReplicationsWarning,
            stacklevel=2,
        )
    return replace(subset(result, cond.kept), conditioning=cond)

"""Backtests: would the model have forecast what was then observed? Rolling origin over the observed years.

For each year ``t`` with observations, the run is conditioned on the observations of the years before ``t`` (none
for the first: the prior's forecast) and each observation of year ``t`` is scored against the conditioned forecast of
it. Conditioning weighs each replication by the likelihood of the earlier observations
(:func:`parksim.experiments.nowcast.likelihood`: the same measurement errors and checks of reach as a nowcast), and
the forecasts are weighted (Kish's effective sample size in ``ess``), which wastes fewer replications than keeping some:

* the **forecast of an observation** is the simulated indicator plus the observation's measurement error when it
  states an ``sd`` (a published figure is the true value plus that error): its 5/25/50/75/95% quantiles;
* **PIT** (probability integral transform): the forecast's probability below the observed value (half of any
  probability exactly at it, for counts). Over many forecasts of a calibrated model PIT is uniform on [0, 1];
* **CRPS** (continuous ranked probability score, in the indicator's unit; lower is better):
  ``E|X - y| - E|X - X'| / 2`` over the forecast's draws (Gneiting and Raftery 2007);
* **coverage**: the share of observations inside the forecasts' 50% and 90% central intervals, which a calibrated
  model keeps near 0.5 and 0.9.

The whole backtest is one run: every replication is a path to the horizon, and each origin keeps its own subset.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from parksim.errors import InputError
from parksim.experiments.calibrate import Observed, weighted_quantile
from parksim.experiments.nowcast import MIN_KEPT, RELATIVE_ERROR, kish, likelihood, select, together
from parksim.model.random import key_of, normalize_seed

#: replications of a backtest's run (default)
REPLICATIONS = 2000
_NOISE_KEY = key_of("~backtest-noise")
_Q = (0.05, 0.25, 0.5, 0.75, 0.95)
COLUMNS = [
    "indicator",
    "year",
    "park",
    "observed",
    "sd",
    "origin",
    "given",
    "ess",
    "p05",
    "p25",
    "p50",
    "p75",
    "p95",
    "pit",
    "crps",
    "covered50",
    "covered90",
]


def _finite(draws: np.ndarray, weights) -> tuple:
    w = np.ones(len(draws)) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(draws) & (w > 0)
    x, w = draws[ok], w[ok]
    return x, (w / w.sum() if len(w) else w)


def crps(draws: np.ndarray, y: float, weights=None) -> float:
    """CRPS of the (weighted) empirical distribution of ``draws`` at ``y``: E|X - y| - E|X - X'| / 2, exact for the
    sample (sorted draws: E|X - X'| = 2 Σ w_i x_i (2 C_i - w_i - 1), C_i the cumulative weight up to draw i)."""
    x, w = _finite(draws, weights)
    if not len(x) or not math.isfinite(y):
        return math.nan
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    spread = 2.0 * np.dot(w * x, 2.0 * np.cumsum(w) - w - 1.0)
    return float(np.dot(w, np.abs(x - y)) - 0.5 * spread)


def pit(draws: np.ndarray, y: float, weights=None) -> float:
    """P(X < y) + P(X = y) / 2 under the (weighted) empirical distribution of ``draws`` (the mid-PIT, for counts)."""
    x, w = _finite(draws, weights)
    if not len(x) or not math.isfinite(y):
        return math.nan
    return float(np.sum(w[x < y]) + 0.5 * np.sum(w[x == y]))


@dataclass
class Backtest:
    """A backtest's forecasts (``table``: one row per observation) and coverage."""

    scenario: object
    seed: int
    replications: int
    table: object  # pandas.DataFrame of COLUMNS
    notes: list = field(default_factory=list)  # origins whose observations were out of reach

    def coverage(self):
        """``coverage.csv``: the share of observations inside the 50% and 90% intervals (of the scored ones)."""
        import pandas as pd

        rows = []
        for name, nominal, col in (("50%", 0.5, "covered50"), ("90%", 0.9, "covered90")):
            scored = self.table[col].dropna().astype(bool)
            n = len(scored)
            rows.append((name, nominal, int(scored.sum()), n, float(scored.mean()) if n else math.nan))
        return pd.DataFrame(rows, columns=["interval", "nominal", "covered", "forecasts", "share"])

    @property
    def forecasts(self) -> int:
        return int(self.table["covered90"].notna().sum())


def score(result, observed: Observed, *, relative_error: float = RELATIVE_ERROR, seed: int | None = None) -> tuple:
    """Score every observation of ``observed`` against ``result`` conditioned on the observations of earlier years:
    (rows of :data:`COLUMNS`, notes)."""
    seed = result.seed if seed is None else normalize_seed(seed)
    sim = observed.simulated(result)
    noise_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, _NOISE_KEY])))
    noise = noise_rng.standard_normal(sim.shape)  # one column per observation, the same whatever the origins
    rows, notes = [], []
    for t in sorted(set(int(y) for y in observed.year)):
        before = select(observed, t - 1)
        w, origin, given = np.ones(len(sim)), None, 0
        if len(before):
            origin, given = int(before.year.max()), len(before)
            what = f"backtest of {t} (given the observations to {origin})"
            try:
                sim_b, sigma_b, w = likelihood(result, before, relative_error=relative_error, what=what)
                if kish(w) < MIN_KEPT:
                    raise InputError(together(before, sim_b, sigma_b, kish(w), what))
            except InputError as err:
                notes.append(str(err))
                w = None
        for k in np.flatnonzero(observed.year == t):
            y, sd = float(observed.value[k]), float(observed.sd[k])
            park = observed.park[k]
            if w is None:
                rows.append((observed.indicator[k], t, park, y, sd or math.nan, origin, given, 0.0, *([math.nan] * 9)))
                continue
            draws = sim[:, k] + (sd * noise[:, k] if sd > 0 else 0.0)
            ok = np.isfinite(draws) & (w > 0)
            if ok.any():
                q = weighted_quantile(draws[ok], w[ok], _Q)
                covered = [bool(q[1] <= y <= q[3]), bool(q[0] <= y <= q[4])]
            else:
                q, covered = np.full(len(_Q), math.nan), [math.nan, math.nan]
            rows.append(
                (
                    observed.indicator[k],
                    t,
                    park,
                    y,
                    sd or math.nan,
                    origin,
                    given,
                    kish(w[ok]),
                    *q,
                    pit(draws, y, w),
                    crps(draws, y, w),
                    *covered,
                )
            )
    return rows, notes


def backtest(
    scenario,
    *,
    replications: int = REPLICATIONS,
    seed: int | None = 1,
    jobs: int | None = None,
    posterior=None,
    relative_error: float = RELATIVE_ERROR,
    quiet: bool = True,
    engine: str = "auto",
) -> Backtest:
    """Rolling-origin backtest of ``scenario`` over its ``[[observations]]`` (see the module).

    Parameters
    ----------
    scenario : Scenario or path
    replications : int
        Replications of the one run every origin conditions (default 2,000).
    posterior : path, optional
        A ``parksim calibrate`` folder: forecast from the calibrated parameters (calibrated on observations the
        backtest then scores: an in-sample check, not a forecast test).
    relative_error : float
        Measurement error of an observation without ``sd``, as a share of its value, when conditioning on it.
    """
    import pandas as pd

    from parksim.experiments.montecarlo import simulate
    from parksim.scenario.loader import as_scenario

    scn = as_scenario(scenario)
    observed = Observed.of(scn)
    res = simulate(scn, replications=replications, seed=seed, jobs=jobs, quiet=quiet, posterior=posterior, engine=engine)
    rows, notes = score(res, observed, relative_error=relative_error)
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["origin"] = table["origin"].astype("Int64")
    table["park"] = [p if p is not None else scn.name for p in table["park"]]
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return Backtest(res.scenario, res.seed, res.replications, table, notes)

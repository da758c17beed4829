"""Fair comparison of scenarios: common random numbers and paired differences.

Every scenario is run with the same seed, so replication ``r`` of each sees the
same projects, firms and shocks wherever the scenarios do not differ. The
difference in P(met) between a variant and the base is then estimated from the
*paired* replications: a paired bootstrap gives its 95% interval, and an exact
McNemar test its p-value. Pairing removes the noise the scenarios share, so the
interval is much narrower than that of two independent runs of the same size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

COMPARE_COLUMNS = [
    "scenario",
    "target",
    "p_met",
    "diff_vs_base",
    "diff_ci_low",
    "diff_ci_high",
    "cost_yuan",
    "pp_per_100m_yuan",
    "replications",
]
BOOTSTRAP = 2000


def paired_difference(base: np.ndarray, variant: np.ndarray, *, seed: int, resamples: int = BOOTSTRAP):
    """Mean of ``variant - base`` over paired replications, with a paired-bootstrap 95% interval.

    ``base`` and ``variant`` are boolean (or numeric) arrays of the same length,
    entry ``r`` of both coming from replication ``r``. The bootstrap resamples
    replications (pairs), with a generator seeded by ``seed``, so the interval
    is reproducible.
    """
    b = np.asarray(base, dtype=float)
    v = np.asarray(variant, dtype=float)
    if b.shape != v.shape:
        raise ValueError(f"paired arrays must have the same shape, got {b.shape} and {v.shape}")
    d = v - b
    n = len(d)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xC0, 0x4E)))
    idx = rng.integers(0, n, size=(resamples, n))
    means = d[idx].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(d.mean()), float(lo), float(hi)


def mcnemar_p(base: np.ndarray, variant: np.ndarray) -> float:
    """Exact McNemar p-value (two-sided) for paired binary outcomes."""
    b = np.asarray(base, dtype=bool)
    v = np.asarray(variant, dtype=bool)
    gained, lost = int((v & ~b).sum()), int((b & ~v).sum())
    if gained + lost == 0:
        return 1.0
    from scipy.stats import binomtest  # imported when needed: scipy.stats takes ~0.5 s to import

    return float(binomtest(gained, gained + lost, 0.5).pvalue)


@dataclass
class Comparison:
    """Results of :func:`compare`: one run per scenario, all with the same seed."""

    names: list[str]
    results: list  # RunResult per scenario, base first
    costs: list  # cost in yuan per scenario (None: unknown)
    seed: int
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """``compare.csv``: for every scenario and target (and ALL), P(met), the paired
        difference from the base with its 95% interval, the cost and percentage
        points gained per 100 million yuan."""
        if "table" in self._cache:
            return self._cache["table"]
        labels = self._labels()
        base_met = self._outcomes(self.results[0])
        rows = []
        for name, res, cost in zip(self.names, self.results, self.costs, strict=True):
            met = self._outcomes(res)
            extra_cost = None if cost is None or self.costs[0] is None else cost - self.costs[0]
            for k, label in enumerate(labels):
                diff, lo, hi = paired_difference(base_met[:, k], met[:, k], seed=self.seed)
                per = 100.0 * diff / (extra_cost / 1e8) if extra_cost else np.nan
                rows.append((name, label, met[:, k].mean(), diff, lo, hi, np.nan if cost is None else cost, per, len(met)))
        df = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
        self._cache["table"] = df
        return df

    def _labels(self) -> list[str]:
        base = self.results[0]
        labels = [s.label for s in base.specs] + ["ALL"]
        if base.assessment_def is not None:
            labels += [f"status {st} after {base.years[-1]}" for st in base.statuses]
        return labels

    def _outcomes(self, res) -> np.ndarray:
        """(replications, outcomes): each target met, ALL met, and in each status after the last assessment."""
        cols = _with_all(res.met())
        if res.assessment_def is not None:
            last = res.status_codes()[:, -1]
            cols = np.column_stack([cols, *[(last == k) for k in range(len(res.statuses))]])
        return cols

    @property
    def levels(self) -> pd.DataFrame:
        """``levels.csv``: every variant's paired change in each targeted indicator (in the target's year), mean with
        its 95% paired-bootstrap interval and median, and the extra cost per unit gained (see :mod:`parksim.results.levels`)."""
        if "levels" not in self._cache:
            from parksim.results.levels import level_table

            self._cache["levels"] = level_table(self)
        return self._cache["levels"]

    @property
    def engines(self) -> dict:
        """The engine that ran each scenario (``auto`` resolves per scenario)."""
        return {name: r.engine for name, r in zip(self.names, self.results, strict=True)}

    @property
    def mcnemar(self) -> pd.DataFrame:
        """Exact McNemar p-values of every variant against the base, per target, ALL and status."""
        base_met = self._outcomes(self.results[0])
        labels = self._labels()
        rows = []
        for name, res in zip(self.names[1:], self.results[1:], strict=True):
            met = self._outcomes(res)
            rows += [(name, label, mcnemar_p(base_met[:, k], met[:, k])) for k, label in enumerate(labels)]
        return pd.DataFrame(rows, columns=["scenario", "target", "mcnemar_p"])

    def plot(self, target: str = "ALL", ax=None):
        """Paired difference from the base in P(target) for each variant, with 95% intervals."""
        from parksim.results.plots import plot_compare

        return plot_compare(self, target, ax=ax)

    def write(self, out, target: str = "ALL") -> list:
        """Write compare.csv, mcnemar.csv, compare.png (for ``target``) and each scenario's targets into ``out``."""
        from parksim.results.report_files import write_compare

        return write_compare(self, out, target)


def rank_order(t: pd.DataFrame) -> pd.DataFrame:
    """Rows of one outcome of ``compare.csv`` in rank order: most percentage points per 100 million yuan first,
    then by the change itself (a lever at no extra cost that gains nothing ranks below one that gains), the base last."""
    key = t.pp_per_100m_yuan.fillna(-np.inf)
    return t.assign(_k1=key, _k2=t.diff_vs_base).sort_values(["_k1", "_k2"], ascending=False, kind="stable").drop(columns=["_k1", "_k2"])


def _with_all(met: np.ndarray) -> np.ndarray:
    return np.column_stack([met, met.all(axis=1)]) if met.shape[1] else met.all(axis=1)[:, None]


def compare(
    base,
    variants,
    *,
    replications: int = 200,
    seed: int | None = None,
    jobs: int | None = None,
    quiet: bool = False,
    engine: str = "auto",
    posterior=None,
    cluster=None,
) -> Comparison:
    """Run a base scenario and its variants with common random numbers and compare them.

    Parameters
    ----------
    base : Scenario or path
    variants : list of Scenario or path
        Scenarios to compare with the base; they must check the same targets.
    replications, seed, jobs, quiet, engine
        As in :func:`parksim.simulate`; every scenario uses the same seed.
    posterior : path, optional
        A calibration of the base (``parksim calibrate``): every scenario draws its uncertain parameters from it, each
        replication the same particle in every scenario (common random numbers).
    cluster : str, optional
        Run every scenario on this Dask cluster (an address or ``local:N``; as in :func:`parksim.simulate`), connected
        to once for the whole comparison.

    Returns
    -------
    Comparison
        ``.table`` is ``compare.csv`` (changes in P(met)); ``.levels`` is ``levels.csv`` (changes in the
        targeted indicators' levels, and cost per unit gained).

    Portfolios of parks cannot be compared yet (an error says so): compare one park's scenario at a time.

    Examples
    --------
    >>> import parksim
    >>> cmp = parksim.compare("scenarios/xiushan-2024.toml", [], replications=4, seed=1, jobs=1, quiet=True)
    >>> cmp.table.columns[:3].tolist()
    ['scenario', 'target', 'p_met']
    """
    from parksim.errors import InputError
    from parksim.experiments.montecarlo import simulate
    from parksim.model.random import normalize_seed
    from parksim.scenario.loader import as_scenario

    seed = normalize_seed(seed)
    scenarios = [as_scenario(base), *(as_scenario(v) for v in variants)]
    if any(s.portfolio is not None for s in scenarios):
        raise InputError("compare: portfolios of parks cannot be compared yet; compare single-park scenarios")
    labels = [
        [(t.label, t.indicator, t.comparison, t.threshold, t.year, t.kind, t.base_year, t.base_value, t.tolerance) for t in s.targets]
        for s in scenarios
    ]
    statuses = [s.assessment.statuses if s.assessment is not None else None for s in scenarios]
    for s, lab, st in zip(scenarios[1:], labels[1:], statuses[1:], strict=True):
        if lab != labels[0]:
            raise InputError(f"{s._source}: targets differ from the base's; a comparison needs the same targets in every scenario")
        if st != statuses[0]:
            raise InputError(f"{s._source}: assessment statuses differ from the base's; a comparison needs the same assessment")
    names = _unique_names(scenarios)
    if posterior is not None:
        from parksim.experiments.montecarlo import with_posterior

        scenarios = [with_posterior(s, posterior) for s in scenarios]
    session, own = None, False
    if cluster is not None:
        from parksim.experiments.cluster import open_session

        session, own = open_session(cluster)
    try:
        results = [
            simulate(s, replications=replications, seed=seed, jobs=jobs, quiet=quiet, engine=engine, cluster=session) for s in scenarios
        ]
    finally:
        if own:
            session.close()
    costs = [expected_cost(r) for r in results]
    return Comparison(names, results, costs, seed)


def expected_cost(result) -> float:
    """Expected total policy cost of a run (yuan): mean over replications of the yearly policy_cost."""
    return float(np.nanmean(np.nansum(result.value_matrix("policy_cost"), axis=1))) * 1e8


def _unique_names(scenarios) -> list[str]:
    from pathlib import Path

    names = []
    for s in scenarios:
        name = Path(s._source).stem if s._source not in ("<dict>", "<python>") else s.name
        while name in names:
            name += "'"
        names.append(name)
    return names

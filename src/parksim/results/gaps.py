"""What holds the park back: every target's gap, and the assessment's result, as planners read them.

A run's ``targets.csv`` says how likely each target is met; this module says by how much the
park misses it. For each target it gives P(met) with its Wilson interval, the median of the
indicator against the threshold, and the shortfall (how much more of the indicator the park
would have needed, zero where the target is met), and orders the targets by how much they hold
the park back: the least likely first, and among equally likely ones (typically several at 0 or
1) the one that is furthest from its threshold at the median, relative to the threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parksim.experiments.stats import wilson

GAP_COLUMNS = [
    "rank",
    "target",
    "indicator",
    "unit",
    "year",
    "comparison",
    "threshold",
    "p_met",
    "ci_low",
    "ci_high",
    "median",
    "median_gap",
    "median_gap_share",
    "p_missed",
    "median_shortfall_when_missed",
    "replications",
]


def shortfall(values: np.ndarray, comparison: str, threshold: float, tolerance: float = 0.0) -> np.ndarray:
    """How much more (``>``, ``>=``, ``==`` from below) or less (``<``, ``<=``, ``==`` from above) of the
    indicator each replication would have needed to reach ``threshold``; 0 where it is reached, NaN where
    the value is NaN.

    A strict comparison (``>``) that ends exactly on the threshold is missed with a shortfall of 0.

    Examples
    --------
    >>> shortfall(np.array([50.0, 65.0]), ">=", 60.0).tolist()
    [10.0, 0.0]
    >>> shortfall(np.array([2.0, 4.0]), "<=", 3.0).tolist()
    [0.0, 1.0]
    """
    v = np.asarray(values, dtype=float)
    if comparison in (">", ">="):
        return np.maximum(threshold - v, 0.0)
    if comparison in ("<", "<="):
        return np.maximum(v - threshold, 0.0)
    if comparison == "~":  # a band: the distance to its nearer edge
        return np.maximum(np.abs(v - threshold) - tolerance, 0.0)
    return np.abs(v - threshold)


def _signed_gap(median: float, comparison: str, threshold: float, tolerance: float = 0.0) -> float:
    """Threshold minus median in the target's direction: positive = still needed, negative = margin."""
    if comparison in ("<", "<="):
        return median - threshold
    if comparison == "==":
        return abs(median - threshold)
    if comparison == "~":  # distance outside the band (negative: margin inside it)
        return abs(median - threshold) - tolerance
    return threshold - median


def gap_table(result) -> pd.DataFrame:
    """Every target of a single-park run with its gap, ordered by how much it holds the park back.

    Columns: ``rank`` (1 = holds the park back most), ``target, indicator, unit, year, comparison,
    threshold``, ``p_met, ci_low, ci_high`` (Wilson 95%), ``median`` (of the indicator in that year),
    ``median_gap`` (how much more the median needs to reach the threshold: positive = short of it,
    negative = a margin), ``median_gap_share`` (the same over the threshold), ``p_missed`` and
    ``median_shortfall_when_missed`` (the median shortfall among replications that miss it).
    """
    return rank_gaps(_gap_rows(result.specs, result.met(), result.target_value))


def _gap_rows(specs, met, value) -> pd.DataFrame:
    """The (unranked) gap table of ``specs``; ``value(spec)`` gives what a target checks, per replication."""
    n = met.shape[0]
    rows = []
    for k, s in enumerate(specs):
        v = value(s)
        hits = int(met[:, k].sum())
        lo, hi = wilson(hits, n)
        med = float(np.nanmedian(v)) if np.isfinite(v).any() else np.nan
        gap = _signed_gap(med, s.comparison, s.threshold, s.tolerance)
        share = gap / abs(s.threshold) if s.threshold else np.nan
        miss = ~met[:, k]
        sf = shortfall(v[miss], s.comparison, s.threshold, s.tolerance)
        sf_med = float(np.nanmedian(sf)) if np.isfinite(sf).any() else 0.0
        rows.append(
            (0, s.label, s.indicator, s.unit, s.year, s.comparison, s.threshold, hits / n if n else np.nan, lo, hi, med, gap, share)
            + (miss.mean() if n else np.nan, sf_med, n)
        )
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def rank_gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Order a gap table: least likely met first; ties broken by the relative gap at the median, largest first."""
    key = df.median_gap_share.fillna(df.median_gap_share.max() if df.median_gap_share.notna().any() else 0.0)
    out = df.assign(_key=-key).sort_values(["p_met", "_key"], kind="stable").drop(columns="_key").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def portfolio_gap_table(result) -> pd.DataFrame:
    """Gap tables of every park of a portfolio in one, with a ``park`` column, ordered as one list."""
    frames = []
    for name, r in result.parks.items():
        g = gap_table(r)
        g.insert(0, "park", name)
        g["target"] = [f"{name}: {t}" for t in g.target]
        frames.append(g)
    own = result.own_specs
    if own:  # the portfolio's own targets, on its parks together
        from parksim.experiments.result import PORTFOLIO

        g = _gap_rows(own, result.own_met(), result.target_value)
        g.insert(0, "park", PORTFOLIO)
        g["target"] = [f"{PORTFOLIO}: {t}" for t in g.target]
        frames.append(g)
    if not frames:
        return pd.DataFrame(columns=["park", *GAP_COLUMNS])
    return rank_gaps(pd.concat(frames, ignore_index=True))


def assessment_result(result) -> pd.DataFrame:
    """The assessment's result after the last simulated year: for every park and status, the probability of
    being in it (with its Wilson 95% interval) and of having reached it at some assessment up to then.

    Columns: ``park, year, status, probability, ci_low, ci_high, p_reached, replications``; empty without
    an ``[assessment]``.
    """
    a = result.assessment
    cols = ["park", "year", "status", "probability", "ci_low", "ci_high", "p_reached", "replications"]
    if a.empty:
        return pd.DataFrame(columns=cols)
    last = a[a.year == a.year.max()].copy()
    fp = result.first_passage
    fp = fp[fp.year == fp.year.max()].set_index(["park", "status"]).probability
    last["p_reached"] = [float(fp.loc[(p, s)]) for p, s in zip(last.park, last.status, strict=True)]
    return last[cols].reset_index(drop=True)


def _num(x: float) -> str:
    """A value for the terminal: integers without decimals, others with 3 significant digits."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    ax = abs(x)
    if ax >= 1000 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.3g}" if ax >= 1 else f"{x:.3g}"


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide (CJK) characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (CJK characters count double)."""
    return text + " " * max(0, width - display_width(text))


def format_gaps(gaps: pd.DataFrame) -> str:
    """The gap table for the terminal: one line per target, the one that holds the park back most first."""
    width = max(len("target"), *(display_width(t) for t in gaps.target)) if len(gaps) else len("target")
    head = f"{'':3s}{'target':{width}s}  {'needs':>18s}  {'P(met)':>6s}  {'95% CI':14s}  {'median':>10s}  {'gap at median':>13s}  {'shortfall when missed':>21s}"
    lines = [head]
    for r in gaps.itertuples(index=False):
        need = f"{r.comparison} {_num(r.threshold)} in {r.year}"
        gap = "met" if r.median_gap <= 0 and r.comparison != "==" else _num(r.median_gap)
        if r.comparison == "==" and r.median_gap == 0:
            gap = "met"
        sf = "-" if r.p_missed == 0 else f"{_num(r.median_shortfall_when_missed)} {r.unit}".rstrip()
        lines.append(
            f"{r.rank:>2d} {pad(r.target, width)}  {need:>18s}  {r.p_met:6.3f}  [{r.ci_low:.3f}, {r.ci_high:.3f}]  {_num(r.median):>10s}"
            f"  {gap:>13s}  {sf:>21s}"
        )
    return "\n".join(lines)


def format_assessment(table: pd.DataFrame) -> str:
    """The assessment's result for the terminal: per park, P(each status) after the last assessment."""
    if table.empty:
        return ""
    year = int(table.year.max())
    parks = list(dict.fromkeys(table.park))
    width = max(len("status"), *(len(s) for s in table.status))
    lines = [f"assessment result: status after the {year} assessment (95% CI; P(reached) = at any assessment up to then)"]
    for park in parks:
        if len(parks) > 1:
            lines.append(f"  {park}")
        for r in table[table.park == park].itertuples(index=False):
            lines.append(f"  {r.status:{width}s}  {r.probability:6.3f}  [{r.ci_low:.3f}, {r.ci_high:.3f}]  P(reached) {r.p_reached:.3f}")
    return "\n".join(lines)

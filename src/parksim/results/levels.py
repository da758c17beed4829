"""What a lever does to the targeted indicators' levels, and what each unit gained costs.

When targets are far out of reach, every lever changes P(met) by +0.0 and the ranking says
nothing. The levels still move: a lever that adds four valid high-tech enterprises moves the park
towards its target even if it does not reach it. For every variant and targeted indicator (in the
target's year) this module gives the paired change from the base over the common-random-number
replications: its mean with a paired-bootstrap 95% interval and its median, and the extra cost per
unit gained in the target's direction (up for ``>``/``>=``, down for ``<``/``<=``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVEL_COLUMNS = [
    "scenario",
    "target",
    "indicator",
    "unit",
    "year",
    "base_mean",
    "mean",
    "mean_change",
    "change_ci_low",
    "change_ci_high",
    "median_change",
    "extra_cost_yuan",
    "yuan_per_unit_gained",
    "replications",
]


def _direction(comparison: str) -> float:
    """+1 if more of the indicator brings the target closer, -1 if less does (0 for ==)."""
    return {">": 1.0, ">=": 1.0, "<": -1.0, "<=": -1.0}.get(comparison, 0.0)


def level_table(comparison) -> pd.DataFrame:
    """Paired change of every targeted indicator (in its target's year) for every variant against the base.

    ``yuan_per_unit_gained`` is the variant's extra expected cost over the mean gain in the target's
    direction; NaN when the indicator does not move the right way (or the cost is unknown).
    """
    from parksim.experiments.compare import paired_difference

    base = comparison.results[0]
    base_cost = comparison.costs[0]
    rows = []
    for name, res, cost in zip(comparison.names, comparison.results, comparison.costs, strict=True):
        extra = np.nan if cost is None or base_cost is None else cost - base_cost
        for s in base.specs:
            b = base.target_value(s)
            v = res.target_value(s)
            ok = ~(np.isnan(b) | np.isnan(v))
            diff, lo, hi = paired_difference(b[ok], v[ok], seed=comparison.seed)
            med = float(np.median(v[ok] - b[ok])) if ok.any() else np.nan
            gain = diff * _direction(s.comparison)
            per = extra / gain if gain > 0 and np.isfinite(extra) and extra > 0 else np.nan
            unit = s.unit
            rows.append(
                (
                    name,
                    s.label,
                    s.indicator,
                    unit,
                    s.year,
                    float(np.nanmean(b)),
                    float(np.nanmean(v)),
                    diff,
                    lo,
                    hi,
                    med,
                    extra,
                    per,
                    int(ok.sum()),
                )
            )
    return pd.DataFrame(rows, columns=LEVEL_COLUMNS)


def _fmt(x: float) -> str:
    ax = abs(x)
    if ax >= 100:
        return f"{x:+,.0f}"
    if ax >= 1:
        return f"{x:+.1f}"
    return f"{x:+.2g}" if x else "+0"


def _sig3(v: float) -> str:
    """Three significant digits, never in exponent notation: 4,800 / 30.1 / 0.345."""
    digits = max(0, 2 - int(np.floor(np.log10(abs(v))))) if v else 0
    return f"{round(v, digits):,.{digits}f}"


def yuan(x: float) -> str:
    """An amount of yuan as planners write it: 亿 (100 million) or 万 (10,000) yuan, three significant digits."""
    if x >= 1e8:
        return f"{_sig3(x / 1e8)}亿 yuan"
    if x >= 1e4:
        return f"{_sig3(x / 1e4)}万 yuan"
    return f"{x:,.0f} yuan"


def format_level_changes(levels: pd.DataFrame, scenario: str, only_target: str | None = None, limit: int = 4) -> list[str]:
    """Lines for the terminal: the variant's clearest changes in the targeted indicators (95% interval away from 0),
    largest relative to the base first, e.g. ``+4.0 firms [+3.0, +5.0] in >= 60 valid HNTE; 25万 yuan per firm``."""
    rows = levels[levels.scenario == scenario]
    if only_target is not None:
        rows = rows[rows.target == only_target]
    clear = rows[(rows.change_ci_low > 0) | (rows.change_ci_high < 0)]
    rel = (clear.mean_change.abs() / clear.base_mean.abs().replace(0, np.nan)).fillna(np.inf)
    out = []
    for r in clear.assign(_rel=rel).sort_values("_rel", ascending=False, kind="stable").head(limit).itertuples(index=False):
        cost = "" if np.isnan(r.yuan_per_unit_gained) else f"; {yuan(r.yuan_per_unit_gained)} per {r.unit.rstrip('s') or 'unit'} gained"
        out.append(
            f"{_fmt(r.mean_change)} {r.unit} [{_fmt(r.change_ci_low)}, {_fmt(r.change_ci_high)}] (median {_fmt(r.median_change)})"
            f" in {r.target}{cost}"
        )
    if not out and only_target is None and len(rows):
        out.append("no targeted indicator changes clearly (every 95% interval includes 0)")
    return out

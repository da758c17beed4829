"""Write a threshold search's files atomically: threshold.csv, threshold.png, answer.json, manifest.json (last)."""

from __future__ import annotations

import math
import textwrap
from datetime import UTC, datetime
from pathlib import Path


def threshold_manifest(th) -> dict:
    from parksim.results.report_files import _jsonable, _versions

    return _jsonable(
        {
            "kind": "threshold",
            **th.summary(),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": _versions(),
        }
    )


def plot_threshold(th, ax=None):
    """P(target) against the key at every evaluated point with its Wilson 95% band, the line at ``p``, the answer and
    its 95% interval, and the scenario's own value; returns the Axes."""
    from parksim.results.plots import _pyplot, _text

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.5))
    t = th.table.sort_values("value")
    ax.fill_between(t.value, t.ci_low, t.ci_high, color="tab:blue", alpha=0.2, lw=0, label="Wilson 95% band")
    ax.plot(t.value, t.p_met, "o-", color="tab:blue", ms=4, lw=1.2, label=_text(f"P({th.target})"))
    ax.axhline(th.p, color="tab:red", lw=1, ls="--", label=f"p = {th.p:g}")
    if th.status == "found":
        lo, hi = th.ci
        lo = lo if math.isfinite(lo) else min(th.low, t.value.min())
        hi = hi if math.isfinite(hi) else max(th.high, t.value.max())
        ax.axvspan(lo, hi, color="tab:red", alpha=0.12, lw=0, label="answer's 95% CI")
        ax.axvline(th.answer, color="tab:red", lw=1.5, label=f"answer {th.fmt(th.answer)}")
    if th.current is not None and not isinstance(th.current, dict) and th.current_p is not None:
        ax.plot([float(th.current)], [th.current_p], "s", color="black", ms=6, label=f"the scenario's value {th.fmt(float(th.current))}")
    ax.set_xlabel(th.key)
    ax.set_ylabel("P(met)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(_text(textwrap.fill(f"{th.scenario.name}: {th.sentence()}", 110)), fontsize=8)
    ax.legend(fontsize=7, loc="best")
    return ax


def write_threshold(th, out) -> list[Path]:
    from parksim.results.report_files import write_folder

    fig = plot_threshold(th).figure
    fig.tight_layout()
    man = threshold_manifest(th)
    answer = {k: man[k] for k in man if k not in ("versions", "finished", "kind")}
    return write_folder(out, {"threshold.csv": th.table, "threshold.png": fig, "answer.json": answer}, man)

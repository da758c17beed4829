"""Write a backtest's files atomically: backtest.csv, coverage.csv, backtest.png, manifest.json (last)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def backtest_manifest(bt, relative_error: float) -> dict:
    from parksim.results.report_files import _jsonable, _versions
    from parksim.scenario.loader import scenario_hash

    scn = bt.scenario
    cov = bt.coverage().set_index("interval")["share"]
    return _jsonable(
        {
            "kind": "backtest",
            "scenario_name": scn.name,
            "scenario_file": scn._source,
            "scenario_sha256": scenario_hash(scn),
            "seed": bt.seed,
            "replications": bt.replications,
            "observations": len(bt.table),
            "forecasts": bt.forecasts,
            "coverage50": float(cov["50%"]),
            "coverage90": float(cov["90%"]),
            "relative_error": relative_error,
            "posterior": ({"digest": scn._given.digest, **scn._given.meta} if scn._given is not None else None),
            "notes": bt.notes,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": _versions(),
        }
    )


def backtest_figure(bt):
    """Left: each observation against its forecast's 50% and 90% intervals (÷ the observed value); right: the PIT
    histogram (flat for a calibrated model)."""
    from parksim.results.plots import _pyplot, _text

    plt = _pyplot()
    t = bt.table
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, max(3.0, 0.25 * len(t) + 1.4)), width_ratios=[2, 1])
    for k, r in enumerate(t.itertuples()):
        ref = r.observed if r.observed else 1.0
        a1.plot([r.p05 / ref, r.p95 / ref], [k, k], color="tab:blue", lw=2, alpha=0.5)
        a1.plot([r.p25 / ref, r.p75 / ref], [k, k], color="tab:blue", lw=5)
        a1.plot([r.p50 / ref], [k], "o", color="white", mec="tab:blue", ms=4)
    a1.axvline(1.0, color="tab:red", lw=1.5)
    a1.set_yticks(range(len(t)))
    labels = [f"{r.indicator} {r.year}" + (f" (given to {r.origin})" if r.given else " (prior)") for r in t.itertuples()]
    a1.set_yticklabels([_text(x) for x in labels], fontsize=7)
    a1.invert_yaxis()
    a1.set_xlabel("forecast ÷ observed (red: observed; bars: 50% and 90% intervals)", fontsize=8)
    a1.set_title("forecasts against what was observed", fontsize=10)
    a2.hist(t["pit"].dropna(), bins=np.linspace(0, 1, 11), color="tab:blue", edgecolor="white")
    a2.set_xlabel("PIT (flat when the forecasts are calibrated)", fontsize=8)
    a2.set_title("probability integral transform", fontsize=10)
    cov = bt.coverage().set_index("interval")
    fig.suptitle(
        _text(
            f"{bt.scenario.name}: {bt.forecasts} forecasts; inside the 50% interval {cov.loc['50%', 'share']:.2f},"
            f" the 90% {cov.loc['90%', 'share']:.2f}"
        ),
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def write_backtest(bt, out, relative_error: float) -> list[Path]:
    from parksim.results.report_files import write_folder

    files = {"backtest.csv": bt.table, "coverage.csv": bt.coverage(), "backtest.png": backtest_figure(bt)}
    return write_folder(out, files, backtest_manifest(bt, relative_error))

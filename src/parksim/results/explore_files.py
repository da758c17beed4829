"""Write an exploration's files atomically: experiments.parquet, sensitivity.csv, variance.csv, scenarios.csv,
sensitivity.png, prim.png, manifest.json (last)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def explore_manifest(ex, p: float, sentences: list, seconds: float, cluster=None) -> dict:
    from parksim.results.report_files import _jsonable, _versions
    from parksim.scenario.loader import scenario_hash

    scn = ex.scenario
    return _jsonable(
        {
            "kind": "explore",
            "scenario_name": scn.name,
            "scenario_file": scn._source,
            "scenario_sha256": scenario_hash(scn),
            "design": ex.kind,
            "base_points": ex.base_points,
            "points": ex.points,
            "replications": ex.replications,
            "simulations": ex.points * ex.replications,
            "seed": ex.seed,
            "common_random_numbers": ex.crn,
            "inputs": [
                {
                    "path": i.path,
                    "varied": i.varied,
                    "distribution": str(i.priors[0][1]),
                    "p05": float(i.values(np.array(0.05))),
                    "p95": float(i.values(np.array(0.95))),
                }
                for i in ex.inputs
            ],
            "targets": ex.labels,
            "p": p,
            "scenarios": sentences,
            "seconds": round(seconds, 2),
            "cluster": cluster,
            "started": ex.started,
            "finished": ex.finished,
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": _versions(),
        }
    )


def sensitivity_figure(ex, sens):
    """The main index of every input for P(ALL) and each target (Sobol ST, Morris mu_star, RBD-FAST S1), with its
    interval: what matters, most first."""
    from parksim.results.plots import _pyplot, _text

    plt = _pyplot()
    index = {"sobol": "ST", "morris": "mu_star", "rbd_fast": "S1"}
    pm = ex.p_met()
    outputs = [
        f"P({label})" for k, label in enumerate(ex.labels) if np.ptp(pm[:, k]) > 0 or label == "ALL"
    ]  # constant ones: nothing to show
    fig, axes = plt.subplots(1, len(outputs), figsize=(3.6 * len(outputs) + 2.5, 0.3 * len(ex.inputs) + 1.8), sharey=True, squeeze=False)
    order = None
    for ax, out in zip(axes[0], outputs, strict=True):
        s = sens[(sens.output == out) & (sens["index"] == sens.method.map(index))].set_index("parameter")
        if order is None:
            all_rows = sens[(sens.output == outputs[-1]) & (sens["index"] == sens.method.map(index))].set_index("parameter")
            order = list(all_rows.value.fillna(0).sort_values().index)
        s = s.reindex(order)
        y = np.arange(len(order))
        ax.barh(y, s.value.fillna(0), color="tab:blue", alpha=0.7)
        err = np.vstack([(s.value - s.ci_low).clip(lower=0).fillna(0), (s.ci_high - s.value).clip(lower=0).fillna(0)])
        ax.errorbar(s.value.fillna(0), y, xerr=err, fmt="none", ecolor="black", lw=0.8)
        ax.set_title(_text(out), fontsize=8)
        ax.set_yticks(y)
        ax.set_yticklabels(order, fontsize=7)
        ax.axvline(0, color="0.5", lw=0.6)
    method = {"sobol": "total Sobol index ST", "morris": "Morris mu_star", "lhs": "first-order index S1 (RBD-FAST)"}[ex.kind]
    fig.suptitle(
        _text(f"{ex.scenario.name}: what drives P(met) ({method}, 95% interval; {ex.points} points x {ex.replications} replications)"),
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def prim_figure(ex, table, p: float):
    """P(ALL) at each point against the two inputs PRIM restricts first (or the two most important), the points
    with P(ALL) >= p marked, and the first box drawn."""
    from parksim.results.plots import _pyplot, _text

    plt = _pyplot()
    values = ex.input_values()
    names = list(dict.fromkeys(list(table[table.target == "ALL"].parameter) + [i.path for i in ex.inputs]))[:2]
    fig, ax = plt.subplots(figsize=(6.5, 5))
    pm = ex.p_met()[:, -1]
    if len(names) == 1:
        xs, ys = values[names[0]], pm
        ax.set_ylabel("P(ALL)")
    else:
        xs, ys = values[names[0]], values[names[1]]
        ax.set_ylabel(_text(names[1]), fontsize=8)
    sc = ax.scatter(xs, ys, c=pm, cmap="viridis", vmin=0, vmax=1, s=12, edgecolors=np.where(pm >= p, "red", "none"), linewidths=0.6)
    fig.colorbar(sc, ax=ax, label="P(ALL)")
    box = table[(table.target == "ALL") & (table.box == 1)].set_index("parameter")
    if len(box) and len(names) == 2:
        lo = [box.low.get(n, np.nan) for n in names]
        hi = [box.high.get(n, np.nan) for n in names]
        x0 = lo[0] if np.isfinite(lo[0]) else np.min(xs)
        x1 = hi[0] if np.isfinite(hi[0]) else np.max(xs)
        y0 = lo[1] if np.isfinite(lo[1]) else np.min(ys)
        y1 = hi[1] if np.isfinite(hi[1]) else np.max(ys)
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="red", lw=1.5, ls="--"))
    ax.set_xlabel(_text(names[0]), fontsize=8)
    ax.set_title(_text(f"points with P(ALL) >= {p:g} (red edge) and PRIM's first box"), fontsize=9)
    fig.tight_layout()
    return fig


def write_exploration(ex, out, p: float = 0.8, seconds: float = 0.0, cluster=None) -> tuple[list[Path], list[str]]:
    """Write the exploration's files into ``out``; returns the files and the plain-language scenario sentences."""
    from parksim.experiments.explore import discover
    from parksim.results.report_files import write_folder

    sens = ex.sensitivity()
    table, sentences = discover(ex, p)
    files = {
        "experiments.parquet": ex.experiments(),
        "sensitivity.csv": sens,
        "variance.csv": ex.variance(),
        "scenarios.csv": table,
        "sensitivity.png": sensitivity_figure(ex, sens),
        "prim.png": prim_figure(ex, table, p),
    }
    return write_folder(out, files, explore_manifest(ex, p, sentences, seconds, cluster)), sentences

"""What the report says about a stress test of the targets: an exploration's folder (``parksim explore``: which
inputs matter, under which conditions the targets are met, how much of the uncertainty is the inputs' and how much
replication noise) and a threshold search's folder (``parksim threshold``: what it would take).

Every string from a file is HTML-escaped; every number shown carries its exact value in a ``data-value``
attribute, so a test can check it against the CSVs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from parksim.results.report_sections import _e, bold, image, num, read_table

#: the index each design ranks the inputs by, and the one shown beside it
MAIN_INDEX = {"sobol": "ST", "morris": "mu_star", "lhs": "S1"}
SECOND_INDEX = {"sobol": "S1", "morris": "sigma"}
INDEX_WORDS = {
    "ST": "total Sobol index ST (the share of P(met)'s variance over the design that the input explains, with its interactions)",
    "S1": "first-order index S1 (the share of P(met)'s variance over the design that the input explains alone)",
    "mu_star": "Morris mu_star (the mean absolute change of P(met) when the input steps across its range)",
    "sigma": "Morris sigma",
}
DESIGN_WORDS = {
    "sobol": "a Sobol design (Saltelli's scheme)",
    "morris": "Morris one-at-a-time trajectories",
    "lhs": "a Latin hypercube",
}


def _bar(value, scale: float) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "<td></td>"
    width = 0.0 if not math.isfinite(v) or scale <= 0 else max(0.0, min(1.0, v / scale)) * 120
    return f'<td class="l"><span class="bar" style="width:{width:.0f}px"></span></td>'


def _meta(manifest: dict) -> str:
    sha = manifest.get("scenario_sha256")
    return (
        f'<p class="meta">seed {_e(manifest.get("seed", "?"))}'
        + (f", scenario <code>{_e(manifest['scenario_file'])}</code>" if manifest.get("scenario_file") else "")
        + (f" (SHA-256 <code>{_e(sha)}</code>)" if sha else "")
        + (f", parksim {_e(manifest['versions']['parksim'])}" if (manifest.get("versions") or {}).get("parksim") else "")
        + (f", {_e(manifest['finished'])}" if manifest.get("finished") else "")
        + ".</p>"
    )


def _crn(manifest: dict) -> str:
    if manifest.get("common_random_numbers", True):
        return "with common random numbers: every point ran the same replications' random paths, so the points differ only in their inputs"
    return "<b>without</b> common random numbers: every point ran random paths of its own"


# --- an exploration ------------------------------------------------------------------------------------------
def _inputs_table(manifest: dict) -> str:
    rows = []
    for i in manifest.get("inputs") or []:
        how = "over the range given (--vary)" if i.get("varied") else "over its distribution in the scenario"
        rows.append(
            f'<tr data-input="{_e(i.get("path", ""))}"><td class="l"><code>{_e(i.get("path", ""))}</code></td>'
            f'<td class="l">{_e(how)}</td><td class="l">{_e(i.get("distribution", ""))}</td>'
            f"{num(i.get('p05'), '{:.4g}')}{num(i.get('p95'), '{:.4g}')}</tr>"
        )
    if not rows:
        return ""
    head = '<tr><th class="l">input</th><th class="l">varied</th><th class="l">distribution</th><th>5%</th><th>95%</th></tr>'
    return f'<table id="inputs">{head}{"".join(rows)}</table>'


def _ranking(sens: pd.DataFrame, output: str, main: str, second: str | None, p_mean) -> str:
    """One output's inputs, most important first, by the main index with its 95% interval."""
    s = sens[(sens.output == output) & (sens["index"] == main)].copy()
    s["key"] = s.value.fillna(-math.inf)
    s = s.sort_values("key", ascending=False, kind="stable")
    other = sens[(sens.output == output) & (sens["index"] == second)].set_index("parameter").value if second else None
    scale = float(s.value.abs().max()) if s.value.notna().any() else 0.0
    rows = []
    for rank, r in enumerate(s.itertuples(index=False), start=1):
        extra = num(other.get(r.parameter), "{:.3f}") if other is not None else ""
        rows.append(
            f'<tr data-parameter="{_e(r.parameter)}"><td>{rank}</td><td class="l"><code>{_e(r.parameter)}</code></td>'
            f"{num(r.value)}{_bar(r.value, scale)}{num(r.ci_low)}{num(r.ci_high)}{extra}</tr>"
        )
    head = (
        f'<tr><th></th><th class="l">input</th><th>{_e(main)}</th><th></th><th>95% low</th><th>95% high</th>'
        + (f"<th>{_e(second)}</th>" if second else "")
        + "</tr>"
    )
    mean = f" (mean P(met) over the points: {bold(p_mean, '{:.3f}')})" if p_mean is not None else ""
    return f'<h3>{_e(output)}{mean}</h3><table class="ranking" data-output="{_e(output)}">{head}{"".join(rows)}</table>'


def _not_moved(sens: pd.DataFrame, output: str, main: str) -> bool:
    """True when no input has a nonzero main index for ``output`` (it is the same at every point, or undefined)."""
    v = sens[(sens.output == output) & (sens["index"] == main)].value
    return bool(v.isna().all() or (v.fillna(0) == 0).all())


def _indicator_table(sens: pd.DataFrame, main: str) -> str:
    """The targeted indicators' means: the two inputs that move each most."""
    outputs = [o for o in dict.fromkeys(sens.output) if str(o).startswith("mean ")]
    rows = []
    for out in outputs:
        s = sens[(sens.output == out) & (sens["index"] == main)].copy()
        if _not_moved(sens, out, main):
            continue
        s = s.assign(key=s.value.fillna(-math.inf)).sort_values("key", ascending=False, kind="stable")
        first = s.iloc[0]
        second = f'<td class="l"><code>{_e(s.iloc[1].parameter)}</code></td>{num(s.iloc[1].value)}' if len(s) > 1 else "<td></td><td></td>"
        rows.append(
            f'<tr data-output="{_e(out)}"><td class="l">{_e(out[len("mean ") :])}</td>'
            f'<td class="l"><code>{_e(first.parameter)}</code></td>{num(first.value)}{num(first.ci_low)}{num(first.ci_high)}{second}</tr>'
        )
    if not rows:
        return ""
    head = (
        f'<tr><th class="l">indicator, year</th><th class="l">moved most by</th><th>{_e(main)}</th><th>95% low</th>'
        f'<th>95% high</th><th class="l">then by</th><th>{_e(main)}</th></tr>'
    )
    return (
        "<h3>The targeted indicators' levels</h3><p>An input can move an indicator without changing whether its target"
        " is met (a target far out of reach, or met everywhere). Each targeted indicator's mean over a point's"
        f' replications, and the inputs that move it most:</p><table id="indicators">{head}{"".join(rows)}</table>'
    )


def _what_matters(d: Path, manifest: dict, sens: pd.DataFrame, variance: pd.DataFrame) -> str:
    design = manifest.get("design", "lhs")
    main = MAIN_INDEX.get(design, "S1")
    second = SECOND_INDEX.get(design)
    targets = [str(t) for t in manifest.get("targets") or []]
    order = ["ALL"] + [t for t in targets if t != "ALL"]
    outputs = [f"P({t})" for t in order if f"P({t})" in set(sens.output)]
    means = dict(zip(variance.target.astype(str), variance.p_mean, strict=False)) if "p_mean" in variance else {}
    shown, still = [], []
    for out in outputs:
        target = out[2:-1]
        if _not_moved(sens, out, main):
            still.append((target, means.get(target)))
        else:
            shown.append(_ranking(sens, out, main, second, means.get(target)))
    parts = [
        "<h2>What matters</h2><p>The inputs ranked by how much they move the probability of meeting every target"
        f" (ALL) and each target in turn, by the {_e(INDEX_WORDS[main])}, with its 95% interval"
        + (f"; {_e(second)} beside it" if second else "")
        + ". An interval that reaches 0 means the design cannot tell the input from one that does not matter."
        " Every index, for every output, is in sensitivity.csv.</p>",
        *shown,
    ]
    if still:
        items = "".join(
            f'<li data-target="{_e(t)}">{_e(t)}'
            + (f": P(met) {bold(m, '{:.3f}')} at every point" if m is not None and m in (0.0, 1.0) else "")
            + (f": mean P(met) {bold(m, '{:.3f}')}" if m is not None and m not in (0.0, 1.0) else "")
            + "</li>"
            for t, m in still
        )
        parts.append(
            "<h3>Not moved by the varied inputs</h3><p>No varied input changes these probabilities across the design:"
            " they are the same at every point (met everywhere or nowhere, or decided by what is left to chance"
            f' and to the inputs not varied).</p><ul id="not-moved">{items}</ul>'
        )
    parts.append(_indicator_table(sens, main))
    parts.append(image(d / "sensitivity.png", "what drives P(met): the main sensitivity index of every input"))
    return "".join(parts)


def _conditions(d: Path, manifest: dict, boxes: pd.DataFrame) -> str:
    p = manifest.get("p", 0.8)
    sentences = "".join(f"<li>{_e(s)}</li>" for s in manifest.get("scenarios") or [])
    rows = []
    for r in boxes.itertuples(index=False):
        rows.append(
            f'<tr data-target="{_e(r.target)}" data-box="{_e(r.box)}"><td class="l">{_e(r.target)}</td><td>{_e(r.box)}</td>'
            f"{num(r.coverage, '{:.2f}')}{num(r.density, '{:.2f}')}{num(r.mass, '{:.2f}')}"
            f'<td class="l"><code>{_e(r.parameter)}</code></td>{num(r.low, "{:.4g}")}{num(r.high, "{:.4g}")}</tr>'
        )
    head = (
        '<tr><th class="l">target</th><th>box</th><th>coverage</th><th>density</th><th>mass</th>'
        '<th class="l">input</th><th>low</th><th>high</th></tr>'
    )
    table = (
        f'<table id="scenarios">{head}{"".join(rows)}</table>'
        if rows
        else '<p id="no-boxes">No box: every target is met with that probability at every point of the design or at none.</p>'
    )
    return (
        "<h2>Under which conditions the targets are met</h2><p>Scenario discovery (PRIM): for each target, the ranges"
        f" of the inputs within which its probability is at least {bold(p, '{:g}')} at most points. <i>Density</i>: the"
        " share of the box's points where it is; <i>mass</i>: the box's share of all points; <i>coverage</i>: the share"
        " of the points where it is that lie in the box. A box restricts only the inputs listed (an empty low or high:"
        f' no limit on that side).</p><ul id="prim-sentences">{sentences}</ul>{table}'
        + image(d / "prim.png", "P(ALL) at each point against the inputs PRIM restricts first")
    )


def _variance_section(variance: pd.DataFrame) -> str:
    rows = []
    for r in variance.itertuples(index=False):
        is_all = str(r.target) == "ALL"
        rows.append(
            f'<tr class="{"all" if is_all else ""}" data-target="{_e(r.target)}"><td class="l">{_e(r.target)}</td>'
            + "".join(num(x, "{:.4f}") for x in (r.p_mean, r.variance_total, r.from_inputs, r.from_replications))
            + f"{num(r.share_inputs, '{:.0%}')}{_bar(r.share_inputs, 1.0)}{num(r.share_replications, '{:.0%}')}</tr>"
        )
    head = (
        '<tr><th class="l">target</th><th>mean P(met)</th><th>variance</th><th>from the inputs</th>'
        "<th>from replication noise</th><th>share from the inputs</th><th></th><th>share from noise</th></tr>"
    )
    return (
        "<h2>Parameter uncertainty vs replication noise</h2><p>Whether a target is met varies both with the explored"
        " inputs and from one replication to the next at the same inputs (what is left to chance: which projects sign,"
        " which firms grow, and the inputs not varied). The variance of met / not met splits into the two (law of"
        " total variance). A large share from the inputs means that learning them better would sharpen the answer;"
        " a large share from noise means the outcome stays a matter of chance whatever they are. A target met at"
        f' every point or at none has no variance to split.</p><table id="variance">{head}{"".join(rows)}</table>'
    )


def explore_body(d: Path, manifest: dict) -> tuple[str, list[str]]:
    """The title and sections of an exploration folder's report."""
    what = "parksim explore (sensitivity.csv, variance.csv, scenarios.csv)"
    sens = read_table(d, "sensitivity.csv", what)
    variance = read_table(d, "variance.csv", what)
    boxes = read_table(d, "scenarios.csv", what)
    name = manifest.get("scenario_name", "park")
    design = manifest.get("design", "lhs")
    points, reps = manifest.get("points"), manifest.get("replications")
    inputs = manifest.get("inputs") or []
    seconds = manifest.get("seconds")
    header = (
        f'<p class="note" id="explore-headline">{bold(len(inputs))} inputs explored by {_e(DESIGN_WORDS.get(design, design))}'
        f" (<code>{_e(design)}</code>): {bold(points)} points x {bold(reps)} replications, {_crn(manifest)}"
        + (f"; {bold(seconds, '{:,.1f}')} seconds" if seconds is not None else "")
        + ". The other uncertain parameters keep being drawn per replication, the same at every point.</p>"
    )
    return f"{name}: exploration", [
        "<p><b>The question:</b> which of the scenario's assumptions decide whether the park meets its targets, and"
        " under which of them are the targets met?</p>",
        _meta(manifest),
        header,
        _inputs_table(manifest),
        _what_matters(d, manifest, sens, variance),
        _conditions(d, manifest, boxes),
        _variance_section(variance),
    ]


# --- a threshold search --------------------------------------------------------------------------------------
def _number(x):
    """A manifest's number (non-finite ones are stored as strings), or None."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _distribution(d: dict) -> str:
    try:
        from parksim.experiments.threshold import describe_distribution

        return describe_distribution(d)
    except Exception:  # a folder written by another version: the distribution as stored
        return json.dumps(d, ensure_ascii=False)


def _cell(x, fmt: str) -> str:
    v = _number(x)
    return "<td></td>" if v is None else num(v, fmt)


def threshold_body(d: Path, manifest: dict) -> tuple[str, list[str]]:
    """The title and sections of a threshold search folder's report."""
    what = "parksim threshold (threshold.csv)"
    table = read_table(d, "threshold.csv", what)
    name = manifest.get("scenario_name", "park")
    key, target = manifest.get("key", ""), manifest.get("target", "ALL")
    sentence = manifest.get("sentence") or manifest.get("message", "")
    status = manifest.get("status", "")
    summary_rows = [
        ("key", f'<td class="l"><code>{_e(key)}</code></td>'),
        ("target", f'<td class="l">{_e(target)}</td>'),
        ("probability asked for", _cell(manifest.get("p"), "{:g}")),
        ("P as the key grows", f'<td class="l">{_e("rises" if manifest.get("direction") == "increasing" else "falls")}</td>'),
        ("lowest value searched", _cell(manifest.get("low"), "{:,.6g}")),
        ("highest value searched", _cell(manifest.get("high"), "{:,.6g}")),
        ("status", f'<td class="l">{_e(status)}</td>'),
        ("answer", _cell(manifest.get("answer"), "{:,.6g}")),
        ("95% low", _cell(manifest.get("ci_low"), "{:,.6g}")),
        ("95% high", _cell(manifest.get("ci_high"), "{:,.6g}")),
        ("evaluations", _cell(manifest.get("evaluations"), "{:,.0f}")),
        ("replications per evaluation", _cell(manifest.get("replications"), "{:,.0f}")),
    ]
    current = manifest.get("scenario_value")
    if manifest.get("scenario_p") is not None:
        shown = f"a distribution: {_distribution(current)}" if isinstance(current, dict) else current
        summary_rows.append(("the scenario's own value", f'<td class="l">{_e(shown)}</td>'))
        summary_rows.append(("P at the scenario's own value", _cell(manifest.get("scenario_p"), "{:.3f}")))
    summary = "".join(f'<tr data-row="{_e(label)}"><td class="l">{_e(label)}</td>{cell}</tr>' for label, cell in summary_rows)
    rows = []
    for r in table.sort_values("value", kind="stable").itertuples(index=False):
        rows.append(
            f'<tr data-stage="{_e(r.stage)}"><td class="l">{_e(r.stage)}</td>'
            f"{num(r.value, '{:,.6g}')}{num(r.p_met)}{_bar(r.p_met, 1.0)}{num(r.ci_low)}{num(r.ci_high)}{num(r.replications, '{:,.0f}')}</tr>"
        )
    head = (
        '<tr><th class="l">stage</th><th>value of the key</th><th>P(met)</th><th></th><th>95% low</th><th>95% high</th>'
        "<th>replications</th></tr>"
    )
    notes = "".join(f"<li>{_e(n)}</li>" for n in manifest.get("notes") or [])
    return f"{name}: what it would take", [
        f"<p><b>The question:</b> what value of <code>{_e(key)}</code> would it take for P({_e(target)}) to reach"
        f" {bold(manifest.get('p'), '{:g}')}?</p>",
        _meta(manifest),
        f'<p class="note" id="threshold-answer">{_e(sentence)}.</p>',
        (f'<ul id="threshold-notes">{notes}</ul>' if notes else ""),
        f'<table id="threshold-summary">{summary}</table>',
        "<h2>Every evaluated point</h2><p>P(met) at each value of the key the search evaluated (the first grid, the"
        " bisection that refined the crossing, and the scenario as it is), with its Wilson 95% interval. Every"
        " evaluation ran the same replications with the same seed (common random numbers), so the differences"
        f" between points are the key's doing, not chance's.</p><table id=\"threshold\">{head}{''.join(rows)}</table>",
        image(d / "threshold.png", "P(met) against the key, with the answer and its interval"),
    ]

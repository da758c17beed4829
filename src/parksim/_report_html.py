"""A self-contained HTML report for leadership, from a run or compare directory.

Everything is inside the one file: figures are embedded as base64 PNG, styles
are inline, and no script or font is fetched from anywhere. Every string that
comes from a scenario file is HTML-escaped. Each number shown carries its exact
value in a ``data-value`` attribute, so a test can check it against the CSVs.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

import pandas as pd

from ._errors import InputError
from ._output import atomic_write_text

CSS = """
body{font-family:-apple-system,'Segoe UI','Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em} th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3} td.l,th.l{text-align:left} tr.all td{font-weight:bold;background:#fafafa}
.meta{color:#555;font-size:.9em} .bar{display:inline-block;height:.7em;background:#4c78a8;vertical-align:middle}
img{max-width:100%;border:1px solid #eee} .note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em}
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _num(value, fmt: str = "{:.3f}", cls: str = "") -> str:
    """A table cell showing ``value`` formatted, with the exact value in data-value."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return f'<td class="l">{_e(value)}</td>'
    if math.isnan(v):
        return '<td data-value="nan"></td>'
    c = f' class="{cls}"' if cls else ""
    return f'<td{c} data-value="{v!r}">{_e(fmt.format(v))}</td>'


def _img(path: Path, alt: str) -> str:
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></p>'


def _targets_table(df: pd.DataFrame) -> str:
    rows = []
    for r in df.itertuples(index=False):
        is_all = str(r.target) == "ALL" or str(r.target).endswith(": ALL")
        thr = "every target" if is_all else f"{r.indicator} {r.comparison} {r.threshold:g} in {int(r.year)}"
        bar = f'<span class="bar" style="width:{max(0.0, min(1.0, r.p_met)) * 120:.0f}px"></span>'
        rows.append(
            f'<tr class="{"all" if is_all else ""}" data-target="{_e(r.target)}"><td class="l">{_e(r.target)}</td>'
            f'<td class="l">{_e(thr)}</td>{_num(r.p_met, cls="p")}<td class="l">{bar}</td>{_num(r.ci_low)}{_num(r.ci_high)}</tr>'
        )
    head = '<tr><th class="l">target</th><th class="l">threshold</th><th>P(met)</th><th></th><th>95% low</th><th>95% high</th></tr>'
    return f'<table id="targets">{head}{"".join(rows)}</table>'


def _assessment_section(d: Path) -> str:
    path = d / "assessment.csv"
    if not path.exists():
        return ""
    a = pd.read_csv(path)
    last = a[a.year == a.year.max()]
    fp = pd.read_csv(d / "first_passage.csv") if (d / "first_passage.csv").exists() else None
    rows = []
    for r in last.itertuples(index=False):
        reached = ""
        if fp is not None:
            m = fp[(fp.park == r.park) & (fp.year == r.year) & (fp.status == r.status)]
            reached = _num(m.probability.iloc[0]) if len(m) else "<td></td>"
        rows.append(
            f'<tr><td class="l">{_e(r.park)}</td><td class="l">{_e(r.status)}</td>{_num(r.probability)}{_num(r.ci_low)}{_num(r.ci_high)}{reached}</tr>'
        )
    head = (
        '<tr><th class="l">park</th><th class="l">status</th><th>P(in status)</th><th>95% low</th><th>95% high</th>'
        f"<th>P(reached by {int(last.year.max())})</th></tr>"
    )
    return (
        f"<h2>Assessment outcome</h2><p>Status after the {int(last.year.max())} assessment (and whether it was reached at any"
        f' assessment up to then).</p><table id="assessment">{head}{"".join(rows)}</table>'
        + _img(d / "assessment.png", "status probabilities over the years")
    )


def _compare_section(d: Path, manifest: dict) -> str:
    t = pd.read_csv(d / "compare.csv")
    target = manifest.get("ranked_by", "ALL")
    sel = t[t.target == target].copy()
    sel["key"] = sel.pp_per_100m_yuan.fillna(-math.inf)
    sel = sel.sort_values("key", ascending=False, kind="stable")
    rows = []
    for r in sel.itertuples(index=False):
        rows.append(
            f'<tr data-scenario="{_e(r.scenario)}"><td class="l">{_e(r.scenario)}</td>{_num(r.p_met)}{_num(r.diff_vs_base * 100, "{:+.1f}")}'
            f"{_num(r.diff_ci_low * 100, '{:+.1f}')}{_num(r.diff_ci_high * 100, '{:+.1f}')}{_num(r.cost_yuan, '{:,.0f}')}{_num(r.pp_per_100m_yuan, '{:.1f}')}</tr>"
        )
    head = (
        '<tr><th class="l">scenario</th><th>P</th><th>change, pp</th><th>95% low</th><th>95% high</th><th>cost, yuan</th>'
        "<th>pp per 100m yuan</th></tr>"
    )
    return (
        f"<h2>Levers ranked by probability per yuan</h2><p>Outcome: <b>P({_e(target)})</b>. All scenarios ran with the same seed"
        " (common random numbers); changes are paired differences from the base with 95% paired-bootstrap intervals."
        f'</p><table id="compare">{head}{"".join(rows)}</table>' + _img(d / "compare.png", "paired differences")
    )


def _assumptions(scenario: dict, sources: list) -> str:
    from ._realise import uncertain_parameters
    from ._scenario import Scenario

    items = []
    desc = scenario.get("description")
    if desc:
        items.append(f"<li>{_e(desc)}</li>")
    try:
        scn = Scenario.model_validate(_unjson(scenario))
        for path in uncertain_parameters(scn):
            items.append(f"<li>Uncertain, drawn once per replication: <code>{_e(path)}</code></li>")
    except Exception:  # the manifest comes from another version: list what can be read
        pass
    src = "".join(f"<li>{_e(s)}</li>" for s in sources)
    return (
        "<h2>Key assumptions and sources</h2><ul>"
        + "".join(items)
        + "<li>Every parameter's default, unit and source (or <i>assumption</i>) is listed in docs/parameters.md; the full"
        " resolved scenario is in manifest.json.</li></ul>" + (f"<p>Sources:</p><ul>{src}</ul>" if src else "")
    )


def _unjson(x):
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    if isinstance(x, dict):
        return {k: _unjson(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_unjson(v) for v in x]
    return x


def build_report(directory) -> Path:
    """Write ``report.html`` into a run or compare directory; returns its path."""
    d = Path(directory)
    manifest_path = d / "manifest.json"
    if not manifest_path.exists():
        raise InputError(f"{d}: not a run or compare directory (no manifest.json); expected the --out of parksim run or compare")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    is_compare = manifest.get("kind") == "compare"
    if is_compare:
        base = manifest["base"]
        run_dir = d / "scenarios" / base
        run_manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    else:
        run_dir, run_manifest = d, manifest
    scenario = run_manifest["scenario"]
    name = scenario.get("name", "park")
    targets = pd.read_csv(run_dir / "targets.csv")
    all_row = targets[targets.target == "ALL"].iloc[0]
    binding = pd.read_csv(run_dir / "binding.csv") if (run_dir / "binding.csv").exists() else pd.DataFrame()
    bind_text = ""
    if len(binding) and not pd.isna(binding.p_fails_given_all_missed.iloc[0]):
        b = binding.iloc[0]
        bind_text = (
            f'<p id="binding">Binding target: <b>{_e(b.target)}</b>. It fails in'
            f" {b.p_fails_given_all_missed:.0%} of the replications that miss the joint target"
            f" and is the only failure in {b.p_only_failure:.0%} of them.</p>"
        )
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(name)}: parksim report</title>',
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_e(name)}</h1>",
        "<p><b>The question:</b> how likely is the park to meet its targets and pass its yearly assessment"
        + (", and which policy lever buys the most probability per yuan?" if is_compare else "?")
        + "</p>",
        f'<p class="meta">{int(run_manifest["replications"])} replications, seed {_e(run_manifest["seed"])}, scenario'
        f" SHA-256 <code>{_e(run_manifest['scenario_sha256'])}</code>, parksim {_e(run_manifest['versions'].get('parksim', '?'))},"
        f" run {_e(run_manifest.get('started', ''))}.</p>",
        f'<p class="note">Probability that <b>every</b> target is met: <b data-value="{float(all_row.p_met)!r}">{all_row.p_met:.3f}</b>'
        f" (95% interval {all_row.ci_low:.3f}-{all_row.ci_high:.3f}).</p>",
        "<h2>Probability of meeting each target</h2>",
        _targets_table(targets),
        bind_text,
        "<h2>Fan charts of the targeted indicators</h2><p>Bands: 5-95% and 25-75% of replications; line: median; red: target.</p>",
        _img(run_dir / "fan.png", "fan charts"),
        _assessment_section(run_dir),
    ]
    if is_compare:
        parts.append(_compare_section(d, manifest))
    parts.append(_assumptions(scenario, scenario.get("sources", [])))
    parts.append('<p class="meta">Generated by parksim from the CSV files beside this report.</p></body></html>')
    out = d / "report.html"
    atomic_write_text(out, "\n".join(p for p in parts if p))
    return out

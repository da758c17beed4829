"""A self-contained HTML report for leadership, from a run or compare directory.

Everything is inside the one file: figures are embedded as base64 PNG, styles
are inline, and no script or font is fetched from anywhere. Every string that
comes from a scenario file is HTML-escaped. Each number shown carries its exact
value in a ``data-value`` attribute, so a test can check it against the CSVs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from parksim.errors import InputError
from parksim.results.output import atomic_write_text
from parksim.results.report_explore import explore_body, threshold_body
from parksim.results.report_history import backtest_body, calibration_body, history_header, history_sections
from parksim.results.report_sections import _e, font_face, gaps_section
from parksim.results.report_sections import image as _img
from parksim.results.report_sections import num as _num

CSS = """
body{font-family:'parksim-cjk',-apple-system,'Segoe UI',Roboto,'DejaVu Sans','Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em} th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3} td.l,th.l{text-align:left} tr.all td{font-weight:bold;background:#fafafa}
.meta{color:#555;font-size:.9em} .bar{display:inline-block;height:.7em;background:#4c78a8;vertical-align:middle}
img{max-width:100%;border:1px solid #eee} .note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em}
tr.outside td{background:#fdecea}
"""


def _targets_table(df: pd.DataFrame) -> str:
    from parksim.results.report_sections import amount
    from parksim.rules.indicators import INDICATORS

    rows = []
    for r in df.itertuples(index=False):
        is_all = str(r.target) == "ALL" or str(r.target).endswith(": ALL")
        unit = r.unit if isinstance(getattr(r, "unit", None), str) else INDICATORS.get(r.indicator, ("",))[0]
        thr = "every target together" if is_all else f"{r.comparison} {amount(r.threshold)} {unit} in {int(r.year)}"
        bar = f'<span class="bar" style="width:{max(0.0, min(1.0, r.p_met)) * 120:.0f}px"></span>'
        rows.append(
            f'<tr class="{"all" if is_all else ""}" data-target="{_e(r.target)}"><td class="l">{_e(r.target)}</td>'
            f'<td class="l">{_e(thr)}</td>{_num(r.p_met, cls="p")}<td class="l">{bar}</td>{_num(r.ci_low)}{_num(r.ci_high)}</tr>'
        )
    head = '<tr><th class="l">target</th><th class="l">needs</th><th>P(met)</th><th></th><th>95% low</th><th>95% high</th></tr>'
    return f'<table id="targets">{head}{"".join(rows)}</table>'


def _assessment_section(d: Path, scenario: dict) -> str:
    from parksim.results.report_sections import rule_text

    path = d / "assessment.csv"
    if not path.exists():
        return ""
    a = pd.read_csv(path)
    last = a[a.year == a.year.max()]
    several = last.park.nunique() > 1  # a single park's name is the report's title: not repeated on every row
    fp = pd.read_csv(d / "first_passage.csv") if (d / "first_passage.csv").exists() else None
    rows = []
    for r in last.itertuples(index=False):
        reached = ""
        if fp is not None:
            m = fp[(fp.park == r.park) & (fp.year == r.year) & (fp.status == r.status)]
            reached = _num(m.probability.iloc[0]) if len(m) else "<td></td>"
        park = f'<td class="l">{_e(r.park)}</td>' if several else ""
        rows.append(
            f'<tr data-status="{_e(r.status)}">{park}<td class="l">{_e(r.status)}</td>{_num(r.probability)}{_num(r.ci_low)}{_num(r.ci_high)}{reached}</tr>'
        )
    head = (
        '<tr><th class="l">park</th>' if several else "<tr>"
    ) + f'<th class="l">status</th><th>P(in status)</th><th>95% low</th><th>95% high</th><th>P(reached by {int(last.year.max())})</th></tr>'
    return (
        f"<h2>Assessment outcome</h2><p>Status after the {int(last.year.max())} assessment (and whether it was reached at any"
        f' assessment up to then).</p><table id="assessment">{head}{"".join(rows)}</table>'
        + rule_text(scenario.get("assessment") or {}, scenario.get("targets", []))
        + _img(d / "assessment.png", "status probabilities over the years")
    )


def _headline(d: Path, all_row) -> str:
    """The answer first: the assessment's result (the park's status after the last assessment) and P(every target)."""
    parts = []
    path = d / "assessment.csv"
    if path.exists():
        a = pd.read_csv(path)
        last = a[a.year == a.year.max()]
        year = int(last.year.max())
        per_park = []
        for park, rows in last.groupby("park", sort=False):
            bits = ", ".join(
                f'{_e(r.status)} <b data-value="{float(r.probability)!r}">{r.probability:.2f}</b> ({r.ci_low:.2f}–{r.ci_high:.2f})'
                for r in rows.itertuples(index=False)
                if r.probability > 0
            )
            per_park.append(f"<b>{_e(park)}</b>: {bits}" if last.park.nunique() > 1 else bits)
        sep = "<br>" if len(per_park) > 1 else ""  # a portfolio: one line per park
        parts.append(
            f'<p class="note" id="headline-assessment">Status after the {year} assessment (95% intervals): {sep}'
            + sep.join(per_park)
            + ".</p>"
        )
    parts.append(
        f'<p class="note">Probability that <b>every</b> target is met: <b data-value="{float(all_row.p_met)!r}">{all_row.p_met:.3f}</b>'
        f" (95% interval {all_row.ci_low:.3f}-{all_row.ci_high:.3f}).</p>"
    )
    return "".join(parts)


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
        f'</p><table id="compare">{head}{"".join(rows)}</table>'
        + _img(d / "compare.png", "paired differences")
        + _levels_table(d, list(sel.scenario))
    )


def _levels_table(d: Path, order: list) -> str:
    """Each lever's paired change in the targeted indicators' levels, with its cost per unit gained."""
    from parksim.results.levels import yuan

    path = d / "levels.csv"
    if not path.exists():
        return ""
    lv = pd.read_csv(path)
    base = order[-1] if order else None
    rows = []
    for name in order:
        for r in lv[(lv.scenario == name) & (lv.scenario != base)].itertuples(index=False):
            if not (r.change_ci_low > 0 or r.change_ci_high < 0):
                continue  # only the clear changes: the full table is levels.csv
            per = "" if pd.isna(r.yuan_per_unit_gained) else yuan(r.yuan_per_unit_gained)
            rows.append(
                f'<tr data-lever="{_e(name)}" data-level="{_e(r.target)}"><td class="l">{_e(name)}</td><td class="l">{_e(r.target)}</td>'
                f"{_num(r.base_mean, '{:,.0f}' if abs(r.base_mean) >= 100 else '{:.3g}')}"
                + "".join(_num(x, "{:+,.0f}" if abs(x) >= 100 else "{:+.3g}") for x in (r.mean_change, r.change_ci_low, r.change_ci_high))
                + f'<td class="l">{_e(r.unit)}</td><td class="l">{_e(per)}</td></tr>'
            )
    if not rows:
        return "<p>No lever changes a targeted indicator clearly (every 95% interval includes 0).</p>"
    head = (
        '<tr><th class="l">lever</th><th class="l">target</th><th>base mean</th><th>change</th><th>95% low</th><th>95% high</th>'
        '<th class="l">unit</th><th class="l">cost per unit gained</th></tr>'
    )
    return (
        "<h3>Effect on the targeted indicators' levels</h3><p>Paired change of each targeted indicator (in its target's year)"
        " from the base, where its 95% interval excludes 0, and the lever's extra cost per unit gained in the target's"
        f' direction. A lever can move the park towards a target that stays out of reach.</p><table id="levels">{head}{"".join(rows)}</table>'
    )


def _assumptions(scenario: dict, sources: list, run_dir: Path) -> str:
    from parksim.results.report_sections import baseline_section, uncertain_section
    from parksim.scenario.spec import Scenario

    desc = scenario.get("description")
    parts = ["<h2>Key assumptions and sources</h2>"]
    if desc:
        parts.append(f"<p>{_e(desc)}</p>")
    parts.append(baseline_section(scenario, run_dir))
    try:
        scn = Scenario.model_validate(_unjson(scenario))
        parts.append(uncertain_section(scn))
    except Exception:  # the manifest comes from another version: show what can be read
        parts.append("<p>(The uncertain parameters could not be read from this run's manifest.)</p>")
    src = "".join(f"<li>{_e(s)}</li>" for s in sources)
    if src:
        parts.append(f"<h3>Sources</h3><ul>{src}</ul>")
    parts.append("<p>The fully resolved scenario, every parameter's value included, is in manifest.json beside this report.</p>")
    return "".join(parts)


def _unjson(x):
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    if isinstance(x, dict):
        return {k: _unjson(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_unjson(v) for v in x]
    return x


KINDS = (None, "compare", "calibration", "backtest", "explore", "threshold")  # a run's manifest has no kind
EXPECTED = "expected the --out of parksim run, compare, explore, threshold, calibrate or backtest"


def _page(d: Path, title: str, body: list[str]) -> Path:
    """Write the page: styles, the embedded font for its own characters, and the body's sections."""
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}: parksim report</title>',
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        *body,
        '<p class="meta">Generated by parksim from the CSV files beside this report.</p></body></html>',
    ]
    text = "\n".join(p for p in parts if p)
    # Chinese labels stay legible without a CJK font on the reader's machine: the page's own characters, embedded
    text = text.replace("<style>", f"<style>{font_face(text)}", 1)
    out = d / "report.html"
    atomic_write_text(out, text)
    return out


def _read_manifest(d: Path, path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{d}: cannot read {path.name} ({type(err).__name__}: {err}); {EXPECTED}") from None


def build_report(directory) -> Path:
    """Write ``report.html`` into a run, compare, calibration, backtest, exploration or threshold directory; returns
    its path."""
    d = Path(directory)
    manifest_path = d / "manifest.json"
    if not manifest_path.exists():
        raise InputError(f"{d}: not a run, compare, calibration or backtest directory (no manifest.json); {EXPECTED}")
    manifest = _read_manifest(d, manifest_path)
    kind = manifest.get("kind")
    if kind not in KINDS:
        raise InputError(f"{d}: manifest.json is of an unknown kind {kind!r}; {EXPECTED}")
    if kind == "calibration":
        return _page(d, *calibration_body(d, manifest))
    if kind == "backtest":
        return _page(d, *backtest_body(d, manifest))
    if kind == "explore":
        return _page(d, *explore_body(d, manifest))
    if kind == "threshold":
        return _page(d, *threshold_body(d, manifest))
    is_compare = kind == "compare"
    if is_compare:
        base = manifest["base"]
        run_dir = d / "scenarios" / base
        run_manifest = _read_manifest(d, run_dir / "manifest.json")
    else:
        run_dir, run_manifest = d, manifest
    if not (run_dir / "targets.csv").exists():
        raise InputError(f"{run_dir}: targets.csv is missing; expected the complete output of parksim run or compare")
    scenario = run_manifest["scenario"]
    name = scenario.get("name", "park")
    targets = pd.read_csv(run_dir / "targets.csv")
    all_row = targets[targets.target == "ALL"].iloc[0]
    parts = [
        "<p><b>The question:</b> how likely is the park to meet its targets and pass its yearly assessment"
        + (", and which policy lever buys the most probability per yuan?" if is_compare else "?")
        + "</p>",
        f'<p class="meta">{int(run_manifest["replications"])} replications, seed {_e(run_manifest["seed"])}, scenario'
        f" SHA-256 <code>{_e(run_manifest['scenario_sha256'])}</code>, parksim {_e(run_manifest['versions'].get('parksim', '?'))},"
        f" run {_e(run_manifest.get('started', ''))}.</p>",
        history_header(run_dir, run_manifest, d.parent),
        _headline(run_dir, all_row),
        gaps_section(run_dir),
        "<h2>Probability of meeting each target</h2>",
        _targets_table(targets),
        "<h2>Fan charts of the targeted indicators</h2><p>Bands: 5-95% and 25-75% of replications; line: median; red: target.</p>",
        _img(run_dir / "fan.png", "fan charts"),
        _assessment_section(run_dir, scenario),
        history_sections(run_dir, run_manifest, d.parent),
    ]
    if is_compare:
        parts.append(_compare_section(d, manifest))
    parts.append(_assumptions(scenario, scenario.get("sources", []), run_dir))
    return _page(d, name, parts)

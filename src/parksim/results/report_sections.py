"""Sections of the HTML report that explain the answer: what holds the park back, how the assessment decides,
what the run assumes (the baseline first), and the embedded CJK font that keeps Chinese labels legible.

Every string from a scenario is HTML-escaped; every number shown in a table carries its exact value in a
``data-value`` attribute.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import pandas as pd

FONT_FAMILY = "parksim-cjk"


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def num(value, fmt: str = "{:.3f}", cls: str = "") -> str:
    """A table cell showing ``value`` formatted, with the exact value in data-value."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return f'<td class="l">{_e(value)}</td>'
    if math.isnan(v):
        return '<td data-value="nan"></td>'
    c = f' class="{cls}"' if cls else ""
    return f'<td{c} data-value="{v!r}">{_e(fmt.format(v))}</td>'


def bold(value, fmt: str = "{:,.0f}") -> str:
    """A number in running text, bold, with its exact value in data-value."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return f"<b>{_e(value)}</b>"
    return f'<b data-value="{v!r}">{_e(fmt.format(v))}</b>'


def read_table(d: Path, name: str, what: str):
    """``d/name`` as a DataFrame; a clear error naming the folder and the file if it is missing or unreadable."""
    import pandas as pd

    from parksim.errors import InputError

    path = d / name
    if not path.exists():
        raise InputError(f"{d}: {name} is missing; expected the complete output of {what}")
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise InputError(f"{d}: cannot read {name} ({type(err).__name__}: {err}); expected the output of {what}") from None


def image(path: Path, alt: str) -> str:
    """A PNG figure embedded as a data URI (nothing if the file is not there)."""
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></p>'


def amount(v: float) -> str:
    """A value of an indicator as the report shows it: thousands separated, at most 3 significant decimals."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.3g}"


# --- what holds the park back --------------------------------------------------------------
def gaps_section(run_dir: Path) -> str:
    """The shortfall section: every target, the one that holds the park back most first."""
    path = run_dir / "gaps.csv"
    if not path.exists():
        return ""
    g = pd.read_csv(path)
    rows = []
    for r in g.itertuples(index=False):
        gap = "met at the median" if (r.median_gap <= 0 and r.comparison != "==") else f"{amount(r.median_gap)} {r.unit}"
        short = "" if r.p_missed == 0 else f"{amount(r.median_shortfall_when_missed)} {r.unit}"
        rows.append(
            f'<tr data-gap="{_e(r.target)}"><td>{int(r.rank)}</td><td class="l">{_e(r.target)}</td>'
            f'<td class="l">{_e(r.comparison)} {_e(amount(r.threshold))} {_e(r.unit)} in {int(r.year)}</td>'
            f"{num(r.p_met)}{num(r.ci_low)}{num(r.ci_high)}{num(r.median, '{:,.0f}' if abs(r.median) >= 100 else '{:.3g}')}"
            f'<td class="l" data-value="{float(r.median_gap)!r}">{_e(gap)}</td>'
            f'<td class="l" data-value="{float(r.median_shortfall_when_missed)!r}">{_e(short)}</td></tr>'
        )
    head = (
        '<tr><th></th><th class="l">target</th><th class="l">needs</th><th>P(met)</th><th>95% low</th><th>95% high</th>'
        '<th>median</th><th class="l">gap at the median</th><th class="l">median shortfall when missed</th></tr>'
    )
    return (
        "<h2>What holds the park back</h2><p>Every target, the one that holds the park back most first: the least likely"
        " to be met, and among equally likely ones the furthest from its threshold at the median (relative to the"
        " threshold). <i>Gap at the median</i>: how much more of the indicator the median replication needs;"
        " <i>shortfall when missed</i>: how much more the replications that miss it would have needed (their median).</p>"
        f'<table id="gaps">{head}{"".join(rows)}</table>'
    )


# --- how the assessment decides --------------------------------------------------------------
def _criterion(c: dict, targets: list) -> str:
    label = next(
        (
            t["label"]
            for t in targets
            if t["indicator"] == c["indicator"] and t.get("comparison") == c.get("comparison") and t["threshold"] == c.get("threshold")
        ),
        None,
    )
    if label is not None and c.get("threshold") is not None:
        return label
    from parksim.rules.indicators import INDICATORS

    unit = INDICATORS.get(c["indicator"], ("",))[0]
    if c.get("threshold") is not None:
        return f"{c['indicator']} {c.get('comparison', '>=')} {amount(c['threshold'])} {unit}".rstrip()
    return (
        f"{c['indicator']} (scores 60 at {amount(c.get('floor'))}, 100 at {amount(c.get('ceiling'))} {unit}; weight {c.get('weight', 1):g})"
    )


def rule_text(assessment: dict, targets: list) -> str:
    """The recognition / assessment rule in words: each rule, the status transitions, the decision month."""
    if not assessment:
        return ""
    items = []
    for rule in assessment.get("rules", []):
        crit = [_criterion(c, targets) for c in rule.get("criteria", [])]
        n = len(crit)
        kind = rule.get("kind")
        if kind == "thresholds":
            k = rule.get("min_met")
            k = n if k is None else k
            ex = rule.get("excellent_min")
            what = f"passes if at least {k} of these {n} are met" if k else "never fails"
            if ex is not None:
                what += f"; excellent if at least {ex} are met"
        elif kind == "score":
            what = f"passes with a weighted efficacy score (功效系数法) of at least {rule.get('pass_mark', 60):g} points"
            if rule.get("excellence_mark") is not None:
                what += f"; excellent from {rule['excellence_mark']:g}"
        else:
            what = f"ranks the portfolio's parks: the bottom {rule.get('fail_bottom', 0)} fail, the top {rule.get('excellent_top', 0)} are excellent"
        lis = "".join(f"<li>{_e(c)}</li>" for c in crit)
        items.append(f"<li><b>{_e(rule.get('name', ''))}</b>: {_e(what)}:<ul>{lis}</ul></li>")
    trans = []
    for t in assessment.get("transitions", []):
        cond = f"{t['on']}" + (f" {t['streak']} years in a row" if t.get("streak", 1) > 1 else "")
        cond += f", after at least {t['min_years']} assessments in it" if t.get("min_years", 0) else ""
        src = "any status" if t["from_status"] == "*" else t["from_status"]
        trans.append(f"<li>{_e(src)} → <b>{_e(t['to'])}</b> on {_e(cond)}</li>")
    month = assessment.get("month", 4)
    return (
        '<div id="rule"><p>How the assessment decides (from the scenario): the park starts as'
        f" <b>{_e(assessment.get('initial_status', ''))}</b>; year <i>y</i> is assessed in month {int(month)} of <i>y</i>+1."
        " The year fails if any rule fails; it is excellent if every rule that can award excellence does.</p>"
        f"<ul>{''.join(items)}</ul><p>Status changes (the first that applies):</p><ul>{''.join(trans)}</ul></div>"
    )


# --- what the run assumes ----------------------------------------------------------------------
def _given(value, scale: float, fmt: str) -> str:
    """A cell of a baseline number, or of a distribution it is drawn from (its range where it has one)."""
    if not isinstance(value, dict):
        return num(scale * float(value), fmt)
    low, high = value.get("low"), value.get("high")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return f'<td class="l">drawn, {_e(fmt.format(scale * low))} – {_e(fmt.format(scale * high))}</td>'
    return '<td class="l">drawn (see the uncertain parameters)</td>'


def baseline_section(scenario: dict, run_dir: Path) -> str:
    """The starting state, usually the biggest assumption: where it comes from, and its size by sector."""
    base = scenario.get("baseline", {}) or {}
    register = base.get("enterprises")
    sectors = base.get("sectors", {}) or {}
    rows = []
    for name, s in sectors.items():
        tot = s.get("total_revenue")
        rows.append(
            f'<tr><td class="l">{_e(name)}</td>{num(s.get("firms", 0), "{:,.0f}")}'
            + (_given(tot, 1, "{:,.1f}") if tot is not None else '<td class="l">drawn</td>')
            + f"{_given(s.get('hnte_share', 0), 100, '{:.0f}%')}{_given(s.get('tech_sme_share', 0), 100, '{:.0f}%')}</tr>"
        )
    source = (
        f"an enterprise register, <code>{_e(register)}</code> (its firms, plus any synthetic ones below)"
        if register
        else "<b>no enterprise register</b>: the starting firms are synthetic, generated from the numbers below, which are"
        " assumptions of the scenario unless its sources say otherwise"
    )
    q = run_dir / "quantiles.csv"
    start = ""
    if q.exists():
        qq = pd.read_csv(q)
        year = int(qq.year.min())
        groups = qq[qq.year == year].groupby("park", sort=False) if "park" in qq.columns else [(None, qq[qq.year == year])]
        lines = []
        for park, part in groups:
            first = part.set_index("indicator")
            bits = [
                f"{label} {amount(float(first.loc[ind, 'p50']))} {first.loc[ind, 'unit']}"
                for ind, label in [("total_output", "total output"), ("firms", "firms"), ("hnte_valid", "valid high-tech enterprises")]
                if ind in first.index
            ]
            lines.append((f"{park}: " if park is not None else "") + "; ".join(bits))
        start = f"<p>Median of the first simulated year ({year}): {_e(' | '.join(lines))}.</p>"
    parks = (scenario.get("portfolio") or {}).get("parks") or []
    if parks:
        lis = "".join(
            f"<li>{_e(p.get('name', ''))}: {_e(', '.join(f'{k} = {v}' for k, v in (p.get('overrides') or {}).items()) or 'as the table')}</li>"
            for p in parks
        )
        start += f"<p>Each park of the portfolio starts from the table above with its own overrides:</p><ul>{lis}</ul>"
    table = (
        '<table id="baseline"><tr><th class="l">sector</th><th>firms at the start</th><th>last year\'s output, 亿元</th>'
        f"<th>high-tech share</th><th>tech-based share</th></tr>{''.join(rows)}</table>"
        if rows
        else ""
    )
    last = base.get("baseline_output")
    lo = f"<p>Last year's total output for growth rates: {_e(amount(float(last)))} 亿元.</p>" if last is not None else ""
    return f'<h3>The baseline (the park at the start)</h3><p id="baseline-source">Source of the starting state: {source}.</p>{table}{lo}{start}'


def uncertain_section(scn) -> str:
    """The uncertain parameters, each with its distribution and 90% range, unit and meaning (no other file needed)."""
    from parksim.scenario.assumptions import active_levers, uncertain_parameters

    u = uncertain_parameters(scn)
    on = active_levers(scn)
    rows = []
    for r in u.itertuples(index=False):
        rng = "" if r.p5 != r.p5 else f"{amount(r.p5)} – {amount(r.p95)}"
        rows.append(
            f'<tr data-key="{_e(r.key)}"><td class="l"><code>{_e(r.key)}</code></td><td class="l">{_e(r.meaning)}</td>'
            f'<td class="l">{_e(r.distribution)}</td><td class="l">{_e(rng)}</td><td class="l">{_e(r.unit)}</td></tr>'
        )
    table = (
        '<table id="uncertain"><tr><th class="l">parameter</th><th class="l">meaning</th><th class="l">distribution</th>'
        f'<th class="l">90% range</th><th class="l">unit</th></tr>{"".join(rows)}</table>'
        if rows
        else "<p>None: every parameter is a fixed number.</p>"
    )
    levers = ", ".join(on) if on else "none"
    return (
        "<h3>Uncertain parameters</h3><p>Each is drawn once per replication from its distribution, so the"
        f" probabilities above include this uncertainty. Policy levers on: <b>{_e(levers)}</b>.</p>{table}"
    )


# --- the embedded font ---------------------------------------------------------------------------
def font_face(text: str) -> str:
    """An ``@font-face`` rule embedding the bundled CJK font, subset to the non-ASCII characters of ``text``
    (a few tens of kB), so that Chinese labels are legible in any browser on a machine without a CJK font.
    Empty if the text has no such characters or the font is not installed."""
    chars = {c for c in text if ord(c) > 0x7F}
    if not chars:
        return ""
    from parksim.results.plots import bundled_cjk_font

    path = bundled_cjk_font()
    if path is None:  # pragma: no cover - a dependency of parksim
        return ""
    from fontTools import subset

    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.layout_features = ["*"]
    font = subset.load_font(str(path), options)
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[ord(c) for c in chars])
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    ranges = ",".join(f"U+{ord(c):04X}" for c in sorted(chars))
    # first in the page's font list, but only for the characters it holds (unicode-range): Latin text keeps its font
    return (
        f"@font-face{{font-family:'{FONT_FAMILY}';src:url(data:font/otf;base64,{data}) format('opentype');"
        f"unicode-range:{ranges};font-display:block;}}"
    )

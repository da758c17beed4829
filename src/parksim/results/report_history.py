"""What the report says about the park's observed history: a run whose parameters were calibrated to it
(``--posterior``) or whose replications were conditioned on it (``--given-observations``), a calibration's own
report (``parksim calibrate``: prior vs calibrated probabilities, the parameters the observations narrow, the fit),
and a backtest's report (``parksim backtest``: how often the forecasts' intervals held what happened).

Every string from a file is HTML-escaped; every number shown carries its exact value in a ``data-value``
attribute, so a test can check it against the CSVs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from parksim.results.report_sections import _e, amount, bold, image, num, read_table

FEW_KEPT = 200  # fewer kept replications than this: the conditioned probabilities rest on few replications
NARROWED = 0.75  # a parameter the observations narrow: its posterior 90% interval under 3/4 of its prior's


def qty(value) -> str:
    """A cell of an indicator's value: thousands separated from 100 on, else 3 significant digits."""
    try:
        big = abs(float(value)) >= 100
    except (TypeError, ValueError):
        big = False
    return num(value, "{:,.0f}" if big else "{:.3g}")


def _count(value) -> str:
    return num(value, "{:,.0f}")


def _true(x) -> bool:
    return str(x).strip().lower() in ("true", "1", "1.0", "yes")


def _observation_cells(r, several: bool) -> str:
    park = f'<td class="l">{_e(r.park)}</td>' if several else ""
    return f'<td class="l">{_e(r.indicator)}</td><td>{int(r.year)}</td>{park}'


def _outside(value, low, high) -> bool:
    return not (pd.isna(low) or pd.isna(high)) and not (low <= value <= high)


# --- a calibration's tables, in a run's report or the calibration's own ------------------------------------
def fit_section(cal_dir: Path) -> str:
    """Each observation against the prior's and the calibrated posterior's simulations (fit.csv)."""
    path = cal_dir / "fit.csv"
    if not path.exists():
        return ""
    fit = pd.read_csv(path)
    several = fit.park.nunique() > 1
    rows, out = [], 0
    for r in fit.itertuples(index=False):
        outside = _outside(r.observed, r.sim_p05, r.sim_p95)
        out += outside
        rows.append(
            f'<tr class="{"outside" if outside else ""}" data-observation="{_e(f"{r.indicator} {int(r.year)} {r.park}")}">'
            + _observation_cells(r, several)
            + "".join(qty(x) for x in (r.observed, r.sd, r.prior_p05, r.prior_p50, r.prior_p95, r.sim_p05, r.sim_p50, r.sim_p95))
            + f'<td class="l">{"outside" if outside else ""}</td></tr>'
        )
    head = (
        '<tr><th class="l">indicator</th><th>year</th>'
        + ('<th class="l">park</th>' if several else "")
        + "<th>observed</th><th>sd</th><th>prior 5%</th><th>prior median</th><th>prior 95%</th>"
        '<th>calibrated 5%</th><th>calibrated median</th><th>calibrated 95%</th><th class="l">outside the calibrated 90%</th></tr>'
    )
    verdict = (
        "Every observation lies within the calibrated 90% interval."
        if not out
        else f"{bold(out)} of {bold(len(fit))} observations lie outside the calibrated 90% interval (marked): the model"
        " does not reproduce them, and its probabilities should be read with that in mind."
    )
    return (
        "<h2>Fit to history</h2><p>Each published figure (observed, with its measurement error sd where stated) against"
        " the simulations of its year under the prior (the scenario's own ranges) and under the calibrated posterior."
        f' {verdict}</p><table id="fit">{head}{"".join(rows)}</table>'
    )


def _needs(r) -> str:
    if str(r.target) == "ALL" or str(r.target).endswith(": ALL"):
        return "every target together"
    unit = r.unit if isinstance(r.unit, str) else ""
    return f"{r.comparison} {amount(r.threshold)} {unit} in {int(r.year)}".replace("  ", " ")


def probabilities_section(cal_dir: Path) -> str:
    """P(met) of each target under the prior and under the calibrated posterior (probabilities.csv)."""
    path = cal_dir / "probabilities.csv"
    if not path.exists():
        return ""
    p = pd.read_csv(path)
    rows = []
    for r in p.itertuples(index=False):
        is_all = str(r.target) == "ALL" or str(r.target).endswith(": ALL")
        rows.append(
            f'<tr class="{"all" if is_all else ""}" data-target="{_e(r.target)}"><td class="l">{_e(r.target)}</td>'
            f'<td class="l">{_e(_needs(r))}</td>'
            + "".join(num(x) for x in (r.prior_p_met, r.prior_ci_low, r.prior_ci_high))
            + "".join(num(x) for x in (r.calibrated_p_met, r.calibrated_ci_low, r.calibrated_ci_high))
            + f"{num(r.difference, '{:+.3f}')}{_count(r.replications)}</tr>"
        )
    head = (
        '<tr><th class="l">target</th><th class="l">needs</th><th>prior P(met)</th><th>95% low</th><th>95% high</th>'
        "<th>calibrated P(met)</th><th>95% low</th><th>95% high</th><th>change</th><th>replications</th></tr>"
    )
    return (
        "<h2>Prior vs calibrated probabilities</h2><p>The probability of meeting each target with the uncertain"
        " parameters drawn from the scenario's own ranges (prior) and from the posterior calibrated to the observations;"
        f' 95% intervals.</p><table id="probabilities">{head}{"".join(rows)}</table>'
    )


def narrowed_section(cal_dir: Path, table: pd.DataFrame) -> str:
    """The parameters whose posterior 90% interval is narrower than 3/4 of the prior's (calibration.csv)."""
    narrow = table[table.width_ratio < NARROWED].sort_values("width_ratio", kind="stable")
    intro = (
        f"<h2>What the observations narrow</h2><p>Of {bold(len(table))} uncertain parameters, {bold(len(narrow))} have a"
        f" calibrated 90% interval narrower than {NARROWED:.0%} of the prior's (width ratio); every parameter is in"
        " calibration.csv. A parameter the observations leave wide is one they say little about on its own.</p>"
    )
    if narrow.empty:
        return intro
    rows = []
    for r in narrow.itertuples(index=False):
        unit = r.unit if isinstance(r.unit, str) else ""
        rows.append(
            f'<tr data-parameter="{_e(r.parameter)}"><td class="l"><code>{_e(r.parameter)}</code></td><td class="l">{_e(unit)}</td>'
            + "".join(qty(x) for x in (r.prior_p05, r.prior_p50, r.prior_p95, r.post_p05, r.post_p50, r.post_p95))
            + f"{num(r.width_ratio, '{:.2f}')}</tr>"
        )
    head = (
        '<tr><th class="l">parameter</th><th class="l">unit</th><th>prior 5%</th><th>prior median</th><th>prior 95%</th>'
        "<th>calibrated 5%</th><th>calibrated median</th><th>calibrated 95%</th><th>width ratio</th></tr>"
    )
    return f'{intro}<table id="narrowed">{head}{"".join(rows)}</table>'


# --- a run calibrated to or conditioned on history --------------------------------------------------------------
def calibration_folder(posterior: dict, run_dir: Path, *beside: Path) -> Path | None:
    """The calibration folder a run's posterior names: as given (from the current directory), else from the run
    folder's parent (or another folder ``beside``), else a folder of its name there; only a calibration of the same
    scenario (its SHA-256) counts."""
    folder = posterior.get("folder")
    if not folder:
        return None
    p = Path(str(folder))
    bases = list(dict.fromkeys([run_dir.parent, *beside]))
    candidates = [p] + ([b / p for b in bases] if not p.is_absolute() else []) + [b / p.name for b in bases]
    for c in candidates:
        try:
            man = json.loads((c / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        sha = posterior.get("scenario_sha256")
        if man.get("kind") == "calibration" and (not sha or not man.get("scenario_sha256") or man["scenario_sha256"] == sha):
            return c
    return None


def history_header(run_dir: Path, manifest: dict, *beside: Path) -> str:
    """The lines under a run's title that say what history it learnt from (empty for a plain run)."""
    parts = []
    post = manifest.get("posterior")
    if post:
        ess = f" (effective sample size {bold(post['ess'])})" if post.get("ess") is not None else ""
        found = calibration_folder(post, run_dir, *beside)
        where = (
            f" by <code>{_e(post.get('folder', ''))}</code>; its fit to history is shown below."
            if found
            else f" by <code>{_e(post.get('folder', ''))}</code>, a folder not found from here or beside this run:"
            " its fit to history is not shown."
        )
        parts.append(
            f'<p class="note" id="calibrated">The uncertain parameters are drawn from a posterior calibrated to'
            f" {bold(post.get('observations'))} observations{ess}{where}</p>"
        )
    given = manifest.get("given_observations")
    if given:
        until = f" up to {bold(given['until'], '{:.0f}')}" if given.get("until") is not None else ""
        kept = given.get("ess", given.get("kept"))
        parts.append(
            f'<p class="note" id="conditioned">The probabilities are conditioned on {bold(given.get("observations"))}'
            f" observations{until} (ESS {bold(kept)} of {bold(given.get('replications_simulated'))} replications): only the"
            " replications consistent with what was observed count.</p>"
        )
        if kept is not None and float(kept) < FEW_KEPT:
            parts.append(
                f'<p class="note" id="few-kept"><b>Warning:</b> only {bold(kept)} replications are consistent with the'
                f" observations (fewer than {FEW_KEPT}): the probabilities rest on few replications and their intervals"
                " are wide. Run more replications for a firmer answer.</p>"
            )
    return "".join(parts)


def conditioning_section(run_dir: Path, given: dict) -> str:
    """Each observation against all the simulated replications and the kept ones (conditioning.csv)."""
    path = run_dir / "conditioning.csv"
    if not path.exists():
        return ""
    c = pd.read_csv(path)
    several = c.park.nunique() > 1
    rows = []
    for r in c.itertuples(index=False):
        outside = _outside(r.observed, r.kept_p05, r.kept_p95)
        sd = qty(r.sd)
        if not _true(r.sd_stated):
            sd = sd.replace("</td>", " (assumed)</td>", 1)
        rows.append(
            f'<tr class="{"outside" if outside else ""}" data-observation="{_e(f"{r.indicator} {int(r.year)} {r.park}")}">'
            + _observation_cells(r, several)
            + qty(r.observed)
            + sd
            + "".join(qty(x) for x in (r.sim_p05, r.sim_p50, r.sim_p95, r.kept_p05, r.kept_p50, r.kept_p95))
            + f'<td class="l">{"outside" if outside else ""}</td></tr>'
        )
    head = (
        '<tr><th class="l">indicator</th><th>year</th>'
        + ('<th class="l">park</th>' if several else "")
        + "<th>observed</th><th>sd</th><th>all 5%</th><th>all median</th><th>all 95%</th>"
        '<th>kept 5%</th><th>kept median</th><th>kept 95%</th><th class="l">outside the kept 90%</th></tr>'
    )
    rel = given.get("relative_error")
    assumed = f" as {bold(100 * rel, '{:.3g}')}% of the figure" if isinstance(rel, (int, float)) else ""
    return (
        "<h2>Conditioned on observations</h2><p>Each published figure against all the simulated replications and"
        " against the replications kept as consistent with the observations (sd: the figure's measurement error,"
        f' <i>assumed</i>{assumed} where its source states none).</p><table id="conditioning">{head}{"".join(rows)}</table>'
    )


def history_sections(run_dir: Path, manifest: dict, *beside: Path) -> str:
    """A run's sections on history: the calibration's fit and probabilities, the conditioning table."""
    parts = []
    post = manifest.get("posterior")
    found = calibration_folder(post, run_dir, *beside) if post else None
    if found is not None:
        parts += [fit_section(found), probabilities_section(found)]
    if manifest.get("given_observations"):
        parts.append(conditioning_section(run_dir, manifest["given_observations"]))
    return "".join(parts)


# --- a calibration's and a backtest's own report -------------------------------------------------------------
def _meta(manifest: dict, extra: str) -> str:
    sha = manifest.get("scenario_sha256")
    return (
        f'<p class="meta">{extra}seed {_e(manifest.get("seed", "?"))}'
        + (f", scenario SHA-256 <code>{_e(sha)}</code>" if sha else "")
        + (f", parksim {_e(manifest['versions']['parksim'])}" if (manifest.get("versions") or {}).get("parksim") else "")
        + (f", {_e(manifest['finished'])}" if manifest.get("finished") else "")
        + ".</p>"
    )


def calibration_body(d: Path, manifest: dict) -> tuple[str, list[str]]:
    """The title and sections of a calibration folder's report."""
    what = "parksim calibrate (calibration.csv, fit.csv)"
    table = read_table(d, "calibration.csv", what)
    read_table(d, "fit.csv", what)
    name = manifest.get("scenario_name", "park")
    n = manifest.get("observations")
    summary = (
        '<table id="summary">'
        f'<tr><td class="l">observations</td>{_count(n)}</tr>'
        f'<tr><td class="l">simulations</td>{_count(manifest.get("simulations"))}</tr>'
        f'<tr><td class="l">effective sample size (distinct particles)</td>{_count(manifest.get("ess"))}</tr>'
        f'<tr><td class="l">uncertain parameters</td>{_count(len(manifest.get("parameters") or table.parameter.unique()))}</tr>'
        f'<tr><td class="l">stopped by</td><td class="l">{_e(manifest.get("stopped_by", ""))}</td></tr></table>'
    )
    probs = probabilities_section(d) or (
        "<h2>Prior vs calibrated probabilities</h2><p>Not in this folder (no probabilities.csv): run"
        " <code>parksim calibrate</code> again to have them.</p>"
    )
    return f"{name}: calibration", [
        "<p><b>The question:</b> what do the park's published figures say about the scenario's uncertain parameters,"
        " and how do they change the probability of meeting its targets?</p>",
        _meta(manifest, ""),
        f'<p class="note" id="calibrated">Calibrated to {bold(n)} observations (effective sample size'
        f" {bold(manifest.get('ess'))}). Runs draw from this posterior with <code>parksim run SCENARIO --posterior"
        f" {_e(d)}</code>.</p>",
        summary,
        probs,
        narrowed_section(d, table),
        fit_section(d),
        image(d / "calibration.png", "parameters and fit to the observations"),
    ]


def _coverage_words(r) -> tuple[float, float, str]:
    from parksim.experiments.stats import wilson

    lo, hi = wilson(r.covered, r.forecasts) if r.forecasts > 0 else (math.nan, math.nan)
    if not r.forecasts:
        verdict = "no forecast to judge"
    elif r.nominal < lo:
        verdict = "fewer than nominal: the intervals are too narrow (the model is overconfident)"
    elif r.nominal > hi:
        verdict = "more than nominal: the intervals are wider than they need to be"
    else:
        verdict = "consistent with the nominal share"
    return lo, hi, verdict


def backtest_body(d: Path, manifest: dict) -> tuple[str, list[str]]:
    """The title and sections of a backtest folder's report."""
    what = "parksim backtest (backtest.csv, coverage.csv)"
    bt = read_table(d, "backtest.csv", what)
    cov = read_table(d, "coverage.csv", what)
    name = manifest.get("scenario_name", "park")
    rows, words = [], []
    for r in cov.itertuples(index=False):
        lo, hi, verdict = _coverage_words(r)
        rows.append(
            f'<tr data-interval="{_e(r.interval)}"><td class="l">{_e(r.interval)}</td>{num(r.nominal, "{:.2f}")}'
            f"{_count(r.covered)}{_count(r.forecasts)}{num(r.share)}{num(lo)}{num(hi)}"
            f'<td class="l">{_e(verdict)}</td></tr>'
        )
        words.append(f"{_e(r.interval)} intervals held {bold(r.covered)} of {bold(r.forecasts)} ({_e(verdict)})")
    coverage = (
        '<table id="coverage"><tr><th class="l">interval</th><th>nominal</th><th>covered</th><th>forecasts</th>'
        f'<th>observed share</th><th>95% low</th><th>95% high</th><th class="l">reading</th></tr>{"".join(rows)}</table>'
    )
    several = bt.park.nunique() > 1
    frows = []
    for r in bt.itertuples(index=False):
        c50, c90 = _true(r.covered50), _true(r.covered90)
        origin = "" if pd.isna(r.origin) else f"{float(r.origin):.0f}"
        frows.append(
            f'<tr class="{"" if c90 else "outside"}" data-observation="{_e(f"{r.indicator} {int(r.year)} {r.park}")}">'
            + _observation_cells(r, several)
            + (num(r.origin, "{:.0f}") if origin else '<td class="l">none</td>')
            + _count(r.given)
            + "".join(qty(x) for x in (r.observed, r.p05, r.p50, r.p95))
            + f"{num(r.pit)}{num(r.crps, '{:.3g}')}"
            + f'<td class="l" data-covered="{str(c50).lower()}">{"yes" if c50 else "no"}</td>'
            + f'<td class="l" data-covered="{str(c90).lower()}">{"yes" if c90 else "no"}</td></tr>'
        )
    head = (
        '<tr><th class="l">indicator</th><th>year</th>'
        + ('<th class="l">park</th>' if several else "")
        + '<th class="l">origin</th><th>observations used</th><th>observed</th><th>5%</th><th>median</th><th>95%</th>'
        '<th>PIT</th><th>CRPS</th><th class="l">in 50%</th><th class="l">in 90%</th></tr>'
    )
    return f"{name}: backtest", [
        "<p><b>The question:</b> had the model been run before each published figure was known, how often would its"
        " intervals have held what happened?</p>",
        _meta(manifest, f"{int(manifest.get('replications', 0)):,} replications per forecast, "),
        f'<p class="note" id="backtest-headline">{bold(manifest.get("forecasts", len(bt)))} forecasts of'
        f" {bold(manifest.get('observations'))} observations: " + "; ".join(words) + ".</p>",
        "<h2>Coverage</h2><p>The share of forecasts whose interval held the observed figure, against its nominal"
        " share, with a 95% (Wilson) interval for the observed share: a nominal share outside it means the intervals"
        f" are too narrow or too wide.</p>{coverage}",
        "<h2>Each forecast</h2><p>Each figure forecast from the observations up to its <i>origin</i> year (none: from"
        " the scenario alone). PIT: the share of simulations below the observed figure (uniform over many forecasts"
        " when the intervals are right; near 0 or 1: outside); CRPS: the forecast's error in the indicator's unit"
        f' (lower is better). Rows outside the 90% interval are marked.</p><table id="forecasts">{head}{"".join(frows)}</table>',
        image(d / "backtest.png", "backtest forecasts against the observations"),
    ]

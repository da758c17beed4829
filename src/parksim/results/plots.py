"""Figures. matplotlib is imported only here, only when a figure is drawn.

A run's own figures (fan.png, assessment.png) are computed in two steps: their data (:func:`fan_data`,
:func:`assessment_data`: quantiles, probabilities and untranslated text, all plain numbers and strings) from the
result, then drawn from that data alone (:func:`draw_fan`, :func:`draw_assessment`). The ``parksim`` command draws
them in its figure helper process (:mod:`parksim.results.figure_helper`); the Python API draws them here. The
drawing side imports nothing of parksim's model, so that the helper starts quickly.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

_PYPLOT_LOCK = threading.Lock()


def _pyplot():
    # (a lock: the command prepares matplotlib on a thread of its own while the engine runs, and the CJK font is
    # registered once even if the writing step asks for it at the same time)
    with _PYPLOT_LOCK:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
            try:
                matplotlib.use("Agg", force=False)
            except Exception:  # pragma: no cover - a backend is already active
                pass
        import matplotlib.pyplot as plt

        _use_cjk_font(plt)
        return plt


def warm_up() -> None:
    """Draw and save a small figure with the labels' fonts, so that loading the fonts and the PNG writer is done before
    a run's figures are drawn (about 0.1 s of the writing step)."""
    import io

    from matplotlib.figure import Figure  # not pyplot: its figure registry is not for two threads at once

    fig = Figure(figsize=(2, 1))
    ax = fig.subplots()
    ax.set_title(_text("园区 2024"))
    ax.plot([0, 1], [0, 1])
    fig.tight_layout()
    fig.savefig(io.BytesIO(), format="png", dpi=110, bbox_inches="tight")


_CJK = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
)
_ASCII_UNITS = {"亿元/km²": "100M yuan/km2", "万元/mu": "10k yuan/mu", "亿元": "100M yuan", "万元": "10k yuan", "m²": "m2", "km²": "km2"}


def bundled_cjk_font():
    """Path of the CJK font parksim installs with it (Noto Sans SC, SIL Open Font License), or None if missing."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:  # pragma: no cover - a dependency of parksim
        return None
    path = pylopdf_fonts_zh_cn.sans_path()
    return path if path.exists() else None


@functools.cache
def _cjk_font() -> str | None:
    """The first CJK font the machine has, else the one parksim installs with it (looked up once), or None."""
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in _CJK if name in have), None)
    if found is None and (path := bundled_cjk_font()) is not None:
        font_manager.fontManager.addfont(str(path))
        found = font_manager.FontProperties(fname=str(path)).get_name()
    return found


def _use_cjk_font(plt) -> bool:
    """Use a CJK font if the machine has one (scenario names and targets are often Chinese)."""
    name = _cjk_font()
    if name is None:
        return False
    if name not in plt.rcParams["font.sans-serif"]:
        plt.rcParams["font.sans-serif"] = [name, *plt.rcParams["font.sans-serif"]]
    return True


def _text(s: str) -> str:
    """Chinese text if a CJK font is available, else the ASCII fallback for units."""
    if _cjk_font() is not None:
        return s
    for zh, en in _ASCII_UNITS.items():
        s = s.replace(zh, en)
    return s.encode("ascii", "replace").decode().replace("?", "") if not s.isascii() else s


def _fan_axes(indicator: str, ax):
    """Check ``indicator`` and return the Axes to draw a fan panel on."""
    from parksim.rules.indicators import INDICATORS

    if indicator not in INDICATORS:
        raise ValueError(f'"indicator" must be one of {sorted(INDICATORS)}, got {indicator!r}')
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(6, 3.6))
    return ax


#: the quantiles a fan panel shows: the 5-95% and 25-75% bands and the median
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def fan_panel_data(result, indicator: str) -> dict:
    """One fan panel's data: years, the quantiles of :data:`FAN_QUANTILES` in each (5, years), the targets on the
    indicator as (year, threshold, label), and the title's text."""
    from parksim.experiments.stats import nanquantile

    q = nanquantile(result.value_matrix(indicator), list(FAN_QUANTILES), axis=0)
    targets = _fan_targets(result.specs, indicator)
    return {"years": [int(y) for y in result.years], "q": q, "targets": targets, "title": _fan_title_text(result.specs, indicator)}


def _fan_targets(specs, indicator: str) -> list[tuple]:
    """The targets on ``indicator`` as (year, threshold, label) marks."""
    return [
        (s.year, float(s.threshold), f"{s.comparison} {s.threshold:g}")
        for s in specs
        if s.indicator == indicator and s.base_year is None  # (an average growth is not on the indicator's scale)
    ]


def _mark_targets(ax, targets) -> None:
    for year, threshold, label in targets:
        ax.plot([year], [threshold], marker="_", markersize=22, mew=2.5, color="tab:red")
        ax.annotate(label, (year, threshold), textcoords="offset points", xytext=(8, 4), color="tab:red", fontsize=8)


def draw_fan_panel(ax, panel: dict) -> None:
    """Draw a fan panel (:func:`fan_panel_data`) on ``ax``: bands, median, the targets marked; title, ticks, grid, legend."""
    years, q = np.array(panel["years"]), panel["q"]
    ax.fill_between(years, q[0], q[4], color="tab:blue", alpha=0.18, label="5–95%")
    ax.fill_between(years, q[1], q[3], color="tab:blue", alpha=0.35, label="25–75%")
    ax.plot(years, q[2], color="tab:blue", marker="o", label="median")
    _mark_targets(ax, panel["targets"])
    _finish_panel(ax, panel["title"], years)


def _finish_panel(ax, title: str, years) -> None:
    ax.set_title(_text(title), fontsize=9)
    ax.set_xticks(years)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def plot_fan(result, indicator: str, ax=None):
    """Fan chart of one indicator: 5-95% and 25-75% bands, median, targets on it."""
    ax = _fan_axes(indicator, ax)
    draw_fan_panel(ax, fan_panel_data(result, indicator))
    return ax


def _finish_fan(ax, specs, indicator: str, years) -> None:
    """Mark the targets on ``indicator``; title, ticks, grid and legend of a fan panel (a portfolio's, whose bands
    are drawn by the caller)."""
    _mark_targets(ax, _fan_targets(specs, indicator))
    _finish_panel(ax, _fan_title_text(specs, indicator), years)


def _fan_title_text(specs, indicator: str, width: int = 46) -> str:
    """:func:`fan_title` before its text is fitted to the fonts there are."""
    import re
    import textwrap

    from parksim.rules.indicators import INDICATORS

    labels = list(dict.fromkeys(re.sub(r" \((19|20)\d\d\)$", "", s.label) for s in specs if s.indicator == indicator))
    tail = f"{indicator} [{INDICATORS[indicator][0]}]"
    head = "; ".join(labels) if labels else ""
    lines = textwrap.wrap(head, width)[:2] if head else []
    return "\n".join([*lines, tail])


def fan_title(specs, indicator: str, width: int = 46) -> str:
    """A fan panel's title: the labels of the targets on ``indicator`` (a yearly target once), then indicator and unit."""
    return _text(_fan_title_text(specs, indicator, width))


def _fan_names(result) -> list[str]:
    """The indicators with targets, in order (or the headline ones if there are no targets)."""
    return list(dict.fromkeys(s.indicator for s in result.specs)) or ["total_output", "hnte_valid", "rd_intensity"]


def fan_data(result) -> dict:
    """fan.png of a run (not a portfolio) as data: a panel (:func:`fan_panel_data`) per indicator of
    :func:`_fan_names` (at most 12) and the figure's title."""
    return {
        "title": f"{result.scenario.name} - {result.replications} replications, seed {result.seed}",
        "panels": [fan_panel_data(result, name) for name in _fan_names(result)[:12]],
    }


def draw_fan(data: dict):
    """The Figure of :func:`fan_data`: three panels a row."""
    plt = _pyplot()
    panels = data["panels"]
    cols = min(3, len(panels))
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.4 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        draw_fan_panel(ax, panel)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(_wrapped(data["title"], 110), fontsize=11)
    fig.tight_layout()
    return fig


def fan_figure(result):
    """One panel per targeted indicator (or the headline ones if there are no targets); a portfolio gets one row of
    small multiples per indicator, a panel per park."""
    if getattr(result, "parks", None):
        return _fan_figure_parks(result, _fan_names(result)[:8])
    return draw_fan(fan_data(result))


def _wrapped(text: str, width: int) -> str:
    """A title wrapped so that it is never cut at the figure's edge."""
    import textwrap

    return _text("\n".join(textwrap.wrap(text, width)))


def _fan_figure_parks(result, names):
    """Small multiples: a row per targeted indicator, a panel per park (shared y axis within a row)."""
    from parksim.experiments.stats import nanquantile

    plt = _pyplot()
    parks = list(result.parks.items())
    rows, cols = len(names), len(parks)
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols + 0.6, 2.7 * rows + 0.8), squeeze=False, sharey="row")
    for i, name in enumerate(names):
        for j, (park, r) in enumerate(parks):
            ax = axes[i, j]
            years = np.array(r.years)
            q = nanquantile(r.value_matrix(name), list(FAN_QUANTILES), axis=0)
            ax.fill_between(years, q[0], q[4], color="tab:blue", alpha=0.18)
            ax.fill_between(years, q[1], q[3], color="tab:blue", alpha=0.35)
            ax.plot(years, q[2], color="tab:blue", marker="o", ms=3)
            for s in r.specs:
                if s.indicator == name and s.base_year is None:
                    ax.plot([s.year], [s.threshold], marker="_", markersize=16, mew=2.5, color="tab:red")
            ax.set_xticks(years[:: max(1, len(years) // 3)])
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(_wrapped(park, 28), fontsize=9)
        axes[i, 0].set_ylabel(fan_title(parks[0][1].specs, name, width=30), fontsize=7)
    fig.suptitle(
        _wrapped(
            f"{result.scenario.name} - {result.replications} replications, seed {result.seed}; bands 5-95%, 25-75%, median; red: target",
            120,
        ),
        fontsize=10,
    )
    fig.tight_layout()
    return fig


#: status colours by what a status means, looked up by words in its name (first match wins)
STATUS_COLOURS = [
    (("not_recognised", "not recognised", "revoked", "abolish", "remov", "strip", "cancel", "fail"), "#d62728"),
    (("warn", "criticis", "summon", "rectif", "restrict", "probation"), "#ff7f0e"),
    (("commend", "excellent", "upgrad", "national", "award"), "#2ca02c"),
    (("recognised", "pass", "municipal", "provincial", "qualified"), "#98df8a"),
    (("candidate", "pending", "build", "applicant", "none"), "#c7c7c7"),
]
_OTHER_COLOURS = ["#1f77b4", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#e377c2"]


def status_colours(statuses) -> dict:
    """A colour for each status by its meaning: revoked / not recognised red, warned orange, commended dark green,
    recognised light green, candidate grey; other names get distinct neutral colours."""
    out, k = {}, 0
    for name in statuses:
        low = name.lower()
        colour = next((c for words, c in STATUS_COLOURS if any(w in low for w in words)), None)
        if colour is None:
            colour, k = _OTHER_COLOURS[k % len(_OTHER_COLOURS)], k + 1
        out[name] = colour
    return out


def assessment_data(result) -> dict:
    """assessment.png of a run (or a portfolio's park) as data: the step dates (the start, then each year's decision
    in the assessment's month of the next year, then half a year more), P(status) at each (dates, statuses), the
    statuses, the tick labels and the title."""
    table = result.assessment
    if table.empty:
        raise ValueError("the scenario has no [assessment]")
    wide = table.pivot(index="year", columns="status", values="probability")[result.statuses]
    month = result.assessment_def.month
    # the status changes only when year y's result is decided, in `month` of year y+1: a step at each decision date
    decided = [y + 1 + (month - 1) / 12 for y in wide.index]
    x = np.array([result.years[0], *decided, decided[-1] + 0.5])
    start = np.array([[1.0 if st == result.assessment_def.initial_status else 0.0 for st in wide.columns]])
    ticks = [result.years[0], *decided]
    return {
        "x": x,
        "probs": np.vstack([start, wide.to_numpy(), wide.to_numpy()[-1:]]),  # (len(x), statuses)
        "statuses": [str(st) for st in wide.columns],
        "ticks": ticks,
        "tick_labels": [f"{int(t)}" if t == int(t) else f"{int(t)}-{month:02d}" for t in ticks],
        "xlabel": f"date (year y is decided in month {month} of y+1)",
        "title": f"{result.park or result.scenario.name}: status after each yearly assessment",
    }


def draw_assessment(ax, data: dict):
    """Draw :func:`assessment_data` on ``ax`` (a new figure's if None): a stacked area of P(status), stepping at the
    decision dates."""
    plt = _pyplot()  # (also when given an Axes: it sets the CJK font for the statuses' names)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    x, probs = data["x"], data["probs"]
    colours = status_colours(data["statuses"])
    low = np.zeros(len(x))
    for k, st in enumerate(data["statuses"]):
        high = low + probs[:, k]
        ax.fill_between(x, low, high, step="post", color=colours[st], alpha=0.9, label=_text(st), lw=0)
        low = high
    ax.set_xticks(data["ticks"], data["tick_labels"], fontsize=8)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_xlabel(data["xlabel"], fontsize=8)
    ax.set_title(_wrapped(data["title"], 60), fontsize=10)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def plot_assessment(result, ax=None):
    """Stacked area of P(status) after each year's assessment."""
    return draw_assessment(ax, assessment_data(result))


def plot_fan_parks(result, indicator: str, ax=None):
    """Median and 25-75% band of one indicator for every park of a portfolio."""
    from parksim.experiments.stats import nanquantile

    ax = _fan_axes(indicator, ax)
    years = np.array(result.years)
    for name, r in result.parks.items():
        q = nanquantile(r.value_matrix(indicator), [0.25, 0.5, 0.75], axis=0)
        line = ax.plot(years, q[1], marker="o", label=_text(name))[0]
        ax.fill_between(years, q[0], q[2], color=line.get_color(), alpha=0.2)
    _finish_fan(ax, next(iter(result.parks.values())).specs, indicator, years)
    return ax


def plot_assessment_parks(result):
    """One stacked status panel per park; returns the first Axes (its figure holds all)."""
    plt = _pyplot()
    assessed = [r for r in result.parks.values() if r.assessment_def is not None]  # parks with assessed = false have none
    n = len(assessed)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.4 * rows), squeeze=False)
    for ax, r in zip(axes.flat, assessed, strict=False):
        plot_assessment(r, ax=ax)
        ax.set_title(_wrapped(r.park, 40), fontsize=10)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return axes.flat[0]


def plot_compare(comparison, target: str = "ALL", ax=None):
    """Horizontal bars: each variant's paired difference from the base in P(target), with 95% intervals."""
    from parksim.experiments.compare import rank_order
    from parksim.results.levels import yuan

    plt = _pyplot()
    t = comparison.table
    rows = t[(t.target == target) & (t.scenario != comparison.names[0])]
    if rows.empty and target not in set(t.target):
        raise ValueError(f'"target" must be one of {sorted(set(t.target))}, got {target!r}')
    rows = rank_order(rows)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.5 * max(len(rows), 2) + 1.5))
    y = np.arange(len(rows))[::-1]  # the best-ranked variant at the top
    pp = 100 * rows.diff_vs_base.to_numpy()
    err = 100 * np.vstack([rows.diff_vs_base - rows.diff_ci_low, rows.diff_ci_high - rows.diff_vs_base])
    ax.barh(y, pp, color=np.where(pp >= 0, "tab:green", "tab:red"), alpha=0.7)
    ax.errorbar(pp, y, xerr=err, fmt="none", ecolor="black", capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    labels = []
    for r in rows.itertuples(index=False):
        cost = "cost unknown" if np.isnan(r.cost_yuan) else _text(yuan(r.cost_yuan))
        per = "" if np.isnan(r.pp_per_100m_yuan) else f", {r.pp_per_100m_yuan:.1f} pp/100M yuan"
        labels.append(f"{_text(r.scenario)}\n({cost}{per})")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(_text(f"change in P({target}) vs {comparison.names[0]} [percentage points]"))
    ax.set_title(
        _text(f"Paired differences, common random numbers ({int(rows.replications.max()) if len(rows) else 0} replications)"), fontsize=10
    )
    ax.grid(axis="x", alpha=0.3)
    return ax

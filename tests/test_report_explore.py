"""The report on a stress test of the targets: an exploration folder (parksim explore) and a threshold search folder
(parksim threshold). The fixtures run a small exploration and a small search themselves; every number shown equals
its CSV's value (data-value), every string from a file is escaped, and an incomplete folder is a clear input error."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import SIGNED_AND_HNTE_TARGETS, synthetic_park_file

from parksim.cli import main
from parksim.errors import InputError
from parksim.experiments.explore import explore
from parksim.results.explore_files import write_exploration
from parksim.results.report_html import build_report

SIGNINGS = "pipeline.signings_per_month"
DROPOUT = "pipeline.landing.dropout"


@pytest.fixture(scope="module")
def small_path(tmp_path_factory) -> Path:
    return synthetic_park_file(tmp_path_factory.mktemp("report-explore"), SIGNED_AND_HNTE_TARGETS)


@pytest.fixture(scope="module")
def explored(small_path) -> Path:
    """A Morris exploration of the signing rate and the landing dropout: 4 trajectories x 3 points, 5 replications."""
    ex = explore(small_path, design_kind="morris", points=4, replications=5, params=[SIGNINGS, DROPOUT], seed=1, jobs=2)
    d = small_path.parent / "explore"
    write_exploration(ex, d, 0.5, seconds=1.25)
    return d


@pytest.fixture(scope="module")
def page(explored) -> str:
    return build_report(explored).read_text(encoding="utf-8")


def _rows(page: str, opening: str) -> list[tuple[str, list[float]]]:
    """The data rows of the table whose opening tag is ``opening``: each row's tag and its cells' data-values."""
    table = re.search(re.escape(opening) + r"(.*?)</table>", page, flags=re.S).group(1)
    rows = re.findall(r"(<tr[^>]*>)(.*?)</tr>", table, flags=re.S)[1:]
    return [(tag, [float(x) for x in re.findall(r'data-value="([^"]*)"', body)]) for tag, body in rows]


def _attr(tag: str, name: str) -> str:
    return html.unescape(re.search(rf'{name}="([^"]*)"', tag).group(1))


def _same(a, b) -> bool:
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


# --- an exploration's report --------------------------------------------------------------------------------------
def test_explore_report_sections(page, explored):
    """The header says the design, points x replications, common random numbers and the time; every section is there,
    and both figures are embedded (nothing fetched)."""
    man = json.loads((explored / "manifest.json").read_text(encoding="utf-8"))
    assert "<h1>Small synthetic park: exploration</h1>" in page
    head = re.search(r'<p class="note" id="explore-headline">(.*?)</p>', page, flags=re.S).group(1)
    assert [float(x) for x in re.findall(r'data-value="([^"]*)"', head)] == [2, man["points"], 5, 1.25]
    assert man["points"] == 12 and "<code>morris</code>" in head and "common random numbers" in head
    for title in (
        "What matters",
        "Under which conditions the targets are met",
        "Parameter uncertainty vs replication noise",
    ):
        assert f"<h2>{title}</h2>" in page
    assert page.count('src="data:image/png;base64,') == 2 and not re.search(r'(src|href)="(https?:)?//', page)
    assert [_attr(t, "data-input") for t, _ in _rows(page, '<table id="inputs">')] == [SIGNINGS, DROPOUT]


def test_explore_ranking_equals_sensitivity_csv(page, explored):
    """P(ALL) first, then each target the inputs move: its inputs by Morris mu_star, most first, with the interval and
    sigma of sensitivity.csv; a target no input moves is listed as such."""
    sens = pd.read_csv(explored / "sensitivity.csv")
    outputs = re.findall(r'<table class="ranking" data-output="([^"]*)">', page)
    assert [html.unescape(o) for o in outputs] == ["P(ALL)", "P(signed >= 90)"]
    for out in outputs:
        name = html.unescape(out)
        rows = _rows(page, f'<table class="ranking" data-output="{out}">')
        mu = sens[(sens.output == name) & (sens["index"] == "mu_star")].set_index("parameter")
        sigma = sens[(sens.output == name) & (sens["index"] == "sigma")].set_index("parameter")
        params = [_attr(t, "data-parameter") for t, _ in rows]
        assert params == list(mu.value.sort_values(ascending=False, kind="stable").index)
        assert params[0] == SIGNINGS  # the signing rate decides how many projects are signed
        for (_, values), p in zip(rows, params, strict=True):
            assert values == [mu.value[p], mu.ci_low[p], mu.ci_high[p], sigma.value[p]]
    moved = re.search(r'<ul id="not-moved">(.*?)</ul>', page, flags=re.S).group(1)
    assert re.findall(r'data-target="([^"]*)"', moved) == ["hnte &gt;= 8"]
    assert 'P(met) <b data-value="1.0">1.000</b> at every point' in moved


def test_explore_prim_and_variance_equal_their_csvs(page, explored):
    """The PRIM sentences of the manifest, scenarios.csv row by row, and variance.csv row by row."""
    man = json.loads((explored / "manifest.json").read_text(encoding="utf-8"))
    items = re.findall(r"<li>(.*?)</li>", re.search(r'<ul id="prim-sentences">(.*?)</ul>', page, flags=re.S).group(1))
    assert [html.unescape(s) for s in items] == man["scenarios"] and len(items) == 3
    boxes = pd.read_csv(explored / "scenarios.csv")
    rows = _rows(page, '<table id="scenarios">')
    assert len(rows) == len(boxes) > 0
    for (tag, values), r in zip(rows, boxes.itertuples(index=False), strict=True):
        assert _attr(tag, "data-target") == r.target and int(_attr(tag, "data-box")) == r.box
        assert all(_same(a, b) for a, b in zip(values, [r.coverage, r.density, r.mass, r.low, r.high], strict=True))
    variance = pd.read_csv(explored / "variance.csv")
    rows = _rows(page, '<table id="variance">')
    assert [_attr(t, "data-target") for t, _ in rows] == list(variance.target)
    for (_, values), r in zip(rows, variance.itertuples(index=False), strict=True):
        want = [r.p_mean, r.variance_total, r.from_inputs, r.from_replications, r.share_inputs, r.share_replications]
        assert all(_same(a, b) for a, b in zip(values, want, strict=True)), (values, want)


def test_explore_report_escapes_strings_from_files(explored, tmp_path):
    d = tmp_path / "odd"
    shutil.copytree(explored, d)
    man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    man["scenario_name"] = "<script>alert(1)</script>"
    man["scenarios"] = ["A & B <i>met</i>"]
    (d / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    v = pd.read_csv(d / "variance.csv")
    v.loc[0, "target"] = '"><img src=x>'
    v.to_csv(d / "variance.csv", index=False)
    page = build_report(d).read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<li>A &amp; B &lt;i&gt;met&lt;/i&gt;</li>" in page
    assert "<img src=x>" not in page and "&quot;&gt;&lt;img src=x&gt;" in page


@pytest.mark.parametrize("missing", ["sensitivity.csv", "variance.csv", "scenarios.csv"])
def test_explore_report_missing_file_is_an_input_error(explored, tmp_path, missing):
    d = tmp_path / "partial"
    shutil.copytree(explored, d)
    (d / missing).unlink()
    with pytest.raises(InputError) as err:
        build_report(d)
    assert str(d) in str(err.value) and missing in str(err.value) and "parksim explore" in str(err.value)


def test_explore_report_from_the_command_line(explored, tmp_path, capsys):
    d = tmp_path / "cli"
    shutil.copytree(explored, d)
    assert main(["report", str(d)]) == 0
    assert "<h2>What matters</h2>" in (d / "report.html").read_text(encoding="utf-8")


# --- a threshold search's report ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def searched(small_path) -> Path:
    """The signing rate at which P(signed >= 90) reaches 0.8, searched coarsely (5 points, 40 replications)."""
    th_mod = pytest.importorskip("parksim.experiments.threshold")
    th = th_mod.threshold(small_path, SIGNINGS, 4, 12, target="signed >= 90", p=0.8, replications=40, seed=1, jobs=2, grid=5)
    d = small_path.parent / "threshold"
    th.write(d)
    return d


def test_threshold_report(searched):
    """The answer's sentence, the summary and every evaluated point of threshold.csv, and the figure."""
    man = json.loads((searched / "manifest.json").read_text(encoding="utf-8"))
    page = build_report(searched).read_text(encoding="utf-8")
    assert "<h1>Small synthetic park: what it would take</h1>" in page
    answer = re.search(r'<p class="note" id="threshold-answer">(.*?)</p>', page, flags=re.S).group(1)
    assert html.unescape(answer) == man["sentence"] + "."
    summary = {
        html.unescape(label): [float(x) for x in re.findall(r'data-value="([^"]*)"', cells)]
        for label, cells in re.findall(r'<tr data-row="([^"]*)">(.*?)</tr>', page, flags=re.S)
    }
    assert summary["probability asked for"] == [0.8]
    assert summary["lowest value searched"] == [4] and summary["highest value searched"] == [12]
    assert summary["evaluations"] == [man["evaluations"]] and summary["replications per evaluation"] == [40]
    for label, key in (("answer", "answer"), ("95% low", "ci_low"), ("95% high", "ci_high")):
        assert all(_same(a, b) for a, b in zip(summary[label], [man[key]], strict=True)), label
    table = pd.read_csv(searched / "threshold.csv").sort_values("value", kind="stable")
    rows = _rows(page, '<table id="threshold">')
    assert len(rows) == len(table) == man["evaluations"]
    for (tag, values), r in zip(rows, table.itertuples(index=False), strict=True):
        assert _attr(tag, "data-stage") == r.stage
        assert values == [r.value, r.p_met, r.ci_low, r.ci_high, r.replications]
    assert page.count('src="data:image/png;base64,') == 1


def test_threshold_report_missing_table(searched, tmp_path):
    d = tmp_path / "partial"
    shutil.copytree(searched, d)
    (d / "threshold.csv").unlink()
    with pytest.raises(InputError) as err:
        build_report(d)
    assert str(d) in str(err.value) and "threshold.csv" in str(err.value)

"""The HTML report: self-contained, escaped, its numbers equal the CSVs, renders in a real browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

import parksim
from parksim.cli import main

BASE = """
name = "Park <script>alert('x')</script> & Co"
description = "A test park whose <b>name</b> must be escaped"
[simulation]
years = 2
[pipeline]
signings_per_month = 3.0
[sectors.a]
[baseline.sectors.a]
firms = 15
[[targets]]
label = "output > 30 <i>yi</i>"
indicator = "total_output"
threshold = 30.0
year = 2024
[[targets]]
label = "firms"
indicator = "firms"
threshold = 20.0
year = 2024
[assessment]
[[assessment.rules]]
name = "growth"
kind = "thresholds"
criteria = [{indicator = "output_growth", threshold = 5.0}]
[[assessment.transitions]]
from_status = "recognised"
on = "fail"
to = "warned"
"""


@pytest.fixture
def compare_dir(write, tmp_path):
    base = write("base.toml", BASE)
    lever = write("promo.toml", 'extends = "base.toml"\n[levers.promotion]\nextra_signings_per_month = 3.0\n')
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(lever), "-n", "30", "-j", "1", "-q", "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    return out


def cells(html: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, flags=re.S).group(1)
    return [re.findall(r'data-value="([^"]*)"', row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S)[1:]]


def test_report_numbers_equal_the_csvs(compare_dir):
    html = (compare_dir / "report.html").read_text(encoding="utf-8")
    targets = pd.read_csv(compare_dir / "scenarios" / "base" / "targets.csv")
    rows = cells(html, "targets")
    assert len(rows) == len(targets)
    for r, (_, t) in zip(rows, targets.iterrows(), strict=True):
        assert [float(x) for x in r] == pytest.approx([t.p_met, t.ci_low, t.ci_high], abs=0, rel=0)
    comp = pd.read_csv(compare_dir / "compare.csv")
    all_rows = comp[comp.target == "ALL"].set_index("scenario")
    html_rows = dict(re.findall(r'<tr data-scenario="([^"]+)">(.*?)</tr>', html, flags=re.S))
    assert set(html_rows) == set(all_rows.index)
    for name, row in html_rows.items():
        values = [float(x) for x in re.findall(r'data-value="([^"]*)"', row)]
        expected = all_rows.loc[name]
        assert values[:4] == pytest.approx(
            [expected.p_met, 100 * expected.diff_vs_base, 100 * expected.diff_ci_low, 100 * expected.diff_ci_high]
        )
        assert values[4] == pytest.approx(expected.cost_yuan)
    a = pd.read_csv(compare_dir / "scenarios" / "base" / "assessment.csv")
    last = a[a.year == a.year.max()]
    assert [float(r[0]) for r in cells(html, "assessment")] == pytest.approx(last.probability.tolist())


def test_report_escapes_scenario_strings_and_is_self_contained(compare_dir):
    html = (compare_dir / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in html
    assert "<i>yi</i>" not in html and "&lt;i&gt;yi&lt;/i&gt;" in html
    assert "&lt;b&gt;name&lt;/b&gt;" in html
    # nothing to fetch: no external src/href, figures are data URIs
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count('src="data:image/png;base64,') >= 3  # fan charts, assessment, comparison


def test_report_on_a_run_directory(write, tmp_path):
    path = write("base.toml", BASE)
    res = parksim.simulate(path, replications=20, seed=1, jobs=1, quiet=True)
    res.write(tmp_path / "run")
    out = parksim.report(tmp_path / "run")
    html = out.read_text(encoding="utf-8")
    assert "Levers ranked" not in html and 'id="targets"' in html and 'id="assessment"' in html
    assert oct(out.stat().st_mode & 0o777) != "0o600"  # an ordinary, shareable file


def test_report_on_a_wrong_directory_is_an_input_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a run, compare, calibration or backtest directory (no manifest.json)" in err and str(tmp_path) in err


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("CI must install Chromium (see .ci/run) to check the report in a real browser")
    pytest.skip("no Chromium on this machine (CI installs it); the browser check did not run")


FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_report_renders_in_headless_chromium(compare_dir, tmp_path):
    chromium = _chromium()
    url = (compare_dir / "report.html").resolve().as_uri()
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run([chromium, *FLAGS, *profile, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    # the browser parsed the document: the tables are in its DOM with every row
    assert '<table id="targets">' in dom and '<table id="compare">' in dom
    targets = pd.read_csv(compare_dir / "scenarios" / "base" / "targets.csv")
    assert len(re.findall(r"<tr[^>]*data-target=", dom)) == len(targets)
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, *FLAGS, *profile, "--window-size=1200,1600", f"--screenshot={shot}", url], capture_output=True, timeout=120)
    from matplotlib.image import imread

    img = imread(shot)
    assert img.shape[0] >= 1000 and img.std() > 0.05  # a real page was painted, not a blank one

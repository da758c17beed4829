"""What the report explains: the answer first, what holds the park back, the rule, the baseline and ranges,
targets by their labels, and Chinese text that a browser without a CJK font still draws."""

from __future__ import annotations

import base64
import html
import io
import re
import subprocess

import numpy as np
import pandas as pd
import pytest
from test_report import FLAGS, _chromium

import parksim
from parksim.cli import main

PARK = """
name = "秀山 test zone"
description = "A zone whose baseline is invented"
[simulation]
years = 2
[pipeline]
signings_per_month = 3.0
[sectors.a]
[baseline.sectors.a]
firms = 15
total_revenue = 20.0
[[targets]]
label = "产值 > 30亿元"
indicator = "total_output"
threshold = 30.0
year = 2024
[[targets]]
label = "新增专精特新 >= 9"
indicator = "new_zjtx"
threshold = 9.0
year = "each"
[assessment]
initial_status = "candidate"
[[assessment.rules]]
name = "recognition"
kind = "thresholds"
min_met = 1
criteria = [{indicator = "total_output", comparison = ">=", threshold = 30.0}, {indicator = "firms", threshold = 25.0}]
[[assessment.transitions]]
from_status = "candidate"
on = "pass"
to = "recognised"
[[assessment.transitions]]
from_status = "candidate"
on = "fail"
to = "not_recognised"
min_years = 2
[levers.rd_subsidy]
rate = 0.1
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    (d / "park.toml").write_text(PARK, encoding="utf-8")
    assert main(["run", str(d / "park.toml"), "-n", "30", "-j", "1", "-q", "--engine", "simpy", "--out", str(d / "run")]) == 0
    assert main(["report", str(d / "run")]) == 0
    return d / "run"


@pytest.fixture(scope="module")
def page(run_dir):
    return (run_dir / "report.html").read_text(encoding="utf-8")


def test_report_shows_the_assessment_result_first(page, run_dir):
    a = pd.read_csv(run_dir / "assessment.csv")
    last = a[(a.year == a.year.max()) & (a.probability > 0)]
    head = re.search(r'<p class="note" id="headline-assessment">(.*?)</p>', page, flags=re.S).group(1)
    assert page.index("headline-assessment") < page.index('id="targets"')
    values = [float(x) for x in re.findall(r'data-value="([^"]*)"', head)]
    assert values == pytest.approx(last.probability.tolist(), abs=0)


def test_gaps_section_matches_gaps_csv(page, run_dir):
    g = pd.read_csv(run_dir / "gaps.csv")
    rows = re.findall(r'<tr data-gap="([^"]+)"><td>(\d+)</td>', re.search(r'<table id="gaps">(.*?)</table>', page, flags=re.S).group(1))
    assert [(html.unescape(t), int(k)) for t, k in rows] == list(zip(g.target, g["rank"], strict=True))


def test_targets_are_shown_by_label_not_code(page):
    table = re.search(r'<table id="targets">(.*?)</table>', page, flags=re.S).group(1)
    assert "产值 &gt; 30亿元" in table and "&gt; 30 亿元 in 2024" in table.replace("&gt;=", "&gt;")
    assert "total_output" not in table and "new_zjtx" not in table


def test_rule_baseline_and_ranges_are_in_the_report(page):
    rule = re.search(r'<div id="rule">(.*?)</div>', page, flags=re.S).group(1)
    assert "starts as <b>candidate</b>" in rule and "passes if at least 1 of these 2 are met" in rule
    assert "<li>产值 &gt; 30亿元</li>" in rule  # a criterion equal to a target is named by the target's label
    assert "candidate → <b>not_recognised</b> on fail, after at least 2 assessments in it" in rule
    assert "no enterprise register" in page and '<table id="baseline">' in page
    # the R&D subsidy is on: its elasticity is uncertain, uniform(0.2, 0.8), 90% range 0.23 - 0.77
    row = re.search(r'<tr data-key="levers.rd_subsidy.elasticity">(.*?)</tr>', page, flags=re.S).group(1)
    assert "uniform(low=0.2, high=0.8)" in row and "0.23 – 0.77" in row
    assert "levers.credit" not in page  # off: not an assumption of this run
    assert "docs/parameters.md" not in page


def test_assessment_table_does_not_repeat_the_park_name(page):
    table = re.search(r'<table id="assessment">(.*?)</table>', page, flags=re.S).group(1)
    assert "秀山 test zone" not in table and '<th class="l">park</th>' not in table


def _embedded_font(page: str):
    from fontTools.ttLib import TTFont

    m = re.search(r"@font-face\{font-family:'parksim-cjk';src:url\(data:font/otf;base64,([A-Za-z0-9+/=]+)\)", page)
    assert m, "no embedded font"
    return TTFont(io.BytesIO(base64.b64decode(m.group(1))))


def test_embedded_font_covers_every_chinese_character_of_the_page(page):
    font = _embedded_font(page)
    cmap = font.getBestCmap()
    chinese = {c for c in page if "\u4e00" <= c <= "\u9fff"}
    assert {"秀", "山", "产", "亿"} <= chinese
    assert all(ord(c) in cmap for c in chinese)
    assert len(cmap) < 400  # a subset (the full font holds ~30,000 characters)
    assert "font-family:'parksim-cjk'" in page.split("body{", 1)[1][:40]


def test_chinese_labels_are_legible_in_chromium_without_a_cjk_font(page, tmp_path):
    """Two different characters of the page, drawn with the report's own styles, must give different pixels:
    a browser with no font for them draws the same empty box (tofu) for both."""
    chromium = _chromium()
    style = re.search(r"<style>(.*?)</style>", page, flags=re.S).group(1)
    probe = tmp_path / "probe.html"
    probe.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{style}'
        " span{position:absolute;top:10px;font-size:150px;line-height:1} body{margin:0}</style></head>"
        '<body><span style="left:20px">秀</span><span style="left:220px">亿</span></body></html>',
        encoding="utf-8",
    )
    shot = tmp_path / "probe.png"
    profile = "--user-data-dir=" + str(tmp_path / "profile")
    subprocess.run(
        [chromium, *FLAGS, profile, "--window-size=400,200", f"--screenshot={shot}", probe.as_uri()], capture_output=True, timeout=120
    )
    from matplotlib.image import imread

    img = imread(shot)[..., :3].mean(axis=2)
    a, b = img[:, 10:200], img[:, 210:400]
    assert a.std() > 0.05 and b.std() > 0.05  # something was drawn in both places
    # real glyphs differ in shape; tofu boxes are identical (mean absolute difference ~0)
    assert np.abs(a - b).mean() > 0.02


def test_report_on_a_portfolio_lists_each_park(root, tmp_path):
    res = parksim.simulate(root / "scenarios" / "ningxia-2025.toml", replications=10, seed=1, jobs=1, quiet=True, engine="simpy")
    res.write(tmp_path / "nx")
    html = parksim.report(tmp_path / "nx").read_text(encoding="utf-8")
    table = re.search(r'<table id="assessment">(.*?)</table>', html, flags=re.S).group(1)
    assessed = [name for name, r in res.parks.items() if r.assessment_def is not None]
    assert len(assessed) == 5 and all(park in table for park in assessed)  # several parks: the park column stays
    assert "F-other-zones" not in table  # assessed = false: no statuses
    assert "Each park of the portfolio starts from the table above" in html

"""The report on observed history: a run from a calibrated posterior or conditioned on observations, a calibration
folder, a backtest folder. The fixtures write small folders of each format themselves; every number shown equals
its CSV's value (data-value), every string from a file is escaped, and a wrong folder is a clear input error."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim.cli import main
from parksim.errors import InputError
from parksim.experiments.stats import wilson
from parksim.results.report_html import build_report

ROOT = Path(__file__).resolve().parents[1]
SHA = "ab" * 32


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("plain") / "run"
    res = parksim.simulate(str(ROOT / "scenarios" / "xiushan-2024.toml"), replications=20, seed=1, engine="fast", quiet=True)
    res.write(d)
    return d


def _copy_run(plain_run, dest: Path, **manifest) -> Path:
    shutil.copytree(plain_run, dest)
    m = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    m.update(manifest)
    (dest / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    return dest


def _png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    fig.savefig(path, format="png")
    plt.close(fig)


def _fit(rng, n: int = 5) -> pd.DataFrame:
    observed = rng.uniform(10, 500, n)
    rows = []
    for k, obs in enumerate(observed):
        shift = 2.0 if k == 1 else 1.0  # the second observation lies outside the calibrated 90% interval
        post = np.sort(obs * shift * np.array([0.9, 1.0, 1.1]) * rng.uniform(0.97, 1.03, 3))
        prior = np.sort(obs * np.array([0.5, 1.0, 1.6]) * rng.uniform(0.97, 1.03, 3))
        sd = np.nan if k == 2 else obs * 0.05
        rows.append(("total_output" if k % 2 else "hnte_valid", 2020 + k, "Xiushan <zone>", obs, sd, *post, *prior))
    cols = ["indicator", "year", "park", "observed", "sd", "sim_p05", "sim_p50", "sim_p95", "prior_p05", "prior_p50", "prior_p95"]
    return pd.DataFrame(rows, columns=cols)


def _probabilities(rng) -> pd.DataFrame:
    rows = []
    for k, (label, ind, thr) in enumerate([("产值 > 30亿元", "total_output", 30.0), ("<b>firms</b>", "firms", 120.0)]):
        p, q = rng.uniform(0.1, 0.9, 2)
        rows.append((label, ind, 2024, ">=", thr, "亿元" if k == 0 else "firms", p, p - 0.05, p + 0.05, q, q - 0.04, q + 0.04, q - p, 2000))
    p, q = rng.uniform(0.05, 0.3, 2)
    rows.append(("ALL", "", np.nan, "", np.nan, "", p, p - 0.03, p + 0.03, q, q - 0.03, q + 0.03, q - p, 2000))
    cols = [
        "target", "indicator", "year", "comparison", "threshold", "unit", "prior_p_met", "prior_ci_low", "prior_ci_high",
        "calibrated_p_met", "calibrated_ci_low", "calibrated_ci_high", "difference", "replications",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def write_calibration(d: Path, observations: int = 5, sha: str = SHA, probabilities: bool = True) -> Path:
    rng = np.random.default_rng(7)
    d.mkdir(parents=True)
    ratios = [0.31234567, 0.9, 0.7499, 1.02]
    cal = pd.DataFrame(
        [(f"growth.p{k}", "%/year", 1.0 + k, 2.0 + k, 3.0 + k, 1.5 + k, 2.1 + k, 1.5 + k + 2 * w, w, 812.5) for k, w in enumerate(ratios)],
        columns=["parameter", "unit", "prior_p05", "prior_p50", "prior_p95", "post_p05", "post_p50", "post_p95", "width_ratio", "ess"],
    )
    cal.to_csv(d / "calibration.csv", index=False)
    _fit(rng, observations).to_csv(d / "fit.csv", index=False)
    if probabilities:
        _probabilities(rng).to_csv(d / "probabilities.csv", index=False)
    _png(d / "calibration.png")
    manifest = {
        "kind": "calibration",
        "scenario_name": "Xiushan <script>x</script>",
        "scenario_sha256": sha,
        "observations": observations,
        "simulations": 20000,
        "ess": 812.5,
        "parameters": list(cal.parameter),
        "stopped_by": "budget",
        "seed": 3,
    }
    (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return d


def write_backtest(d: Path) -> Path:
    rng = np.random.default_rng(11)
    d.mkdir(parents=True)
    rows = []
    for k in range(8):
        obs = rng.uniform(20, 300)
        q = np.sort(obs * rng.uniform(0.6, 1.4, 5))
        c50, c90 = bool(q[1] <= obs <= q[3]), bool(q[0] <= obs <= q[4])
        origin = np.nan if k < 2 else 2019 + k
        rows.append(
            ("total_output", 2020 + k, "Xiushan <i>zone</i>", obs, obs * 0.05, origin, 0 if k < 2 else k, 150.0 + k, *q,
             rng.uniform(), rng.uniform(0, 20), c50, c90)
        )  # fmt: skip
    cols = [
        "indicator", "year", "park", "observed", "sd", "origin", "given", "ess", "p05", "p25", "p50", "p75", "p95", "pit",
        "crps", "covered50", "covered90",
    ]  # fmt: skip
    bt = pd.DataFrame(rows, columns=cols)
    bt.to_csv(d / "backtest.csv", index=False)
    n = len(bt)
    cov = pd.DataFrame(
        [("50%", 0.5, int(bt.covered50.sum()), n, bt.covered50.mean()), ("90%", 0.9, int(bt.covered90.sum()), n, bt.covered90.mean())],
        columns=["interval", "nominal", "covered", "forecasts", "share"],
    )
    cov.to_csv(d / "coverage.csv", index=False)
    _png(d / "backtest.png")
    manifest = {
        "kind": "backtest",
        "scenario_name": "Xiushan & co",
        "seed": 5,
        "replications": 400,
        "forecasts": n,
        "coverage50": float(bt.covered50.mean()),
        "coverage90": float(bt.covered90.mean()),
        "observations": n,
    }
    (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return d


def table_rows(page: str, table_id: str) -> list[tuple[str, list[float]]]:
    """Each body row of a table: its opening tag and the data-values of its cells."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, flags=re.S).group(1)
    rows = re.findall(r"(<tr[^>]*>)(.*?)</tr>", table, flags=re.S)[1:]
    return [(tag, [float(x) for x in re.findall(r'data-value="([^"]*)"', body)]) for tag, body in rows]


def assert_values(got: list[float], expected) -> None:
    exp = [float(x) for x in expected]
    assert len(got) == len(exp)
    for g, e in zip(got, exp, strict=True):
        assert (np.isnan(g) and np.isnan(e)) or g == e


def check_fit(page: str, fit: pd.DataFrame) -> None:
    rows = table_rows(page, "fit")
    assert len(rows) == len(fit)
    cols = ["observed", "sd", "prior_p05", "prior_p50", "prior_p95", "sim_p05", "sim_p50", "sim_p95"]
    for (tag, values), (_, f) in zip(rows, fit.iterrows(), strict=True):
        assert_values(values, f[cols])
        assert ('class="outside"' in tag) == (not f.sim_p05 <= f.observed <= f.sim_p95)
    assert sum('class="outside"' in tag for tag, _ in rows) == 1


def check_probabilities(page: str, probs: pd.DataFrame) -> None:
    rows = table_rows(page, "probabilities")
    cols = ["prior_p_met", "prior_ci_low", "prior_ci_high", "calibrated_p_met", "calibrated_ci_low", "calibrated_ci_high"]
    for (tag, values), (_, p) in zip(rows, probs.iterrows(), strict=True):
        assert html.unescape(re.search(r'data-target="([^"]*)"', tag).group(1)) == p.target
        assert_values(values, [*p[cols], p.difference, p.replications])
    assert len(rows) == len(probs) and 'class="all"' in rows[-1][0]


def test_run_from_a_posterior_shows_its_calibration(plain_run, tmp_path, monkeypatch):
    cal = write_calibration(tmp_path / "runs" / "cal")
    post = {"digest": "d" * 64, "folder": "out/cal", "observations": 5, "scenario_sha256": SHA, "ess": 812.5}
    # named as given from another directory: found as a folder of that name beside the run
    run = _copy_run(plain_run, tmp_path / "runs" / "run", posterior=post)
    monkeypatch.chdir(tmp_path)
    page = build_report(run).read_text(encoding="utf-8")
    head = re.search(r'<p class="note" id="calibrated">(.*?)</p>', page, flags=re.S).group(1)
    assert re.search(r'calibrated to <b data-value="5.0">5</b> observations', head)
    assert 'effective sample size <b data-value="812.5">812</b>' in head and "shown below" in head
    assert page.index('id="calibrated"') < page.index('id="targets"') < page.index('id="fit"')
    check_fit(page, pd.read_csv(cal / "fit.csv"))
    check_probabilities(page, pd.read_csv(cal / "probabilities.csv"))
    assert '<td class="l">Xiushan &lt;zone&gt;</td>' not in page  # a single park's name is not repeated on every row
    assert "&lt;b&gt;firms&lt;/b&gt;" in page and "<b>firms</b>" not in page


@pytest.mark.parametrize("how", ["from the current directory", "from the run's parent", "absolute"])
def test_the_calibration_folder_is_found_as_named(plain_run, tmp_path, monkeypatch, how):
    cal = write_calibration(tmp_path / "work" / "sub" / "cal", probabilities=False)
    folder = {"from the current directory": "sub/cal", "from the run's parent": "cal", "absolute": str(cal)}[how]
    base = tmp_path / "work" if how == "from the current directory" else cal.parent
    monkeypatch.chdir(tmp_path / "work" if how == "from the current directory" else tmp_path)
    post = {"digest": "d", "folder": folder, "observations": 5, "scenario_sha256": SHA, "ess": 9.0}
    run = _copy_run(plain_run, base / "run" if how != "from the current directory" else tmp_path / "elsewhere" / "run", posterior=post)
    page = build_report(run).read_text(encoding="utf-8")
    check_fit(page, pd.read_csv(cal / "fit.csv"))
    assert 'id="probabilities"' not in page  # an older calibration without probabilities.csv


def test_a_missing_calibration_folder_gives_the_header_but_no_fit(plain_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_calibration(tmp_path / "other", sha="cd" * 32)  # beside the run, of another scenario: not taken
    post = {"digest": "d", "folder": "other", "observations": 12, "scenario_sha256": SHA, "ess": 300}
    run = _copy_run(plain_run, tmp_path / "run", posterior=post)
    assert main(["report", str(run)]) == 0
    page = (run / "report.html").read_text(encoding="utf-8")
    assert re.search(r'calibrated to <b data-value="12.0">12</b> observations', page) and "not found" in page
    assert 'id="fit"' not in page and 'id="probabilities"' not in page and 'id="targets"' in page


def test_plain_run_has_no_history(plain_run, tmp_path):
    run = _copy_run(plain_run, tmp_path / "run", posterior=None, given_observations=None)
    page = build_report(run).read_text(encoding="utf-8")
    assert 'id="calibrated"' not in page and 'id="conditioned"' not in page and 'id="fit"' not in page


def _conditioning(rng) -> pd.DataFrame:
    rows = []
    for k in range(4):
        obs = rng.uniform(20, 400)
        sim = np.sort(obs * rng.uniform(0.5, 1.5, 3))
        kept = np.sort(obs * rng.uniform(0.9, 1.1, 3)) * (1.5 if k == 3 else 1.0)  # the last outside the kept 90%
        rows.append(("total_output", 2022 + k % 2, "Xiushan", obs, obs * 0.1, "true" if k % 2 else "false", *sim, *kept))
    cols = [
        "indicator", "year", "park", "observed", "sd", "sd_stated", "sim_p05", "sim_p50", "sim_p95", "kept_p05", "kept_p50",
        "kept_p95",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


@pytest.mark.parametrize("kept", [150, 640])
def test_run_conditioned_on_observations(plain_run, tmp_path, kept):
    given = {"observations": 4, "until": 2023, "replications_simulated": 2000, "kept": kept, "ess": kept, "relative_error": 0.05}
    run = _copy_run(plain_run, tmp_path / "run", given_observations=given)
    cond = _conditioning(np.random.default_rng(3))
    with open(run / "conditioning.csv", "w", encoding="utf-8", newline="") as f:
        f.write(cond.to_csv(index=False))
    page = build_report(run).read_text(encoding="utf-8")
    head = re.search(r'<p class="note" id="conditioned">(.*?)</p>', page, flags=re.S).group(1)
    text = re.sub(r"<[^>]+>", "", head)
    assert f"conditioned on 4 observations up to 2023 (ESS {kept} of 2,000 replications)" in text
    assert [float(x) for x in re.findall(r'data-value="([^"]*)"', head)] == [4, 2023, kept, 2000]
    assert ('id="few-kept"' in page) == (kept < 200)
    if kept < 200:
        assert re.search(r'<p class="note" id="few-kept"><b>Warning:</b> only <b data-value="150.0">', page)
    rows = table_rows(page, "conditioning")
    cols = ["observed", "sd", "sim_p05", "sim_p50", "sim_p95", "kept_p05", "kept_p50", "kept_p95"]
    for (tag, values), (_, c) in zip(rows, cond.iterrows(), strict=True):
        assert_values(values, c[cols])
        assert ('class="outside"' in tag) == (not c.kept_p05 <= c.observed <= c.kept_p95)
    assert len(rows) == 4 and page.count("(assumed)") == 2  # the sd its source does not state
    assert re.search(r'<i>assumed</i> as <b data-value="5.0">5</b>% of the figure', page)


def test_calibration_report(tmp_path):
    cal = write_calibration(tmp_path / "cal")
    assert main(["report", str(cal)]) == 0
    page = (cal / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "Xiushan &lt;script&gt;x&lt;/script&gt;: calibration" in page
    assert re.search(r'Calibrated to <b data-value="5.0">5</b> observations', page)
    body = re.search(r'<table id="summary">(.*?)</table>', page, flags=re.S).group(1)
    assert [float(x) for x in re.findall(r'data-value="([^"]*)"', body)] == [5, 20000, 812.5, 4]
    assert "budget" in body
    table = pd.read_csv(cal / "calibration.csv")
    narrow = table[table.width_ratio < 0.75].sort_values("width_ratio")
    rows = table_rows(page, "narrowed")
    assert [re.search(r'data-parameter="([^"]*)"', t).group(1) for t, _ in rows] == list(narrow.parameter)
    cols = ["prior_p05", "prior_p50", "prior_p95", "post_p05", "post_p50", "post_p95", "width_ratio"]
    for (_, values), (_, r) in zip(rows, narrow.iterrows(), strict=True):
        assert_values(values, r[cols])
    check_fit(page, pd.read_csv(cal / "fit.csv"))
    check_probabilities(page, pd.read_csv(cal / "probabilities.csv"))
    assert page.count('src="data:image/png;base64,') == 1 and not re.search(r'(src|href)="(https?:)?//', page)


def test_backtest_report(tmp_path):
    bt_dir = write_backtest(tmp_path / "bt")
    page = build_report(bt_dir).read_text(encoding="utf-8")
    assert "Xiushan &amp; co: backtest" in page and "<i>zone</i>" not in page
    cov = pd.read_csv(bt_dir / "coverage.csv")
    rows = table_rows(page, "coverage")
    assert [re.search(r'data-interval="([^"]*)"', t).group(1) for t, _ in rows] == ["50%", "90%"]
    for (_, values), (_, c) in zip(rows, cov.iterrows(), strict=True):
        assert_values(values, [c.nominal, c.covered, c.forecasts, c.share, *wilson(c.covered, c.forecasts)])
    bt = pd.read_csv(bt_dir / "backtest.csv")
    rows = table_rows(page, "forecasts")
    table = re.search(r'<table id="forecasts">(.*?)</table>', page, flags=re.S).group(1)
    covered = re.findall(r'data-covered="(true|false)"', table)
    assert covered[0::2] == [str(x).lower() for x in bt.covered50] and covered[1::2] == [str(x).lower() for x in bt.covered90]
    for (tag, values), (_, b) in zip(rows, bt.iterrows(), strict=True):
        origin = [] if pd.isna(b.origin) else [b.origin]
        assert_values(values, [*origin, b.given, b.observed, b.p05, b.p50, b.p95, b.pit, b.crps])
        assert ('class="outside"' in tag) == (not b.covered90)
    assert len(rows) == len(bt) and table.count(">none</td>") == 2  # forecasts from the scenario alone
    head = re.search(r'<p class="note" id="backtest-headline">(.*?)</p>', page, flags=re.S).group(1)
    assert [float(x) for x in re.findall(r'data-value="([^"]*)"', head)][:2] == [8, 8]
    assert page.count('src="data:image/png;base64,') == 1


def test_unknown_kind_or_missing_files_are_input_errors(tmp_path, capsys):
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "manifest.json").write_text(json.dumps({"kind": "optimisation"}), encoding="utf-8")
    assert main(["report", str(odd)]) == 2
    err = capsys.readouterr().err
    assert str(odd) in err and "unknown kind 'optimisation'" in err and "calibrate or backtest" in err
    cal = write_calibration(tmp_path / "cal")
    (cal / "fit.csv").unlink()
    with pytest.raises(InputError, match=r"cal: fit.csv is missing; expected the complete output of parksim calibrate"):
        build_report(cal)
    bt = write_backtest(tmp_path / "bt")
    (bt / "coverage.csv").unlink()
    with pytest.raises(InputError, match=r"bt: coverage.csv is missing; expected the complete output of parksim backtest"):
        build_report(bt)

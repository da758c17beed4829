"""Monte Carlo runs: Wilson intervals, P(met) from the replications it claims, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

import parksim
from parksim.cli import CHECKPOINT, main
from parksim.experiments.checkpoint import saved_replications
from parksim.experiments.result import TARGET_COLUMNS
from parksim.experiments.stats import compare, nanquantile, wilson

SMALL = """
name = "Small park"
[simulation]
start_year = 2023
years = 2
[pipeline]
signings_per_month = 2.0
[sectors.a]
[baseline.sectors.a]
firms = 20
[[targets]]
label = "output > 22"
indicator = "total_output"
comparison = ">"
threshold = {threshold}
year = 2024
[[targets]]
label = "new firms each year"
indicator = "projects_producing"
comparison = ">="
threshold = 5
year = "each"
"""


@pytest.fixture
def small(write):
    # thresholds near the medians of 2024 output (about 22亿元) and of 2023's new producers (4; 12 in 2024, with the
    # pipeline's sourced delays), so no P(met) is 0 or 1 (P(ALL) about 0.29 at 400 replications, seed 2)
    return write("small.toml", SMALL.replace("{threshold}", "22.0"))


@pytest.mark.parametrize("k, n", [(0, 20), (1, 29), (15, 148), (81, 263), (50, 50), (7, 10)])
def test_wilson_matches_reference(k, n):
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(ref.low, abs=1e-12) and hi == pytest.approx(ref.high, abs=1e-12)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_nanquantile_is_numpys(axis):
    # the fast path (np.quantile where a slice has no NaN) gives numpy's nanquantile exactly, NaN slices included
    rng = np.random.default_rng(5)
    x = rng.lognormal(size=(300, 4, 6))
    x[rng.random(x.shape) < 0.02] = np.nan
    x[:, 1, 2] = x[7, :, :] = x[:, :, 3] = np.nan  # an all-NaN slice whichever the axis
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning, match="All-NaN"):
        want = np.nanquantile(x, q, axis=axis)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning, match="All-NaN"):
        got = nanquantile(x, q, axis=axis)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(nanquantile(x[:, 0, 0], q), np.nanquantile(x[:, 0, 0], q), equal_nan=True)


def test_compare_never_meets_with_nan():
    assert compare([1.0, np.nan, 3.0], ">=", 1.0).tolist() == [True, False, True]
    assert compare([1.0, 2.0], "<", 2.0).tolist() == [True, False]


def test_run_writes_files_and_p_met_is_recomputable(small, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(small), "-n", "40", "--seed", "3", "-j", "1", "-q", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "P(met)" in printed and "ALL" in printed
    targets = pd.read_csv(out / "targets.csv")
    assert list(targets.columns) == TARGET_COLUMNS
    assert targets.target.tolist() == ["output > 22", "new firms each year (2023)", "new firms each year (2024)", "ALL"]
    annual = pd.read_parquet(out / "annual.parquet")
    assert list(annual.columns) == ["replication", "seed", "year", "indicator", "value"]
    assert annual.replication.nunique() == 40 and (annual.seed == 3).all()
    wide = annual.pivot_table(index="replication", columns=["indicator", "year"], values="value", observed=True)
    met = []
    for r in targets[targets.target != "ALL"].itertuples():
        m = compare(wide[(r.indicator, int(r.year))].to_numpy(), r.comparison, r.threshold)
        assert r.p_met == pytest.approx(m.mean(), abs=1e-12)
        lo, hi = wilson(m.sum(), len(m))
        assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), abs=1e-12)
        met.append(m)
    all_row = targets[targets.target == "ALL"].iloc[0]
    assert all_row.p_met == pytest.approx(np.all(met, axis=0).mean(), abs=1e-12)
    assert 0 < targets.p_met.iloc[0] < 1  # the test exercises a real probability
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for key in ("scenario", "scenario_sha256", "seed", "replications", "versions", "started", "finished"):
        assert key in manifest
    assert manifest["replications"] == 40 and manifest["seed"] == 3 and "numpy" in manifest["versions"]
    assert (out / "fan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob("*.part"))  # atomic writes leave no temporary files


def test_certain_and_impossible_targets(write):
    path = write(
        "edge.toml",
        """
        [simulation]
        years = 1
        [sectors.a]
        [baseline.sectors.a]
        firms = 10
        [[targets]]
        label = "always"
        indicator = "firms"
        comparison = ">="
        threshold = 0
        year = 2023
        [[targets]]
        label = "never"
        indicator = "total_output"
        comparison = ">"
        threshold = 1e12
        year = 2023
        """,
    )
    t = parksim.simulate(path, replications=25, seed=1, jobs=1, quiet=True).targets.set_index("target")
    assert t.loc["always", "p_met"] == 1.0 and t.loc["never", "p_met"] == 0.0 and t.loc["ALL", "p_met"] == 0.0
    assert t.loc["always", "ci_low"] > 0.86  # Wilson lower bound for 25/25 is 0.867


def test_results_identical_for_any_number_of_jobs(small, tmp_path):
    for jobs in ("1", "2"):
        assert main(["run", str(small), "-n", "30", "--seed", "5", "-j", jobs, "-q", "--out", str(tmp_path / jobs)]) == 0
    for name in ("targets.csv", "annual.parquet", "quantiles.csv", "binding.csv"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name


def test_precision_stops_at_or_below_the_half_width(small):
    res = parksim.simulate(small, precision=0.12, batch=20, max_replications=400, seed=2, jobs=1, quiet=True)
    all_row = res.targets.iloc[-1]
    assert res.stopped_by == "precision"
    assert (all_row.ci_high - all_row.ci_low) / 2 <= 0.12
    assert res.replications % 20 == 0 and res.replications < 400
    # one batch fewer would not have been enough (it stops at the first batch that reaches it)
    fewer = parksim.simulate(small, replications=res.replications - 20, seed=2, jobs=1, quiet=True).targets.iloc[-1]
    assert (fewer.ci_high - fewer.ci_low) / 2 > 0.12


def test_precision_reaching_the_maximum_says_so(small, capsys, tmp_path):
    args = ["run", str(small), "--precision", "0.01", "--max-replications", "30", "-j", "1", "-q", "--out", str(tmp_path / "p")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "reached --max-replications 30" in out and "not the precision asked" in out


def test_binding_target_and_quantiles(small):
    res = parksim.simulate(small, replications=40, seed=3, jobs=1, quiet=True)
    b = res.binding
    assert list(b.columns) == ["target", "replications_missing_all", "p_fails_given_all_missed", "p_only_failure"]
    assert res.binding_target == b.target.iloc[0]
    assert (b.p_fails_given_all_missed >= b.p_only_failure).all()
    q = res.quantiles.query("indicator == 'total_output' and year == 2024").iloc[0]
    assert q.p5 <= q.p25 <= q.p50 <= q.p75 <= q.p95
    ax = res.plot_fan("total_output")
    assert ax.get_title() == "output > 22\ntotal_output [亿元]"  # the target's label, then the indicator


@pytest.mark.parametrize(
    "target, message",
    [
        ('indicator = "outpt"', "unknown indicator 'outpt'"),
        ('comparison = "=>"', "unknown comparison '=>'"),
        ("year = 2030", "outside the simulated years"),
        ('year = "every"', 'expected a year or "each"'),
    ],
)
def test_bad_target_is_an_input_error(write, capsys, target, message):
    fields = {"label": '"t"', "indicator": '"firms"', "comparison": '">="', "threshold": "1", "year": "2023"}
    key = target.split(" = ")[0]
    fields[key] = target.split(" = ")[1]
    body = "\n".join(f"{k} = {v}" for k, v in fields.items())
    path = write("bad.toml", f"[sectors.a]\n[[targets]]\n{body}\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and f"targets.0.{key}" in err and "Traceback" not in err


def test_resumed_run_equals_an_uninterrupted_one(small, tmp_path):
    ckpt = tmp_path / "checkpoint.npz"
    full = parksim.simulate(small, replications=60, batch=20, seed=4, jobs=1, quiet=True)
    # an interrupted run: only the first 20 replications were checkpointed
    parksim.simulate(small, replications=20, batch=20, seed=4, jobs=1, quiet=True, checkpoint=ckpt)
    assert saved_replications(ckpt) == 20
    resumed = parksim.simulate(small, replications=60, batch=20, seed=4, jobs=2, quiet=True, checkpoint=ckpt, resume=True)
    assert np.array_equal(resumed.values, full.values, equal_nan=True)
    pd.testing.assert_frame_equal(resumed.targets, full.targets)
    assert saved_replications(ckpt) == 60  # checkpointed after every batch


def test_checkpoint_of_another_run_is_refused(small, tmp_path):
    ckpt = tmp_path / "checkpoint.npz"
    parksim.simulate(small, replications=10, batch=10, seed=4, jobs=1, quiet=True, checkpoint=ckpt)
    with pytest.raises(ValueError, match="checkpoint of another scenario, seed") as err:
        parksim.simulate(small, replications=20, batch=10, seed=5, jobs=1, quiet=True, checkpoint=ckpt, resume=True)
    assert not isinstance(err.value, parksim.ScenarioError)  # the scenario is fine: the checkpoint does not fit it


def test_cli_resume_and_cleanup(small, tmp_path, capsys):
    out = tmp_path / "run"
    parksim.simulate(small, replications=20, batch=20, seed=7, jobs=1, quiet=True, checkpoint=out / CHECKPOINT)
    assert main(["run", str(small), "-n", "40", "--seed", "7", "-j", "1", "-q", "--out", str(out), "--resume"]) == 0
    assert not (out / CHECKPOINT).exists()  # removed once the run's files are complete
    resumed = pd.read_csv(out / "targets.csv")
    assert main(["run", str(small), "-n", "40", "--seed", "7", "-j", "1", "-q", "--out", str(tmp_path / "fresh")]) == 0
    pd.testing.assert_frame_equal(resumed, pd.read_csv(tmp_path / "fresh" / "targets.csv"))
    capsys.readouterr()


@pytest.mark.parametrize("shape, axis", [((400, 6, 7), 0), ((400, 6), 0), ((6, 400), 1), ((30, 4, 5), 1), ((400,), 0)])
def test_nanquantile_is_numpys_and_leaves_its_input_alone(shape, axis):
    # experiments.stats.nanquantile partitions a contiguous copy of the slices: the same numbers as numpy's nanquantile
    # (bit for bit: the same partition and interpolation), NaN slices included, and the caller's array unchanged
    rng = np.random.default_rng(7)
    x = rng.lognormal(size=shape)
    x[rng.random(shape) < 0.02] = np.nan
    before = x.copy()
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    assert np.array_equal(nanquantile(x, q, axis=axis), np.nanquantile(x, q, axis=axis), equal_nan=True)
    assert np.array_equal(x, before, equal_nan=True)
    clean = np.nan_to_num(x, nan=1.0)
    assert np.array_equal(nanquantile(clean, q, axis=axis), np.quantile(clean, q, axis=axis))

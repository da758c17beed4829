"""Nowcasting (run --given-observations) and backtests (parksim backtest): conditioning a run on observed years,
the scores' known answers, and the calibration of forecast intervals over many synthetic parks."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import synthetic_park, synthetic_park_file
from scipy import stats

import parksim
from parksim.cli import main
from parksim.errors import InputError
from parksim.experiments import nowcast as N
from parksim.experiments.backtest import crps, pit, score
from parksim.experiments.calibrate import Observed
from parksim.scenario.observations import Observation


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return parksim.load_scenario(synthetic_park_file(tmp_path_factory.mktemp("nowcast")))


@pytest.fixture(scope="module")
def pool(small):
    """The run every test conditions: 4,000 replications of the prior."""
    return parksim.simulate(small, replications=4000, seed=1, engine="fast", quiet=True, jobs=2)


@pytest.fixture(scope="module")
def truths(small):
    """100 synthetic parks of the same prior, another seed: what is 'observed'."""
    return parksim.simulate(small, replications=100, seed=2, engine="fast", quiet=True, jobs=2)


def _own(truths, j, indicators, years, sd=None, noise=None):
    out = []
    for i in indicators:
        for y in years:
            v = float(truths.level(i, y)[j])
            s = None if sd is None else sd * max(abs(v), 1.0)
            if noise is not None:
                v += s * noise.standard_normal()
            out.append(Observation(indicator=i, year=y, value=v, sd=s, source="synthetic: another seed's replication"))
    return out


def _width(x):
    lo, hi = np.quantile(x, [0.05, 0.95])
    return hi - lo


# --- conditioning -------------------------------------------------------------------------------------------------
def test_conditioning_on_own_2023_values_narrows_2024_and_contains_it(pool, truths):
    """Conditioned on a synthetic park's own 2023 signings and firms (10% measurement error), the 2024 distribution
    of each is narrower than the unconditioned one (90% width), for each of 10 parks, and holds the park's own 2024
    value inside its 98% interval in at least 19 of the 20 cases (if the conditioned distributions were exact, 2 or
    more misses would happen in 6% of seed sets; with these fixed seeds the test is deterministic)."""
    inside = 0
    for j in range(10):
        res = N.condition(pool, _own(truths, j, ("projects_signed", "firms"), [2023]), relative_error=0.1, warn=False)
        assert res.conditioning.ess == res.replications >= N.MIN_KEPT
        for ind in ("projects_signed", "firms"):
            given, every = res.level(ind, 2024), pool.level(ind, 2024)
            assert _width(given) < _width(every), (j, ind, _width(given), _width(every))
            lo, hi = np.quantile(given, [0.01, 0.99])
            inside += bool(lo <= truths.level(ind, 2024)[j] <= hi)
    assert inside >= 19, f"the own 2024 value was inside the conditioned 98% interval in {inside} of 20 cases"


def test_kept_replications_follow_the_likelihood(pool, small):
    """Rejection keeps replications in proportion to their likelihood: the kept replications' mean of an observed
    indicator equals the likelihood-weighted mean of every replication within 4 of its standard errors (a false
    alarm about once in 16,000 seed sets)."""
    obs = [Observation(indicator="projects_signed", year=2024, value=95.0, sd=10.0, source="synthetic")]
    res = N.condition(pool, obs, warn=False)
    w = res.conditioning.weights
    x = pool.level("projects_signed", 2024)
    kept = res.level("projects_signed", 2024)
    weighted = float(np.sum(w * x) / np.sum(w))
    assert abs(kept.mean() - weighted) <= 4 * kept.std(ddof=1) / math.sqrt(len(kept))
    # the replication numbers are the kept ones, in order
    ids = res.annual.replication.unique()
    assert np.array_equal(ids, res.conditioning.kept)
    assert np.array_equal(res.values, pool.values[res.conditioning.kept], equal_nan=True)


def test_conditioning_is_the_same_whatever_the_jobs(small):
    obs = [Observation(indicator="firms", year=2023, value=72.0, sd=4.0, source="synthetic")]
    runs = [
        parksim.simulate(
            small.model_copy(update={"observations": obs}),
            replications=600,
            seed=4,
            engine="fast",
            quiet=True,
            jobs=j,
            given_observations=True,
        )
        for j in (1, 2)
    ]
    assert np.array_equal(runs[0].conditioning.kept, runs[1].conditioning.kept)
    assert runs[0].targets.equals(runs[1].targets)


def test_observation_out_of_reach_is_named(pool):
    far = Observation(indicator="firms", year=2024, value=5000.0, source="synthetic")
    near = Observation(indicator="firms", year=2023, value=72.0, source="synthetic")
    with pytest.raises(InputError, match=r"firms 2024 = 5000 .*out of the model's reach: no replication of 4,000"):
        N.condition(pool, [near, far])
    # each within reach alone, not together: a park with many firms in 2023 and few in 2024 (firms grow here)
    together = [
        Observation(indicator="firms", year=2023, value=float(np.quantile(pool.level("firms", 2023), 0.99)), sd=0.5, source="x"),
        Observation(indicator="firms", year=2024, value=float(np.quantile(pool.level("firms", 2024), 0.01)), sd=0.5, source="x"),
    ]
    with pytest.raises(InputError, match=r"out of the model's reach together: \d+ of 4,000 .*ESS ≈ 0.*reaches least: firms"):
        N.condition(pool, together)


def test_few_replications_warn(pool):
    obs = [
        Observation(
            indicator="total_output", year=2024, value=float(np.quantile(pool.level("total_output", 2024), 0.97)), sd=1.0, source="x"
        )
    ]
    with pytest.warns(N.FewReplicationsWarning, match="fewer than 200"):
        res = N.condition(pool, obs)
    assert N.MIN_KEPT <= res.conditioning.ess < N.WARN_ESS


# --- the command ---------------------------------------------------------------------------------------------------
@pytest.fixture
def observed_file(write, root):
    text = synthetic_park()
    for y, v in ((2023, 60.0), (2024, 75.0)):
        text += f'\n[[observations]]\nindicator = "projects_signed"\nyear = {y}\nvalue = {v}\nsd = 6.0\nsource = "synthetic"\n'
    text += (
        '\n[[targets]]\nlabel = "signed >= 70 in 2025"\nindicator = "projects_signed"\ncomparison = ">="\nthreshold = 70.0\nyear = 2025\n'
    )
    return write("observed.toml", text)


def test_run_given_observations_writes_what_it_kept(observed_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                str(observed_file),
                "-n",
                "2000",
                "--seed",
                "3",
                "-q",
                "--given-observations",
                "--given-until",
                "2023",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    g = man["given_observations"]
    assert g["observations"] == 1 and g["until"] == 2023 and g["replications_simulated"] == 2000
    assert man["replications"] == g["kept"] == g["ess"] and f"ESS {g['kept']:,} of 2,000" in text
    table = pd.read_csv(out / "conditioning.csv")
    assert table.loc[0, ["indicator", "year", "observed", "sd"]].tolist() == ["projects_signed", 2023, 60.0, 6.0]
    assert bool(table.loc[0, "sd_stated"])
    # the kept replications' 2023 signings sit around the observed 60, closer than every replication's
    assert abs(table.loc[0, "kept_p50"] - 60) < abs(table.loc[0, "sim_p50"] - 60) or abs(table.loc[0, "sim_p50"] - 60) < 3
    assert table.loc[0, "kept_p95"] - table.loc[0, "kept_p05"] < table.loc[0, "sim_p95"] - table.loc[0, "sim_p05"]
    annual = pd.read_parquet(out / "annual.parquet")
    assert annual.replication.nunique() == g["kept"] and annual.replication.max() < 2000
    # the same run without the flag: no conditioning.csv left behind, and the manifest says so
    assert main(["run", str(observed_file), "-n", "50", "-q", "--out", str(out)]) == 0
    assert not (out / "conditioning.csv").exists()
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["given_observations"] is None


def test_run_given_observations_errors(observed_file, write, root, tmp_path, capsys):
    args = ["run", str(observed_file), "-n", "20", "-q", "--out", str(tmp_path / "e")]
    assert main([*args, "--given-until", "2023"]) == 2
    assert "--given-until needs --given-observations" in capsys.readouterr().err
    assert main([*args[:2], "--precision", "0.05", "-q", "--given-observations", "--out", str(tmp_path / "e")]) == 2
    assert "--precision with --given-observations" in capsys.readouterr().err
    assert main([*args, "--given-observations", "--given-until", "2020"]) == 2
    assert "has no observation of a year up to it" in capsys.readouterr().err
    plain = write("plain.toml", synthetic_park())
    assert main(["run", str(plain), "-n", "20", "-q", "--given-observations", "--out", str(tmp_path / "f")]) == 2
    assert "observations: none" in capsys.readouterr().err
    far = observed_file.read_text(encoding="utf-8").replace("value = 75.0", "value = 7500.0")
    assert main(["run", str(write("far.toml", far)), "-n", "200", "-q", "--given-observations", "--out", str(tmp_path / "g")]) == 2
    err = capsys.readouterr().err
    assert "projects_signed 2024 = 7500 (sd 6) is out of the model's reach" in err and "Traceback" not in err


def test_small_conditioned_run_warns_on_the_command_line(observed_file, tmp_path, capsys):
    assert main(["run", str(observed_file), "-n", "300", "-q", "--given-observations", "--out", str(tmp_path / "w")]) == 0
    assert "warning: only" in capsys.readouterr().err


# --- scores ----------------------------------------------------------------------------------------------------
def test_crps_and_pit_known_answers():
    assert crps(np.array([3.0]), 5.0) == pytest.approx(2.0)  # one draw: the absolute error
    # a standard normal at 0: 2φ(0) - 1/√π = 0.2337 (Gneiting and Raftery 2007); 200,000 draws agree to 0.002
    draws = stats.norm.ppf((np.arange(200_000) + 0.5) / 200_000)
    assert crps(draws, 0.0) == pytest.approx(2 * stats.norm.pdf(0) - 1 / math.sqrt(math.pi), abs=2e-3)
    # weights equal to repeating draws
    x, w = np.array([1.0, 4.0, 2.0]), np.array([1.0, 3.0, 2.0])
    assert crps(x, 2.5, w) == pytest.approx(crps(np.repeat(x, w.astype(int)), 2.5))
    assert pit(np.array([1.0, 2.0, 2.0, 3.0]), 2.0) == 0.5  # the mid-PIT: half the tie
    assert pit(x, 3.0, w) == pytest.approx(3 / 6)
    assert math.isnan(crps(np.array([np.nan]), 1.0)) and math.isnan(pit(np.array([1.0]), np.nan))


def test_backtest_intervals_are_calibrated(small, pool, truths):
    """100 synthetic parks of the prior, each observed through its yearly total output and firms with a stated 10%
    measurement error (and that much noise added), backtested with the rolling origin over 2023-2026: the 90%
    forecast intervals hold 0.86-0.94 of the observations and the 50% ones 0.44-0.56. The tolerance is ~2.5 standard
    errors at an effective 300 independent forecasts (the 800 are correlated within a park and share the run), so a
    false alarm about once in 100 seed sets."""
    rng = np.random.default_rng(5)
    rows = []
    for j in range(100):
        obs = Observed.of(small, _own(truths, j, ("total_output", "firms"), range(2023, 2027), sd=0.1, noise=rng))
        rows += score(pool, obs)[0]
    table = pd.DataFrame(rows).dropna(subset=[16])
    assert len(table) >= 780, "forecasts scored (the others' origins out of reach)"
    assert 0.86 <= table[16].astype(bool).mean() <= 0.94
    assert 0.44 <= table[15].astype(bool).mean() <= 0.56


def test_backtest_command(observed_file, tmp_path, capsys):
    out = tmp_path / "bt"
    assert main(["backtest", str(observed_file), "-n", "1500", "-q", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    table = pd.read_csv(out / "backtest.csv")
    assert list(table.columns[:5]) == ["indicator", "year", "park", "observed", "sd"]
    assert {"origin", "given", "ess", "p05", "p95", "pit", "crps", "covered50", "covered90"} <= set(table.columns)
    assert table.year.tolist() == [2023, 2024] and table.given.tolist() == [0, 1]
    assert pd.isna(table.origin[0]) and table.origin[1] == 2023 and table.ess[0] == 1500 and 0 < table.ess[1] < 1500
    assert (table.p05 <= table.p50).all() and (table.p50 <= table.p95).all()
    cov = pd.read_csv(out / "coverage.csv")
    assert cov.interval.tolist() == ["50%", "90%"] and cov.forecasts.tolist() == [2, 2]
    assert cov.covered[1] == table.covered90.sum()
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["kind"] == "backtest" and man["forecasts"] == 2 and man["coverage90"] == cov.share[1]
    assert (out / "backtest.png").stat().st_size > 1000
    assert "inside the 90% interval" in text
    assert main(["report", str(out)]) == 0  # a backtest folder has a report of its own


def test_backtest_without_observations_is_a_clear_error(write, root, tmp_path, capsys):
    plain = write("plain.toml", synthetic_park())
    assert main(["backtest", str(plain), "-q", "--out", str(tmp_path / "b")]) == 2
    assert "observations: none" in capsys.readouterr().err

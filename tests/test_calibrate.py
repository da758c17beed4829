"""Calibration to observed history (parksim calibrate, --posterior): parameters given instead of drawn, the ABC-SMC
sampler's known answers on synthetic parks, and the command's files and errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import synthetic_park

import parksim
from parksim.cli import main
from parksim.experiments import calibrate as C
from parksim.model.random import GivenUniforms, Streams, key_of
from parksim.model.realise import realise, with_given
from parksim.scenario.observations import Observation

SIGNINGS = "pipeline.signings_per_month"
UNUSED = "traits.hightech_share_gain"  # the high-tech revenue share's yearly gain: projects_signed cannot depend on it


@pytest.fixture
def small(write, root):
    return parksim.load_scenario(write("small.toml", synthetic_park()))


def _truth(scn, u_row, replication: int):
    """Simulate the park once at known parameter uniforms: its result."""
    keys = [p.key for p in C.parameters(scn)]
    return C._batch(scn, keys, np.asarray([u_row]), replication, 99, 2)


def _observe(scn, res, indicators=("projects_signed",)):
    years = range(scn.simulation.start_year, scn.simulation.start_year + scn.simulation.years)
    obs = [
        Observation(indicator=i, year=y, value=float(res.level(i, y)[0]), source="synthetic: the truth's replication")
        for i in indicators
        for y in years
    ]
    return scn.model_copy(update={"observations": obs})


# --- parameters given, not drawn -------------------------------------------------------------------------------
def test_given_uniforms_are_the_parameters_in_both_engines(small):
    from parksim.engines.fast.plan import _Values

    spec = small.pipeline.signings_per_month
    u = np.array([[0.1], [0.5], [0.97]])
    g = GivenUniforms([key_of(SIGNINGS)], u, first=40)
    scn = with_given(small, g)
    for k, r in enumerate((40, 41, 42)):  # SimPy: a replication's realised scenario
        assert realise(scn, Streams(5, r, given=scn._given)).pipeline.signings_per_month == pytest.approx(float(spec.ppf(u[k, 0])), abs=0)
    fast = _Values(5, [40, 41, 42], None, scn).num(spec, SIGNINGS)  # fast: the plan's values
    assert fast.tolist() == [float(spec.ppf(x)) for x in u[:, 0]]
    # another parameter is drawn as before (its own stream)
    other = small.pipeline.landing.dropout
    drawn = realise(small, Streams(5, 41)).pipeline.landing.dropout
    assert (
        realise(scn, Streams(5, 41, given=scn._given)).pipeline.landing.dropout
        == drawn
        == float(other.ppf(Streams(5, 41).param_uniform(key_of("pipeline.landing.dropout"))))
    )
    with pytest.raises(ValueError, match="have no row"):
        g.rows(5, [43])


def test_weighted_rows_follow_the_weights_whatever_the_chunks():
    g = GivenUniforms([1], np.array([[0.2], [0.5], [0.8]]), weights=[1.0, 2.0, 7.0])
    whole = g.rows(3, range(20_000))
    assert np.array_equal(whole, np.concatenate([g.rows(3, range(a, a + 777)) for a in range(0, 20_000, 777)])[:20_000])
    counts = np.bincount(whole, minlength=3)
    expected = 20_000 * np.array([0.1, 0.2, 0.7])
    # each count within 5 binomial SDs of its expectation (a false alarm about once in 10^6 runs)
    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected * (1 - expected / 20_000)))


# --- the sampler's known answers -------------------------------------------------------------------------------
def test_synthetic_recovery(small):
    """30 synthetic parks with known parameters (drawn from the prior's central 96%), each observed through its
    yearly projects_signed and calibrated: the signing rate's 90% posterior interval covers the truth in at least
    24 of 30 trials (80%; if the intervals covered exactly 90%, fewer than 24 would happen in 2.6% of seed sets),
    every one is at most half the prior's 90% width (the observations inform it), and the yearly gain of the
    high-tech revenue share, which projects_signed cannot depend on, keeps at least 3/4 of its prior width in every
    trial (median at least 0.85)."""
    params = C.parameters(small)
    paths = [p.path for p in params]
    sig, unused = paths.index(SIGNINGS), paths.index(UNUSED)
    covered, widths, kept = 0, [], []
    for trial in range(30):
        u = np.random.default_rng(1000 + trial).uniform(0.02, 0.98, size=len(params))
        scn = _observe(small, _truth(small, u, 10**7 + trial))
        cal = C.calibrate(scn, budget=3000, population=200, seed=trial, jobs=2, quiet=True)
        lo, hi = C.weighted_quantile(cal.uniforms[:, sig], cal.weights, [0.05, 0.95])
        covered += bool(lo <= u[sig] <= hi)
        widths.append((hi - lo) / 0.9)
        a, b = C.weighted_quantile(cal.uniforms[:, unused], cal.weights, [0.05, 0.95])
        kept.append((b - a) / 0.9)
    assert covered >= 24, f"90% intervals covered the truth in {covered} of 30 trials"
    assert max(widths) <= 0.5, f"signing-rate posterior widths (share of the prior's): {np.round(widths, 2)}"
    assert min(kept) >= 0.75 and np.median(kept) >= 0.85, f"uninformed parameter's widths: {np.round(kept, 2)}"


def test_calibration_is_reproducible_whatever_the_jobs(small):
    scn = _observe(small, _truth(small, np.full(len(C.parameters(small)), 0.3), 5 * 10**6))
    a = C.calibrate(scn, budget=1200, population=100, seed=4, jobs=1, quiet=True)
    b = C.calibrate(scn, budget=1200, population=100, seed=4, jobs=2, quiet=True)
    assert np.array_equal(a.uniforms, b.uniforms) and a.simulations == b.simulations <= 1200


# --- the command and --posterior -------------------------------------------------------------------------------
@pytest.fixture
def calibrated(small, write, root, tmp_path, capsys):
    """A scenario file with observations of a park signing 8.4 projects a month, and its calibration folder."""
    truth = _truth(small, np.where(np.arange(len(C.parameters(small))) == 0, 0.8, 0.5), 10**6)
    text = synthetic_park()
    for y in range(2023, 2027):
        text += f'\n[[observations]]\nindicator = "projects_signed"\nyear = {y}\nvalue = {truth.level("projects_signed", y)[0]}\nsource = "synthetic"\n'
    # a target the observations bear on (the prior signs ~72 projects a year, the truth ~101) and one they do not
    text += '\n[[targets]]\nlabel = "signed >= 90"\nindicator = "projects_signed"\ncomparison = ">="\nthreshold = 90.0\nyear = 2026\n'
    text += '\n[[targets]]\nlabel = "firms > 0"\nindicator = "firms"\ncomparison = ">"\nthreshold = 0.0\nyear = 2026\n'
    path = write("observed.toml", text)
    out = tmp_path / "cal"
    assert main(["calibrate", str(path), "--budget", "1500", "--population", "150", "--predictive", "200", "-q", "--out", str(out)]) == 0
    return path, out, capsys.readouterr().out


def test_calibrate_writes_its_files(calibrated):
    path, out, printed = calibrated
    assert "calibrated to 4 observations" in printed and "final ESS" in printed
    post = pd.read_parquet(out / "posterior.parquet")
    assert list(post.columns[:3]) == ["draw", "weight", SIGNINGS] and f"uniform:{SIGNINGS}" in post
    assert post.weight.sum() == pytest.approx(1.0) and post[SIGNINGS].between(2, 10).all()
    table = pd.read_csv(out / "calibration.csv")
    assert list(table.columns[:8]) == ["parameter", "unit", "prior_p05", "prior_p50", "prior_p95", "post_p05", "post_p50", "post_p95"]
    row = table.set_index("parameter").loc[SIGNINGS]
    assert row.prior_p05 == pytest.approx(2.4) and row.prior_p95 == pytest.approx(9.6)
    assert row.post_p05 > 2.4 and row.width_ratio < 0.75  # about 101 signings a year: the low rates are ruled out
    fit = pd.read_csv(out / "fit.csv")
    assert list(fit.columns[:8]) == ["indicator", "year", "park", "observed", "sd", "sim_p05", "sim_p50", "sim_p95"]
    assert len(fit) == 4 and ((fit.sim_p05 <= fit.observed) & (fit.observed <= fit.sim_p95)).sum() >= 3
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["kind"] == "calibration" and man["observations"] == 4 and man["simulations"] <= 1500
    assert (out / "calibration.png").stat().st_size > 10_000
    # the targets under the prior and the calibrated posterior, with common random numbers
    probs = pd.read_csv(out / "probabilities.csv")
    assert list(probs.columns) == [
        *("target", "indicator", "year", "comparison", "threshold", "unit"),
        *("prior_p_met", "prior_ci_low", "prior_ci_high", "calibrated_p_met", "calibrated_ci_low", "calibrated_ci_high"),
        *("difference", "replications"),
    ]
    assert list(probs.target) == ["signed >= 90", "firms > 0", "ALL"] and (probs.replications == 200).all()
    prior = parksim.simulate(path, replications=200, seed=man["seed"], engine="fast", quiet=True).targets
    assert probs.prior_p_met.tolist() == prior.p_met.tolist() and probs.prior_ci_low.tolist() == prior.ci_low.tolist()
    assert np.array_equal(probs.difference, probs.calibrated_p_met - probs.prior_p_met)
    assert probs.difference.iloc[0] > 0.2  # the calibrated park signs more
    assert man["prior_p_all"] == probs.prior_p_met.iloc[-1] and man["calibrated_p_all"] == probs.calibrated_p_met.iloc[-1]
    assert "P(all targets met): prior" in printed and "(200 replications each)" in printed


def test_run_with_posterior(calibrated, tmp_path, capsys):
    path, out, _ = calibrated
    prior = parksim.simulate(path, replications=300, seed=2, jobs=2, quiet=True, engine="fast")
    post = parksim.simulate(path, replications=300, seed=2, jobs=2, quiet=True, engine="fast", posterior=out)
    again = parksim.simulate(path, replications=300, seed=2, jobs=1, quiet=True, engine="fast", posterior=out)
    assert np.array_equal(post.values, again.values, equal_nan=True)  # the same particle for each replication whatever the jobs
    signed_prior, signed_post = prior.value("projects_signed", 2024), post.value("projects_signed", 2024)
    assert signed_post.mean() > signed_prior.mean() + 10  # the prior's mean is ~72 a year, the truth's ~101
    assert main(["run", str(path), "--posterior", str(out), "-n", "50", "-q", "--out", str(tmp_path / "run")]) == 0
    assert "calibrated to 4 observations" in capsys.readouterr().out
    man = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert man["posterior"]["observations"] == 4 and man["posterior"]["folder"] == str(out)


def test_calibrate_errors(write, root, calibrated, tmp_path, capsys):
    bench = (root / "scenarios" / "bench.toml").as_posix()
    plain = write("plain.toml", synthetic_park())
    assert main(["calibrate", str(plain), "-q", "--out", str(tmp_path / "x")]) == 2
    assert "observations: none" in capsys.readouterr().err
    path, out, _ = calibrated
    assert main(["calibrate", str(path), "--budget", "100", "--population", "100", "-q", "--out", str(tmp_path / "y")]) == 2
    assert '"budget" must be' in capsys.readouterr().err
    # a posterior of a parameter another scenario does not have as uncertain (bench signs a fixed 5 projects a month)
    other = write("other.toml", f'extends = "{bench}"\n')
    assert main(["run", str(other), "--posterior", str(out), "-n", "5", "-q", "--out", str(tmp_path / "z")]) == 2
    assert "are not uncertain parameters of" in capsys.readouterr().err
    assert main(["run", str(path), "--posterior", str(tmp_path / "nothing"), "-n", "5", "-q", "--out", str(tmp_path / "w")]) == 2
    assert "no calibration there" in capsys.readouterr().err

"""Memory and time estimated before a run: a run that would not fit in memory is refused (exit 2) with the
estimate and the keys that drive it; validate never spends minutes building a huge starting state."""

from __future__ import annotations

import time

import numpy as np
import pytest

import parksim
from parksim.cli import main
from parksim.errors import InputError
from parksim.experiments import estimate as _estimate
from parksim.experiments.estimate import check_memory, estimate

PARK = """\
name = "Estimate park"
[simulation]
years = 3
weight = 2
[pipeline]
signings_per_month = 6.0
[sectors.a]
[sectors.b]
[baseline.sectors.a]
firms = 40
[baseline.sectors.b]
firms = 21
"""


@pytest.fixture
def park(tmp_path):
    path = tmp_path / "park.toml"
    path.write_text(PARK, encoding="utf-8")
    return path


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_entities_known_answer(park):
    est = estimate(parksim.load_scenario(park), 100, "simpy", 2)
    assert est.start_firms == 20 + 10  # round(40 / 2) + round(21 / 2): simulated firms
    # 6 signings/month over 36 months, divided by the weight 2: mean 108, bounded by mean + 6 sd (+1 inside the root)
    assert est.signings == int(108 + 6 * (109**0.5))
    assert est.jobs == 2 and est.replications == 100


def test_signings_bound_holds_in_simulation(park):
    """The signings the estimate allows for are never exceeded: P(Poisson(108) > 108 + 6 sd) < 1e-8 per
    replication, so over 30 replications a false alarm has probability below 1e-6."""
    scn = parksim.load_scenario(park)
    est = estimate(scn, 30, "simpy", 1)
    res = parksim.simulate(scn, replications=30, seed=3, jobs=1, quiet=True, engine="simpy")
    signed = res.value_matrix("projects_signed").sum(axis=1) / scn.simulation.weight
    assert signed.max() <= est.signings
    assert signed.mean() == pytest.approx(108, rel=0.25)  # the bound is not vacuous: mean 108, sd 10.4 per replication


def test_fast_engine_state_is_the_engines_own_size(park):
    from parksim.engines.fast.pool import state_bytes

    scn = parksim.load_scenario(park)
    est = estimate(scn, 10, "fast", 1)
    assert est.state_bytes == state_bytes(est.start_firms + est.signings, est.signings + 16, 3, 36, 2)
    assert est.memory_bytes > est.state_bytes


def test_memory_grows_with_replications_and_years(park):
    scn = parksim.load_scenario(park)
    small, large = estimate(scn, 1_000, "fast", 2), estimate(scn, 100_000, "fast", 2)
    assert large.memory_bytes - small.memory_bytes == 99_000 * 3 * 43 * _estimate.RESULT_BYTES_PER_VALUE
    run_s = _estimate.RUN_SECONDS  # imports and output files, whatever the replications
    assert large.seconds - run_s == pytest.approx(100 * (small.seconds - run_s))


def test_check_memory_names_the_drivers(park):
    scn = parksim.load_scenario(park)
    est = estimate(scn, 1_000, "fast", 2)
    check_memory(est, available=est.memory_bytes)  # fits exactly: accepted
    with pytest.raises(InputError) as info:
        check_memory(est, available=est.memory_bytes - 1)
    msg = str(info.value)
    for fragment in [
        "would need about",
        "1,000 replications",
        "baseline.sectors.*.firms",
        "pipeline.signings_per_month",
        "replications = 1,000",
    ]:
        assert fragment in msg, msg


def test_run_refused_when_it_would_exceed_memory(capsys, park, tmp_path, monkeypatch):
    monkeypatch.setattr(_estimate, "available_memory", lambda: 100 * 2**20)
    rc, out, err = run(capsys, "run", park, "-n", "5", "--out", tmp_path / "o", "-q")
    assert rc == 2 and "Traceback" not in err
    assert err.startswith("parksim: error: this run would need") and "more than the 100.0 MB of memory available" in err
    assert not (tmp_path / "o").exists()


def test_a_billion_replications_are_refused(capsys, park, tmp_path):
    rc, _, err = run(capsys, "run", park, "-n", "1000000000", "--out", tmp_path / "o", "-q")
    assert rc == 2 and "10,000,000" in err and "replications" in err
    rc, _, err = run(capsys, "run", park, "-n", "5", "-j", "100000", "--out", tmp_path / "o", "-q")
    assert rc == 2 and '"jobs" must be a whole number between 1 and 256' in err


def test_validate_prints_the_estimate(capsys, park):
    rc, out, _ = run(capsys, "validate", park)
    assert rc == 0 and "a run of 200 replications: about" in out and "per replication up to 200 simulated firms and projects" in out


def test_validate_does_not_build_a_huge_starting_state(capsys, park):
    t0 = time.perf_counter()
    rc, out, err = run(capsys, "validate", park, "--set", "baseline.sectors.a.firms=200000", "--set", "simulation.weight=1")
    assert time.perf_counter() - t0 < 30  # building it would take about a minute (a million firms: 4 minutes)
    assert rc == 0, err
    assert "starting state not built: 200,021 simulated starting firms" in out and "simulation.weight" in out


def test_validate_refuses_when_one_replication_cannot_fit(capsys, park, monkeypatch):
    monkeypatch.setattr(_estimate, "available_memory", lambda: 2**20)
    rc, _, err = run(capsys, "validate", park)
    assert rc == 2 and "1 replication " in err and "more than the" in err


def test_precision_run_is_estimated_at_its_cap(park):
    scn = parksim.load_scenario(park)
    run_s = _estimate.RUN_SECONDS
    assert np.isclose(estimate(scn, 20_000, "fast", 1).seconds - run_s, 200 * (estimate(scn, 100, "fast", 1).seconds - run_s))


def test_simulate_and_trace_refuse_a_replication_that_cannot_fit(capsys, park, tmp_path, monkeypatch):
    monkeypatch.setattr(_estimate, "available_memory", lambda: 2**20)
    rc, _, err = run(capsys, "simulate", park)
    assert rc == 2 and "this run would need about" in err and "1 replication " in err
    rc, _, err = run(capsys, "trace", park, "--out", tmp_path / "t")
    assert rc == 2 and "this run would need about" in err and not (tmp_path / "t").exists()

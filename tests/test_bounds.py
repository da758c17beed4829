"""Bounds of the scenario's numbers: non-finite and impossible values are refused at validation (exit 2, naming
the key), implausible ones are accepted with a warning naming key, value, unit and plausible range.

Each refused value below crashed, hung or ran to non-finite totals before the bounds existed (issue 20).
"""

from __future__ import annotations

import math
import time

import pytest

from parksim import load_scenario
from parksim.cli import main
from parksim.scenario.bounds import fmt
from parksim.scenario.dists import LogNormal, Normal, draw_range, typical

SMALL = """\
name = "Bounds park"
[simulation]
start_year = 2023
years = 2
[pipeline]
signings_per_month = 2.0
[sectors.a]
[baseline.sectors.a]
firms = 10
"""


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def scn_file(tmp_path):
    path = tmp_path / "park.toml"
    path.write_text(SMALL, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("override", "key", "expected"),
    [
        ("pipeline.signings_per_month=1" + "0" * 309, "pipeline.signings_per_month", "310 digits"),
        ("pipeline.signings_per_month=inf", "pipeline.signings_per_month", "finite"),
        ("pipeline.signings_per_month=1e6", "pipeline.signings_per_month", "between 0 and 10000 projects/month"),
        ("sectors.a.growth=1e300", "sectors.a.growth", "between -5 and 5 log/year"),
        ("sectors.a.firm_noise_sd=inf", "sectors.a.firm_noise_sd", "finite"),
        ("baseline.sectors.a.total_revenue=inf", "baseline.sectors.a.total_revenue", "finite"),
        ("pipeline.warm_up_months=1e9", "pipeline.warm_up_months", "between 0 and 600 months"),
        ("baseline.sectors.a.firms=10000000", "baseline.sectors.a.firms", "between 0 and 1000000 firms"),
        ("levers.platforms.extra_institutions_per_year=9223372036854775807", "levers.platforms.extra_institutions_per_year", "10000"),
        ("institutions.new_per_year=1e12", "institutions.new_per_year", "10000"),
        ('pipeline.signings_per_month={dist="normal",mean=5,sd=inf,low=0}', "pipeline.signings_per_month", "sd must be a finite"),
        ('sectors.a.rd_share={dist="lognormal",median=0.02,sigma=1e3}', "sectors.a.rd_share", "can draw inf"),
        ('pipeline.signings_per_month={dist="lognormal",median=5,sigma=2}', "pipeline.signings_per_month", "can draw 6.7"),
        ("targets=[{label='x',indicator='firms',threshold=inf,year=2023}]", "targets.0.threshold", "finite"),
        ("pipeline.monthly_profile=[1e300,1,1,1,1,1,1,1,1,1,1,1]", "pipeline.monthly_profile", "<= 100"),
        ("simulation.start_year=999999999999", "simulation.start_year", "between 1949 and 2200"),
    ],
)
def test_impossible_values_are_refused_at_validation(capsys, scn_file, override, key, expected):
    t0 = time.perf_counter()
    rc, out, err = run(capsys, "validate", scn_file, "--set", override)
    assert time.perf_counter() - t0 < 20  # a hang before: a warm-up of 1e12 signings built in validate
    assert rc == 2, (out, err)
    assert "Traceback" not in err
    assert f"{key}:" in err and expected in err, err


def test_signings_1e12_with_warm_up_is_refused_at_once(capsys, scn_file):
    t0 = time.perf_counter()
    rc, _, err = run(capsys, "validate", scn_file, "--set", "pipeline.signings_per_month=1e12", "--set", "pipeline.warm_up_months=24")
    assert rc == 2 and "pipeline.signings_per_month" in err
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("sectors.a.growth=1.0", ["sectors.a.growth:", "1 log/year", "plausible range -0.5 to 0.5 log/year"]),
        # a revenue in 万元 where 亿元 is expected
        ("baseline.sectors.a.total_revenue=850000.0", ["baseline.sectors.a.total_revenue:", "850000 亿元", "0 to 20000 亿元"]),
        (
            'sectors.a.rd_share={dist="lognormal",median=2.5,sigma=0.5}',
            ["sectors.a.rd_share:", "(median 2.5) ratio", "0.0005 to 0.5 ratio"],
        ),
    ],
)
def test_implausible_values_warn_in_validate_and_run(capsys, scn_file, tmp_path, override, fragments):
    rc, out, err = run(capsys, "validate", scn_file, "--set", override)
    assert rc == 0
    warning = [line for line in err.splitlines() if line.startswith("parksim: warning: ")]
    assert len(warning) == 1, err
    for f in fragments:
        assert f in warning[0], warning
    assert warning[0].startswith(f"parksim: warning: --set: {fragments[0]}")
    assert "outside their plausible range" in out
    rc, out, err = run(capsys, "run", scn_file, "--set", override, "-n", "3", "-q", "--engine", "simpy", "-j", "1", "--out", tmp_path / "o")
    assert rc == 0
    assert sum(line.startswith("parksim: warning: ") and fragments[0] in line for line in err.splitlines()) == 1


def test_plausible_values_do_not_warn(capsys, scn_file, root):
    rc, _, err = run(capsys, "validate", scn_file)
    assert rc == 0 and "warning" not in err
    for name in ["xiushan-2024.toml", "zunyi-2025.toml", "ningxia-2025.toml", "chongqing-parks-2025.toml", "bench.toml"]:
        assert load_scenario(root / "scenarios" / name).warnings == [], name


def test_warning_names_the_file_that_set_the_value(tmp_path):
    (tmp_path / "base.toml").write_text(SMALL + "[sectors.a.growth]\ndist = 'uniform'\nlow = 0.9\nhigh = 1.1\n", encoding="utf-8")
    (tmp_path / "child.toml").write_text('extends = "base.toml"\nname = "child"\n', encoding="utf-8")
    scn = load_scenario(tmp_path / "child.toml")
    [w] = scn.warnings
    assert w.file.endswith("base.toml") and w.where == "sectors.a.growth" and "(median 1)" in w.message


def test_portfolio_park_override_warns_with_park_name(tmp_path):
    text = SMALL + (
        '[portfolio]\nparks = [{name = "east"}, {name = "west", overrides = {"sectors.a.growth" = 2.0}}]\n'
        '[assessment]\n[[assessment.rules]]\nname = "r"\nkind = "rank"\nfail_bottom = 1\n'
        '[[assessment.rules.criteria]]\nindicator = "total_output"\n'
    )
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    ws = load_scenario(tmp_path / "p.toml").warnings
    assert [w.where for w in ws] == ["sectors.a.growth (park west)"]


def test_draw_range_matches_what_sampling_can_reach():
    # the samplers clip u to [1e-300, 1 - 1e-16]: the extremes of ppf are exactly the draw range
    for spec in [LogNormal(dist="lognormal", median=5.0, sigma=0.7), Normal(dist="normal", mean=3.0, sd=2.0)]:
        lo, hi = draw_range(spec)
        assert math.isclose(spec.ppf(0.0), lo, rel_tol=1e-9) and math.isclose(spec.ppf(1.0 - 2**-53), hi, rel_tol=1e-9)
    assert draw_range(Normal(dist="normal", mean=3.0, sd=2.0, low=0.0, high=4.0)) == (0.0, 4.0)
    assert typical(LogNormal(dist="lognormal", median=5.0, sigma=0.7)) == pytest.approx(5.0)
    assert fmt(10_000.0) == "10000" and fmt(1e6) == "1e+06" and fmt(math.inf) == "inf"


def test_simulate_trace_and_compare_warn_too(capsys, scn_file, tmp_path):
    rc, _, err = run(capsys, "simulate", scn_file, "--set", "sectors.a.growth=1.0")
    assert rc == 0 and "parksim: warning: --set: sectors.a.growth: 1 log/year" in err
    rc, _, err = run(capsys, "trace", scn_file, "--set", "sectors.a.growth=1.0", "--out", tmp_path / "t")
    assert rc == 0 and "parksim: warning: --set: sectors.a.growth" in err
    variant = tmp_path / "variant.toml"
    variant.write_text(f'extends = "{scn_file.name}"\n[sectors.a]\ngrowth = 0.9\n', encoding="utf-8")
    rc, _, err = run(capsys, "compare", scn_file, variant, "-n", "3", "-j", "1", "-q", "--engine", "simpy", "--out", tmp_path / "c")
    assert rc == 0 and f"parksim: warning: {variant}: sectors.a.growth: 0.9 log/year" in err


def test_python_api_warns_with_parameter_warning(scn_file):
    import warnings

    import parksim

    scn = load_scenario(scn_file, ["sectors.a.growth=1.0"])
    with pytest.warns(parksim.ParameterWarning, match=r"sectors\.a\.growth: 1 log/year is outside the plausible range"):
        parksim.simulate(scn, replications=2, seed=1, jobs=1, quiet=True, engine="simpy")
    with warnings.catch_warnings():
        warnings.simplefilter("error", parksim.ParameterWarning)
        parksim.simulate(scn_file, replications=2, seed=1, jobs=1, quiet=True, engine="simpy")


@pytest.mark.parametrize(
    "override",
    [
        'pipeline.project.planned_output={dist="uniform",low=1.0,high=1e308}',
        'baseline.sectors.a.revenue={dist="lognormal",median=3000.0,sigma=4.0}',
        "capacity.factory_floor_m2=1e300",
        "levers.credit.fund_yuan=1e300",
    ],
)
def test_numbers_without_a_limit_of_their_own_are_within_1e15(capsys, scn_file, override):
    """Finite is not enough: a uniform up to 1e308 drew projects whose sums overflowed to inf."""
    rc, _, err = run(capsys, "validate", scn_file, "--set", override)
    assert rc == 2 and "must be between -1e+15 and 1e+15" in err and override.split("=")[0] + ":" in err


def test_unlimited_values_stay_unlimited(capsys, scn_file):
    rc, _, err = run(capsys, "validate", scn_file, "--set", "capacity.factory_floor_m2=inf", "--set", "pipeline.rent.patience=inf")
    assert rc == 0 and "warning" not in err


def test_a_portfolio_of_thousands_of_parks_is_refused(capsys, tmp_path):
    parks = ", ".join(f'{{name = "p{i}"}}' for i in range(201))
    path = tmp_path / "p.toml"
    path.write_text(SMALL + f"[portfolio]\nparks = [{parks}]\n", encoding="utf-8")
    rc, _, err = run(capsys, "validate", path)
    assert rc == 2 and "portfolio: parks: a portfolio of at most 200 parks, got 201" in err

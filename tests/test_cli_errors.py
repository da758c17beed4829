"""The ``parksim`` command on good and bad input: exit status 0 or 2, and a clean message (no traceback) on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

from parksim.cli import main

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "scenarios" / "bench.toml"

MINIMAL = """\
name = "Minimal park"

[simulation]
start_year = 2023
years = 2

[sectors.manufacturing]
[sectors.services]
industrial = false
"""

REGISTER = "firm_id,sector,revenue,employees\nF1,manufacturing,5000,40\nF2,services,1200,\n"
PIPE_HEAD = "project_id,signing_date,sector,mode,floor_space_m2,land_mu,planned_output\n"
PIPELINE = (
    PIPE_HEAD + "P1,2023-03,manufacturing,rent,2000,,6000\nP2,2024-02-10,services,build,,30,9000\nP3,2022-12,manufacturing,rent,10,,50\n"
)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_clean_error(rc: int, out: str, err: str, *fragments: str) -> None:
    assert rc == 2
    assert "Traceback" not in err and "Traceback" not in out
    assert err.startswith("parksim: error: ")
    assert "valid —" not in out
    for fragment in fragments:
        assert fragment in err, (fragment, err)


# --- valid input -----------------------------------------------------------------------------------


def test_validate_bench(capsys):
    rc, out, err = run(capsys, "validate", BENCH)
    assert rc == 0
    assert err == ""
    assert "valid" in out and "Benchmark park" in out
    assert "6 years from 2023" in out
    assert "manufacturing, electronics, services" in out
    assert "certification.hnte.approval_prob" in out  # the one uncertain parameter


def test_validate_minimal(capsys, tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL)
    rc, out, err = run(capsys, "validate", path)
    assert rc == 0 and err == ""
    assert "Minimal park" in out and "2 years from 2023" in out
    assert "register rows: 0; known projects: 0" in out


def test_validate_with_csv_inputs_counts_rows(capsys, tmp_path):
    write(tmp_path, "data/reg.csv", REGISTER)
    write(tmp_path, "data/pipe.csv", PIPELINE)
    text = MINIMAL + '\n[baseline]\nenterprises = "data/reg.csv"\n[pipeline]\nknown_projects = "data/pipe.csv"\n'
    rc, out, err = run(capsys, "validate", write(tmp_path, "s.toml", text))
    assert rc == 0, err
    assert "register rows: 2; known projects: 3" in out


def test_validate_set_overrides_are_applied(capsys, tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL)
    rc, out, err = run(capsys, "validate", path, "--set", "simulation.years=4", "--set", "name=Other park")
    assert rc == 0, err
    assert "Other park" in out and "4 years from 2023" in out


def test_validate_set_distribution_counts_as_uncertain(capsys, tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL)
    rc, out, _ = run(capsys, "validate", path, "--set", 'pipeline.signings_per_month={dist = "uniform", low = 3, high = 6}')
    assert rc == 0
    assert "pipeline.signings_per_month" in out


def test_validate_extends(capsys, tmp_path):
    write(tmp_path, "base/base.toml", MINIMAL)
    child = write(tmp_path, "variant/child.toml", 'extends = "../base/base.toml"\nname = "Variant park"\n')
    rc, out, _ = run(capsys, "validate", child)
    assert rc == 0 and "Variant park" in out and "2 years from 2023" in out


# --- bad scenario files ----------------------------------------------------------------------------

BAD_TOML = [
    # id, extra TOML, fragments expected on stderr (besides the file name)
    ("unknown-key", "[pipeline]\nsignings_per_mont = 3\n", ["pipeline.signings_per_mont", "unknown key"]),
    ("string-for-number", '[pipeline]\nsignings_per_month = "three"\n', ["pipeline.signings_per_month", "'three'", "expected a number"]),
    ("bool-for-number", "[pipeline]\nrent_share = true\n", ["pipeline.rent_share", "True", "expected a number"]),
    ("negative-rate", "[pipeline]\nsignings_per_month = -1\n", ["pipeline.signings_per_month", "-1", ">= 0"]),
    ("probability-above-1", "[certification.zjtx]\napproval_prob = 1.2\n", ["certification.zjtx.approval_prob", "1.2", "<= 1"]),
    (
        "unknown-distribution",
        '[pipeline.landing]\ndelay = {dist = "lognorm", median = 1, sigma = 0.5}\n',
        ["pipeline.landing.delay", "'lognorm'", "expected one of", "lognormal"],
    ),
    (
        "lognormal-negative-median",
        '[pipeline.rent]\ndelay = {dist = "lognormal", median = -1, sigma = 0.5}\n',
        ["pipeline.rent.delay", "median", "-1", "> 0"],
    ),
    (
        "uniform-low-above-high",
        '[certification.hnte]\napproval_prob = {dist = "uniform", low = 0.9, high = 0.6}\n',
        ["certification.hnte.approval_prob", "low (0.9)", "high (0.6)", "<="],
    ),
    (
        "monthly-profile-11-values",
        "[pipeline]\nmonthly_profile = [1,1,1,1,1,1,1,1,1,1,1]\n",
        ["pipeline", "monthly_profile", "12 values", "got 11"],
    ),
    (
        "unknown-baseline-sector",
        "[baseline.sectors.chemicals]\nfirms = 2\n",
        ["baseline.sectors.chemicals", "'chemicals'", "manufacturing"],
    ),
    ("unknown-sector_defaults-key", "[sector_defaults]\ngrowht = 0.1\n", ["sector_defaults.growht", "unknown sector key", "growth"]),
    ("invalid-toml", "[pipeline\n", ["not valid TOML", "line"]),
]


@pytest.mark.parametrize(("extra", "fragments"), [c[1:] for c in BAD_TOML], ids=[c[0] for c in BAD_TOML])
def test_validate_bad_scenario_exits_2(capsys, tmp_path, extra, fragments):
    path = write(tmp_path, "bad.toml", MINIMAL + "\n" + extra)
    rc, out, err = run(capsys, "validate", path)
    assert_clean_error(rc, out, err, str(path), *fragments)
    assert err.splitlines()[0] == "parksim: error: invalid scenario input"
    assert err.splitlines()[1].startswith(f"{path}: ")


def test_validate_reports_every_problem(capsys, tmp_path):
    path = write(tmp_path, "bad.toml", MINIMAL + "\n[pipeline]\nsignings_per_month = -1\nrent_share = 2\n")
    rc, out, err = run(capsys, "validate", path)
    assert_clean_error(rc, out, err, "pipeline.signings_per_month", "pipeline.rent_share")
    assert len(err.splitlines()) == 3  # the heading and one line per problem


def test_validate_missing_file(capsys, tmp_path):
    path = tmp_path / "nope.toml"
    rc, out, err = run(capsys, "validate", path)
    assert_clean_error(rc, out, err, f"{path}: file not found")


def test_validate_directory_instead_of_file(capsys, tmp_path):
    rc, out, err = run(capsys, "validate", tmp_path)
    assert_clean_error(rc, out, err, str(tmp_path), "is a directory; expected a scenario (TOML) file")


def test_extends_missing_file(capsys, tmp_path):
    child = write(tmp_path, "child.toml", 'extends = "missing-base.toml"\n')
    rc, out, err = run(capsys, "validate", child)
    assert_clean_error(rc, out, err, str(child.resolve()), "extends", "'missing-base.toml'", "not found")


def test_extends_circular(capsys, tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "b.toml"\n' + MINIMAL)
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    rc, out, err = run(capsys, "validate", a)
    assert_clean_error(rc, out, err, "extends", "circular", "a.toml -> b.toml -> a.toml")


def test_error_in_child_names_child(capsys, tmp_path):
    base = write(tmp_path, "base.toml", MINIMAL)
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[pipeline]\nrent_share = 3\n')
    rc, out, err = run(capsys, "validate", child)
    assert_clean_error(rc, out, err, f"{child.resolve()}: pipeline.rent_share:", "3")
    assert f"{base.resolve()}:" not in err


def test_error_in_base_names_base(capsys, tmp_path):
    base = write(tmp_path, "base/base.toml", MINIMAL + "\n[listing]\nprob = 7\n")
    child = write(tmp_path, "child.toml", 'extends = "base/base.toml"\nname = "Child"\n')
    rc, out, err = run(capsys, "validate", child)
    assert_clean_error(rc, out, err, f"{base.resolve()}: listing.prob:", "7", "<= 1")
    assert f"{child.resolve()}:" not in err


def test_invalid_toml_in_base_names_base(capsys, tmp_path):
    base = write(tmp_path, "base.toml", "[simulation\n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n')
    rc, out, err = run(capsys, "validate", child)
    assert_clean_error(rc, out, err, f"{base.resolve()}:", "not valid TOML")


def test_string_for_integer_exits_2(capsys, tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL.replace("years = 2", 'years = "6"'))
    rc, out, err = run(capsys, "validate", path)
    assert_clean_error(rc, out, err, "simulation.years", "'6'")


def test_bool_for_integer_exits_2(capsys, tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + "\n[baseline.sectors.manufacturing]\nfirms = true\n")
    rc, out, err = run(capsys, "validate", path)
    assert_clean_error(rc, out, err, "baseline.sectors.manufacturing.firms", "True")


# --- --set -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("pipeline.signings_per_month=-1", ["--set: pipeline.signings_per_month:", "-1", ">= 0"]),
        ("pipeline.signings_per_mont=3", ["--set: pipeline.signings_per_mont:", "unknown key"]),
        ("pipeline.rent_share=1.5", ["--set: pipeline.rent_share:", "1.5", "<= 1"]),
        ("simulation.years=abc", ["--set: simulation.years:", "'abc'", "integer"]),
        ('pipeline.landing.delay={dist = "lognorm", median = 1, sigma = 1}', ["--set: pipeline.landing.delay:", "'lognorm'"]),
        ("pipeline.signings_per_month", ["--set: pipeline.signings_per_month:", "key.path=value"]),
        ("=5", ["--set: =5:", "non-empty key"]),
        ("name.x=1", ["--set: name.x:", "name is a value, not a table"]),
    ],
)
def test_bad_set_exits_2(capsys, tmp_path, override, fragments):
    path = write(tmp_path, "s.toml", MINIMAL)
    rc, out, err = run(capsys, "validate", path, "--set", override)
    assert_clean_error(rc, out, err, "invalid scenario input", *fragments)


@pytest.mark.parametrize("override", ["pipeline.monthly_profile=[1, 1]", "baseline.sectors.chemicals.firms=2", "sector_defaults.growht=1"])
def test_bad_set_caught_by_model_check_names_set(capsys, tmp_path, override):
    path = write(tmp_path, "s.toml", MINIMAL)
    rc, out, err = run(capsys, "validate", path, "--set", override)
    assert_clean_error(rc, out, err, "--set:")
    assert f"{path}:" not in err


def test_bad_set_on_bench(capsys):
    rc, out, err = run(capsys, "validate", BENCH, "--set", "pipeline.signings_per_month=-1")
    assert_clean_error(rc, out, err, "--set: pipeline.signings_per_month: must be >= 0.0, got -1.0")


def test_good_set_fixes_bad_file(capsys, tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + "\n[pipeline]\nsignings_per_month = -1\n")
    assert run(capsys, "validate", path)[0] == 2
    rc, _, err = run(capsys, "validate", path, "--set", "pipeline.signings_per_month=2")
    assert rc == 0, err


# --- CSV inputs ------------------------------------------------------------------------------------


def scenario_with_register(tmp_path: Path, csv_text: str) -> tuple[Path, Path]:
    csv = write(tmp_path, "reg.csv", csv_text)
    return write(tmp_path, "s.toml", MINIMAL + '\n[baseline]\nenterprises = "reg.csv"\n'), csv


def scenario_with_pipeline(tmp_path: Path, rows: str, head: str = PIPE_HEAD) -> tuple[Path, Path]:
    csv = write(tmp_path, "pipe.csv", head + rows)
    return write(tmp_path, "s.toml", MINIMAL + '\n[pipeline]\nknown_projects = "pipe.csv"\n'), csv


REGISTER_ERRORS = [
    ("missing-column", "firm_id,sector\nF1,manufacturing\n", ["column 'revenue'", "required column is missing"]),
    ("unknown-column", "firm_id,sector,revenue,turnover\nF1,manufacturing,1,2\n", ["column 'turnover'", "unknown column"]),
    (
        "bad-number",
        "firm_id,sector,revenue\nF1,manufacturing,1\nF2,services,12x\n",
        ["row 2 (line 3)", "column 'revenue'", "'12x'", "a finite number >= 0"],
    ),
    ("unknown-sector", "firm_id,sector,revenue\nF1,chemicals,1\n", ["row 1 (line 2)", "column 'sector'", "'chemicals'", "manufacturing"]),
    ("duplicate-id", "firm_id,sector,revenue\nF1,manufacturing,1\nF1,services,2\n", ["firm_id", "duplicate", "'F1'"]),
    ("bad-bool", "firm_id,sector,revenue,tech_sme\nF1,manufacturing,1,maybe\n", ["row 1", "column 'tech_sme'", "'maybe'", "0 or 1"]),
    ("empty-file", "", ["empty file"]),
]


@pytest.mark.parametrize(("csv_text", "fragments"), [c[1:] for c in REGISTER_ERRORS], ids=[c[0] for c in REGISTER_ERRORS])
def test_register_error_exits_2(capsys, tmp_path, csv_text, fragments):
    scenario, csv = scenario_with_register(tmp_path, csv_text)
    rc, out, err = run(capsys, "validate", scenario)
    assert_clean_error(rc, out, err, f"{csv}:", *fragments)


def test_register_missing_file_exits_2(capsys, tmp_path):
    scenario = write(tmp_path, "s.toml", MINIMAL + '\n[baseline]\nenterprises = "nope.csv"\n')
    rc, out, err = run(capsys, "validate", scenario)
    assert_clean_error(rc, out, err, f"{tmp_path / 'nope.csv'}: file not found")


PIPELINE_ERRORS = [
    (
        "bad-number",
        "P1,2023-01,manufacturing,rent,lots,,10\n",
        ["row 1 (line 2)", "column 'floor_space_m2'", "'lots'", "a finite number >= 0"],
    ),
    ("unknown-sector", "P1,2023-01,mining,rent,5,,10\n", ["row 1", "column 'sector'", "'mining'"]),
    ("bad-mode", "P1,2023-01,manufacturing,lease,5,,10\n", ["row 1", "column 'mode'", "'lease'", "rent or build"]),
    (
        "rent-without-floor-space",
        "P1,2023-01,manufacturing,build,,5,10\nP2,2023-01,manufacturing,rent,,5,10\n",
        ["row 2 (line 3)", "column 'floor_space_m2'", "missing", "rent"],
    ),
    ("duplicate-id", "P1,2023-01,manufacturing,rent,5,,10\nP1,2023-02,manufacturing,rent,5,,10\n", ["project_id", "duplicate", "'P1'"]),
    ("after-the-years", "P1,2023-01,manufacturing,rent,5,,10\nP2,2025-02-01,manufacturing,rent,5,,10\n", ["row 2", "2025-02-01", "after"]),
    ("bad-date", "P1,01/02/2023,manufacturing,rent,5,,10\n", ["row 1", "column 'signing_date'", "'01/02/2023'", "YYYY-MM-DD"]),
]


@pytest.mark.parametrize(("rows", "fragments"), [c[1:] for c in PIPELINE_ERRORS], ids=[c[0] for c in PIPELINE_ERRORS])
def test_pipeline_error_exits_2(capsys, tmp_path, rows, fragments):
    scenario, csv = scenario_with_pipeline(tmp_path, rows)
    rc, out, err = run(capsys, "validate", scenario)
    assert_clean_error(rc, out, err, f"{csv}:", *fragments)


def test_pipeline_missing_column_exits_2(capsys, tmp_path):
    scenario, csv = scenario_with_pipeline(tmp_path, "P1,2023-01,manufacturing,rent\n", head="project_id,signing_date,sector,mode\n")
    rc, out, err = run(capsys, "validate", scenario)
    assert_clean_error(rc, out, err, f"{csv}: column 'planned_output': required column is missing")


def test_csv_path_relative_to_scenario_not_cwd(capsys, tmp_path, monkeypatch):
    write(tmp_path, "park/reg.csv", REGISTER)
    scenario = write(tmp_path, "park/s.toml", MINIMAL + '\n[baseline]\nenterprises = "reg.csv"\n')
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "validate", "park/s.toml")
    assert rc == 0, err
    assert "register rows: 2" in out
    assert scenario.exists()


def test_csv_path_from_base_in_other_directory(capsys, tmp_path):
    write(tmp_path, "base/reg.csv", REGISTER)
    write(tmp_path, "base/base.toml", MINIMAL + '\n[baseline]\nenterprises = "reg.csv"\n')
    child = write(tmp_path, "variant/child.toml", 'extends = "../base/base.toml"\nname = "Variant"\n')
    rc, out, err = run(capsys, "validate", child)
    assert rc == 0, err
    assert "register rows: 2" in out


def test_csv_path_from_base_in_other_directory_when_child_sets_same_table(capsys, tmp_path):
    write(tmp_path, "base/reg.csv", REGISTER)
    write(tmp_path, "base/base.toml", MINIMAL + '\n[baseline]\nenterprises = "reg.csv"\n')
    child = write(tmp_path, "variant/child.toml", 'extends = "../base/base.toml"\n[baseline]\nbaseline_output = 10\n')
    rc, out, err = run(capsys, "validate", child)
    assert rc == 0, err
    assert "register rows: 2" in out


def test_infinite_count_in_register_exits_2(capsys, tmp_path):
    scenario, csv = scenario_with_register(tmp_path, "firm_id,sector,revenue,ip_class2\nF1,manufacturing,1,inf\n")
    rc, out, err = run(capsys, "validate", scenario)
    assert_clean_error(rc, out, err, f"{csv}:", "column 'ip_class2'", "'inf'")


# --- other commands share the loader ---------------------------------------------------------------


def test_simulate_bad_scenario_exits_2(capsys, tmp_path):
    path = write(tmp_path, "bad.toml", MINIMAL + "\n[pipeline]\nsignings_per_mont = 3\n")
    rc, out, err = run(capsys, "simulate", path, "--seed", "3")
    assert_clean_error(rc, out, err, str(path), "pipeline.signings_per_mont", "unknown key")


def test_trace_bad_set_exits_2_and_writes_nothing(capsys, tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL)
    out_dir = tmp_path / "trace-out"
    rc, out, err = run(capsys, "trace", path, "--out", out_dir, "--set", "pipeline.rent_share=2")
    assert_clean_error(rc, out, err, "--set: pipeline.rent_share:", "<= 1")
    assert not out_dir.exists()


def test_usage_error_is_argparse_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err

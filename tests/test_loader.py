"""Tests of scenario loading: TOML files, ``extends``, ``--set`` overrides, validation and the CSV inputs."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import parksim
from parksim import Problem, ScenarioError, load_scenario, scenario_from_dict
from parksim.scenario.dists import Fixed, Uniform

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

[baseline.sectors.manufacturing]
firms = 3
"""

REGISTER = """\
firm_id,sector,revenue,employees,hnte_expiry,tech_sme,ip_class2
F1,manufacturing,5000,40,2024-07-01,1,3
F2,services,1200,,,0,
F3,manufacturing,800.5,12,,,0
"""

PIPELINE = """\
project_id,signing_date,sector,mode,floor_space_m2,land_mu,planned_output
P1,2023-03,manufacturing,rent,2000,,6000
P2,2022-11-16,services,build,,30,9000
P3,2024-07-01,manufacturing,build,,12.5,4000
"""

PIPE_HEAD = "project_id,signing_date,sector,mode,floor_space_m2,land_mu,planned_output\n"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def scenario_text(extra: str = "", *, enterprises: str | None = None, projects: str | None = None) -> str:
    """MINIMAL plus ``extra``; optional CSV file names (the [pipeline]/[baseline] tables must not repeat in ``extra``)."""
    text = MINIMAL + extra
    if enterprises is not None:
        text += f'\n[baseline]\nenterprises = "{enterprises}"\n'
    if projects is not None:
        text += f'\n[pipeline]\nknown_projects = "{projects}"\n'
    return text


def load_error(path: Path, overrides=None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


def only(err: ScenarioError) -> Problem:
    assert len(err.problems) == 1, err.problems
    return err.problems[0]


_MISSING = object()


def diff_paths(a, b, prefix: str = "") -> set[str]:
    """Dotted key paths at which two nested dicts differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: set[str] = set()
        for key in a.keys() | b.keys():
            out |= diff_paths(a.get(key, _MISSING), b.get(key, _MISSING), f"{prefix}.{key}" if prefix else str(key))
        return out
    return set() if a == b else {prefix}


# --- valid scenarios -------------------------------------------------------------------------------


def test_minimal_scenario_loads(tmp_path):
    scn = load_scenario(write(tmp_path, "s.toml", MINIMAL))
    assert scn.name == "Minimal park"
    assert scn.simulation.years == 2
    assert scn.months == 24
    assert scn.sector_names == ["manufacturing", "services"]
    assert scn.sectors["services"].industrial is False
    assert scn.baseline.sectors["manufacturing"].firms == 3
    assert scn._register is None and scn._projects is None
    # defaults are filled in
    assert scn.pipeline.signings_per_month == 5.0
    assert scn.pipeline.monthly_profile == [1.0] * 12


def test_load_scenario_accepts_str_path_and_records_source(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL)
    scn = load_scenario(str(path))
    assert scn._source == str(path)
    assert scn._raw["name"] == "Minimal park"


def test_bench_scenario_loads():
    scn = load_scenario(BENCH)
    assert scn.simulation.years == 6
    assert set(scn.sectors) == {"manufacturing", "electronics", "services"}
    assert sum(b.firms for b in scn.baseline.sectors.values()) == 200
    assert isinstance(scn.sectors["services"].hightech_service_share, Uniform)


def test_empty_file_gives_the_defaults(tmp_path):
    scn = load_scenario(write(tmp_path, "empty.toml", ""))
    assert scn.sector_names == ["industry"]
    assert scn.simulation.years == 2


def test_distribution_parameter_validates(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + '\n[certification.hnte]\napproval_prob = {dist = "uniform", low = 0.6, high = 0.85}\n')
    p = load_scenario(path).certification.hnte.approval_prob
    assert isinstance(p, Uniform)
    assert (p.low, p.high) == (0.6, 0.85)


def test_sector_defaults_apply_to_every_sector_but_sector_keys_win(tmp_path):
    text = MINIMAL.replace("[sectors.services]\nindustrial = false", "[sectors.services]\nindustrial = false\ngrowth = 0.2")
    scn = load_scenario(write(tmp_path, "s.toml", text + "\n[sector_defaults]\ngrowth = 0.05\nniche = 0.4\n"))
    assert scn.sectors["manufacturing"].growth == 0.05
    assert scn.sectors["services"].growth == 0.2
    assert scn.sectors["services"].niche == 0.4


# --- scenario_from_dict ----------------------------------------------------------------------------


def test_scenario_from_dict_valid_and_input_not_mutated():
    data = {"sector_defaults": {"growth": 0.1}, "sectors": {"a": {}, "b": {"growth": 0.3}}, "pipeline": {"signings_per_month": 2}}
    snapshot = repr(data)
    scn = scenario_from_dict(data)
    assert scn.pipeline.signings_per_month == 2.0
    assert scn.sectors["a"].growth == 0.1
    assert scn.sectors["b"].growth == 0.3
    assert scn._source == "<dict>"
    assert repr(data) == snapshot


def test_scenario_from_dict_error_names_source_key_value_and_range():
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"pipeline": {"signings_per_month": -1}}, source="my-dict")
    p = only(info.value)
    assert p == Problem("my-dict", "pipeline.signings_per_month", p.message)
    assert "-1" in p.message and ">= 0" in p.message
    assert str(info.value) == f"my-dict: pipeline.signings_per_month: {p.message}"


def test_scenario_from_dict_default_source_is_dict():
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"pipeline": {"signings_per_mont": 3}})
    assert only(info.value).file == "<dict>"


def test_scenario_from_dict_reads_csv_relative_to_base_dir(tmp_path):
    write(tmp_path, "inputs/reg.csv", REGISTER)
    scn = scenario_from_dict(
        {"sectors": {"manufacturing": {}, "services": {}}, "baseline": {"enterprises": "reg.csv"}}, base_dir=tmp_path / "inputs"
    )
    assert list(scn._register["firm_id"]) == ["F1", "F2", "F3"]


def test_every_problem_is_reported_one_per_line(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + "\n[pipeline]\nsignings_per_month = -1\nrent_share = 2\n[listing]\nprobb = 0.1\n")
    err = load_error(path)
    wheres = {p.where for p in err.problems}
    assert wheres == {"pipeline.signings_per_month", "pipeline.rent_share", "listing.probb"}
    lines = str(err).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{path}: ") for line in lines)


# --- bad values in the TOML file -------------------------------------------------------------------


BAD_VALUES = [
    # id, extra TOML, key path, fragments the message must contain
    ("unknown-key", "[pipeline]\nsignings_per_mont = 3\n", "pipeline.signings_per_mont", ["unknown key"]),
    ("string-for-number", '[pipeline]\nsignings_per_month = "three"\n', "pipeline.signings_per_month", ["'three'", "expected a number"]),
    ("negative-rate", "[pipeline]\nsignings_per_month = -1\n", "pipeline.signings_per_month", ["-1", ">= 0"]),
    ("probability-above-1", "[pipeline]\nrent_share = 1.5\n", "pipeline.rent_share", ["1.5", "<= 1"]),
    ("bool-for-number", "[pipeline]\nsignings_per_month = true\n", "pipeline.signings_per_month", ["True", "expected a number"]),
    (
        "unknown-distribution",
        '[pipeline.landing]\ndelay = {dist = "lognorm", median = 1, sigma = 0.5}\n',
        "pipeline.landing.delay",
        ["'lognorm'", "unknown distribution", "lognormal", "uniform"],
    ),
    (
        "lognormal-negative-median",
        '[pipeline.landing]\ndelay = {dist = "lognormal", median = -1, sigma = 0.5}\n',
        "pipeline.landing.delay",
        ["lognormal", "median", "-1", "> 0"],
    ),
    (
        "uniform-low-above-high",
        '[certification.hnte]\napproval_prob = {dist = "uniform", low = 0.9, high = 0.6}\n',
        "certification.hnte.approval_prob",
        ["uniform", "low (0.9)", "high (0.6)", "<="],
    ),
    (
        "distribution-missing-parameter",
        '[pipeline.landing]\ndelay = {dist = "lognormal", median = 1}\n',
        "pipeline.landing.delay",
        ["lognormal", "sigma"],
    ),
    (
        "distribution-outside-range",
        '[pipeline]\nrent_share = {dist = "uniform", low = 0.5, high = 1.5}\n',
        "pipeline.rent_share",
        ["<= 1", "1.5"],
    ),
    ("nan", "[pipeline]\nsignings_per_month = nan\n", "pipeline.signings_per_month", ["nan"]),
    ("list-expected", "[pipeline]\nmonthly_profile = 3\n", "pipeline.monthly_profile", ["valid list", "3"]),
    ("listing-initial-negative", "[listing]\ninitial = -1\n", "listing.initial", ["greater than or equal to 0", "-1"]),
    ("round-month-fraction", "[certification.zjtx]\nround_month = 2.5\n", "certification.zjtx.round_month", ["valid integer", "2.5"]),
    ("unknown-key-in-sector", "[sectors.manufacturing.x]\n", "sectors.manufacturing.x", ["unknown key"]),
    (
        "unknown-sector-key-in-sector_defaults",
        "[sector_defaults]\ngrowht = 0.1\n",
        "sector_defaults.growht",
        ["unknown sector key", "growth"],
    ),
    (
        "unknown-baseline-sector",
        "[baseline.sectors.chemicals]\nfirms = 2\n",
        "baseline.sectors.chemicals",
        ["'chemicals'", "manufacturing"],
    ),
    ("missing-required-key", "[[capacity.factory_additions]]\nyear = 2024\n", "capacity.factory_additions.0.amount", ["missing"]),
]


@pytest.mark.parametrize(("extra", "where", "fragments"), [c[1:] for c in BAD_VALUES], ids=[c[0] for c in BAD_VALUES])
def test_bad_value_names_file_key_value_and_expectation(tmp_path, extra, where, fragments):
    path = write(tmp_path, "bad.toml", MINIMAL + "\n" + extra)
    err = load_error(path)
    p = only(err)
    assert p.file == str(path)
    assert p.where == where
    for fragment in fragments:
        assert fragment in p.message, (fragment, p.message)
    assert str(err) == f"{path}: {where}: {p.message}"


@pytest.mark.parametrize(
    ("years", "fragments"),
    [
        ("0", ["greater than or equal to 1", "0"]),
        ("51", ["less than or equal to 50", "51"]),
        pytest.param(
            "2.5",
            ["integer", "2.5"],
        ),
    ],
)
def test_bad_simulation_years(tmp_path, years, fragments):
    path = write(tmp_path, "s.toml", MINIMAL.replace("years = 2", f"years = {years}"))
    p = only(load_error(path))
    assert (p.file, p.where) == (str(path), "simulation.years")
    for fragment in fragments:
        assert fragment in p.message


def test_unknown_key_never_falls_back_to_default(tmp_path):
    path = write(tmp_path, "typo.toml", MINIMAL + "\n[pipeline]\nsignings_per_mont = 3\n")
    err = load_error(path)
    assert "never ignored" in only(err).message
    # and the same typo via a dict
    with pytest.raises(ScenarioError):
        scenario_from_dict({"pipeline": {"signings_per_mont": 3}})


def test_monthly_profile_with_11_values(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + "\n[pipeline]\nmonthly_profile = [1,1,1,1,1,1,1,1,1,1,1]\n")
    p = only(load_error(path))
    assert p.file == str(path)
    text = str(p)
    assert "pipeline" in text and "monthly_profile" in text
    assert "12 values" in p.message and "got 11" in p.message


def test_monthly_profile_error_key_path_is_the_key(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + "\n[pipeline]\nmonthly_profile = [1,1,1,1,1,1,1,1,1,1,1]\n")
    assert only(load_error(path)).where == "pipeline.monthly_profile"


def test_monthly_profile_negative_value(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + "\n[pipeline]\nmonthly_profile = [1,1,1,1,1,1,1,1,1,1,1,-1]\n")
    p = only(load_error(path))
    assert "monthly_profile" in str(p) and ">= 0" in p.message and "-1" in p.message


def test_monthly_profile_nan_is_rejected(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + "\n[pipeline]\nmonthly_profile = [1,1,1,1,1,1,1,1,1,1,1,nan]\n")
    p = only(load_error(path))
    assert "monthly_profile" in str(p) and "nan" in p.message


def test_bool_rejected_where_a_distribution_parameter_is_expected(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + '\n[pipeline.landing]\ndelay = {dist = "lognormal", median = true, sigma = 0.5}\n')
    p = only(load_error(path))
    assert p.where == "pipeline.landing.delay"
    assert "median" in p.message and "True" in p.message


def test_bool_rejected_for_integer_field(tmp_path):
    p = only(load_error(write(tmp_path, "s.toml", MINIMAL.replace("years = 2", "years = true"))))
    assert p.where == "simulation.years" and "True" in p.message


def test_string_rejected_for_integer_field(tmp_path):
    p = only(load_error(write(tmp_path, "s.toml", MINIMAL.replace("years = 2", 'years = "6"'))))
    assert p.where == "simulation.years" and "'6'" in p.message


def test_string_and_bool_rejected_in_monthly_profile(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL + '\n[pipeline]\nmonthly_profile = [1,1,1,1,1,1,1,1,1,1,true,"2"]\n')
    err = load_error(path)
    assert {p.where for p in err.problems} == {"pipeline.monthly_profile.10", "pipeline.monthly_profile.11"}


def test_bad_value_in_sector_defaults_names_sector_defaults(tmp_path):
    err = load_error(write(tmp_path, "s.toml", MINIMAL + '\n[sector_defaults]\ngrowth = "fast"\n'))
    assert any("'fast'" in p.message for p in err.problems)
    assert all("sector_defaults.growth" in str(p) for p in err.problems)


# --- files that cannot be read ---------------------------------------------------------------------


def test_invalid_toml_syntax(tmp_path):
    path = write(tmp_path, "s.toml", "[pipeline\nsignings_per_month = 3\n")
    p = only(load_error(path))
    assert p.file == str(path)
    assert "not valid TOML" in p.message and "line 1" in p.message


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    p = only(load_error(path))
    assert p == Problem(str(path), "", "file not found")


def test_not_utf8_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(b'name = "\xff"\n')
    p = only(load_error(path))
    assert p.file == str(path) and "cannot read" in p.message


# --- extends ---------------------------------------------------------------------------------------


BASE = """\
name = "Base park"

[simulation]
years = 3

[pipeline]
signings_per_month = 4.0
rent_share = 0.5

[pipeline.landing]
dropout = 0.1

[sectors.manufacturing]
growth = 0.06
[sectors.services]
industrial = false

[certification.hnte]
approval_prob = {dist = "uniform", low = 0.6, high = 0.85}
"""


def test_extends_variant_differs_in_exactly_the_overridden_key(tmp_path):
    base = write(tmp_path, "base.toml", BASE)
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n\n[pipeline.landing]\ndropout = 0.25\n')
    a, b = load_scenario(base), load_scenario(child)
    assert diff_paths(a.model_dump(), b.model_dump()) == {"pipeline.landing.dropout"}
    assert b.pipeline.landing.dropout == 0.25
    assert a.pipeline.landing.dropout == 0.1


def test_extends_tables_merge_key_by_key(tmp_path):
    write(tmp_path, "base.toml", BASE)
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\nname = "Child"\n[pipeline]\nrent_share = 0.7\n[sectors.electronics]\n')
    base, scn = load_scenario(tmp_path / "base.toml"), load_scenario(child)
    assert scn.pipeline.rent_share == 0.7
    assert scn.pipeline.signings_per_month == 4.0  # sibling kept from the base
    assert scn.pipeline.landing.dropout == 0.1
    assert scn.sector_names == ["manufacturing", "services", "electronics"]
    assert scn.sectors["manufacturing"].growth == 0.06
    assert diff_paths(base.model_dump(), scn.model_dump()) == {"name", "pipeline.rent_share", "sectors.electronics"}


def test_extends_distribution_table_is_replaced_whole(tmp_path):
    write(tmp_path, "base.toml", BASE)
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[certification.hnte]\napproval_prob = {dist = "fixed", value = 0.7}\n')
    p = load_scenario(child).certification.hnte.approval_prob
    # no low/high left over from the base's uniform (that would be an unknown-key error)
    assert p == Fixed(dist="fixed", value=0.7)


def test_extends_chain_of_three(tmp_path):
    write(tmp_path, "a.toml", BASE)
    write(tmp_path, "b.toml", 'extends = "a.toml"\n[pipeline]\nsignings_per_month = 6\n')
    c = write(tmp_path, "sub/c.toml", 'extends = "../b.toml"\n[simulation]\nyears = 4\n')
    scn = load_scenario(c)
    assert (scn.simulation.years, scn.pipeline.signings_per_month, scn.pipeline.rent_share, scn.name) == (4, 6.0, 0.5, "Base park")


def test_extends_missing_file(tmp_path):
    child = write(tmp_path, "child.toml", 'extends = "nowhere.toml"\n')
    p = only(load_error(child))
    assert p.file == str(child.resolve())
    assert p.where == "extends"
    assert "'nowhere.toml'" in p.message and "not found" in p.message and str(tmp_path.resolve()) in p.message


def test_extends_not_a_string(tmp_path):
    p = only(load_error(write(tmp_path, "s.toml", "extends = 3\n")))
    assert p.where == "extends" and "3" in p.message and "string" in p.message


def test_extends_circular(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    p = only(load_error(a))
    assert p.where == "extends"
    assert p.file == str((tmp_path / "b.toml").resolve())
    assert "circular" in p.message and "a.toml -> b.toml -> a.toml" in p.message


def test_extends_itself(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "a.toml"\n')
    p = only(load_error(a))
    assert "circular" in p.message and p.file == str(a.resolve())


def test_extends_error_in_child_names_child(tmp_path):
    base = write(tmp_path, "base.toml", BASE)
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[pipeline]\nsignings_per_month = -2\n')
    p = only(load_error(child))
    assert p.file == str(child.resolve())
    assert p.file != str(base.resolve())
    assert p.where == "pipeline.signings_per_month" and "-2" in p.message


def test_extends_error_in_base_names_base(tmp_path):
    base = write(tmp_path, "base.toml", BASE.replace("rent_share = 0.5", "rent_share = 1.5"))
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\nname = "Child"\n[simulation]\nyears = 2\n')
    p = only(load_error(child))
    assert p.file == str(base.resolve())
    assert p.where == "pipeline.rent_share" and "1.5" in p.message


def test_extends_invalid_toml_in_base_names_base(tmp_path):
    base = write(tmp_path, "base.toml", "name = \n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n')
    p = only(load_error(child))
    assert p.file == str(base.resolve()) and "not valid TOML" in p.message


def test_extends_error_in_base_names_base_when_child_sets_same_table(tmp_path):
    base = write(tmp_path, "base.toml", BASE.replace("rent_share = 0.5", "rent_share = 1.5"))
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[pipeline]\nsignings_per_month = 6\n')
    p = only(load_error(child))
    assert p.where == "pipeline.rent_share"
    assert p.file == str(base.resolve())


def test_extends_unknown_baseline_sector_in_base_names_base(tmp_path):
    base = write(tmp_path, "base.toml", BASE + "\n[baseline.sectors.chemicals]\nfirms = 2\n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\nname = "Child"\n')
    p = only(load_error(child))
    assert p.where == "baseline.sectors.chemicals"
    assert p.file == str(base.resolve())


def test_extends_unknown_sector_defaults_key_in_base_names_base(tmp_path):
    base = write(tmp_path, "base.toml", BASE + "\n[sector_defaults]\ngrowht = 0.1\n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\nname = "Child"\n')
    p = only(load_error(child))
    assert p.where == "sector_defaults.growht"
    assert p.file == str(base.resolve())


# --- overrides -------------------------------------------------------------------------------------


def test_override_strings(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL)
    scn = load_scenario(path, ["pipeline.signings_per_month=7", "name=Other park", "pipeline.landing.dropout = 0.3"])
    assert scn.pipeline.signings_per_month == 7.0
    assert scn.name == "Other park"
    assert scn.pipeline.landing.dropout == 0.3
    assert diff_paths(load_scenario(path).model_dump(), scn.model_dump()) == {
        "pipeline.signings_per_month",
        "name",
        "pipeline.landing.dropout",
    }


def test_override_mapping_and_distribution(tmp_path):
    path = write(tmp_path, "s.toml", MINIMAL)
    scn = load_scenario(path, {"pipeline.signings_per_month": 7})
    assert scn.pipeline.signings_per_month == 7.0
    scn = load_scenario(path, ['certification.hnte.approval_prob={dist = "uniform", low = 0.5, high = 0.7}'])
    assert scn.certification.hnte.approval_prob == Uniform(dist="uniform", low=0.5, high=0.7)


def test_override_wins_over_extends(tmp_path):
    write(tmp_path, "base.toml", BASE)
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[pipeline]\nsignings_per_month = 6\n')
    assert load_scenario(child, ["pipeline.signings_per_month=9"]).pipeline.signings_per_month == 9.0


@pytest.mark.parametrize(
    ("override", "where", "fragment"),
    [
        ("pipeline.signings_per_month=-1", "pipeline.signings_per_month", ">= 0"),
        ("pipeline.signings_per_mont=3", "pipeline.signings_per_mont", "unknown key"),
        ("simulation.years=abc", "simulation.years", "'abc'"),
        ("pipeline.rent_share=1.5", "pipeline.rent_share", "<= 1"),
        ("no-equals-sign", "no-equals-sign", "key.path=value"),
        ("=3", "=3", "non-empty key"),
        ("pipeline..rent_share=1", "pipeline..rent_share=1", "non-empty key"),
        ("name.first=1", "name.first", "name is a value, not a table"),
    ],
)
def test_bad_override_is_reported_like_a_file_error(tmp_path, override, where, fragment):
    err = load_error(write(tmp_path, "s.toml", MINIMAL), [override])
    p = only(err)
    assert p.file == "--set"
    assert p.where == where
    assert fragment in p.message
    assert str(err).startswith("--set: ")


# --- CSV: enterprise register ----------------------------------------------------------------------


def test_register_loads(tmp_path):
    write(tmp_path, "reg.csv", REGISTER)
    scn = load_scenario(write(tmp_path, "s.toml", scenario_text(enterprises="reg.csv")))
    reg = scn._register
    assert len(reg) == 3
    assert list(reg["firm_id"]) == ["F1", "F2", "F3"]
    assert list(reg["sector"]) == ["manufacturing", "services", "manufacturing"]
    assert list(reg["revenue"]) == [5000.0, 1200.0, 800.5]
    assert reg["employees"][1] is None and reg["employees"][2] == 12.0  # empty optional cell: None (not NaN)
    assert list(reg["tech_sme"]) == [True, False, None]
    assert reg["ip_class2"][0] == 3 and reg["ip_class2"][2] == 0 and pd.isna(reg["ip_class2"][1])
    # 2024-07-01 is 18 months after 1 January 2023
    assert reg["hnte_expiry_month"][0] == 18.0
    assert math.isnan(reg["hnte_expiry_month"][1])


def test_register_with_bom_and_spaces(tmp_path):
    write(tmp_path, "reg.csv", "\ufefffirm_id, sector, revenue\nF1, manufacturing, 10\n")
    scn = load_scenario(write(tmp_path, "s.toml", scenario_text(enterprises="reg.csv")))
    assert list(scn._register["sector"]) == ["manufacturing"]
    assert list(scn._register["revenue"]) == [10.0]


def register_error(tmp_path, csv_text: str) -> tuple[ScenarioError, Path]:
    csv = write(tmp_path, "reg.csv", csv_text)
    return load_error(write(tmp_path, "s.toml", scenario_text(enterprises="reg.csv"))), csv


def test_register_missing_required_column(tmp_path):
    err, csv = register_error(tmp_path, "firm_id,sector\nF1,manufacturing\n")
    assert only(err) == Problem(str(csv), "column 'revenue'", "required column is missing")


def test_register_unknown_column(tmp_path):
    err, csv = register_error(tmp_path, "firm_id,sector,revenue,revenu\nF1,manufacturing,1,2\n")
    p = only(err)
    assert (p.file, p.where) == (str(csv), "column 'revenu'")
    assert "unknown column" in p.message and "'revenue'" in p.message


def test_register_bad_number(tmp_path):
    err, csv = register_error(tmp_path, "firm_id,sector,revenue\nF1,manufacturing,1\nF2,manufacturing,abc\n")
    p = only(err)
    assert p.file == str(csv)
    assert "row 2" in p.where and "'revenue'" in p.where
    assert "'abc'" in p.message and "a finite number >= 0" in p.message
    assert str(csv) in str(err) and "row 2" in str(err)


def test_register_negative_number_and_bad_share_and_bad_date(tmp_path):
    text = "firm_id,sector,revenue,st_staff_share,hnte_expiry\nF1,manufacturing,-5,1.2,2024-13-01\n"
    err, csv = register_error(tmp_path, text)
    by_col = {p.where: p.message for p in err.problems}
    assert by_col == {
        "row 1 (line 2), column 'revenue'": "value '-5' is not a finite number >= 0",
        "row 1 (line 2), column 'st_staff_share'": "value '1.2' is not a number between 0 and 1",
        "row 1 (line 2), column 'hnte_expiry'": "value '2024-13-01' is not a date YYYY-MM-DD or YYYY-MM",
    }
    assert {p.file for p in err.problems} == {str(csv)}


def test_register_missing_required_value(tmp_path):
    err, _ = register_error(tmp_path, "firm_id,sector,revenue\nF1,manufacturing,\n")
    p = only(err)
    assert "row 1" in p.where and "'revenue'" in p.where and "missing" in p.message


def test_register_unknown_sector(tmp_path):
    err, csv = register_error(tmp_path, "firm_id,sector,revenue\nF1,chemicals,1\n")
    p = only(err)
    assert p.file == str(csv)
    assert p.where == "row 1 (line 2), column 'sector'"
    assert "'chemicals'" in p.message and "'manufacturing'" in p.message and "'services'" in p.message


def test_register_duplicate_firm_id(tmp_path):
    err, csv = register_error(tmp_path, "firm_id,sector,revenue\nF1,manufacturing,1\nF2,manufacturing,1\nF1,services,2\n")
    p = only(err)
    assert p.file == str(csv)
    assert "firm_id" in p.where
    assert "duplicate" in p.message and "'F1'" in p.message


def test_register_duplicate_firm_id_names_rows(tmp_path):
    err, _ = register_error(tmp_path, "firm_id,sector,revenue\nF1,manufacturing,1\nF2,manufacturing,1\nF1,services,2\n")
    assert "row 3" in str(err)


def test_register_empty_file(tmp_path):
    err, csv = register_error(tmp_path, "")
    p = only(err)
    assert p.file == str(csv) and "empty file" in p.message


def test_register_missing_file(tmp_path):
    err = load_error(write(tmp_path, "s.toml", scenario_text(enterprises="nope.csv")))
    p = only(err)  # the scenario file and key that name the missing file
    assert (p.file, p.where) == (str(tmp_path / "s.toml"), "baseline.enterprises")
    assert p.message.startswith(f"{tmp_path / 'nope.csv'}: file not found (the CSV file named by this key, 'nope.csv'")


def test_register_infinite_count_is_a_clean_error(tmp_path):
    err, _ = register_error(tmp_path, "firm_id,sector,revenue,ip_class2\nF1,manufacturing,1,inf\n")
    p = only(err)
    assert "'ip_class2'" in p.where and "'inf'" in p.message


def test_register_infinite_revenue_is_rejected(tmp_path):
    err, _ = register_error(tmp_path, "firm_id,sector,revenue\nF1,manufacturing,inf\n")
    assert "'revenue'" in only(err).where


def test_register_row_with_too_many_cells(tmp_path):
    err, _ = register_error(tmp_path, "firm_id,sector,revenue\nF1,manufacturing,1,5\n")
    assert "line 2" in str(err)
    assert "unknown sector" not in str(err)


def test_register_and_pipeline_problems_are_reported_together(tmp_path):
    write(tmp_path, "reg.csv", "firm_id,sector,revenue\nF1,chemicals,1\n")
    write(tmp_path, "pipe.csv", PIPE_HEAD + "P1,2023-01,manufacturing,lease,1,,10\n")
    err = load_error(write(tmp_path, "s.toml", scenario_text(enterprises="reg.csv", projects="pipe.csv")))
    assert {Path(p.file).name for p in err.problems} == {"reg.csv", "pipe.csv"}


# --- CSV: pipeline ---------------------------------------------------------------------------------


def test_pipeline_loads(tmp_path):
    write(tmp_path, "pipe.csv", PIPELINE)
    scn = load_scenario(write(tmp_path, "s.toml", scenario_text(projects="pipe.csv")))
    pr = scn._projects
    assert len(pr) == 3
    assert list(pr["project_id"]) == ["P1", "P2", "P3"]
    assert list(pr["mode"]) == ["rent", "build", "build"]
    assert pd.isna(pr["land_mu"][0]) and list(pr["land_mu"][1:]) == [30.0, 12.5]
    assert pr["floor_space_m2"][0] == 2000.0
    assert list(pr["planned_output"]) == [6000.0, 9000.0, 4000.0]
    assert str(pr["signing_date"][0]) == "2023-03-01"  # YYYY-MM means the first of the month
    assert pr["signing_month"][0] == 2.0
    assert pr["signing_month"][1] == pytest.approx(-2 + 15 / 30)  # 16 Nov 2022, before the start
    assert pr["signing_month"][2] == 18.0
    assert list(pr["status"]) == ["signed"] * 3


def pipeline_error(tmp_path, rows: str, head: str = PIPE_HEAD) -> tuple[ScenarioError, Path]:
    csv = write(tmp_path, "pipe.csv", head + rows)
    return load_error(write(tmp_path, "s.toml", scenario_text(projects="pipe.csv"))), csv


def test_pipeline_missing_required_column(tmp_path):
    head = "project_id,signing_date,sector,mode,floor_space_m2\n"
    err, csv = pipeline_error(tmp_path, "P1,2023-01,manufacturing,rent,5\n", head=head)
    assert only(err) == Problem(str(csv), "column 'planned_output'", "required column is missing")


def test_pipeline_unknown_column(tmp_path):
    head = PIPE_HEAD.strip() + ",budget\n"
    err, csv = pipeline_error(tmp_path, "P1,2023-01,manufacturing,rent,5,,10,3\n", head=head)
    p = only(err)
    assert (p.file, p.where) == (str(csv), "column 'budget'")
    assert "unknown column" in p.message and "'planned_output'" in p.message


def test_pipeline_bad_number(tmp_path):
    err, csv = pipeline_error(tmp_path, "P1,2023-01,manufacturing,rent,5,,10\nP2,2023-01,manufacturing,rent,5,,ten\n")
    p = only(err)
    assert p.file == str(csv)
    assert p.where == "row 2 (line 3), column 'planned_output'"
    assert "'ten'" in p.message and "a finite number > 0" in p.message


def test_pipeline_unknown_sector(tmp_path):
    err, csv = pipeline_error(tmp_path, "P1,2023-01,mining,rent,5,,10\n")
    p = only(err)
    assert p.where == "row 1 (line 2), column 'sector'" and "'mining'" in p.message


def test_pipeline_bad_mode(tmp_path):
    err, csv = pipeline_error(tmp_path, "P1,2023-01,manufacturing,lease,5,,10\n")
    p = only(err)
    assert p == Problem(str(csv), "row 1 (line 2), column 'mode'", "value 'lease' is not rent or build")


def test_pipeline_rent_without_floor_space(tmp_path):
    err, csv = pipeline_error(tmp_path, "P1,2023-01,manufacturing,build,,5,10\nP2,2023-01,manufacturing,rent,,5,10\n")
    p = only(err)
    assert p.file == str(csv)
    assert p.where == "row 2 (line 3), column 'floor_space_m2'"
    assert "missing" in p.message and "rent" in p.message


def test_pipeline_build_without_land(tmp_path):
    err, _ = pipeline_error(tmp_path, "P1,2023-01,manufacturing,build,500,,10\n")
    p = only(err)
    assert p.where == "row 1 (line 2), column 'land_mu'" and "build" in p.message


def test_pipeline_duplicate_project_id(tmp_path):
    err, csv = pipeline_error(tmp_path, "P1,2023-01,manufacturing,rent,5,,10\nP1,2023-02,manufacturing,rent,5,,10\n")
    p = only(err)
    assert p.file == str(csv) and "project_id" in p.where and "'P1'" in p.message


def test_pipeline_bad_date(tmp_path):
    err, _ = pipeline_error(tmp_path, "P1,2023/01/05,manufacturing,rent,5,,10\n")
    p = only(err)
    assert "'signing_date'" in p.where and "'2023/01/05'" in p.message and "YYYY-MM-DD" in p.message


def test_pipeline_signing_after_the_simulated_years(tmp_path):
    # 2 years from 2023: the last simulated day is 2024-12-31
    err, csv = pipeline_error(
        tmp_path, "P1,2023-01,manufacturing,rent,5,,10\nP2,2024-12-31,manufacturing,rent,5,,10\nP3,2025-01-01,manufacturing,rent,5,,10\n"
    )
    p = only(err)
    assert p.file == str(csv)
    assert p.where == "row 3 (line 4), column 'signing_date'"
    assert "2025-01-01" in p.message and "after the simulated years" in p.message


def test_pipeline_signing_after_the_simulated_years_names_the_end(tmp_path):
    err, _ = pipeline_error(tmp_path, "P1,2030-06-01,manufacturing,rent,5,,10\n")
    assert any(s in only(err).message for s in ("2024", "2025-01"))


def test_pipeline_status_column(tmp_path):
    head = PIPE_HEAD.strip() + ",status\n"
    csv = write(tmp_path, "pipe.csv", head + "P1,2023-01,manufacturing,rent,5,,10,landed\nP2,2023-01,manufacturing,rent,5,,10,\n")
    scn = load_scenario(write(tmp_path, "s.toml", scenario_text(projects=csv.name)))
    assert list(scn._projects["status"]) == ["landed", "signed"]
    err, _ = pipeline_error(tmp_path, "P1,2023-01,manufacturing,rent,5,,10,started\n", head=head)
    assert "'started'" in only(err).message and "signed or landed" in only(err).message


# --- CSV paths -------------------------------------------------------------------------------------


def test_csv_paths_are_relative_to_the_scenario_file(tmp_path, monkeypatch):
    write(tmp_path, "park/data/reg.csv", REGISTER)
    write(tmp_path, "park/data/pipe.csv", PIPELINE)
    path = write(tmp_path, "park/s.toml", scenario_text(enterprises="data/reg.csv", projects="data/pipe.csv"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scn = load_scenario(path)
    assert len(scn._register) == 3 and len(scn._projects) == 3


def test_csv_path_from_base_in_same_directory(tmp_path):
    write(tmp_path, "reg.csv", REGISTER)
    write(tmp_path, "base.toml", scenario_text(enterprises="reg.csv"))
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\nname = "Child"\n')
    assert len(load_scenario(child)._register) == 3


def test_csv_path_in_child_relative_to_child(tmp_path):
    write(tmp_path, "base/base.toml", MINIMAL)
    write(tmp_path, "variant/reg.csv", REGISTER)
    child = write(tmp_path, "variant/child.toml", 'extends = "../base/base.toml"\n[baseline]\nenterprises = "reg.csv"\n')
    assert len(load_scenario(child)._register) == 3


def test_csv_paths_from_base_in_other_directory_are_relative_to_base(tmp_path):
    write(tmp_path, "base/reg.csv", REGISTER)
    write(tmp_path, "base/pipe.csv", PIPELINE)
    write(tmp_path, "base/base.toml", scenario_text(enterprises="reg.csv", projects="pipe.csv"))
    child = write(tmp_path, "variant/child.toml", 'extends = "../base/base.toml"\nname = "Variant"\n')
    scn = load_scenario(child)
    assert len(scn._register) == 3 and len(scn._projects) == 3


def test_csv_paths_from_base_in_other_directory_when_child_sets_same_tables(tmp_path):
    write(tmp_path, "base/reg.csv", REGISTER)
    write(tmp_path, "base/pipe.csv", PIPELINE)
    write(tmp_path, "base/base.toml", scenario_text(enterprises="reg.csv", projects="pipe.csv"))
    child = write(
        tmp_path, "variant/child.toml", 'extends = "../base/base.toml"\n[baseline]\nbaseline_output = 10\n[pipeline]\nrent_share = 0.5\n'
    )
    scn = load_scenario(child)
    assert len(scn._register) == 3 and len(scn._projects) == 3


def test_public_api_exports():
    assert parksim.load_scenario is load_scenario
    assert parksim.scenario_from_dict is scenario_from_dict
    assert "firm_id" in parksim.REGISTER_COLUMNS and "signing_date" in parksim.PIPELINE_COLUMNS

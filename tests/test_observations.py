"""Tests of a scenario's observations: published figures of its indicators in simulated years.

They are read from ``[[observations]]`` tables or a CSV file, validated with the loader's errors (file, key path or
row, value, what was expected), left out of the scenario's identity, and listed by ``observation_table``.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from engine_reference import reference_key

import parksim
from parksim import load_scenario, observation_table, scenario_hash
from parksim.cli import main
from parksim.rules.indicators import INDICATORS

ROOT = Path(__file__).resolve().parents[1]
SEED_SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.toml") if not p.stem.startswith("bench"))

PARK = """\
name = "Small park"
[simulation]
start_year = 2023
years = 2
[sectors.a]
[baseline.sectors.a]
firms = 6
"""

REGION = """\
name = "Region"
[simulation]
start_year = 2023
years = 2
[sectors.a]
[baseline.sectors.a]
firms = 6
[[portfolio.parks]]
name = "A"
[[portfolio.parks]]
name = "B"
"""

TABLES = """
[[observations]]
indicator = "total_output"
year = 2024
value = 12.5
sd = 1.5
source = "work report, 2025-02-01: 12.5亿元"

[[observations]]
indicator = "firms"
year = 2023
value = 7
source = "press conference, 2024-01-10: 7 firms"
"""

CSV = 'indicator,year,value,park,sd,source\ntotal_output,2024,12.5,,1.5,"work report, 2025-02-01: 12.5亿元"\nfirms,2023,7,,,"press conference, 2024-01-10: 7 firms"\n'


def observation(indicator="total_output", year=2024, value="1.0", extra="") -> str:
    return f'\n[[observations]]\nindicator = "{indicator}"\nyear = {year}\nvalue = {value}\nsource = "a document"\n{extra}'


# --- loading ------------------------------------------------------------------------------------------


def test_observations_load_from_tables(write):
    scn = load_scenario(write("s.toml", PARK + TABLES))
    first, second = scn.observations
    assert (first.indicator, first.year, first.value, first.sd, first.park) == ("total_output", 2024, 12.5, 1.5, None)
    assert first.source == "work report, 2025-02-01: 12.5亿元"
    assert (second.indicator, second.value, second.sd) == ("firms", 7.0, None)  # an integer is a number; sd not stated


def test_observations_load_from_a_csv_file_as_from_tables(write):
    write("data/obs.csv", "\ufeff" + CSV)  # a byte-order mark (as spreadsheets write) is read
    from_csv = load_scenario(write("s.toml", 'observations = "data/obs.csv"\n' + PARK))
    from_tables = load_scenario(write("t.toml", PARK + TABLES))
    assert from_csv.observations == from_tables.observations


def test_a_csv_file_may_leave_out_the_optional_columns(write):
    write("obs.csv", "source, indicator, year, value\nreport,firms,2024,8\n")
    scn = load_scenario(write("s.toml", 'observations = "obs.csv"\n' + PARK))
    assert [(o.indicator, o.year, o.value, o.park, o.sd) for o in scn.observations] == [("firms", 2024, 8.0, None, None)]


def test_a_portfolio_observes_a_park_or_its_parks_added_up(write):
    path = write("r.toml", REGION + observation("hnte_valid", extra='park = "B"') + observation("hnte_valid"))
    table = observation_table(path)
    assert list(table.park) == ["B", "portfolio"]  # no park: the portfolio's aggregate, under the portfolio's name
    scn = load_scenario(path)
    assert [m.observations for _, m in scn._members] == [[], []]  # the parks' own scenarios have none


def test_observation_table_columns_units_and_park_names(write):
    table = observation_table(load_scenario(write("s.toml", PARK + TABLES)))
    assert list(table.columns) == ["indicator", "year", "park", "value", "sd", "source", "unit"]
    assert list(table.park) == ["Small park", "Small park"]  # a single park: the scenario's name
    assert list(table.unit) == [INDICATORS["total_output"][0], INDICATORS["firms"][0]]
    assert table.sd[0] == 1.5 and math.isnan(table.sd[1])  # not stated: NaN
    assert table.dtypes["year"] == "int64" and table.dtypes["value"] == "float64"
    empty = observation_table(load_scenario(write("e.toml", PARK)))
    assert empty.empty and list(empty.columns) == list(table.columns)


def test_observation_columns_are_the_tables_keys():
    assert list(parksim.OBSERVATION_COLUMNS) == list(parksim.Scenario.model_fields["observations"].annotation.__args__[0].model_fields)
    required = [c for c, (_, req, _, _) in parksim.OBSERVATION_COLUMNS.items() if req]
    assert required == ["indicator", "year", "value", "source"]


# --- observations never change a run -------------------------------------------------------------------


def test_observations_leave_the_scenario_hash_and_reference_key_as_they_were(write):
    plain = load_scenario(write("p.toml", PARK))
    observed = load_scenario(write("o.toml", PARK + TABLES))
    assert scenario_hash(observed) == scenario_hash(plain)
    assert reference_key(observed) == reference_key(plain)
    assert "observations" not in plain.model_dump()  # no observations: serialised as before the key existed
    assert len(observed.model_dump()["observations"]) == 2  # the manifest keeps them


def test_observations_do_not_change_a_simulation(write):
    plain = parksim.simulate_one(load_scenario(write("p.toml", PARK)), seed=3)
    observed = parksim.simulate_one(load_scenario(write("o.toml", PARK + TABLES)), seed=3)
    pd.testing.assert_frame_equal(plain, observed)


@pytest.mark.parametrize("path", [p for p in SEED_SCENARIOS if "\n[[observations]]" in p.read_text(encoding="utf-8")], ids=lambda p: p.stem)
def test_a_seed_scenario_hashes_as_without_its_observations(path):
    scn = load_scenario(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.pop("observations")
    assert scenario_hash(parksim.scenario_from_dict(data, base_dir=path.parent)) == scenario_hash(scn)


# --- the seed scenarios ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SEED_SCENARIOS, ids=lambda p: p.stem)
def test_seed_scenario_observations_are_in_its_horizon_and_stated(path):
    scn = load_scenario(path)
    first = scn.simulation.start_year
    parks = [p.name for p in scn.portfolio.parks] if scn.portfolio is not None else []
    for o in scn.observations:
        assert first <= o.year < first + scn.simulation.years
        assert o.sd is not None and o.sd > 0  # every seed figure states its measurement error (and why, in a comment)
        assert o.source.strip() and (o.park is None or o.park in parks)
    # the header's figures "for backtests only" are either observations or named as skipped, in a comment
    text = path.read_text(encoding="utf-8")
    assert "# --- observations" in text
    assert scn.observations or "None" in text.split("# --- observations", 1)[1]


def test_the_seed_figures_that_map_onto_an_indicator_are_observed():
    xiushan = observation_table(ROOT / "scenarios" / "xiushan-2024.toml")
    assert list(zip(xiushan.indicator, xiushan.year, xiushan.value, strict=True)) == [
        ("above_size_firms", 2024, 83.0),
        ("hnte_valid", 2024, 82.0),
        ("tech_based", 2024, 694.0),
    ]
    east_lake = observation_table(ROOT / "scenarios" / "east-lake-2025.toml")
    assert list(zip(east_lake.indicator, east_lake.year, east_lake.value, strict=True)) == [
        ("value_added", 2023, 2715.0),
        ("value_added", 2024, 3200.0),
        ("listed_companies", 2023, 67.0),
    ]


# --- extends ----------------------------------------------------------------------------------------


def test_under_extends_observations_replace_and_extra_observations_add(write, capsys):
    write("obs.csv", CSV)
    write("base.toml", 'observations = "obs.csv"\n' + PARK)
    added = load_scenario(
        write(
            "sub/added.toml", 'extends = "../base.toml"\n' + observation("hnte_valid").replace("[[observations]]", "[[extra_observations]]")
        )
    )
    assert [o.indicator for o in added.observations] == ["total_output", "firms", "hnte_valid"]  # the base's CSV, read from its folder
    replaced = write("sub/replaced.toml", 'extends = "../base.toml"\n' + observation("hnte_valid"))
    assert [o.indicator for o in load_scenario(replaced).observations] == ["hnte_valid"]
    assert main(["validate", str(replaced)]) == 0
    assert "its 1 [[observations]] replace every observation of the scenario it extends (base.toml)" in capsys.readouterr().out


# --- errors: every one exits 2 with file, key or row, value and what was expected ----------------------------


def cli_error(args: list[str], capsys) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("parksim: error: invalid scenario input\n")
    return err


def assert_line(err: str, file: Path | str, where: str, fragments: list[str]) -> None:
    head = f"{file}: {where}: " if where else f"{file}: "
    lines = [line for line in err.splitlines() if line.startswith(head)]
    assert lines, (head, err)
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


BAD_TABLES = [
    # id, scenario text, key path, fragments of the message
    (
        "unknown-indicator",
        PARK + observation("total_outpt"),
        "observations.0.indicator",
        ["'total_outpt'", "unknown indicator", "total_output"],
    ),
    ("year-before", PARK + observation(year=2022), "observations.0.year", ["2022", "before the simulated years", "2023 to 2024"]),
    ("year-after", PARK + observation(year=2025), "observations.0.year", ["2025", "after the simulated years", "2023 to 2024"]),
    ("value-nan", PARK + observation(value="nan"), "observations.0.value", ["nan", "finite"]),
    ("value-inf", PARK + observation(value="inf"), "observations.0.value", ["finite"]),
    ("value-text", PARK + observation(value='"12"'), "observations.0.value", ["'12'", "number"]),
    ("sd-zero", PARK + observation(extra="sd = 0.0"), "observations.0.sd", ["greater than 0", "0.0"]),
    ("sd-negative", PARK + observation(extra="sd = -2.0"), "observations.0.sd", ["greater than 0", "-2.0"]),
    ("park-in-single-park", PARK + observation(extra='park = "A"'), "observations.0.park", ["'A'", "portfolio"]),
    ("unknown-park", REGION + observation(extra='park = "C"'), "observations.0.park", ["'C'", "unknown park", "['A', 'B']"]),
    ("duplicate", PARK + observation() + observation(value="2.0"), "observations.1", ["total_output in 2024", "twice"]),
    (
        "duplicate-park",
        REGION + observation(extra='park = "A"') + observation(extra='park = "B"') + observation(extra='park = "A"'),
        "observations.2",
        ["total_output in 2024 of park 'A'", "twice"],
    ),
    ("empty-source", PARK + observation().replace('"a document"', '""'), "observations.0.source", ["empty"]),
    ("unknown-key", PARK + observation(extra="unit = 1"), "observations.0.unit", ["unknown key"]),
    ("not-a-list", "observations = 3\n" + PARK, "observations", ["3", "[[observations]]", "CSV"]),
]


@pytest.mark.parametrize(("text", "where", "fragments"), [c[1:] for c in BAD_TABLES], ids=[c[0] for c in BAD_TABLES])
def test_a_bad_observation_exits_2_naming_file_key_and_value(write, capsys, text, where, fragments):
    path = write("bad.toml", text)
    assert_line(cli_error(["validate", str(path)], capsys), path, where, fragments)


def test_parksim_run_refuses_a_bad_observation_before_running(write, tmp_path, capsys):
    path = write("bad.toml", PARK + observation(year=2030))
    err = cli_error(["run", str(path), "-n", "2", "--out", str(tmp_path / "out")], capsys)
    assert_line(err, path, "observations.0.year", ["2030"])
    assert not (tmp_path / "out").exists()


def test_an_error_in_extra_observations_names_the_variant_and_its_key(write, capsys):
    write("base.toml", PARK + observation())
    variant = write("v.toml", 'extends = "base.toml"\n' + observation(year=2026).replace("[[observations]]", "[[extra_observations]]"))
    assert_line(cli_error(["validate", str(variant)], capsys), variant, "extra_observations.0.year", ["2026"])


HEAD = "indicator,year,value,park,sd,source\n"
BAD_CSV = [
    # id, CSV text, where in the CSV file, fragments of the message
    ("bad-value", HEAD + "firms,2024,1,,,a\nfirms,2023,abc,,,b\n", "row 2 (line 3), column 'value'", ["'abc'", "a finite number"]),
    ("bad-year", HEAD + "firms,2024.5,1,,,a\n", "row 1 (line 2), column 'year'", ["'2024.5'", "whole number"]),
    ("non-finite-value", HEAD + "firms,2024,nan,,,a\n", "row 1 (line 2), column 'value'", ["'nan'", "finite"]),
    ("bad-sd", HEAD + "firms,2024,1,,0,a\n", "row 1 (line 2), column 'sd'", ["'0'", "> 0"]),
    ("missing-value", HEAD + "firms,2024,,,,a\n", "row 1 (line 2), column 'value'", ["missing"]),
    ("missing-source", HEAD + "firms,2024,1,,,\n", "row 1 (line 2), column 'source'", ["missing"]),
    (
        "unknown-indicator",
        HEAD + "firms,2024,1,,,a\nfirm,2024,1,,,a\n",
        "row 2 (line 3), column 'indicator'",
        ["'firm'", "unknown indicator"],
    ),
    ("year-outside", HEAD + "firms,2024,1,,,a\nfirms,2031,1,,,a\n", "row 2 (line 3), column 'year'", ["2031", "2023 to 2024"]),
    ("park-in-single-park", HEAD + "firms,2024,1,A,,a\n", "row 1 (line 2), column 'park'", ["'A'", "portfolio"]),
    ("duplicate", HEAD + "firms,2024,1,,,a\nfirms,2023,1,,,a\nfirms,2024,2,,,b\n", "row 3 (line 4)", ["firms in 2024", "twice"]),
    ("extra-column", HEAD.replace("source", "source,unit") + "firms,2024,1,,,a,firms\n", "column 'unit'", ["unknown column", "'source'"]),
    ("missing-column", "indicator,year,value\nfirms,2024,1\n", "column 'source'", ["required column is missing"]),
    ("too-many-cells", HEAD + "firms,2024,1,,,a,b\n", "row 1 (line 2)", ["7 cells", "expected 6"]),
    ("empty", "", "", ["empty file", "observations of"]),
]


@pytest.mark.parametrize(("csv", "where", "fragments"), [c[1:] for c in BAD_CSV], ids=[c[0] for c in BAD_CSV])
def test_a_bad_observations_csv_exits_2_naming_file_row_and_value(write, capsys, csv, where, fragments):
    csv_path = write("obs.csv", csv)
    path = write("s.toml", 'observations = "obs.csv"\n' + PARK)
    assert_line(cli_error(["validate", str(path)], capsys), csv_path, where, fragments)


def test_an_unknown_park_in_a_portfolio_csv_names_the_row(write, capsys):
    csv_path = write("obs.csv", HEAD + "firms,2024,1,B,,a\nfirms,2024,1,Z,,a\n")
    path = write("r.toml", 'observations = "obs.csv"\n' + REGION)
    assert_line(cli_error(["validate", str(path)], capsys), csv_path, "row 2 (line 3), column 'park'", ["'Z'", "unknown park"])


def test_a_missing_observations_csv_names_the_scenario_key_and_path(write, capsys):
    path = write("s.toml", 'observations = "nowhere/obs.csv"\n' + PARK)
    err = cli_error(["validate", str(path)], capsys)
    assert_line(err, path, "observations", [str(path.parent / "nowhere" / "obs.csv"), "file not found"])


@pytest.mark.parametrize("content", [b"indicator,year\xff,value,source\n", None], ids=["not-utf8", "a-directory"])
def test_an_unreadable_observations_csv_names_the_file(write, tmp_path, capsys, content):
    csv_path = tmp_path / "obs.csv"
    if content is None:
        csv_path.mkdir()
    else:
        csv_path.write_bytes(content)
    path = write("s.toml", 'observations = "obs.csv"\n' + PARK)
    err = cli_error(["validate", str(path)], capsys)
    fragment = "is a directory" if content is None else "not a readable UTF-8 CSV file"
    assert_line(err, csv_path, "", [fragment, f"observations of {path}"])

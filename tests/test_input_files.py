"""Input files are read only if they are regular files of bounded size; a bad one exits 2 naming the file, the
key that names it and the scenario, without a traceback and without waiting (a named pipe, /dev/zero)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from parksim.cli import main
from parksim.scenario import inputs as _inputs
from parksim.scenario import loader as _loader

SCN = """\
name = "Files park"
[simulation]
start_year = 2023
years = 2
[sectors.a]
"""
PIPE_HEAD = "project_id,signing_date,sector,mode,floor_space_m2,land_mu,planned_output\n"


def run_within(seconds: float, capsys, *argv):
    """main(argv) in a thread: a read that blocks (a named pipe) fails the test instead of hanging it."""
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("rc", main([str(a) for a in argv])), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"parksim {argv} still running after {seconds} s"
    out, err = capsys.readouterr()
    return box["rc"], out, err


def scenario(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "s.toml"
    path.write_text(SCN + extra, encoding="utf-8")
    return path


def assert_refused(rc, err, *fragments):
    assert rc == 2 and "Traceback" not in err, err
    for f in fragments:
        assert f in err, (f, err)


def test_scenario_from_dev_zero_is_refused(capsys):
    rc, _, err = run_within(10, capsys, "validate", "/dev/zero")
    assert_refused(rc, err, "/dev/zero: is not a regular file")


def test_scenario_from_named_pipe_is_refused(capsys, tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    rc, _, err = run_within(10, capsys, "validate", fifo)
    assert_refused(rc, err, f"{fifo}: is not a regular file")


def test_extends_a_device_is_refused(capsys, tmp_path):
    path = tmp_path / "child.toml"
    path.write_text('extends = "/dev/zero"\n', encoding="utf-8")
    rc, _, err = run_within(10, capsys, "validate", path)
    assert_refused(rc, err, "/dev/zero: is not a regular file")


@pytest.mark.parametrize("kind", ["directory", "fifo", "device"])
@pytest.mark.parametrize("key", ["baseline.enterprises", "pipeline.known_projects"])
def test_csv_input_that_is_not_a_file_names_key_and_scenario(capsys, tmp_path, kind, key):
    target = tmp_path / "input.csv"
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target = Path("/dev/zero")
    table, name = key.split(".")
    path = scenario(tmp_path, f'[{table}]\n{name} = "{target}"\n')
    rc, _, err = run_within(10, capsys, "validate", path)
    expected = "is a directory" if kind == "directory" else "is not a regular file"
    assert_refused(rc, err, f"{target}: {expected}", f"(the file named by {key} of {path})")


def test_oversized_scenario_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(_loader, "MAX_TOML_BYTES", 100)
    path = scenario(tmp_path, "# " + "x" * 200 + "\n")
    rc, _, err = run_within(10, capsys, "validate", path)
    assert_refused(rc, err, f"{path}: is 2", "expected a scenario (TOML) file of at most 100 bytes")


def test_oversized_csv_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(_inputs, "MAX_CSV_BYTES", 1000)
    csv = tmp_path / "p.csv"
    csv.write_text(PIPE_HEAD + "".join(f"P{i},2023-03,a,rent,2000,,6000\n" for i in range(40)), encoding="utf-8")
    path = scenario(tmp_path, '[pipeline]\nknown_projects = "p.csv"\n')
    rc, _, err = run_within(10, capsys, "validate", path)
    assert_refused(rc, err, f"{csv}: is ", "expected a CSV file of at most 1,000 bytes", "(the file named by pipeline.known_projects")
    monkeypatch.setattr(_inputs, "MAX_CSV_BYTES", 10_000)
    rc, _, err = run_within(30, capsys, "validate", path)
    assert rc == 0, err


def test_duplicated_csv_column_is_refused(capsys, tmp_path):
    """The last `planned_output` column used to win silently."""
    csv = tmp_path / "p.csv"
    csv.write_text(
        "project_id,signing_date,sector,mode,floor_space_m2,planned_output,land_mu,planned_output\nP1,2023-03,a,rent,2000,6000,,9000\n",
        encoding="utf-8",
    )
    path = scenario(tmp_path, '[pipeline]\nknown_projects = "p.csv"\n')
    rc, _, err = run_within(10, capsys, "validate", path)
    assert_refused(rc, err, f"{csv}: column 'planned_output': appears 2 times in the header (columns 6, 8); expected each column once")

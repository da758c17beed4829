"""The command line on real scenarios: validate, simulate, trace, params."""

from __future__ import annotations

import pandas as pd

from parksim.cli import main
from parksim.engines.simpy import EVENT_COLUMNS
from parksim.scenario.docs import parameters_markdown


def test_validate_builtin_scenarios(root, capsys):
    for path in sorted((root / "scenarios").rglob("*.toml")):
        assert main(["validate", str(path)]) == 0, path
        assert "valid" in capsys.readouterr().out


def test_simulate_prints_table_and_writes_tidy_csv(root, tmp_path, capsys):
    out = tmp_path / "one.csv"
    assert main(["simulate", str(root / "scenarios" / "xiushan-2024.toml"), "--seed", "4", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "total_output [亿元]" in text and "2024" in text
    df = pd.read_csv(out)
    assert list(df.columns) == ["year", "indicator", "value"]
    assert set(df.year) == {2023, 2024}


def test_trace_writes_event_log(root, tmp_path, capsys):
    assert main(["trace", str(root / "scenarios" / "bench.toml"), "--seed", "2", "--out", str(tmp_path / "t")]) == 0
    ev = pd.read_csv(tmp_path / "t" / "events.csv")
    assert list(ev.columns) == EVENT_COLUMNS
    kinds = set(ev.event)
    for k in ("signed", "landed", "production_start", "dropout", "exit", "hnte_granted", "hnte_expired"):
        assert k in kinds, k
    assert ev.time.is_monotonic_increasing
    # every producing project had signed and landed before
    t = ev.pivot_table(index="entity", columns="event", values="time", aggfunc="first")
    prod = t.dropna(subset=["production_start", "signed"])
    assert (prod.signed <= prod.landed).all() and (prod.landed <= prod.production_start).all()
    assert "events.csv" in capsys.readouterr().out


def test_set_override_changes_the_run(root, capsys):
    path = str(root / "scenarios" / "bench.toml")
    assert main(["simulate", path, "--seed", "1", "--set", "pipeline.signings_per_month=0", "--all"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("projects_signed"))
    assert line.split()[-6:] == ["0"] * 6  # a count of projects: whole numbers


def test_parameters_doc_is_current(root):
    """docs/parameters.md is generated from the schema; regenerate with `parksim params --out docs/parameters.md`."""
    assert (root / "docs" / "parameters.md").read_text(encoding="utf-8") == parameters_markdown()


def test_every_default_names_a_source_or_says_assumption():
    rows = [line for line in parameters_markdown().splitlines() if line.startswith("| `")]
    assert len(rows) > 100
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[4], f"no source for {cells[0]}"


def test_the_command_exits_with_main_status_and_complete_output(root, tmp_path):
    # `python -m parksim` (as the `parksim` script) exits at once after main() (no interpreter teardown):
    # its output must still be complete, its status main()'s, and its files written
    import json
    import subprocess
    import sys

    def run(*args):
        return subprocess.run([sys.executable, "-m", "parksim", *args], capture_output=True, text=True, cwd=tmp_path, timeout=300)

    ok = run("validate", str(root / "scenarios" / "bench.toml"))
    assert ok.returncode == 0 and ok.stdout.startswith(str(root / "scenarios" / "bench.toml") + ": valid")
    assert ok.stdout.endswith(
        "policy levers on: none (parameters of levers that are off are not listed: they have no effect)\n"
    )  # the last line
    bad = run("validate", str(tmp_path / "missing.toml"))
    assert bad.returncode == 2 and "file not found" in bad.stderr and "Traceback" not in bad.stderr
    out = tmp_path / "run"
    done = run("run", str(root / "scenarios" / "xiushan-2024.toml"), "-n", "20", "--engine", "simpy", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and json.loads((out / "manifest.json").read_text())["replications"] == 20


def test_the_command_starts_the_compile_helper_early_only_for_the_fast_engine_on_several_cores(root, tmp_path, monkeypatch):
    # `parksim run` and `parksim compare` start the fast engine's compile helper before reading anything (the run
    # then takes it, or ends it if the engine is compiled); not for the SimPy engine, one job, other commands, or
    # when the cache's files say the engine is compiled already
    import subprocess
    import sys

    from parksim.engines.fast import compiling as _compiling

    started = []

    def start():
        started.append(subprocess.Popen([sys.executable, "-c", "pass"]))
        return started[-1]

    monkeypatch.setattr(_compiling, "start", start)
    scn = str(root / "scenarios" / "xiushan-2024.toml")
    common = ["-n", "2", "--quiet", "--out", str(tmp_path / "o")]
    monkeypatch.setattr(_compiling, "probably_cached", lambda: True)
    assert main(["run", scn, *common, "--jobs", "2"], compile_early=True) == 0
    assert started == []
    monkeypatch.setattr(_compiling, "probably_cached", lambda: False)
    assert main(["run", scn, *common, "--jobs", "2", "--engine", "simpy"], compile_early=True) == 0
    assert main(["run", scn, *common, "--jobs", "1"], compile_early=True) == 0
    assert main(["validate", scn], compile_early=True) == 0
    assert main(["run", scn, *common, "--jobs", "2"], compile_early=False) == 0
    assert started == []
    assert main(["run", scn, *common, "--jobs", "2"], compile_early=True) == 0
    assert len(started) == 1 and _compiling.take() is None  # the run took it (and ended it: nothing to compile)
    assert started[0].poll() is not None

"""Messages a user meets on the way: what --resume and Ctrl-C did, a checkpoint that does not fit, a wrong --out,
a missing CSV, the uncertain parameters listed, and no 1.7e-18 in the files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_PARK

import parksim
from parksim.cli import CHECKPOINT, main
from parksim.experiments.montecarlo import save_checkpoint
from parksim.experiments.result import column_names


@pytest.fixture
def small(write):
    return write("small.toml", SMALL_PARK)


def test_resume_without_checkpoint_says_it_starts_afresh_even_quiet(small, tmp_path, capsys):
    assert main(["run", str(small), "-n", "5", "-j", "1", "-q", "--engine", "simpy", "--out", str(tmp_path / "r"), "--resume"]) == 0
    err = capsys.readouterr().err
    assert f"--resume: no checkpoint at {tmp_path / 'r' / CHECKPOINT}; starting afresh" in err


def test_ctrl_c_says_checkpoint_kept_and_how_to_resume(small, tmp_path, capsys, monkeypatch):
    import parksim.experiments.montecarlo as mc

    scn = parksim.load_scenario(small)

    def interrupted(scenario, *, checkpoint, **kw):
        save_checkpoint(checkpoint, scenario, kw["seed"], np.zeros((7, 2, len(column_names(scenario)))), "simpy")
        raise KeyboardInterrupt

    monkeypatch.setattr(mc, "simulate", interrupted)
    out = tmp_path / "r"
    code = main(["run", str(small), "-n", "50", "--seed", "4", "-q", "--out", str(out), "--set", "pipeline.signings_per_month=2.0"])
    assert code == 130
    err = capsys.readouterr().err
    assert f"interrupted; 7 replications are kept in {out / CHECKPOINT}" in err
    assert f"parksim run {small} --seed 4 --out {out} --engine auto -n 50 --set pipeline.signings_per_month=2.0 --resume" in err
    assert scn.name  # the checkpoint was written for the scenario the run loaded


def test_ctrl_c_before_any_checkpoint_says_none_was_kept(small, tmp_path, capsys, monkeypatch):
    import parksim.experiments.montecarlo as mc

    def interrupted(scenario, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(mc, "simulate", interrupted)
    assert main(["run", str(small), "-q", "--out", str(tmp_path / "r")]) == 130
    assert "no checkpoint was kept" in capsys.readouterr().err


def test_checkpoint_mismatch_is_not_reported_as_invalid_scenario(small, tmp_path, capsys):
    out = tmp_path / "r"
    scn = parksim.load_scenario(small)
    save_checkpoint(out / CHECKPOINT, scn, 1, np.zeros((3, 2, len(column_names(scn)))), "simpy")
    assert main(["run", str(small), "-n", "5", "--seed", "2", "-q", "--engine", "simpy", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "invalid scenario input" not in err
    assert f"{out / CHECKPOINT}: checkpoint of another scenario, seed or parksim version" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["run", "trace", "compare"])
def test_out_pointing_at_a_file_is_a_clear_error(small, tmp_path, capsys, command):
    f = tmp_path / "afile"
    f.write_text("x")
    args = {"run": ["run", str(small)], "trace": ["trace", str(small)], "compare": ["compare", str(small), str(small)]}[command]
    assert main([*args, "--out", str(f), "-n", "2"] if command != "trace" else [*args, "--out", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"--out {f}: is a file; expected a directory" in err and "Errno" not in err
    assert main([*args[:2], *args[2:], "--out", str(f / "sub")] + (["-n", "2"] if command != "trace" else [])) == 2
    assert f"is inside {f}, which is a file" in capsys.readouterr().err


def test_simulate_out_pointing_at_a_directory_is_a_clear_error(small, tmp_path, capsys):
    assert main(["simulate", str(small), "--out", str(tmp_path)]) == 2
    assert f"--out {tmp_path}: is a directory; expected the path of a CSV file" in capsys.readouterr().err


def test_missing_csv_names_key_and_scenario(write, capsys):
    base = write("base.toml", SMALL_PARK)
    variant = write("sub/variant.toml", f'extends = "{base}"\n[pipeline]\nknown_projects = "projects.csv"\n')
    assert main(["validate", str(variant)]) == 2
    err = capsys.readouterr().err
    assert f"{variant}: pipeline.known_projects: {variant.parent / 'projects.csv'}: file not found" in err
    assert "'projects.csv'" in err


def test_lever_parameters_are_uncertain_only_when_the_lever_is_on(root):
    path = root / "scenarios" / "xiushan-2024.toml"
    off = parksim.uncertain_parameters(path)
    assert not any(k.startswith("levers.") for k in off.key)
    assert any(k.startswith("levers.rd_subsidy.") for k in parksim.uncertain_parameters(path, inactive_levers=True).key)
    on = parksim.uncertain_parameters(parksim.load_scenario(path, ["levers.rd_subsidy.rate=0.1"]))
    assert "levers.rd_subsidy.elasticity" in set(on.key) and "levers.credit.exit_factor" not in set(on.key)
    row = on.set_index("key").loc["levers.rd_subsidy.elasticity"]
    # uniform(0.2, 0.8): 5% and 95% quantiles are 0.23 and 0.77
    assert (row.distribution, row.p5, row.p95) == ("uniform(low=0.2, high=0.8)", pytest.approx(0.23), pytest.approx(0.77))


def test_validate_lists_ranges_and_levers_on(root, capsys):
    assert main(["validate", str(root / "scenarios" / "xiushan-2024.toml")]) == 0
    out = capsys.readouterr().out
    assert "institutions.incubation_added_m2_per_year = uniform(low=5000, high=15000); 90% between 5500 and 1.45e+04 m²/year" in out
    assert "levers.rd_subsidy" not in out and "policy levers on: none" in out


def test_no_floating_residue_in_interval_bounds(write, tmp_path):
    out = tmp_path / "r"
    small = write("never.toml", SMALL_PARK.replace("threshold = 30.0", "threshold = 1e9"))
    assert main(["run", str(small), "-n", "10", "-j", "1", "-q", "--engine", "simpy", "--out", str(out)]) == 0
    t = pd.read_csv(out / "targets.csv")
    assert t.p_met.iloc[0] == 0 and t.ci_low.iloc[0] == 0.0
    assert "e-1" not in (out / "targets.csv").read_text()

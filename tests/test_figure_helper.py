"""The `parksim run` command's figure helper: the same figures as the run's own drawing, and nothing lost when it fails."""

from __future__ import annotations

import pickle
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

import parksim
from parksim.cli import main
from parksim.results import figure_helper
from parksim.results.plots import assessment_data, fan_data

FIGURES = ("fan.png", "assessment.png")


@pytest.fixture
def in_process_draws(monkeypatch):
    """The figures this process draws itself (kinds), with the drawing unchanged."""
    calls = []
    write = figure_helper.write_figure

    def record(kind, data, path):
        calls.append(kind)
        return write(kind, data, path)

    monkeypatch.setattr(figure_helper, "write_figure", record)
    return calls


def _same_pixels(a, b) -> bool:
    x, y = matplotlib.image.imread(a), matplotlib.image.imread(b)
    return x.shape == y.shape and np.array_equal(x, y)


def _run(root, out, compile_early: bool) -> int:
    scenario = str(root / "scenarios" / "xiushan-2024.toml")  # (has an assessment: both figures)
    return main(["run", scenario, "-n", "40", "--jobs", "1", "--quiet", "--out", str(out)], compile_early=compile_early)


def test_the_command_draws_the_figures_in_its_helper_as_the_run_would(root, tmp_path, in_process_draws):
    assert _run(root, tmp_path / "api", compile_early=False) == 0  # no helper: drawn here
    assert in_process_draws == ["fan", "assessment"] and not figure_helper.started()
    in_process_draws.clear()
    assert _run(root, tmp_path / "cmd", compile_early=True) == 0  # the command: drawn by its helper
    assert in_process_draws == [] and not figure_helper.started()
    for name in FIGURES:
        assert _same_pixels(tmp_path / "api" / name, tmp_path / "cmd" / name), name
    assert not list((tmp_path / "cmd").glob(".*.part"))


def test_a_helper_that_is_gone_leaves_the_figures_to_the_run(root, tmp_path, monkeypatch, in_process_draws):
    gone = subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    gone.wait()
    monkeypatch.setattr(figure_helper, "start_early", lambda: figure_helper._STARTED.append(gone))
    assert _run(root, tmp_path / "o", compile_early=True) == 0
    assert in_process_draws == ["fan", "assessment"]
    assert all((tmp_path / "o" / name).stat().st_size > 10_000 for name in FIGURES)


def test_the_helper_reports_a_figure_it_could_not_draw_and_draws_the_others(root, tmp_path, monkeypatch):
    result = parksim.simulate(root / "scenarios" / "xiushan-2024.toml", replications=20, seed=3, jobs=1, quiet=True)
    figure_helper.start_early()
    helper = figure_helper.take()
    assert helper is not None
    jobs = [("pie", {}, tmp_path / "pie.png"), ("fan", fan_data(result), tmp_path / "fan.png")]
    assert figure_helper.send(helper, jobs)
    left = figure_helper.collect(helper, jobs, timeout=120)
    assert [kind for kind, _, _ in left] == ["pie"] and helper.poll() is not None
    assert (tmp_path / "fan.png").exists() and not (tmp_path / "pie.png").exists()


def test_a_command_that_fails_first_ends_its_helper(root, tmp_path, monkeypatch):
    started = []
    start = figure_helper.start_early
    monkeypatch.setattr(figure_helper, "start_early", lambda: (start(), started.extend(figure_helper._STARTED)))
    assert main(["run", str(tmp_path / "missing.toml"), "--quiet"], compile_early=True) == 2
    assert len(started) == 1 and started[0].poll() is not None and not figure_helper.started()


def test_the_figures_data_needs_no_model_to_be_drawn(root, tmp_path):
    # the helper starts quickly because drawing imports nothing of the model (numba, SciPy, the rules): the data are
    # plain numbers and strings, drawn here in a fresh interpreter that must not load them
    result = parksim.simulate(root / "scenarios" / "xiushan-2024.toml", replications=20, seed=3, jobs=1, quiet=True)
    jobs = [("fan", fan_data(result), tmp_path / "fan.png"), ("assessment", assessment_data(result), tmp_path / "a.png")]
    code = (
        "import pickle, sys; from parksim.results.figure_helper import write_figure\n"
        "for kind, data, path in pickle.load(sys.stdin.buffer): write_figure(kind, data, path)\n"
        "heavy = [m for m in ('numba', 'scipy', 'pydantic', 'pandas', 'parksim.rules', 'parksim.experiments') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(jobs), capture_output=True, timeout=120, check=True)
    assert done.stdout.decode().strip() == "[]"
    assert (tmp_path / "fan.png").exists() and (tmp_path / "a.png").exists()

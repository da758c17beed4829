"""Documentation that runs: docstring examples and the README's promises."""

from __future__ import annotations

import doctest

import pytest

import parksim
from parksim import api as _api
from parksim.experiments import compare as _compare
from parksim.experiments import montecarlo as _montecarlo
from parksim.results import gaps as _gaps
from parksim.scenario import assumptions as _assumptions
from parksim.scenario import loader as _loader
from parksim.scenario import observations as _observations


@pytest.mark.parametrize("module", [_api, _loader, _montecarlo, _compare, _assumptions, _gaps, _observations])
def test_docstring_examples_run(module, root, monkeypatch):
    monkeypatch.chdir(root)  # examples use paths relative to the repository
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_readme_documents_every_column_and_indicator(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    for name in [*parksim.REGISTER_COLUMNS, *parksim.PIPELINE_COLUMNS, *parksim.OBSERVATION_COLUMNS, *parksim.INDICATORS]:
        assert f"| `{name}` |" in readme, name


def test_readme_setup_commands_name_existing_files(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert 'pip install -e ".[test]" && parksim run scenarios/xiushan-2024.toml' in readme
    assert "python -m pytest" in readme
    assert (root / "scenarios" / "xiushan-2024.toml").exists()
    ci = (root / ".ci" / "run").read_text()
    assert "python -m pytest" in ci and 'pip install --quiet -e ".[test]"' in ci


def test_public_api_is_explicit():
    for name in parksim.__all__:
        assert hasattr(parksim, name), name
    assert set(parksim.__all__) <= set(dir(parksim))
    assert parksim.report is parksim.results.report_html.build_report and parksim.rules.indicators.INDICATORS is parksim.INDICATORS
    # calibration: the sampler, its result, and reading a `parksim calibrate` folder back (simulate's posterior= takes
    # either a folder or Calibration.given())
    assert parksim.calibrate is parksim.experiments.calibrate.calibrate and parksim.Calibration.given
    assert parksim.load_posterior is parksim.results.calibration_files.load_posterior
    assert parksim.explore is parksim.experiments.explore.explore and parksim.Exploration.sensitivity
    # nowcasting a run on observed years, and the rolling-origin backtest
    assert parksim.condition is parksim.experiments.nowcast.condition and parksim.backtest is parksim.experiments.backtest.backtest
    assert parksim.threshold is parksim.experiments.threshold.threshold and parksim.Threshold.sentence  # what it would take
    # the error simulate, load_scenario and compare raise for bad input, and its scenario subclass, can be caught by name
    assert issubclass(parksim.ScenarioError, parksim.InputError) and issubclass(parksim.InputError, ValueError)
    with pytest.raises(parksim.InputError, match='"replications" must be a whole number between 1 and'):
        parksim.simulate(parksim.scenario_from_dict({"sectors": {"a": {}}}), replications=0, quiet=True)
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        parksim.simulat  # noqa: B018


def test_importing_the_package_loads_nothing_heavy():
    # the public names load on first use: `import parksim` (and the command's own module) must stay quick, so that
    # the command can start the fast engine's compile helper before loading pandas, numba or the SimPy engine
    import subprocess
    import sys

    code = "import sys, parksim.cli; print(sorted(m for m in ('numba', 'pandas', 'scipy', 'simpy', 'pydantic') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


def test_readme_toml_examples_are_valid_scenarios(root):
    """Every ```toml block in the README is a valid scenario (or scenario fragment)."""
    import re

    readme = (root / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    assert len(blocks) >= 3
    for block in blocks:
        data = __import__("tomllib").loads(block)
        if "targets" in data and "sectors" not in data:
            data["simulation"] = {"start_year": 2023, "years": 2}  # the targets example checks 2024
        parksim.scenario_from_dict(data)

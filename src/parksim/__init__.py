"""parksim: will the park meet its targets and pass its assessment?

A discrete-event (SimPy) and Monte Carlo model of a Chinese industrial or
high-tech park: projects are signed, land, rent a standard factory or buy land
and build; enterprises ramp up, grow, spend on R&D, win and lose certifications
and exit; the park's yearly indicators are computed at each year end.

The public names below are loaded on first use (``parksim.simulate``,
``from parksim import simulate``): ``import parksim`` itself is quick, so the
``parksim`` command can start the fast engine's compile helper before it
loads pandas, SciPy and the SimPy engine.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from typing import TYPE_CHECKING

try:
    __version__ = version("parksim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

#: public name -> (module, name in that module)
_PUBLIC = {
    "simulate_one": ("parksim.api", "simulate_one"),
    "trace": ("parksim.api", "trace"),
    "active_levers": ("parksim.scenario.assumptions", "active_levers"),
    "uncertain_parameters": ("parksim.scenario.assumptions", "uncertain_parameters"),
    "Calibration": ("parksim.experiments.calibrate", "Calibration"),
    "calibrate": ("parksim.experiments.calibrate", "calibrate"),
    "load_posterior": ("parksim.results.calibration_files", "load_posterior"),
    "condition": ("parksim.experiments.nowcast", "condition"),
    "backtest": ("parksim.experiments.backtest", "backtest"),
    "explore": ("parksim.experiments.explore", "explore"),
    "Exploration": ("parksim.experiments.explore", "Exploration"),
    "Threshold": ("parksim.experiments.threshold", "Threshold"),
    "threshold": ("parksim.experiments.threshold", "threshold"),
    "Comparison": ("parksim.experiments.compare", "Comparison"),
    "compare": ("parksim.experiments.compare", "compare"),
    "Fixed": ("parksim.scenario.dists", "Fixed"),
    "LogNormal": ("parksim.scenario.dists", "LogNormal"),
    "Normal": ("parksim.scenario.dists", "Normal"),
    "Triangular": ("parksim.scenario.dists", "Triangular"),
    "Uniform": ("parksim.scenario.dists", "Uniform"),
    "InputError": ("parksim.errors", "InputError"),
    "ParameterWarning": ("parksim.errors", "ParameterWarning"),
    "Problem": ("parksim.errors", "Problem"),
    "ScenarioError": ("parksim.errors", "ScenarioError"),
    "PIPELINE_COLUMNS": ("parksim.scenario.inputs", "PIPELINE_COLUMNS"),
    "REGISTER_COLUMNS": ("parksim.scenario.inputs", "REGISTER_COLUMNS"),
    "load_scenario": ("parksim.scenario.loader", "load_scenario"),
    "scenario_from_dict": ("parksim.scenario.loader", "scenario_from_dict"),
    "scenario_hash": ("parksim.scenario.loader", "scenario_hash"),
    "OBSERVATION_COLUMNS": ("parksim.scenario.observations", "OBSERVATION_COLUMNS"),
    "observation_table": ("parksim.scenario.observations", "observation_table"),
    "PortfolioResult": ("parksim.experiments.result", "PortfolioResult"),
    "RunResult": ("parksim.experiments.result", "RunResult"),
    "simulate": ("parksim.experiments.montecarlo", "simulate"),
    "report": ("parksim.results.report_html", "build_report"),
    "Scenario": ("parksim.scenario.spec", "Scenario"),
    "INDICATORS": ("parksim.rules.indicators", "INDICATORS"),
}
#: the public subpackage, reachable as an attribute (``parksim.rules.indicators``) without importing it first
_SUBPACKAGES = ("rules",)


def __getattr__(name: str):
    if name in _PUBLIC:
        module, attr = _PUBLIC[name]
        value = getattr(import_module(module, __name__), attr)
    elif name in _SUBPACKAGES or (name.isidentifier() and find_spec(f"{__name__}.{name}") is not None):
        value = import_module(f".{name}", __name__)  # any module of the package, as when all were imported eagerly
    else:
        raise AttributeError(f"module 'parksim' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC, *_SUBPACKAGES})


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from parksim import rules as rules
    from parksim.api import simulate_one, trace
    from parksim.errors import InputError, ParameterWarning, Problem, ScenarioError
    from parksim.experiments.backtest import backtest
    from parksim.experiments.calibrate import Calibration, calibrate
    from parksim.experiments.compare import Comparison, compare
    from parksim.experiments.explore import Exploration, explore
    from parksim.experiments.montecarlo import simulate
    from parksim.experiments.nowcast import condition
    from parksim.experiments.result import PortfolioResult, RunResult
    from parksim.experiments.threshold import Threshold, threshold
    from parksim.results.calibration_files import load_posterior
    from parksim.results.report_html import build_report as report
    from parksim.rules.indicators import INDICATORS
    from parksim.scenario.assumptions import active_levers, uncertain_parameters
    from parksim.scenario.dists import Fixed, LogNormal, Normal, Triangular, Uniform
    from parksim.scenario.inputs import PIPELINE_COLUMNS, REGISTER_COLUMNS
    from parksim.scenario.loader import load_scenario, scenario_from_dict, scenario_hash
    from parksim.scenario.observations import OBSERVATION_COLUMNS, observation_table
    from parksim.scenario.spec import Scenario

__all__ = [
    "INDICATORS",
    "OBSERVATION_COLUMNS",
    "PIPELINE_COLUMNS",
    "REGISTER_COLUMNS",
    "Calibration",
    "Comparison",
    "Exploration",
    "Fixed",
    "InputError",
    "LogNormal",
    "Normal",
    "ParameterWarning",
    "Problem",
    "Scenario",
    "PortfolioResult",
    "RunResult",
    "ScenarioError",
    "Threshold",
    "Triangular",
    "Uniform",
    "__version__",
    "active_levers",
    "backtest",
    "calibrate",
    "compare",
    "condition",
    "explore",
    "load_posterior",
    "load_scenario",
    "observation_table",
    "report",
    "scenario_from_dict",
    "scenario_hash",
    "simulate",
    "simulate_one",
    "threshold",
    "trace",
    "uncertain_parameters",
]

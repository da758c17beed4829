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
    "simulate_one": ("._api", "simulate_one"),
    "trace": ("._api", "trace"),
    "active_levers": ("._assumptions", "active_levers"),
    "uncertain_parameters": ("._assumptions", "uncertain_parameters"),
    "Comparison": ("._compare", "Comparison"),
    "compare": ("._compare", "compare"),
    "Fixed": ("._dists", "Fixed"),
    "LogNormal": ("._dists", "LogNormal"),
    "Normal": ("._dists", "Normal"),
    "Triangular": ("._dists", "Triangular"),
    "Uniform": ("._dists", "Uniform"),
    "InputError": ("._errors", "InputError"),
    "ParameterWarning": ("._errors", "ParameterWarning"),
    "Problem": ("._errors", "Problem"),
    "ScenarioError": ("._errors", "ScenarioError"),
    "PIPELINE_COLUMNS": ("._inputs", "PIPELINE_COLUMNS"),
    "REGISTER_COLUMNS": ("._inputs", "REGISTER_COLUMNS"),
    "load_scenario": ("._loader", "load_scenario"),
    "scenario_from_dict": ("._loader", "scenario_from_dict"),
    "scenario_hash": ("._loader", "scenario_hash"),
    "PortfolioResult": ("._montecarlo", "PortfolioResult"),
    "RunResult": ("._montecarlo", "RunResult"),
    "simulate": ("._montecarlo", "simulate"),
    "report": ("._report_html", "build_report"),
    "Scenario": ("._scenario", "Scenario"),
    "INDICATORS": (".rules.indicators", "INDICATORS"),
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
    from . import rules as rules
    from ._api import simulate_one, trace
    from ._assumptions import active_levers, uncertain_parameters
    from ._compare import Comparison, compare
    from ._dists import Fixed, LogNormal, Normal, Triangular, Uniform
    from ._errors import InputError, ParameterWarning, Problem, ScenarioError
    from ._inputs import PIPELINE_COLUMNS, REGISTER_COLUMNS
    from ._loader import load_scenario, scenario_from_dict, scenario_hash
    from ._montecarlo import PortfolioResult, RunResult, simulate
    from ._report_html import build_report as report
    from ._scenario import Scenario
    from .rules.indicators import INDICATORS

__all__ = [
    "INDICATORS",
    "PIPELINE_COLUMNS",
    "REGISTER_COLUMNS",
    "Comparison",
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
    "Triangular",
    "Uniform",
    "__version__",
    "active_levers",
    "compare",
    "load_scenario",
    "report",
    "scenario_from_dict",
    "scenario_hash",
    "simulate",
    "simulate_one",
    "trace",
    "uncertain_parameters",
]

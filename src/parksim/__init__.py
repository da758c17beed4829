"""parksim: will the park meet its targets and pass its assessment?

A discrete-event (SimPy) and Monte Carlo model of a Chinese industrial or
high-tech park: projects are signed, land, rent a standard factory or buy land
and build; enterprises ramp up, grow, spend on R&D, win and lose certifications
and exit; the park's yearly indicators are computed at each year end.
"""

from importlib.metadata import PackageNotFoundError, version

from ._api import simulate_one, trace
from ._compare import Comparison, compare
from ._dists import Fixed, LogNormal, Normal, Triangular, Uniform
from ._errors import Problem, ScenarioError
from ._inputs import PIPELINE_COLUMNS, REGISTER_COLUMNS
from ._loader import load_scenario, scenario_from_dict, scenario_hash
from ._montecarlo import PortfolioResult, RunResult, simulate
from ._report_html import build_report as report
from ._scenario import Scenario
from .rules.indicators import INDICATORS

try:
    __version__ = version("parksim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "INDICATORS",
    "PIPELINE_COLUMNS",
    "REGISTER_COLUMNS",
    "Comparison",
    "Fixed",
    "LogNormal",
    "Normal",
    "Problem",
    "Scenario",
    "PortfolioResult",
    "RunResult",
    "ScenarioError",
    "Triangular",
    "Uniform",
    "__version__",
    "compare",
    "load_scenario",
    "report",
    "scenario_from_dict",
    "scenario_hash",
    "simulate",
    "simulate_one",
    "trace",
]

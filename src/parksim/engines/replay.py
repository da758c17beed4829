"""One replication of a run, replayed with the engine of the user's choice, for one park of a portfolio if asked.

Replication ``r`` of seed ``s`` replayed here is row ``r`` of ``parksim run --seed s`` with the same engine: both
go through the Monte Carlo runner's own code (the SimPy engine's replication function, or the fast engine's
block of one replication). A portfolio is simulated whole (its parks share draws and are assessed together)
and the asked park is taken from it, so the park's numbers are those it has inside the portfolio's run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from parksim.errors import InputError
from parksim.rules.indicators import INDICATORS

#: units whose values are counts: shown as whole numbers
COUNT_UNITS = {"firms", "persons", "institutions", "companies", "projects", "m²", "mu"}


@dataclass(frozen=True)
class Replay:
    """One replication of one park: its yearly indicators, which targets it met, and its assessment statuses."""

    park: str
    engine: str
    seed: int
    replication: int
    indicators: pd.DataFrame  # year, indicator, value
    targets: pd.DataFrame  # target, indicator, year, comparison, threshold, value, met
    statuses: pd.DataFrame  # year, status (empty without an assessment)


def park_scenario_names(scenario) -> list[str]:
    return [name for name, _ in scenario._members] if scenario.portfolio is not None else [scenario.name]


def _check_park(scenario, park: str | None) -> int:
    """Index of ``park`` among the scenario's parks (0 for a single park)."""
    names = park_scenario_names(scenario)
    if scenario.portfolio is None:
        if park is not None and park != scenario.name:
            raise InputError(f"--park {park!r}: {scenario._source} is a single park ({scenario.name!r}), not a portfolio; drop --park")
        return 0
    if park is None:
        raise InputError(f"{scenario._source}: a portfolio of {len(names)} parks; choose one with --park NAME, one of {names}")
    if park not in names:
        raise InputError(f"--park {park!r}: not a park of {scenario._source}; expected one of {names}")
    return names.index(park)


def replay(scenario, *, seed: int, replication: int = 0, engine: str = "simpy", park: str | None = None) -> Replay:
    """Replication ``replication`` of ``seed`` with ``engine`` (``auto``, ``fast`` or ``simpy``), for ``park``."""
    from parksim.experiments.montecarlo import _init_worker, _run_chunk, resolve_engine
    from parksim.experiments.result import expand_targets, make_result
    from parksim.model.random import normalize_seed

    seed = normalize_seed(seed)
    if not isinstance(replication, int) or replication < 0:
        raise InputError(f"--replication must be a whole number >= 0, got {replication!r}")
    k = _check_park(scenario, park)
    engine = resolve_engine(scenario, engine)
    if engine == "fast":
        from parksim.engines.fast.runner import run_block

        values = run_block(scenario, seed, [replication], threads=1)
    else:
        _init_worker(scenario)
        values = _run_chunk((seed, [replication]))
    res = make_result(scenario, seed, values, expand_targets(scenario), engine=engine)
    one = res if scenario.portfolio is None else list(res.parks.values())[k]
    name = park_scenario_names(scenario)[k]
    rows = [(y, ind, float(one.value(ind, y)[0])) for y in one.years for ind in INDICATORS]
    indicators = pd.DataFrame(rows, columns=["year", "indicator", "value"])
    met = one.met()[0] if len(one.specs) else np.zeros(0, dtype=bool)
    targets = pd.DataFrame(
        [
            (s.label, s.indicator, s.year, s.comparison, s.threshold, float(one.target_value(s)[0]), bool(m), s.unit)
            for s, m in zip(one.specs, met, strict=True)
        ],
        columns=["target", "indicator", "year", "comparison", "threshold", "value", "met", "unit"],
    )
    statuses = pd.DataFrame(columns=["year", "status"])
    if one.assessment_def is not None:
        codes = one.status_codes()[0]
        statuses = pd.DataFrame(
            [(y, one.statuses[int(c)]) for y, c in zip(one.years, codes, strict=True) if not np.isnan(c)], columns=["year", "status"]
        )
    return Replay(name, engine, seed, replication, indicators, targets, statuses)


def format_value(value: float, unit: str) -> str:
    """A value for the terminal: counts as whole numbers, other values with two decimals."""
    if value != value:
        return "-"
    if unit in COUNT_UNITS:
        return f"{value:,.0f}"
    return f"{value:,.2f}"

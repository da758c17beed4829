"""Observations: published figures of the park's indicators in simulated years.

A scenario's ``[[observations]]`` tables (or ``observations = "file.csv"``, columns :data:`OBSERVATION_COLUMNS`)
state what the park's indicators turned out to be, with the figure's source and measurement error. They do not
change a run: the model never reads them, and :func:`parksim.scenario_hash` leaves them out. Later steps compare
simulations against them (calibration to observed history, backtests).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import field_validator

from parksim.scenario.schema import _known_indicator, _Model, _p

if TYPE_CHECKING:  # pandas is loaded when a table is made
    import pandas as pd

__all__ = ["Observation", "OBSERVATION_COLUMNS", "observation_table", "read_observations"]


class Observation(_Model):
    """A published figure of one indicator in one simulated year (its year end, or the whole year for a flow)."""

    indicator: str = _p(..., "-", "An indicator name (see `parksim indicators`).", "scenario")
    year: int = _p(
        ...,
        "year",
        "The simulated year the figure describes (start_year to start_year + years - 1); a figure of an earlier year"
        " describes the starting state, an input.",
        "scenario",
        limit=(1949, 2200),
    )
    value: float = _p(..., "indicator's unit", "The figure, in the indicator's unit (亿元, %, firms: `parksim indicators`).", "scenario")
    park: str | None = _p(
        None,
        "-",
        "Portfolio: the park observed (a name from `portfolio.parks`); none: the parks added up, as [[portfolio.targets]]"
        " add them (counts and amounts summed, shares as ratios of the sums). A single park: none.",
        "scenario",
    )
    sd: float | None = _p(
        None,
        "indicator's unit",
        "Measurement error of the figure (an SD, > 0): larger for a county figure used for a zone, an October figure used"
        " for the year end, a rounded or lower-bound figure (say why beside it). None: not stated (later steps choose a"
        " default).",
        "scenario",
        gt=0,
    )
    source: str = _p(..., "-", "Document, date and the figure as published, so that the value can be checked.", "scenario")

    _check_indicator = field_validator("indicator")(classmethod(lambda cls, v: _known_indicator(v)))

    @field_validator("source")
    @classmethod
    def _source(cls, v):
        if not v.strip():
            raise ValueError("expected the document, date and figure the value comes from, got an empty text")
        return v


def check_input(value):
    """The ``observations`` key before validation: a list of tables (a CSV file name is read by the loader)."""
    if isinstance(value, str):
        raise ValueError(
            f"{value!r}: a CSV file of observations is read by load_scenario and scenario_from_dict; expected [[observations]] tables here"
        )
    if not isinstance(value, list):
        raise ValueError(f'expected [[observations]] tables or the name of a CSV file (observations = "file.csv"), got {value!r}')
    return value


def cross_problems(scenario) -> list[tuple[str, str]]:
    """What is wrong with ``scenario``'s observations given the rest of it: (key path, message) pairs.

    The year must be simulated; a park is named only in a portfolio, and only one of its parks; an indicator, year
    and park are observed once.
    """
    first = scenario.simulation.start_year
    last = first + scenario.simulation.years - 1
    parks = None if scenario.portfolio is None else [p.name for p in scenario.portfolio.parks]
    seen: set = set()
    out = []
    for i, o in enumerate(scenario.observations):
        key = f"observations.{i}"
        if o.year < first:
            out.append(
                (
                    f"{key}.year",
                    f"{o.year} is before the simulated years; expected {first} to {last} (a figure of an earlier year"
                    " describes the starting state: an input of the scenario, not an observation)",
                )
            )
        elif o.year > last:
            out.append((f"{key}.year", f"{o.year} is after the simulated years; expected {first} to {last}"))
        if o.park is not None and parks is None:
            out.append(
                (
                    f"{key}.park",
                    f"{o.park!r}: an observation names a park only in a portfolio ([portfolio] table); expected no park",
                )
            )
        elif o.park is not None and o.park not in parks:
            out.append(
                (f"{key}.park", f"unknown park {o.park!r}; expected a name from portfolio.parks: {parks} (or no park: the parks added up)")
            )
        if (o.indicator, o.year, o.park) in seen:
            whose = "" if parks is None else (f" of park {o.park!r}" if o.park is not None else " of the parks added up")
            out.append((key, f"{o.indicator} in {o.year}{whose} is observed twice; expected one observation per indicator, year and park"))
        seen.add((o.indicator, o.year, o.park))
    return out


#: column -> (kind, required, unit, meaning): the CSV form of :class:`Observation`, one row per observation
OBSERVATION_COLUMNS: dict[str, tuple[str, bool, str, str]] = {
    name: (kind, Observation.model_fields[name].is_required(), Observation.model_fields[name].json_schema_extra["unit"], meaning)
    for name, kind, meaning in (
        ("indicator", "text", "An indicator name (`parksim indicators`)."),
        ("year", "year", "The simulated year the figure describes."),
        ("value", "real", "The figure, in the indicator's unit."),
        ("park", "text", "Portfolio: the park observed; empty: the parks added up. Empty in a single-park scenario."),
        ("sd", "pos", "Measurement error (an SD, > 0); empty: not stated."),
        ("source", "text", "Document, date and the figure as published."),
    )
}


def read_observations(path: str | Path) -> list[dict]:
    """Read an observations CSV (columns :data:`OBSERVATION_COLUMNS`) into ``[[observations]]``-shaped tables.

    The cells are checked as the register's are (a bad cell names the file, row and column); the rows are then
    validated as :class:`Observation` tables, whose errors the loader names by row.
    """
    from parksim.scenario.inputs import _read

    frame = _read(Path(path), OBSERVATION_COLUMNS, unique=False)
    return [{k: v for k, v in row.items() if v is not None} for row in frame.to_dict("records")]


def observation_table(scenario) -> pd.DataFrame:
    """The scenario's observations as a tidy table.

    Parameters
    ----------
    scenario : Scenario or str or Path
        A scenario, or the path of a scenario file.

    Returns
    -------
    pandas.DataFrame
        One row per observation, in the scenario's order, with columns ``indicator, year, park, value, sd, source,
        unit``: ``park`` is the park's name, the portfolio's name (``"portfolio"``) for its parks added up, or the
        scenario's name for a single park; ``sd`` is NaN where not stated; ``unit`` is the indicator's.

    Examples
    --------
    >>> import parksim
    >>> obs = parksim.observation_table("scenarios/east-lake-2025.toml")
    >>> list(obs.columns)
    ['indicator', 'year', 'park', 'value', 'sd', 'source', 'unit']
    >>> obs[["indicator", "year", "value", "sd", "unit"]].head(2)
         indicator  year   value     sd unit
    0  value_added  2023  2715.0   55.0   亿元
    1  value_added  2024  3200.0  150.0   亿元
    """
    import pandas as pd

    from parksim.rules.indicators import INDICATORS
    from parksim.scenario.loader import as_scenario
    from parksim.scenario.policy import PORTFOLIO_NAME

    scn = as_scenario(scenario)
    whole = PORTFOLIO_NAME if scn.portfolio is not None else scn.name
    rows = [
        {
            "indicator": o.indicator,
            "year": o.year,
            "park": o.park if o.park is not None else whole,
            "value": o.value,
            "sd": o.sd if o.sd is not None else math.nan,
            "source": o.source,
            "unit": INDICATORS[o.indicator][0],
        }
        for o in scn.observations
    ]
    columns = ["indicator", "year", "park", "value", "sd", "source", "unit"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"year": "int64", "value": "float64", "sd": "float64"})

"""Single-replication entry points of the Python API."""

from __future__ import annotations

import pandas as pd

from parksim.engines.simpy import EVENT_COLUMNS, run_replication
from parksim.model.random import normalize_seed
from parksim.scenario.loader import as_scenario


def simulate_one(scenario, *, seed: int, replication: int = 0, engine: str = "simpy", park: str | None = None) -> pd.DataFrame:
    """Simulate one replication and return its yearly indicators.

    Parameters
    ----------
    scenario : Scenario or path
        A loaded scenario or a scenario file.
    seed : int
        The run's seed. Replication ``r`` of seed ``s`` with an engine is the
        same whichever way it is run (alone here, or inside a Monte Carlo run
        with that engine).
    replication : int, default 0
        Which replication of the seed to simulate.
    engine : {"simpy", "fast", "auto"}, default "simpy"
        The engine to replay. The engines agree in distribution, not draw by
        draw: to see replication ``r`` of a run, use the run's engine
        (``auto``, the default of :func:`parksim.simulate`, is the fast engine
        for every scenario under ``scenarios/``).
    park : str, optional
        For a portfolio: the park to show. The whole portfolio is simulated (its
        parks share draws and are assessed together) and this park's values are
        returned, equal to its values in the portfolio's run.

    Returns
    -------
    pandas.DataFrame
        Tidy table with columns ``year, indicator, value``; indicators are
        listed in ``parksim.INDICATORS``.

    Examples
    --------
    >>> import parksim
    >>> df = parksim.simulate_one("scenarios/bench.toml", seed=1)
    >>> sorted(df.year.unique().tolist())
    [2023, 2024, 2025, 2026, 2027, 2028]
    """
    scn = as_scenario(scenario)
    if engine != "simpy" or park is not None or scn.portfolio is not None:
        from parksim.engines.replay import replay

        return replay(scn, seed=seed, replication=replication, engine=engine, park=park).indicators
    res = run_replication(scn, normalize_seed(seed), replication)
    return pd.DataFrame(res.rows, columns=["year", "indicator", "value"])


def trace(scenario, *, seed: int, replication: int = 0, park: str | None = None) -> pd.DataFrame:
    """Event log of one replication (SimPy engine): signings, landings, production starts, drop-outs,
    certifications granted/expired/revoked, exits.

    For a portfolio, ``park`` names the park whose events are returned; the whole
    portfolio is simulated, as in its run.

    Returns a DataFrame with columns ``time`` (months since 1 January of the
    start year), ``date``, ``event``, ``entity``, ``sector``, ``mode``, ``value``
    (the planned output of a signing, the space obtained, a certificate's expiry
    month, ...).

    Examples
    --------
    >>> import parksim
    >>> ev = parksim.trace("scenarios/bench.toml", seed=1)
    >>> "production_start" in set(ev.event)
    True
    """
    scn = as_scenario(scenario)
    if scn.portfolio is not None or park is not None:
        from parksim.engines.replay import _check_park
        from parksim.engines.simpy import PortfolioModel
        from parksim.model.random import Streams

        k = _check_park(scn, park)
        if scn.portfolio is None:
            res = run_replication(scn, normalize_seed(seed), replication, record_events=True)
        else:
            res = PortfolioModel(scn, Streams(normalize_seed(seed), replication, given=scn._given), record_events=True).run()[k][1]
    else:
        res = run_replication(scn, normalize_seed(seed), replication, record_events=True)
    start = scn.simulation.start_year
    rows = []
    for time, event, entity, sector, mode, value in res.events:
        months = int(time)
        day = 1 + int((time - months) * 30)
        date = f"{start + months // 12:04d}-{months % 12 + 1:02d}-{min(day, 28):02d}"
        rows.append((round(time, 6), date, event, entity, sector, mode, value))
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)

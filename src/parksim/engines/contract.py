"""The engine contract and registry: which engines can run a scenario, and how a run drives one.

An engine runs the one park model (:mod:`parksim.rules`) for replications of a
scenario. It differs from the others only in scheduling and storage, and every
engine meets the same contract:

* ``supports(scenario) -> str | None``: None if it can run the scenario, else why not;
* ``runner(scenario, seed, jobs, quiet=..., batch=...)`` -> a :class:`Runner`, which runs
  replication ranges ``run(start, stop, progress, last) -> array`` and is ``close()``-d;
  replication ``r`` of a seed gives the same values whatever the ranges and ``jobs``;
* ``run(scenario, seed, replications, jobs) -> array`` (replications, years, columns):
  the values of replications ``0 .. replications - 1`` (the runner, once).

The columns are the indicators of :data:`parksim.rules.indicators.INDICATORS` then the
assessment's outcome and status codes, park after park in a portfolio
(:func:`parksim.experiments.result.column_names`). :data:`ENGINES` lists the engines in order
of preference: ``auto`` takes the first that supports the scenario. The CLI's
``--engine`` choices and :func:`resolve_engine` read it, and
``tests/test_engine_contract.py`` runs every engine in it through the same known-answer
tests.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from parksim.errors import InputError

if TYPE_CHECKING:  # (the CLI reads the registry before it loads NumPy)
    import numpy as np


#: set when a run's engine starts its first batch (:func:`parksim.simulate`): the ``parksim`` command then loads what
#: writing the outputs needs, while the engine runs, not before it starts
ENGINE_STARTED = threading.Event()


class Runner(Protocol):
    """Runs replication ranges of one scenario and seed (see the module's docstring)."""

    def run(self, start: int, stop: int, progress=None, last: bool = False) -> np.ndarray: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Engine:
    """An engine of the registry."""

    name: str
    label: str  # as messages name it ("the SimPy engine")
    summary: str  # one line, for --help
    batch: int  # replications per batch of a run (a checkpoint, a precision check): a few seconds of work
    supports: Callable[[object], str | None]
    runner: Callable[..., Runner]

    def run(self, scenario, seed: int, replications: int, jobs: int = 1) -> np.ndarray:
        """Values of replications ``0 .. replications - 1`` (replications, years, columns)."""
        runner = self.runner(scenario, seed, jobs, quiet=True, batch=replications)
        try:
            return runner.run(0, replications, last=True)
        finally:
            runner.close()


def _fast_supports(scenario) -> str | None:
    from parksim.engines.fast.runner import unsupported

    return unsupported(scenario)


def _fast_runner(scenario, seed: int, jobs: int, quiet: bool = False, batch: int = 0) -> Runner:
    from parksim.experiments.montecarlo import _FastRunner

    del batch  # (the fast engine sizes its groups by memory)
    return _FastRunner(scenario, seed, jobs, quiet)


def _simpy_runner(scenario, seed: int, jobs: int, quiet: bool = False, batch: int = 1) -> Runner:
    from parksim.experiments.montecarlo import _Runner

    del quiet
    # chunks small enough that every process gets work in a batch, large enough to keep the pool's overhead small
    return _Runner(scenario, seed, jobs, chunk=max(1, min(25, batch // (4 * jobs) or 1)))


#: the engines, in order of preference for ``auto``
ENGINES: dict[str, Engine] = {
    "fast": Engine(
        "fast",
        "fast",
        "compiled batch engine (numba) on threads: groups of replications advanced month by month",
        5000,
        _fast_supports,
        _fast_runner,
    ),
    "simpy": Engine(
        "simpy",
        "SimPy",
        "discrete-event engine (SimPy) on processes: one replication at a time, with its event log",
        200,
        lambda scenario: None,
        _simpy_runner,
    ),
}
#: the choices of ``--engine`` and ``engine=``
CHOICES = ("auto", *ENGINES)


def resolve_engine(scenario, engine: str, quiet: bool = False) -> str:
    """The engine a run uses: the one asked for, or for ``auto`` the first of :data:`ENGINES` that supports the scenario.

    An engine asked for by name that cannot run the scenario falls back to the next that can, and says so.
    """
    if engine not in CHOICES:
        raise InputError(f'"engine" must be one of {list(CHOICES)}, got {engine!r}')
    order = list(ENGINES) if engine == "auto" else [engine, *(name for name in ENGINES if name != engine)]
    for k, name in enumerate(order):
        why = ENGINES[name].supports(scenario)
        if why is None:
            return name
        if not quiet:
            nxt = order[k + 1] if k + 1 < len(order) else None
            using = f"; using the {ENGINES[nxt].label} engine" if nxt else ""
            print(f"note: the {ENGINES[name].label} engine cannot run this scenario ({why}){using}", file=sys.stderr)
    raise InputError(f"no engine can run {getattr(scenario, '_source', 'this scenario')}")

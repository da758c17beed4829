"""Memory and time of a run, estimated from the scenario before it starts.

A run's memory is the engines' state for the replications in flight (firms and projects of a replication,
times the threads or processes) plus the results of every replication (a value per replication, year and
indicator, with its copies in the output tables). Both are worked out from the keys that drive them, each
taken at the largest value its distribution can draw: starting firms (``baseline.sectors.*.firms``, the
register), signings (``pipeline.signings_per_month``, ``levers.promotion.extra_signings_per_month``, the
monthly profile and status effects, over ``simulation.years`` and ``pipeline.warm_up_months``), all divided by
``simulation.weight``, and the number of replications. A run whose estimate exceeds the memory available on
the machine is refused before it starts, with the estimate and those keys.

The constants below are measured on this project's benchmark machine (README, Tests and benchmarks): about
50 ns per enterprise-month in the fast engine and 5 µs in the SimPy engine, per thread or process, and about
0.3 ms to create a starting firm in the SimPy engine (0.5 µs in the fast one). They are estimates, within a
factor of about two; the memory estimate errs on the high side (measured peak resident memory of 200
fast-engine replications: xiushan-2024 331 MB against 370 MB estimated, bench-large 360 MB against 560 MB).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from parksim.errors import InputError
from parksim.scenario.dists import draw_range

__all__ = ["Estimate", "estimate", "available_memory", "check_memory"]

#: seconds per enterprise-month, per thread (fast) or process (SimPy)
SECONDS_PER_FIRM_MONTH = {"fast": 50e-9, "simpy": 5e-6}
#: seconds to create one firm or project (the starting state, the signings)
SECONDS_PER_FIRM = {"fast": 0.5e-6, "simpy": 300e-6}
#: bytes of a project in the SimPy engine (its process, events and row), and fixed memory of a run (the interpreter,
#: NumPy, pandas, SciPy, numba and the compiled engine) or of a SimPy worker process
SIMPY_PROJECT_BYTES = 4_000
FIXED_BYTES = {"fast": 300 * 2**20, "simpy": 150 * 2**20}
#: bytes per result value (replication, year, indicator): the array, its copies while stacking, the tidy annual
#: table (replication, seed, year, indicator, value) and its Parquet copy
RESULT_BYTES_PER_VALUE = 96
#: seconds of a run besides its replications: imports, output files and plots (README: a cached run of 1,000
#: replications of xiushan-2024 takes 3.2-3.9 s in all)
RUN_SECONDS = 3.5
#: more than this many simulated starting firms: ``validate`` does not build replication 0's starting state
VALIDATE_MAX_SECONDS = 20.0


@dataclass(frozen=True)
class Estimate:
    """Estimated size of a run: entities per replication, memory and time."""

    engine: str
    replications: int
    jobs: int
    start_firms: int  # simulated firms at the start, per replication (all parks)
    signings: int  # simulated signed projects per replication, at most (warm-up included)
    firm_months: float  # simulated enterprise-months per replication
    state_bytes: int  # engine state of one replication
    memory_bytes: int
    seconds: float
    drivers: list = field(default_factory=list)  # (key, value, what it drives), largest first

    def describe(self) -> str:
        return (
            f"about {_bytes(self.memory_bytes)} of memory and {_duration(self.seconds)} for {_n(self.replications, 'replication')}"
            f" ({self.engine} engine, {_n(self.jobs, 'thread' if self.engine == 'fast' else 'process')});"
            f" per replication up to {self.start_firms + self.signings:,} simulated firms and projects"
        )

    def drivers_text(self) -> str:
        return "; ".join(f"{key} = {value} ({what})" for key, value, what in self.drivers)


def _n(k: int, noun: str) -> str:
    return f"{k:,} {noun}" if k == 1 else f"{k:,} {noun}{'es' if noun.endswith('s') else 's'}"


def _bytes(n: float) -> str:
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n / 2**10:,.0f} kB"


def _duration(s: float) -> str:
    if s >= 86400:
        return f"{s / 86400:,.1f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{max(s, 0.1):.1f} s"


def _hi(x) -> float:
    return float(draw_range(x)[1])


def _park_sizes(scn) -> tuple[int, int, list]:
    """Simulated starting firms and (at most) signings per replication of one park, and the keys behind them."""
    w = float(scn.simulation.weight)
    reg = 0 if scn._register is None else len(scn._register)
    base = sum(int(round(b.firms / w)) for b in scn.baseline.sectors.values())
    known = 0 if scn._projects is None else len(scn._projects)
    rate = _hi(scn.pipeline.signings_per_month) + _hi(scn.levers.promotion.extra_signings_per_month)
    profile = max(scn.pipeline.monthly_profile)
    effects = scn.assessment.effects.values() if scn.assessment is not None else []
    factor = max([1.0, *(_hi(e.signing_factor) for e in effects)])
    months = scn.months + _hi(scn.pipeline.warm_up_months)
    signings = rate * profile * factor * months / w
    # a Poisson count stays below mean + 6 sd
    signings = signings + 6.0 * math.sqrt(signings + 1.0) + known
    drivers = []
    if base:
        drivers.append(
            ("baseline.sectors.*.firms", f"{sum(b.firms for b in scn.baseline.sectors.values()):,}", f"{base:,} simulated starting firms")
        )
    if reg:
        drivers.append(("baseline.enterprises", f"{reg:,} rows", f"{reg:,} starting firms"))
    if rate > 0:
        drivers.append(
            (
                "pipeline.signings_per_month (+ levers.promotion.extra_signings_per_month)",
                f"{rate:g}",
                f"up to {int(signings):,} simulated signings over {months:g} months (simulation.years, pipeline.warm_up_months)",
            )
        )
    return base + reg, int(signings), drivers


def estimate(scn, replications: int, engine: str, jobs: int) -> Estimate:
    """Estimated memory and time of ``replications`` replications of ``scn`` on ``engine`` with ``jobs`` workers."""
    members = [m for _, m in scn._members] if scn.portfolio is not None and scn._members else [scn]
    start = signings = 0
    drivers: list = []
    for m in members:
        s, g, d = _park_sizes(m)
        start, signings = start + s, signings + g
        drivers += [x for x in d if x not in drivers]
    Y, H = scn.simulation.years, scn.months
    firms = start + signings
    firm_months = (start + signings / 2.0) * H  # signings arrive through the horizon: present half of it on average
    if engine == "fast":
        from parksim.engines.fast.pool import state_bytes

        state = sum(state_bytes(s + g, g + 16, Y, H, len(m.sectors)) for m, (s, g, _) in ((m, _park_sizes(m)) for m in members))
    else:
        per_firm = 8 * (H + 3 * (Y + 3) + 9 * Y + 64) * 2  # the firm table's columns, grown by doubling
        state = firms * per_firm + signings * SIMPY_PROJECT_BYTES
    n_cols = 43 * len(members)
    results = replications * Y * n_cols * RESULT_BYTES_PER_VALUE
    workers = max(1, min(jobs, replications))
    in_flight = workers * state
    if engine == "fast":  # replications advance in groups of up to 512 that share the engine's memory budget
        from parksim.engines.fast.pool import MEMORY_BUDGET

        in_flight = max(in_flight, min(MEMORY_BUDGET, min(512, replications) * state))
    memory = FIXED_BYTES[engine] + in_flight + results
    seconds = RUN_SECONDS + replications * (firm_months * SECONDS_PER_FIRM_MONTH[engine] + firms * SECONDS_PER_FIRM[engine]) / workers
    drivers.append(("simulation.years", str(Y), f"{H} months a replication"))
    drivers.append(("replications", f"{replications:,}", f"results: {_bytes(results)}"))
    if scn.simulation.weight > 1 or firms > 100_000:
        drivers.append(("simulation.weight", str(scn.simulation.weight), "each simulated firm stands for this many"))
    return Estimate(engine, replications, workers, start, signings, firm_months, int(state), int(memory), seconds, drivers)


def available_memory() -> int:
    """Memory available to this process: the system's available memory, within a cgroup limit if any."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 2**62
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            avail = min(avail, int(limit))
    except OSError:
        pass
    return int(avail)


def check_memory(est: Estimate, available: int | None = None) -> None:
    """Refuse (:class:`InputError`) a run whose estimated memory exceeds what the machine has available."""
    available = available_memory() if available is None else available
    if est.memory_bytes > available:
        raise InputError(
            f"this run would need {est.describe()}, more than the {_bytes(available)} of memory available."
            f" It is driven by: {est.drivers_text()}. Lower them, raise simulation.weight, or run fewer replications"
            " (or fewer jobs)."
        )

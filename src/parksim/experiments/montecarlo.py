"""Monte Carlo runs: many replications, target probabilities with Wilson intervals."""

from __future__ import annotations

import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from parksim.engines.contract import ENGINE_STARTED, ENGINES, resolve_engine
from parksim.errors import InputError, ParameterWarning
from parksim.experiments.estimate import check_memory, estimate
from parksim.experiments.result import (
    _COLUMNS,
    _INDEX,
    RunResult,
    column_names,
    expand_targets,
    make_result,
)
from parksim.experiments.stats import wilson_half_width
from parksim.model.random import normalize_seed
from parksim.rules.assessment import OUTCOMES
from parksim.scenario.finite import assessed_parks, check_finite, unlimited

if TYPE_CHECKING:  # pandas is loaded when a table is made: a run's engine does not wait for it (the CLI loads it meanwhile)
    pass

# --- workers ------------------------------------------------------------------------
_WORKER_SCENARIO = None


def _init_worker(scenario, parent_pid: int | None = None) -> None:
    global _WORKER_SCENARIO
    _WORKER_SCENARIO = scenario
    if parent_pid is not None:  # a pool worker: it must not outlive a killed run
        from parksim.experiments.procs import die_with_parent

        die_with_parent(parent_pid)


def _run_chunk(args) -> np.ndarray:
    """Replications ``reps`` of ``seed`` of the worker's scenario: array (len(reps), years, parks x columns)."""
    seed, reps = args
    return simpy_values(_WORKER_SCENARIO, seed, reps)


def simpy_values(scn, seed: int, reps) -> np.ndarray:
    """Replications ``reps`` of ``seed`` of ``scn`` with the SimPy engine: array (len(reps), years, parks x columns)."""
    from parksim.engines.simpy import PortfolioModel, run_replication
    from parksim.model.random import Streams

    first, n_years, width = scn.simulation.start_year, scn.simulation.years, len(_COLUMNS)
    out = np.full((len(reps), n_years, len(column_names(scn))), np.nan)
    statuses = scn.assessment.statuses if scn.assessment is not None else []
    for k, r in enumerate(reps):
        if scn.portfolio is None:
            results = [(scn.name, run_replication(scn, seed, r))]
        else:
            results = PortfolioModel(scn, Streams(seed, r, given=scn._given)).run()
        for p, (_, res) in enumerate(results):
            base = p * width
            for year, name, value in res.rows:
                out[k, year - first, base + _INDEX[name]] = value
            for year, outcome, status in res.statuses:
                out[k, year - first, base + _INDEX["assessment_outcome"]] = OUTCOMES[outcome]
                out[k, year - first, base + _INDEX["assessment_status"]] = statuses.index(status)
    return out


def _stack(parts, scenario) -> np.ndarray:
    """Replication blocks stacked in order (an empty (0, years, columns) array if none)."""
    return np.concatenate(parts) if parts else np.empty((0, scenario.simulation.years, len(column_names(scenario))))


#: hard limits of a run: more replications than this cannot sharpen a probability usefully (its 95% interval is
#: already below ±0.0003), and a batch is what one checkpoint holds
MAX_REPLICATIONS, MAX_BATCH = 10_000_000, 1_000_000
#: more worker threads or processes than this would only wait for each other (and a process each costs memory)
MAX_JOBS = 256


class _FastRunner:
    """Runs replication index ranges with the fast engine on ``jobs`` threads (in groups that fit its memory budget)."""

    def __init__(self, scenario, seed: int, jobs: int, quiet: bool = False):
        from parksim.engines.fast.cache import _compile, needs_compiling

        self.scenario, self.seed, self.jobs = scenario, seed, jobs
        if not quiet and needs_compiling():
            print(
                "compiling the fast engine (once after installing; about 10-15 s on two cores, later runs reuse it) ...",
                file=sys.stderr,
                flush=True,
            )
        _compile(jobs)  # compiled or loaded from the cache before the run starts (ENGINE_STARTED)

    def run(self, start: int, stop: int, progress=None, last: bool = False) -> np.ndarray:
        from parksim.engines.fast.runner import run_block

        update = progress.update if progress is not None else None
        # the engine's memory is kept from batch to batch (fresh memory costs page faults) and freed by close(); in the
        # last batch each thread frees its own as soon as it has no group left, while the others finish
        keep = not last
        return run_block(self.scenario, self.seed, range(start, stop), threads=self.jobs, progress=update, keep_memory=keep)

    def close(self) -> None:
        from parksim.engines.fast.pool import release_memory

        release_memory()


class _Runner:
    """Runs replication index ranges, in-process (jobs=1) or on a process pool."""

    def __init__(self, scenario, seed: int, jobs: int, chunk: int):
        self.seed, self.jobs, self.chunk = seed, jobs, chunk
        self.scenario = scenario
        self.pool = None
        if jobs > 1:
            self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(scenario, os.getpid()))
        else:
            _init_worker(scenario)

    def run(self, start: int, stop: int, progress=None, last: bool = False) -> np.ndarray:
        del last  # (the pool is shut down by close())
        chunks = [list(range(a, min(a + self.chunk, stop))) for a in range(start, stop, self.chunk)]
        tasks = [(self.seed, c) for c in chunks]
        results = map(_run_chunk, tasks) if self.pool is None else self.pool.map(_run_chunk, tasks)
        parts = []
        for c, arr in zip(chunks, results, strict=True):  # map keeps order: results never depend on jobs
            parts.append(arr)
            if progress is not None:
                progress.update(len(c))
        return _stack(parts, self.scenario)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


# --- entry point -----------------------------------------------------------------------
def save_checkpoint(path, scenario, seed: int, values: np.ndarray, engine: str = "simpy") -> None:
    """Save ``values`` (replications from 0) as the checkpoint of this scenario, seed and engine (atomically)."""
    from parksim.experiments.checkpoint import Checkpoint

    Checkpoint(path, scenario, seed, engine).add(values, 0)


def load_checkpoint(path, scenario, seed: int, engine: str = "simpy") -> np.ndarray | None:
    """Replications saved in the checkpoint of this scenario, seed and engine (None if no file), validated:
    a corrupt, forged or foreign checkpoint raises :class:`parksim.experiments.checkpoint.CheckpointError`."""
    from parksim.experiments.checkpoint import Checkpoint

    return Checkpoint(path, scenario, seed, engine).load()


def _progress(total: int | None, quiet: bool, desc: str):
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="rep", delay=2.0, file=sys.stderr)


def simulate(
    scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    precision: float | None = None,
    max_replications: int = 20_000,
    batch: int | None = None,
    quiet: bool = False,
    checkpoint=None,
    resume: bool = False,
    engine: str = "auto",
    posterior=None,
    given_observations: bool = False,
    given_until: int | None = None,
    cluster=None,
) -> RunResult:
    """Run many replications and compute the probability of meeting each target.

    Parameters
    ----------
    scenario : Scenario or path
    replications : int, optional
        Number of replications (default 200 unless ``precision`` is given).
    seed : int, optional
        Seed of the run; replication ``r`` uses ``SeedSequence(seed).spawn(n)[r]``.
        ``None`` draws one (it is recorded in the result and manifest).
    jobs : int, optional
        Worker threads (fast engine) or processes (SimPy engine); default: all
        cores. Results do not depend on it.
    precision : float, optional
        Add replications in batches of ``batch`` (default 200 for the SimPy
        engine, 5,000 for the fast one: a few seconds of work each) until the 95% half-width of
        P(all targets met) is at most this, or ``max_replications`` is reached.
    quiet : bool
        No progress bar (it only shows on a terminal, after 2 seconds).
    checkpoint : path, optional
        After every batch of ``batch`` replications, append it to this file
        (the first batch creates it atomically; each later one is one block
        added and synced), so that an interrupted run loses at most one batch.
    resume : bool
        Continue from ``checkpoint`` if it holds replications of the same
        scenario (hash), seed and engine; the result equals an uninterrupted
        run. The checkpoint is validated first (its header, each block's shape,
        order and checksum, every value finite and within its indicator's
        range): one that does not check out is refused with
        :class:`parksim.ScenarioError` naming the file.
    engine : {"auto", "fast", "simpy"}
        ``auto`` (default): the fast engine when it can run the scenario, else
        SimPy. ``fast``: the compiled batch engine on ``jobs`` threads (falls
        back to SimPy, with a message, for a scenario it cannot run).
        ``simpy``: the discrete-event engine, one replication at a time on
        ``jobs`` processes; :func:`simulate_one` and :func:`trace` replay its
        replications. The engines agree in distribution, not draw by draw; each
        is reproducible for any ``jobs``.
    posterior : path, optional
        A ``parksim calibrate`` output folder: the uncertain parameters are drawn from its calibrated posterior
        (each replication takes a particle by weight, the same whatever ``jobs``) instead of their priors.
    given_observations : bool
        Condition the run on the scenario's ``[[observations]]`` (nowcasting, e.g. P(2024 target | 2023 figures)): of
        the replications simulated, only those consistent with the observations are kept
        (:func:`parksim.experiments.nowcast.condition`; ``result.conditioning`` has the effective sample size).
    given_until : int, optional
        With ``given_observations``: only the observations of years up to this one.
    cluster : str, optional
        Run on a Dask cluster (needs ``pip install 'parksim[cluster]'``): the address of its scheduler
        (``tcp://HOST:8786``), or ``local:N`` for a cluster of N worker processes on this machine (started and closed
        by the run). Replications go to the workers in blocks, each saved to ``checkpoint`` as it finishes, and
        are assembled in order: the result equals a local run's. ``jobs`` is then unused (each worker uses its
        threads). See :mod:`parksim.experiments.cluster`.

    Returns
    -------
    RunResult

    Warns
    -----
    ParameterWarning
        For each scenario value outside its plausible range (``scenario.warnings``).

    Examples
    --------
    >>> import parksim
    >>> res = parksim.simulate("scenarios/xiushan-2024.toml", replications=4, seed=1, jobs=1, quiet=True)
    >>> list(res.targets.columns)[:3], res.targets.target.iloc[-1]
    (['target', 'indicator', 'year'], 'ALL')
    """
    from parksim.scenario.loader import as_scenario

    scn = as_scenario(scenario)
    if posterior is not None:
        scn = with_posterior(scn, posterior)
    if given_until is not None and not given_observations:
        raise InputError('"given_until" needs "given_observations"')
    if given_observations and precision is not None:
        raise InputError(
            '"precision" with "given_observations": the stopping rule reads every replication, not the kept ones; give "replications"'
        )
    if given_observations:
        from parksim.experiments.calibrate import Observed

        Observed.of(scn)  # no observations: said before the run, not after it
    for problem in scn.warnings:
        warnings.warn(str(problem), ParameterWarning, stacklevel=2)
    seed = normalize_seed(seed)
    jobs = os.cpu_count() or 1 if jobs is None else jobs
    if not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        raise InputError(f'"jobs" must be a whole number between 1 and {MAX_JOBS}, got {jobs!r}')
    if precision is not None and not (0 < precision < 0.5):
        raise InputError(f'"precision" must be between 0 and 0.5 (a half-width of a probability), got {precision!r}')
    for name, value, most in (("replications", replications, MAX_REPLICATIONS), ("max_replications", max_replications, MAX_REPLICATIONS)):
        if value is not None and not (isinstance(value, int | np.integer) and not isinstance(value, bool) and 1 <= value <= most):
            raise InputError(f'"{name}" must be a whole number between 1 and {most:,}, got {value!r}')
    if batch is not None and not (isinstance(batch, int | np.integer) and not isinstance(batch, bool) and 1 <= batch <= MAX_BATCH):
        raise InputError(f'"batch" must be a whole number between 1 and {MAX_BATCH:,}, got {batch!r}')
    engine = resolve_engine(scn, engine, quiet)
    planned = (200 if replications is None else int(replications)) if precision is None else int(replications or max_replications)
    if batch is None:
        # on a cluster every finished block is saved as it finishes: without a precision to check, one batch is the run
        batch = planned if cluster is not None and precision is None else ENGINES[engine].batch
    est = estimate(scn, planned, engine, jobs)
    check_memory(est)
    if not quiet and est.seconds > 60 and cluster is None:
        print(f"note: estimated {est.describe()}", file=sys.stderr, flush=True)
    specs = expand_targets(scn)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    saved = _Blocks()
    store = None
    if checkpoint is not None:
        from parksim.experiments.checkpoint import Checkpoint

        store = Checkpoint(checkpoint, scn, seed, engine, any_order=cluster is not None)
    if resume and store is not None:
        for start, values in store.load_blocks() or []:
            saved.add(start, values)
    n = saved.prefix()
    if precision is None:
        cap = 200 if replications is None else int(replications)
        bar = _progress(cap, quiet, "replications")
    else:
        cap = int(replications or max_replications)
        bar = _progress(None, quiet, f"replications (until ±{precision:g})")
    if bar is not None and saved.count(cap):
        bar.update(saved.count(cap))
    stopped = "replications" if precision is None else "max_replications"

    def reached(upto: int) -> bool:
        if precision is None:
            return False
        met = make_result(scn, seed, saved.values(upto, scn), specs).met().all(axis=1)
        return wilson_half_width(int(met.sum()), len(met)) <= precision

    def finished_block(start: int, values: np.ndarray) -> None:
        saved.add(start, values)
        if store is not None:  # one block appended: saving costs a batch, not the whole run
            store.add(values, start)

    session = None
    if cluster is not None:
        from parksim.experiments.cluster import ClusterRunner, open_session

        session, own_session = open_session(cluster)
        try:
            runner = ClusterRunner(scn, seed, engine, session)
        except BaseException:
            if own_session:
                session.close()
            raise
    else:
        runner = ENGINES[engine].runner(scn, seed, jobs, quiet=quiet, batch=min(cap, batch))
    ENGINE_STARTED.set()
    try:
        if n and reached(n):
            stopped = "precision"
        while n < cap and stopped != "precision":
            stop = min(n + batch - n % batch, cap)  # batches end where an uninterrupted run's do
            gaps = saved.gaps(n, stop)  # (a resumed run computes only what no saved block holds)
            if session is not None:
                runner.run_ranges(gaps, bar, finished_block)
            else:
                for a, b in gaps:
                    finished_block(a, runner.run(a, b, bar, last=b >= cap))
            n = stop
            if reached(n):
                stopped = "precision"
        if bar is not None:
            bar.close()
    finally:
        runner.close()
        if session is not None and own_session:
            session.close()
    values = saved.values(min(n, cap), scn)
    check_finite(values, column_names(scn), scn.simulation.start_year, seed, assessed_parks(scn), infinite_ok=unlimited(scn))
    finished = datetime.now(UTC).isoformat(timespec="seconds")
    result = make_result(scn, seed, values, specs, started, finished, stopped, precision, jobs, engine)
    if given_observations:
        from parksim.experiments.nowcast import condition

        result = condition(result, until=given_until)
    result.cluster = None if session is None else session.address  # (the manifest records it)
    return result


class _Blocks:
    """Blocks of a run's replications by first replication: resumed from a checkpoint, or run now (never overlapping)."""

    def __init__(self):
        self.blocks: dict[int, np.ndarray] = {}

    def add(self, start: int, values: np.ndarray) -> None:
        if len(values):
            self.blocks[start] = values

    def _ranges(self):
        return sorted((a, a + len(v)) for a, v in self.blocks.items())

    def prefix(self) -> int:
        """The first replication no block holds."""
        n = 0
        for a, b in self._ranges():
            if a > n:
                break
            n = max(n, b)
        return n

    def count(self, cap: int) -> int:
        """Replications held below ``cap``."""
        return sum(max(0, min(b, cap) - a) for a, b in self._ranges())

    def gaps(self, start: int, stop: int) -> list[tuple[int, int]]:
        """The ranges of ``start .. stop - 1`` that no block holds."""
        out, n = [], start
        for a, b in self._ranges():
            if b <= n:
                continue
            if a >= stop:
                break
            if a > n:
                out.append((n, a))
            n = max(n, b)
        if n < stop:
            out.append((n, stop))
        return out

    def values(self, stop: int, scenario) -> np.ndarray:
        """Replications ``0 .. stop - 1`` in order (all held)."""
        parts, n = [], 0
        for a, b in self._ranges():
            if n >= stop:
                break
            if a != n:  # pragma: no cover
                raise AssertionError(f"replications {n}..{a - 1} are missing")
            parts.append(self.blocks[a][: stop - a])
            n = b
        return _stack(parts, scenario)


def with_posterior(scenario, posterior):
    """``scenario`` with its uncertain parameters drawn from a calibrated posterior: a ``parksim calibrate`` folder or a
    :class:`parksim.model.random.GivenUniforms` (:func:`parksim.model.realise.with_given`)."""
    from parksim.model.random import GivenUniforms
    from parksim.model.realise import with_given

    if not isinstance(posterior, GivenUniforms):
        from parksim.results.calibration_files import load_posterior

        posterior = load_posterior(posterior, scenario)
    return with_given(scenario, posterior)

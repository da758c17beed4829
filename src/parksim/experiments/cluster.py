"""Runs on a Dask cluster: blocks of replications on the cluster's workers, assembled in order.

``parksim run SCENARIO --cluster ADDRESS`` (``parksim.simulate(..., cluster=ADDRESS)``) sends the scenario to every
worker once and each block of replications to a worker as a task; the worker runs it with the run's engine (the fast
engine on its threads, or the SimPy engine) and returns its values. Replication ``r`` uses the same random streams
wherever it runs, so the assembled result equals a local run's, byte for byte, whatever the cluster.

Every block is saved to the run's checkpoint as it finishes (in any order: each block with its first replication,
:mod:`parksim.experiments.checkpoint`), so ``--resume`` after the client was stopped computes only the blocks no
checkpoint holds. A block whose worker dies is computed again on another worker by the scheduler; its result is
used once. ``ADDRESS`` is a scheduler's address (``tcp://HOST:8786``, from ``dask scheduler``) or ``local:N``: a
cluster of N worker processes on this machine, started for the run and closed after it.

Dask's ``distributed`` is imported only here, when a run asks for a cluster (``pip install 'parksim[cluster]'``).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid

import numpy as np

from parksim.errors import InputError

#: seconds to wait for a scheduler to answer before a run gives up
CONNECT_TIMEOUT = 10.0
#: most workers of ``local:N``
MAX_LOCAL_WORKERS = 256
#: blocks per worker at least, when a run is small: every worker gets work, and a lost block costs little
BLOCKS_PER_WORKER = 4
#: a block holds at most this share of an engine's batch (a block of the fast engine: 500 replications)
BLOCK_SHARE = 10

INSTALL = "pip install 'parksim[cluster]'"


def _distributed():
    try:
        import distributed
    except ImportError:
        raise InputError(f"--cluster needs Dask's distributed package, which is not installed: {INSTALL}") from None
    return distributed


class Session:
    """A client connected to a cluster's scheduler (and the local cluster it started, if any)."""

    def __init__(self, address: str, client, local=None):
        self.address, self.client, self.local = address, client, local

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.local is not None:
                self.local.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(address: str, timeout: float | None = None) -> Session:
    """A session on the cluster at ``address`` (``tcp://HOST:PORT``, or ``local:N`` to start N local workers).

    Raises :class:`InputError` naming the address if no scheduler answers there within ``timeout`` seconds
    (default :data:`CONNECT_TIMEOUT`), or if Dask's distributed package is missing."""
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    if not isinstance(address, str) or not address.strip():
        raise InputError(f"--cluster: expected a scheduler address (tcp://HOST:8786) or local:N, got {address!r}")
    address = address.strip()
    distributed = _distributed()
    if address.startswith("local:"):
        n = address.removeprefix("local:")
        if not n.isdigit() or not 1 <= int(n) <= MAX_LOCAL_WORKERS:
            raise InputError(f"--cluster {address}: local:N needs N workers from 1 to {MAX_LOCAL_WORKERS}, e.g. local:4")
        local = distributed.LocalCluster(
            n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
        )
        try:
            client = distributed.Client(local, timeout=timeout)
        except BaseException:
            local.close()
            raise
        return Session(address, client, local)
    try:
        client = distributed.Client(address, timeout=timeout)
    except Exception as err:  # a wrong address, nothing listening, no scheduler answering in time
        why = f"no answer within {timeout:g} s" if isinstance(err, OSError | TimeoutError) else "not a scheduler's address"
        raise InputError(
            f"--cluster {address}: cannot connect to a Dask scheduler there ({why}: {err});"
            " start one with `dask scheduler` and give its address (tcp://HOST:8786), or use local:N"
        ) from None
    return Session(address, client)


def open_session(cluster) -> tuple[Session, bool]:
    """The session of ``cluster`` (an address, a :class:`Session`, or a ``distributed.Client``), and whether the
    caller opened it (and must close it)."""
    if isinstance(cluster, Session):
        return cluster, False
    if isinstance(cluster, str):
        return connect(cluster), True
    client = cluster
    if not hasattr(client, "submit") or not hasattr(client, "scheduler"):
        raise InputError(f'"cluster" must be a scheduler address, local:N or a distributed.Client, got {cluster!r}')
    return Session(client.scheduler.address, client), False


# --- on a worker ----------------------------------------------------------------------
_FAST_LOCK = threading.Lock()


def _worker_threads() -> int:
    """The threads a block of the fast engine runs on: the worker's own threads (its cores, or 1)."""
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):  # pragma: no cover (not on a worker)
        return os.cpu_count() or 1


def run_block(scenario, engine: str, seed: int, start: int, stop: int) -> np.ndarray:
    """A worker's task: replications ``start .. stop - 1`` of ``seed`` with ``engine`` (array (n, years, columns))."""
    if engine == "fast":
        from parksim.engines.fast.runner import run_block as fast_block

        with _FAST_LOCK:  # one block at a time in a worker process, on all its threads (the engine's memory is per process)
            return fast_block(scenario, seed, range(start, stop), threads=_worker_threads())
    from parksim.experiments.montecarlo import simpy_values

    return simpy_values(scenario, seed, list(range(start, stop)))


# --- on the client --------------------------------------------------------------------
class ClusterRunner:
    """Runs replication ranges of one scenario and seed on a cluster (the interface of the engines' runners)."""

    def __init__(self, scenario, seed: int, engine: str, session: Session):
        from parksim.engines.contract import ENGINES
        from parksim.experiments.result import column_names

        self.scenario, self.seed, self.engine, self.session = scenario, seed, engine, session
        self.client = session.client
        self.max_block = max(1, ENGINES[engine].batch // BLOCK_SHARE)
        self.shape = (scenario.simulation.years, len(column_names(scenario)))
        self.token = uuid.uuid4().hex[:12]
        # sent to every worker once; each task refers to it
        self._scenario = self.client.scatter(scenario, broadcast=True, hash=False)
        self.blocks_run = 0  # blocks whose results were used

    def blocks(self, ranges) -> list[tuple[int, int]]:
        """``ranges`` cut into blocks: at most :data:`BLOCK_SHARE`-th of a batch, and small enough that every worker
        gets :data:`BLOCKS_PER_WORKER` of a small run."""
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        total = sum(b - a for a, b in ranges)
        size = max(1, min(self.max_block, math.ceil(total / (BLOCKS_PER_WORKER * workers))))
        return [(x, min(x + size, b)) for a, b in ranges for x in range(a, b, size)]

    def run_ranges(self, ranges, progress=None, finished=None) -> list[np.ndarray]:
        """Run ``ranges`` ((start, stop) pairs) on the cluster; ``finished(start, values)`` is called for every block as
        it finishes (in any order), ``progress.update(n)`` after it. Returns each range's values, in order."""
        from distributed import as_completed

        blocks = self.blocks(ranges)
        futures = {}
        for a, b in blocks:
            fut = self.client.submit(run_block, self._scenario, self.engine, self.seed, a, b, key=f"parksim-{self.token}-{a}-{b}")
            futures[fut] = (a, b)
        got: dict[int, np.ndarray] = {}
        try:
            for fut in as_completed(list(futures)):
                a, b = futures[fut]
                if a in got:  # pragma: no cover (a block's result is used once)
                    continue
                values = fut.result()
                if values.shape != (b - a, *self.shape):
                    raise RuntimeError(f"a worker returned replications {a}..{b - 1} of shape {values.shape}")  # pragma: no cover
                got[a] = values
                fut.release()
                self.blocks_run += 1
                if finished is not None:
                    finished(a, values)
                if progress is not None:
                    progress.update(b - a)
        except BaseException:
            self.client.cancel(list(futures), force=True)  # the cluster stops this run's work
            raise
        out = []
        for a, b in ranges:
            parts = [got[x] for x, y in blocks if a <= x < b]
            out.append(np.concatenate(parts) if parts else np.empty((0, *self.shape)))
        return out

    def run(self, start: int, stop: int, progress=None, last: bool = False) -> np.ndarray:
        del last
        return self.run_ranges([(start, stop)], progress)[0]

    def close(self) -> None:
        try:
            self.client.cancel([self._scenario], force=True)
        except Exception:  # pragma: no cover (the connection is gone already)
            pass

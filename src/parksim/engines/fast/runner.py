"""Running the fast engine: groups of replications on a thread pool, the yearly assessment between blocks of months."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from parksim.engines.fast.cache import _compile
from parksim.engines.fast.plan import _capacity, plan
from parksim.engines.fast.pool import MEMORY_BUDGET, _Block, _release_thread, release_memory, state_bytes
from parksim.model.layout import ERR_OCCUPIED, ERR_OVERFLOW, Month, RepF, RepI
from parksim.model.park import occupied_error
from parksim.model.random import key_of
from parksim.rules import assessment as A
from parksim.rules import indicators as I
from parksim.rules import levers as LV


def unsupported(scenario) -> str | None:
    """Why the fast engine cannot run ``scenario`` (None: it can; it models everything the SimPy engine does)."""
    del scenario
    return None


class _Overflow(Exception):
    pass


_POOL: dict[int, ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    if threads not in _POOL:
        _POOL[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="parksim-fast")
    return _POOL[threads]


def _advance_all(blocks, parks, m0, m1, seed, P_list) -> None:
    """Advance every park's block (all its replications, on this thread) over months m0..m1-1."""
    for blk, P, park in zip(blocks, P_list, parks, strict=True):
        blk.advance(0, blk.REPS.shape[0], m0, m1, seed, park, P)
    for blk in blocks:
        err = blk.RI[:, RepI.ERROR]
        if (err == ERR_OVERFLOW).any():
            raise _Overflow
        if (err == ERR_OCCUPIED).any():
            r = int(np.flatnonzero(err == ERR_OCCUPIED)[0])
            raise occupied_error(blk.scenario, blk.RS[r, RepF.FLEVEL])


def _priced(REC, E, y: int) -> np.ndarray:
    """The year-end records of year y (B, record), with the levers' cost of the year (rules.levers)."""
    return LV.price_record(REC[:, y].copy(), E, y)


def _values(REC, E) -> np.ndarray:
    """(B, years, indicators) from year-end records, in the order of INDICATORS."""
    Y = REC.shape[1]
    ind = I.from_record(np.stack([_priced(REC, E, y) for y in range(Y)], axis=1))
    return np.stack([ind[name] for name in I.INDICATORS], axis=-1)


def run_block(
    scenario,
    seed: int,
    reps,
    threads: int = 1,
    width: int | None = None,
    budget: int | None = None,
    progress=None,
    keep_memory: bool = False,
) -> np.ndarray:
    """Replications ``reps`` of ``scenario``: array (len(reps), years, parks x columns) as the Monte Carlo runner lays it out.

    ``width`` is the number of columns per park (indicators, then the assessment outcome and status codes).
    Replications are advanced in groups, one group per thread at a time, whose state fits in ``budget`` bytes
    together (default :data:`MEMORY_BUDGET`), so memory does not grow with the number of replications, however
    large the park.
    Results do not depend on the grouping (each replication's streams are keyed by its number in the run).
    ``progress``, if given, is called with the number of replications finished after each group.
    ``keep_memory`` keeps the groups' large arrays for the next call (a run in batches: fresh memory
    costs page faults and the kernel's zeroing) until :func:`release_memory`.
    """
    seed = int(seed)
    reps = [int(r) for r in reps]
    portfolio = scenario.portfolio is not None
    members = list(scenario._members) if portfolio else [(scenario.name, scenario)]
    parks = [key_of(name) if portfolio else 0 for name, _ in members]
    budget = MEMORY_BUDGET if budget is None else budget
    if not reps:
        return np.empty((0, scenario.simulation.years, len(members) * (width or len(I.INDICATORS) + 2)))
    threads = max(1, min(int(threads), len(reps)))
    # each group runs on one thread, `threads` groups at a time, each in its share of the budget: a thread goes on to
    # its next group without waiting for the others (a group shared by the threads ends when its slowest replication
    # does: bench-large, two replications a thread per group, ran about 12% slower so); the last groups are smaller,
    # so the threads end together (bench, 10,000 replications: equal groups left one thread idle 0.1 s at the end)
    groups = _groups(reps, _group_size(members, seed, reps[0], budget // threads), threads)

    taken = [0]  # groups a thread has started
    lock = threading.Lock()

    def run_group(group):
        with lock:
            taken[0] += 1
        plans = [
            plan(m, seed, group, park if portfolio else None, a)
            for (_, m), park, a in zip(members, parks, A.assessments(scenario), strict=True)
        ]
        scale = 1
        while True:
            try:
                out = _run(scenario, members, parks, plans, seed, group, width, scale)
                break
            except _Overflow:
                scale *= 2
        with lock:
            done = taken[0] == len(groups)
        if done and not keep_memory:  # this thread gets no more groups: it frees its arrays while the others finish
            _release_thread()
        return out

    _compile(threads)
    parts = []
    futures = [_pool(threads).submit(run_group, group) for group in groups] if threads > 1 else []
    try:
        for k, group in enumerate(groups):
            parts.append(futures[k].result() if futures else run_group(group))
            if progress is not None:
                progress(len(group))
    finally:  # on an error or an interrupt: no group starts any more, and the running ones end before this returns
        for future in futures:
            future.cancel()
        wait(futures)
        if not keep_memory:
            release_memory()
    return np.concatenate(parts)


def _group_size(members, seed, rep, budget) -> int:
    """How many replications fit in the memory budget (at least one, at most 512)."""
    per_rep = 0
    for _, m in members:
        P = plan(m, seed, [rep])
        cap, pcap = _capacity(P)
        per_rep += state_bytes(cap, pcap, m.simulation.years, m.months, P["SV"].shape[1])
    return int(min(512, max(1, budget // max(per_rep, 1))))


def _groups(reps: list, size: int, threads: int) -> list:
    """``reps`` in groups of at most ``size``, in order, the last ones smaller (guided scheduling).

    A free thread takes the next group, so the threads end within about the last group's time of one another:
    a group holds the replications left over twice the threads (at most ``size``; at least a sixteenth of it, or a
    thread's share of the run if that is less, so that a run of few replications still uses every thread).
    Sizes never grow, so a thread's arrays have room for its next group. One thread runs groups of ``size``.
    """
    n = len(reps)
    if threads == 1:
        return [reps[a : a + size] for a in range(0, n, size)]
    least = max(1, min(size // 16, -(-n // threads)))
    bounds = [0]
    while bounds[-1] < n:
        rest = n - bounds[-1]
        bounds.append(bounds[-1] + min(rest, size, max(least, -(-rest // (2 * threads)))))
    return [reps[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _run(scenario, members, parks, plans, seed, reps, width, scale):
    B = len(reps)
    blocks = []
    for (_, m), P in zip(members, plans, strict=True):
        cap, pcap = _capacity(P)
        blocks.append(_Block(m, P, reps, cap * scale, pcap * scale, slot=len(blocks)))
    H, Y = blocks[0].H, blocks[0].Y
    n_ind = len(I.INDICATORS)
    width = width or n_ind + 2
    out = np.full((B, Y, len(members) * width), np.nan)
    at = [0]  # the month every park has reached

    def advance(m: int) -> None:
        _advance_all(blocks, parks, at[0], m, seed, plans)
        at[0] = m

    def apply(p: int, r: int, eff) -> None:  # from the decision month on (the next year start's quota)
        blocks[p].RATE[r, at[0] :] = plans[p]["MV"][r, at[0] :, Month.RATE] * eff.signing_factor
        blocks[p].RS[r, RepF.QFACTOR] = eff.land_quota_factor
        blocks[p].RS[r, RepF.GBONUS] = eff.growth_bonus

    def record(y: int, p: int, outcomes, statuses) -> None:
        out[:, y, p * width + n_ind] = outcomes
        out[:, y, p * width + n_ind + 1] = statuses

    A.drive(
        scenario.assessment,
        len(blocks),
        B,
        H,
        Y,
        advance=advance,
        indicators=lambda y: [I.from_record(_priced(blk.REC, P["E"], y)) for blk, P in zip(blocks, plans, strict=True)],
        apply=apply,
        record=record,
        assessed=[a is not None for a in A.assessments(scenario)],
    )
    for p, blk in enumerate(blocks):
        out[:, :, p * width : p * width + n_ind] = _values(blk.REC, plans[p]["E"])
    for blk in blocks:  # each park's arrays for the same park in the next group
        blk.release()
    return out

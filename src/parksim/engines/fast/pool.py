"""A block's state arrays, and the memory kept between groups of replications (fresh memory costs page faults)."""

from __future__ import annotations

import math
import mmap
import threading

import numpy as np

from parksim.engines.fast.events import _advance
from parksim.model.layout import HISTORY, NF0, NI, NPF, NPI, NRI, NRR, NRS, Plan, State
from parksim.rules import indicators as I

#: the large arrays of the last group, kept for the next group of a run_block call that needs no more room: fresh arrays cost
#: page faults and the kernel's zeroing on first touch (measured: a bench replication in a fresh group takes twice as long).
#: They need no clearing: a replication's initialisation writes every firm and project row before it is read (tests: any
#: grouping gives the same values)
_SPARE: dict = {}


_SPARE_LOCK = threading.Lock()


def _state_shapes(B: int, cap: int, pcap: int, Y: int, H: int, nsec: int) -> dict:
    """name -> (shape, dtype) of a block's arrays: the large ones (firms, projects) first, then the small ones."""
    return dict(
        FF=((B, NF0 + Y + 2 * (Y + HISTORY), cap), np.float64),
        FI=((B, NI, cap), np.int64),
        FR=((B, cap), np.uint64),  # roots of the firms' monthly noise
        PF=((B, NPF, pcap), np.float64),
        PI=((B, NPI, pcap), np.int64),
        PR=((B, pcap, 4), np.uint64),
        AL=((B, 3 * pcap + 8, 2), np.float64),  # event heap: (time, project)
        QF=((B, pcap), np.int64),
        QL=((B, pcap), np.int64),
        RS=((B, NRS), np.float64),
        RI=((B, NRI), np.int64),
        RR=((B, NRR, 4), np.uint64),
        SH=((B, nsec, Y + 3), np.float64),  # the sectors' yearly shocks, then this month's drifts and noise scale
        RATE=((B, H), np.float64),
        REC=((B, Y, len(I.RECORD)), np.float64),
    )


_LARGE = ("FF", "FI", "FR", "PF", "PI", "PR", "AL", "QF", "QL")


def _fresh_zeros(shape, dtype) -> np.ndarray:
    """A zeroed array in fresh anonymous memory (``mmap``), without NumPy's request for transparent huge pages.

    NumPy asks the kernel for huge pages for arrays of 4 MB or more. Where the kernel then compacts memory at a
    page's first touch (transparent huge page defrag "madvise", a common default and this machine's), the
    first group of a run spent 0.56-0.64 s in its first pass over its arrays instead of 0.25-0.29 s (bench,
    455 replications, 266 MB), and later groups gained nothing from huge pages (0.17-0.19 s either way).
    """
    size = math.prod(shape) * np.dtype(dtype).itemsize
    if size == 0:
        return np.zeros(shape, dtype)
    return np.frombuffer(mmap.mmap(-1, size), dtype=dtype).reshape(shape)  # anonymous memory reads as zeros


def _room(big: dict, B: int, cap: int, pcap: int) -> bool:
    """Whether the large arrays ``big`` have room for B replications of cap firms and pcap projects."""
    return big["FF"].shape[0] >= B and big["FF"].shape[2] >= cap and big["PF"].shape[2] >= pcap


class _Block:
    """State of one park for a block of replications (arrays with a leading replication axis)."""

    def __init__(self, scn, P, reps, cap: int, pcap: int, slot: int = 0):
        self.scenario = scn
        # each row's replication number in the run, whose streams it uses (a design's slot: its replication at its point)
        self.REPS = np.asarray(reps if scn._given is None else scn._given.paths(reps), dtype=np.int64)
        B = len(self.REPS)
        Y, H = scn.simulation.years, scn.months
        nsec = P["SV"].shape[1]
        self.H, self.Y = H, Y
        key = (threading.get_ident(), slot)  # each thread runs its own groups, on its own arrays
        with _SPARE_LOCK:
            big = _SPARE.pop(key, None)
        # the last group's arrays serve if they have room for as many replications, firms and projects (more room
        # changes nothing: the engine only uses rows it initialised); the small per-replication arrays are fresh
        shapes = _state_shapes(B, cap, pcap, Y, H, nsec)
        if big is not None and _room(big, B, cap, pcap) and big["FF"].shape[1] == shapes["FF"][0][1]:
            shapes = _state_shapes(B, big["FF"].shape[2], big["PF"].shape[2], Y, H, nsec)  # (the room they have)
        else:
            big = {name: _fresh_zeros(*shapes[name]) for name in _LARGE}
        self._big, self._key = big, key
        for name, (shape, dtype) in shapes.items():
            setattr(self, name, big[name] if name in big else np.zeros(shape, dtype))
        self.REC.fill(np.nan)

    def release(self) -> None:
        """Hand the large arrays to the next block of the same slot (a portfolio's park) that has room in them."""
        with _SPARE_LOCK:
            _SPARE[self._key] = self._big

    def args(self, r0, r1, m0, m1, seed, park, P) -> tuple:
        """The arguments of :func:`_advance` for replications r0..r1-1 over months m0..m1-1."""
        state = State(*(getattr(self, k) for k in State._fields))
        plan = Plan(*(P[k] for k in Plan._fields))
        return (r0, r1, m0, m1, self.H, self.Y, np.uint64(seed), self.REPS, park, state, plan)

    def advance(self, r0, r1, m0, m1, seed, park, P) -> None:
        _advance(*self.args(r0, r1, m0, m1, seed, park, P))


#: memory for the state of the replications advanced at a time, over all threads (bytes); a run needs this plus its
#: output (a run's first groups touch fresh memory, whose page faults cost time; 96 MB ran as fast as 256 on bench)
MEMORY_BUDGET = 256 * 2**20


def state_bytes(cap: int, pcap: int, Y: int, H: int, nsec: int) -> int:
    """Bytes of state one replication of a park needs in a :class:`_Block` with room for cap firms, pcap projects."""
    return sum(math.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in _state_shapes(1, cap, pcap, Y, H, nsec).values())


def release_memory() -> None:
    """Free the large arrays kept for the next group (memory is held only while a run uses it)."""
    with _SPARE_LOCK:
        _SPARE.clear()


def _release_thread() -> None:
    """Free the large arrays this thread kept (its parks' slots)."""
    me = threading.get_ident()
    with _SPARE_LOCK:
        mine = [key for key in _SPARE if key[0] == me]
        arrays = [_SPARE.pop(key) for key in mine]
    del arrays  # (unmapped here, outside the lock)

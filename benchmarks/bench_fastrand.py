"""Nanoseconds per draw of the compiled random-number primitives (parksim.model.fastrand).

Usage: python benchmarks/bench_fastrand.py [--draws N]

Each sampler runs in a numba loop of N draws (default 1e7) that sums the draws
(so that nothing is optimised away), after a warm-up call that compiles it.
``exponential (-log u)`` is the alternative to the Ziggurat, kept here as the
measurement behind the choice in _fastrand.exponential.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numba
import numpy as np

from parksim.model import fastrand as fr


@numba.njit(cache=True)
def _loop_u64(s, n):
    acc = np.uint64(0)
    for _ in range(n):
        acc ^= fr.next_u64(s)
    return float(acc)


@numba.njit(cache=True)
def _loop_uniform(s, n):
    acc = 0.0
    for _ in range(n):
        acc += fr.uniform(s)
    return acc


@numba.njit(cache=True)
def _loop_normal(s, n):
    acc = 0.0
    for _ in range(n):
        acc += fr.normal(s)
    return acc


@numba.njit(cache=True)
def _loop_exponential(s, n):
    acc = 0.0
    for _ in range(n):
        acc += fr.exponential(s)
    return acc


@numba.njit(cache=True)
def _loop_exp_log(s, n):
    acc = 0.0
    for _ in range(n):
        acc += -math.log(fr.uniform(s))
    return acc


@numba.njit(cache=True)
def _loop_poisson(s, n, lam):
    acc = 0
    for _ in range(n):
        acc += fr.poisson(s, lam)
    return float(acc)


@numba.njit(cache=True)
def _loop_binomial(s, n, trials, p):
    acc = 0
    for _ in range(n):
        acc += fr.binomial(s, trials, p)
    return float(acc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=float, default=1e7)
    ap.add_argument("--log", metavar="FILE", help="also append what is printed to FILE as a dated section (e.g. benchmarks/log.md)")
    args = ap.parse_args()
    from _log import logged

    with logged(args.log, sys.argv):
        _measure(int(args.draws))


def _measure(n: int) -> None:
    cases = [
        ("next_u64", _loop_u64, ()),
        ("uniform", _loop_uniform, ()),
        ("normal", _loop_normal, ()),
        ("exponential", _loop_exponential, ()),
        ("exponential (-log u)", _loop_exp_log, ()),
        ("poisson(0.3)", _loop_poisson, (0.3,)),
        ("poisson(4)", _loop_poisson, (4.0,)),
        ("poisson(60)", _loop_poisson, (60.0,)),
        ("binomial(20, 0.3)", _loop_binomial, (20, 0.3)),
        ("binomial(1000, 0.3)", _loop_binomial, (1000, 0.3)),
    ]
    print(f"{n:.0e} draws per sampler, one core")
    for name, loop, args in cases:
        s = fr.make_state(12345, 0, 0, 0)
        loop(s, 10, *args)  # warm-up: compile (or load from the cache)
        t0 = time.perf_counter()
        loop(s, n, *args)
        dt = time.perf_counter() - t0
        print(f"{name:<22s} {dt / n * 1e9:6.2f} ns/draw")


if __name__ == "__main__":
    main()

"""Exploration speed: an 8-input Sobol design of Xiushan against the 10-minute target, and its replication rate
against a plain run's on the same machine.

Usage: python benchmarks/bench_explore.py [--points N] [--replications R] [--jobs J] [--log FILE]

a. a plain fast-engine run of ``--run-replications`` (default 20,000) replications of ``xiushan-2024.toml`` after a
   warm-up: replications/s;
b. ``parksim.experiments.explore.explore(..., design_kind="sobol", points=256, replications=100)`` over 8 of its
   uncertain parameters: 256 x (2 x 8 + 2) = 4,608 points x 100 replications = 460,800 replications, then the
   files (sensitivity indices, variance split, PRIM): seconds against the 600 s target, points/s, replications/s
   and their ratio to (a)'s rate (the goal: at least 0.8);
c. (a) again, so that a drift of the machine's speed during (b) shows: the ratio is given against both.

The machine's speed varies by 20-40% from hour to hour (see bench_engines.py's compute limit): ratios measured in
one run mean more than seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
XIUSHAN = ROOT / "scenarios" / "xiushan-2024.toml"
T_EXPLORE = 600.0  # s: the target
#: eight uncertain parameters of Xiushan that bear on its targets (signings, landing, certification, R&D, space)
PARAMS = [
    "pipeline.signings_per_month",
    "pipeline.landing.dropout",
    "certification.hnte.approval_prob",
    "certification.hnte.pool_entry_prob",
    "traits.rd_adoption_rate",
    "traits.score_gain",
    "institutions.new_per_year",
    "institutions.incubation_added_m2_per_year",
]


def _run_rate(scn, n: int, jobs: int) -> float:
    import parksim

    t0 = time.perf_counter()
    parksim.simulate(scn, replications=n, seed=2, jobs=jobs, engine="fast", quiet=True)
    return n / (time.perf_counter() - t0)


def _measure(args) -> None:
    import warnings

    import parksim
    from parksim.experiments.explore import explore
    from parksim.results.explore_files import write_exploration

    warnings.simplefilter("ignore", parksim.ParameterWarning)
    jobs = args.jobs or os.cpu_count() or 1
    scn = parksim.load_scenario(XIUSHAN)
    parksim.simulate(scn, replications=50, seed=1, jobs=jobs, engine="fast", quiet=True)  # warm-up: the compiled engine
    rate_a = _run_rate(scn, args.run_replications, jobs)
    print(f"(a) plain run          {args.run_replications:,} replications: {rate_a:,.0f} replications/s (jobs {jobs})")
    points = args.points * (2 * len(PARAMS) + 2)
    n = points * args.replications
    print(
        f"(b) explore sobol      {len(PARAMS)} inputs, {args.points} base points = {points:,} points x {args.replications} replications = {n:,} ...",
        flush=True,
    )
    t0 = time.perf_counter()
    ex = explore(
        XIUSHAN, design_kind="sobol", points=args.points, replications=args.replications, params=PARAMS, seed=1, jobs=jobs, quiet=True
    )
    t_sim = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        _, sentences = write_exploration(ex, Path(tmp) / "ex", 0.8, t_sim)
        t_files = time.perf_counter() - t1
    total = t_sim + t_files
    print(f"    simulation         {t_sim:.1f} s: {points / t_sim:,.1f} points/s, {n / t_sim:,.0f} replications/s")
    print(f"    analysis and files {t_files:.1f} s (Sobol indices with bootstrap intervals, variance split, PRIM, figures)")
    print(
        f"    total              {total:.1f} s: {total / T_EXPLORE:.2f} of the {T_EXPLORE:.0f} s target: {'PASS' if total <= T_EXPLORE else 'MISS'}"
    )
    rate_c = _run_rate(scn, args.run_replications, jobs)
    print(f"(c) plain run again    {rate_c:,.0f} replications/s")
    for name, rate in (("(a)", rate_a), ("(c)", rate_c)):
        ratio = n / t_sim / rate
        print(f"    explore's rate / {name}'s  {ratio:.2f} (goal >= 0.80: {'PASS' if ratio >= 0.8 else 'MISS'})")
    if sentences:
        print(f"    e.g. {sentences[-1]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=256, help="Sobol base points (default 256: 4,608 points)")
    ap.add_argument("--replications", type=int, default=100, help="replications at every point (default 100)")
    ap.add_argument("--run-replications", type=int, default=20_000, help="replications of the plain runs (default 20000)")
    ap.add_argument("--jobs", type=int, default=None, help="threads (default: all cores)")
    ap.add_argument("--log", metavar="FILE", help="also append what is printed to FILE as a dated section (e.g. benchmarks/log.md)")
    args = ap.parse_args()
    from _log import logged

    with logged(args.log, sys.argv):
        _measure(args)


if __name__ == "__main__":
    main()

"""Replications per second of the SimPy engine on scenarios/bench.toml.

Usage: python benchmarks/bench_simpy.py [--replications N] [--scenario FILE]

Prints replications/s, enterprise-months/s (firm-months simulated) and the time
per replication, on one core. The workload: 200 starting enterprises, 5
signings a month, 72 months (about 21,700 enterprise-months per replication).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import parksim
from parksim.engines.simpy import ParkModel

try:
    from reference_simpy import replication as reference_replication
except ImportError:  # run from another directory
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reference_simpy import replication as reference_replication
from parksim.model.random import Streams

ROOT = Path(__file__).resolve().parents[1]


def enterprise_months(model: ParkModel) -> int:
    f = model.firms
    n = f.n
    start = np.maximum(f.birth[:n], 0.0)
    end = np.minimum(f.death[:n], float(model.H))
    return int(np.maximum(end - start, 0.0).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=30)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "bench.toml"))
    ap.add_argument("--log", metavar="FILE", help="also append what is printed to FILE as a dated section (e.g. benchmarks/log.md)")
    args = ap.parse_args()
    from _log import logged

    with logged(args.log, sys.argv):
        _measure(args)


def _measure(args) -> None:
    scn = parksim.load_scenario(args.scenario)
    ParkModel(scn, Streams(0, 0)).run()  # warm-up (imports, caches)
    em = 0
    t0 = time.perf_counter()
    for r in range(args.replications):
        m = ParkModel(scn, Streams(1, r))
        m.run()
        em += enterprise_months(m)
    dt = time.perf_counter() - t0
    print(f"scenario                 {args.scenario}")
    print("engine                   simpy (one core)")
    print(f"replications             {args.replications}")
    print(f"replications/s           {args.replications / dt:.2f}")
    print(f"enterprise-months/rep    {em / args.replications:,.0f}")
    print(f"enterprise-months/s      {em / dt:,.0f}")
    print(f"ms per replication       {1000 * dt / args.replications:.1f}")
    t0 = time.perf_counter()
    for r in range(args.replications):
        reference_replication(r)
    ref = args.replications / (time.perf_counter() - t0)
    print(f"reference replications/s {ref:.2f}   (straightforward SimPy model, benchmarks/reference_simpy.py)")
    print(f"engine / reference       {args.replications / dt / ref:.2f}x  (the issue asks for >= 0.5x)")


if __name__ == "__main__":
    main()

"""A straightforward SimPy model of the bench workload, for scale.

One SimPy process per project and per firm, a monthly timeout per firm, two
normal draws per enterprise-month, no certifications. It is the baseline the
park-model issue compares the real engine against ("about 6 replications/s"):
`bench_simpy.py` prints both figures and their ratio.
"""

from __future__ import annotations

import numpy as np
import simpy

MONTHS, START_FIRMS, SIGNINGS = 72, 200, 5.0


def replication(seed: int) -> float:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    output = np.zeros(MONTHS // 12)

    def firm(level: float):
        while env.now < MONTHS:
            yield env.timeout(1.0)
            level *= np.exp(0.08 / 12 + 0.2 / np.sqrt(12) * rng.normal() + 0.01 * rng.normal())
            if rng.random() < 0.005 or env.now > MONTHS:
                return
            output[int(env.now - 1) // 12] += level / 12

    def project():
        yield env.timeout(rng.lognormal(0.0, 0.7))
        yield env.timeout(rng.lognormal(np.log(2.0), 0.7))
        env.process(firm(rng.lognormal(np.log(8000.0), 1.0)))

    def arrivals():
        while True:
            yield env.timeout(rng.exponential(1.0 / SIGNINGS))
            env.process(project())

    for _ in range(START_FIRMS):
        env.process(firm(rng.lognormal(np.log(3000.0), 1.3)))
    env.process(arrivals())
    env.run(until=MONTHS)
    return float(output.sum())

"""Experiments over the engines: Monte Carlo runs, lever comparison, statistics, checkpoints, estimates, locks.

Internal: the public names are :mod:`parksim`'s (``simulate``, ``compare``, ``RunResult``, ...).
"""

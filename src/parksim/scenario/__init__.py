"""Scenario input: the schema, loading and validation, CSV inputs (register, pipeline), distributions, bounds.

Internal: the public names are :mod:`parksim`'s (``load_scenario``, ``Scenario``, the distributions, ...).
Reads like the layers of parksim: scenario -> model -> engines -> experiments -> results -> CLI.
"""

"""The park model that both engines run: the firms' procedures, compiled with numba and callable from Python.

:mod:`parksim.rules` holds the domain's formulas (growth, certification conditions, pipeline delays, levers,
indicators, assessment). This package holds the procedures written over them, once, for both engines:

* :mod:`~parksim.model.layout`: the state's columns by name (firms, projects, replication scalars, the plan);
* :mod:`~parksim.model.firms`: starting firms and a new firm's attributes (a Gaussian copula over its tech orientation);
* :mod:`~parksim.model.rounds`: the yearly high-tech enterprise, tech-SME and 专精特新 rounds;
* :mod:`~parksim.model.park`: a park's start, the firms' month end (growth, exits, rounds, listing, institutions)
  and the year-end record, with the entry points the SimPy engine calls;
* :mod:`~parksim.model.random`, :mod:`~parksim.model.fastrand`, :mod:`~parksim.model.realise`: keyed random
  streams (common random numbers) and the draw of uncertain parameters;
* :mod:`~parksim.model.jit`: compile options, and the check that numba's cache matches these sources.
* :mod:`~parksim.model.sources`: which sources the engine is compiled from, and their digest (standard library only).

Internal: nothing here is public API.
"""

"""The engines: two schedulers of one model (:mod:`parksim.model`).

* :mod:`~parksim.engines.contract`: what an engine provides, and the registry the CLI and ``simulate`` read;
* :mod:`~parksim.engines.simpy`: one replication as a SimPy discrete-event simulation (processes and containers);
* :mod:`~parksim.engines.fast`: blocks of replications in compiled code, an event heap and a month loop, on threads;
* :mod:`~parksim.engines.replay`: one replication with its event log (``parksim trace``).

Internal: the public names are :mod:`parksim`'s.
"""

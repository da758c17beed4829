"""The fast engine: many replications of the same park model at once, compiled with numba.

The SimPy engine (:mod:`parksim.engines.simpy`) runs one replication as a
discrete-event simulation in Python. This engine runs a *block* of
replications in compiled code, on every core: each replication is advanced by a
``nogil`` numba function on a thread of its own, over struct-of-arrays state
with a leading replication axis. The model is the same:

* the **rules** are the functions of :mod:`parksim.rules` (growth, ramp-up,
  exit ages, signings, certification conditions, year-end sums), compiled in
  place (they are written in the NumPy subset numba compiles);
* the **scheduling** differs. Projects are records whose next event time (landing,
  giving up, production start) is kept in an active list; each month the
  engine processes the events falling in it in time order, then runs the
  month end (growth, exits, certification rounds, year end) as the SimPy
  clock does. Factory space and land are served in signing order with the
  head of the queue blocking, as in the SimPy containers. Event times are
  continuous, as in SimPy; the monthly firm updates are the same in both.
* the **random numbers** come from keyed xoshiro256** streams
  (:mod:`parksim.model.fastrand`): one per project (and the firm it becomes), per starting
  firm, per sector (shocks); a firm's monthly output noise and its decisions in a year
  (certification rounds, listing) are keyed numbers computed where they are used
  (:func:`parksim.model.fastrand.keyed_normal`, :func:`parksim.model.fastrand.keyed_uniform`) from a
  root the firm draws once, so the month loop reads one word per firm and writes none back
  for its noise. So scenario variants stay coupled
  (common random numbers). They are not
  the NumPy streams of the SimPy engine: the engines agree in distribution,
  not draw by draw (tested: ``tests/test_engine_agreement.py``).
* the **yearly assessment** runs in Python between blocks of months (the
  rules of :mod:`parksim.rules.assessment`), so status effects act on the
  months after the decision, as in SimPy; a portfolio's parks advance in
  lockstep.

Uncertain parameters are drawn per replication by :func:`parksim.model.realise.realise`
from the same streams as the SimPy engine (so both engines see the same
parameter values for a seed and replication).
"""

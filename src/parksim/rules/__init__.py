"""The domain rules of parksim, as plain functions.

Each rule is written once here and called by every engine; engines only decide
*when* a rule applies. The functions take NumPy arrays (one entry per firm) or
scalars alike and never draw random numbers themselves: the engine passes the
uniform or normal numbers it drew from the entity's own stream.

Modules:

* :mod:`parksim.rules.growth` -- output growth, ramp-up, exit ages.
* :mod:`parksim.rules.firms` -- a new enterprise's attributes (the tech-orientation
  copula, yes/no attributes, R&D, exit time) and the starting enterprises' certificates.
* :mod:`parksim.rules.certification` -- high-tech enterprise, tech-based SME,
  专精特新 and above-size status.
* :mod:`parksim.rules.pipeline` -- signing times, project choices and stage timing.
* :mod:`parksim.rules.indicators` -- the park's yearly indicators.
* :mod:`parksim.rules.levers` -- each policy lever's effects and yearly cost.
* :mod:`parksim.rules.assessment` -- yearly assessment rules, the status state machine,
  and the yearly cycle both engines run (:func:`parksim.rules.assessment.drive`).
"""

from parksim.rules import assessment, certification, firms, growth, indicators, levers, pipeline

__all__ = ["assessment", "certification", "firms", "growth", "indicators", "levers", "pipeline"]

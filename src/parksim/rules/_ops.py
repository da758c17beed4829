"""Array primitives the rules use, compiled without allocation for a single firm.

In Python (the SimPy engine, on arrays of firms) :func:`where` is
``np.where``. Compiled by numba for plain numbers (the fast engine, one firm at
a time) it is a branch that returns a number; ``np.where`` would build a 0-d
array, which costs an allocation per call.
"""

from __future__ import annotations

import numpy as np
from numba.core import types
from numba.extending import overload


def where(cond, a, b):
    """``np.where(cond, a, b)``; a plain number when all three are numbers (compiled)."""
    return np.where(cond, a, b)


def _scalar(t) -> bool:
    return isinstance(t, (types.Number, types.Boolean))


@overload(where, jit_options={"cache": True})
def _where(cond, a, b):
    if _scalar(cond) and _scalar(a) and _scalar(b):

        def scalar(cond, a, b):
            return a if cond else b

        return scalar

    def array(cond, a, b):
        return np.where(cond, a, b)

    return array

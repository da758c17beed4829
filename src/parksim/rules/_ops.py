"""Array primitives the rules use, compiled without allocation for a single firm.

In Python (on arrays of firms, e.g. in checks) :func:`where` is
``np.where`` and :func:`total` is ``np.sum``. Compiled by numba for plain
numbers (the firms' procedures of both engines, one firm at a time) ``where`` is a branch that
returns a number (``np.where`` would build a 0-d array, an allocation per call)
and ``total`` is the number itself, so a rule written once sums over an array
of firms or adds up one firm's part. :func:`ndtri` (the standard normal
quantile) is SciPy's in Python and :func:`parksim.model.fastrand.ndtri` compiled;
:func:`exp` is ``np.exp`` in Python and :func:`parksim.model.fastrand.exp` (within
1.5 ulp, no call into the C library) compiled for a number.
"""

from __future__ import annotations

import numpy as np
from numba.core import types
from numba.extending import overload
from scipy import special


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


def total(x):
    """``np.sum(x)``; the number itself (as a float) when ``x`` is a number (compiled)."""
    return np.sum(x)


@overload(total, jit_options={"cache": True})
def _total(x):
    if _scalar(x):

        def scalar(x):
            return x * 1.0

        return scalar

    def array(x):
        return x.sum()

    return array


def ndtri(p):
    """Standard normal quantile: ``scipy.special.ndtri``; :func:`parksim.model.fastrand.ndtri` for a number (compiled)."""
    return special.ndtri(p)


@overload(ndtri, jit_options={"cache": True})
def _ndtri(p):
    if _scalar(p):
        from parksim.model.fastrand import ndtri as compiled

        def scalar(p):
            return compiled(p)

        return scalar
    return None


def exp(x):
    """``np.exp``; :func:`parksim.model.fastrand.exp` for a number (compiled, within 1.5 ulp of it)."""
    return np.exp(x)


@overload(exp, jit_options={"cache": True})
def _exp(x):
    if _scalar(x):
        from parksim.model.fastrand import exp as compiled

        def scalar(x):
            return compiled(x * 1.0)

        return scalar
    return None

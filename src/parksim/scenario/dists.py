"""Probability distributions as scenario values.

A scenario quantity is either a plain number or a table such as
``{dist = "lognormal", median = 1.0, sigma = 0.7}``. The same tables serve two
different purposes, and parksim keeps them apart:

* a **parameter** (:data:`Param`) is a fact about the park that we do not know
  (the approval rate of high-tech applications, say). A distribution given
  for a parameter is drawn **once per replication**: every firm and project of
  that replication sees the same value. This is *parameter uncertainty*.
* an **entity distribution** (:data:`EntityDist`) describes how projects or
  firms differ from each other (the landing delay of each project, say). It is
  sampled **once per entity**. This is *variability*. The parameters of an
  entity distribution may themselves be uncertain (``median`` given as a
  distribution): they are drawn once per replication first.

Every distribution samples by its inverse CDF from exactly one uniform number,
so that two scenarios that differ only in a distribution's parameters stay
coupled draw by draw (common random numbers), and the number of draws an
entity consumes never depends on parameter values.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, model_validator
from scipy.special import ndtr, ndtri

__all__ = [
    "Dist",
    "EntityDist",
    "Fixed",
    "LogNormal",
    "Normal",
    "Param",
    "Triangular",
    "Uniform",
    "ENTITY",
    "support",
    "draw_range",
    "typical",
    "ppf",
]

#: Marker placed in the metadata of fields that hold an entity distribution.
ENTITY = "parksim:entity-distribution"


def _quantity(v: Any):
    """Validate a number or a distribution table, with one readable message."""
    if isinstance(v, _Spec):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float, dict)):
        raise ValueError(f'expected a number or a distribution table such as {{dist = "uniform", low = 1, high = 2}}, got {v!r}')
    if isinstance(v, (int, float)):
        try:
            x = float(v)
        except OverflowError:  # a TOML integer of hundreds of digits
            raise ValueError(f"expected a finite number, got an integer of {len(str(abs(v)))} digits") from None
        if math.isnan(x):
            raise ValueError("expected a number, got nan")
        return x
    name = v.get("dist")
    cls = _BY_NAME.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown distribution dist = {name!r}; expected one of {sorted(_BY_NAME)}")
    try:
        return cls.model_validate(v)
    except ValidationError as err:
        parts = []
        for e in err.errors():
            where = ".".join(str(x) for x in e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            parts.append(f"{where}: {msg}" if where else msg)
        raise ValueError(f"{name} distribution: " + "; ".join(parts)) from None


_Q = PlainValidator(_quantity)
#: A scenario parameter: a number, or a distribution drawn once per replication.
#: (validated by :func:`_quantity`: a float, or one of the distribution classes)
Param = Annotated[Any, _Q]
#: A per-entity distribution (a plain number means "every entity the same").
EntityDist = Annotated[Any, _Q, ENTITY]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def ppf(self, u: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


class Fixed(_Spec):
    """A known value: ``{dist = "fixed", value = 3}`` (same as writing ``3``)."""

    dist: Literal["fixed"]
    value: Param

    @model_validator(mode="after")
    def _check(self):
        _check_finite(self, "value")
        return self

    def ppf(self, u):
        return np.full_like(np.asarray(u, dtype=float), _f(self.value)) if np.ndim(u) else _f(self.value)


class Uniform(_Spec):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: Param
    high: Param

    @model_validator(mode="after")
    def _order(self):
        _check_finite(self, "low", "high")
        _check_order(self, "low", "high")
        return self

    def ppf(self, u):
        lo, hi = _f(self.low), _f(self.high)
        return lo + (hi - lo) * u


class Triangular(_Spec):
    """Triangular with ``low <= mode <= high``."""

    dist: Literal["triangular"]
    low: Param
    mode: Param
    high: Param

    @model_validator(mode="after")
    def _order(self):
        _check_finite(self, "low", "mode", "high")
        _check_order(self, "low", "mode")
        _check_order(self, "mode", "high")
        return self

    def ppf(self, u):
        a, c, b = _f(self.low), _f(self.mode), _f(self.high)
        if b == a:
            return a + 0.0 * u
        fc = (c - a) / (b - a)
        u = np.asarray(u, dtype=float)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        out = np.where(u < fc, left, right)
        return float(out) if out.ndim == 0 else out


class Normal(_Spec):
    """Normal with ``mean`` and ``sd``, optionally truncated to ``[low, high]``."""

    dist: Literal["normal"]
    mean: Param
    sd: Param
    low: float = -math.inf
    high: float = math.inf

    @model_validator(mode="after")
    def _check(self):
        _check_finite(self, "mean", "sd")
        _check_nonneg(self, "sd")
        _check_order(self, "low", "high")
        if isinstance(self.mean, (int, float)) and not (self.low <= self.mean <= self.high):
            raise ValueError(f"mean {self.mean} must lie within [low, high] = [{self.low}, {self.high}]")
        return self

    def ppf(self, u):
        m, s = _f(self.mean), _f(self.sd)
        if s == 0:
            return m + 0.0 * np.asarray(u) if np.ndim(u) else m
        lo = ndtr((self.low - m) / s)
        hi = ndtr((self.high - m) / s)
        q = lo + (hi - lo) * np.asarray(u, dtype=float)
        # keep strictly inside (0, 1) so that ndtri stays finite
        q = np.clip(q, 1e-300, 1.0 - 1e-16)
        out = np.clip(m + s * ndtri(q), self.low, self.high)
        return float(out) if out.ndim == 0 else out


class LogNormal(_Spec):
    """Log-normal given by its ``median`` and ``sigma`` (the SD of the log).

    The mean is ``median * exp(sigma**2 / 2)``; ``P(X > 2 * median)`` is
    ``1 - Phi(ln 2 / sigma)``, e.g. 16% for ``sigma = 0.7``.
    """

    dist: Literal["lognormal"]
    median: Param
    sigma: Param

    @model_validator(mode="after")
    def _check(self):
        _check_finite(self, "median", "sigma")
        _check_positive(self, "median")
        _check_nonneg(self, "sigma")
        return self

    def ppf(self, u):
        med, s = _f(self.median), _f(self.sigma)
        q = np.clip(np.asarray(u, dtype=float), 1e-300, 1.0 - 1e-16)
        out = med * np.exp(s * ndtri(q))
        return float(out) if out.ndim == 0 else out


Dist = Fixed | Uniform | Triangular | Normal | LogNormal
_BY_NAME = {"fixed": Fixed, "uniform": Uniform, "triangular": Triangular, "normal": Normal, "lognormal": LogNormal}
DIST_TYPES = tuple(_BY_NAME.values())

for _cls in DIST_TYPES:
    _cls.model_rebuild()


def _f(x) -> float:
    if isinstance(x, _Spec):
        raise TypeError("distribution parameters must be realised before sampling")
    return float(x)


def _check_finite(obj, *names):
    """A distribution's parameters are finite (or finite distributions themselves)."""
    for name in names:
        lo, hi = draw_range(getattr(obj, name))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"{name} must be a finite number, got {_show(getattr(obj, name))}")


def _check_order(obj, a, b):
    va, vb = getattr(obj, a), getattr(obj, b)
    if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va > vb:
        raise ValueError(f"{a} ({va}) must be <= {b} ({vb})")


def _check_nonneg(obj, name):
    v = getattr(obj, name)
    lo, _ = support(v)
    if lo < 0:
        raise ValueError(f"{name} must be >= 0, got {_show(v)}")


def _check_positive(obj, name):
    v = getattr(obj, name)
    lo, _ = support(v)
    if lo <= 0:
        raise ValueError(f"{name} must be > 0, got {_show(v)}")


def _show(v) -> str:
    if isinstance(v, _Spec):
        return str(v.model_dump())
    return repr(v)


def support(value) -> tuple[float, float]:
    """Smallest and largest value a number or distribution can take."""
    if isinstance(value, bool):
        return float(value), float(value)
    if isinstance(value, (int, float)):
        return float(value), float(value)
    if isinstance(value, Fixed):
        return support(value.value)
    if isinstance(value, Uniform):
        return support(value.low)[0], support(value.high)[1]
    if isinstance(value, Triangular):
        return support(value.low)[0], support(value.high)[1]
    if isinstance(value, Normal):
        if support(value.sd)[1] == 0:
            return support(value.mean)
        return float(value.low), float(value.high)
    if isinstance(value, LogNormal):
        if support(value.sigma)[1] == 0:
            return support(value.median)
        return math.ulp(0.0), math.inf  # open at 0: every value is > 0
    raise TypeError(f"not a scenario quantity: {value!r}")


#: the extreme uniform numbers a sampler turns into a normal quantile (both engines clip to them)
_Q_LO, _Q_HI = 1e-300, 1.0 - 1e-16
_Z_LO, _Z_HI = float(ndtri(_Q_LO)), float(ndtri(_Q_HI))  # about -37.0 and 8.2


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def draw_range(value) -> tuple[float, float]:
    """Smallest and largest value sampling can actually produce (parameters realised anywhere in their own range).

    Unlike :func:`support`, which is the mathematical support (a log-normal's is unbounded), this is what a
    replication can see: both engines turn a uniform number into a normal quantile only within
    [1e-300, 1 - 1e-16], so a normal reaches at most mean + 8.2 sd and a log-normal median x exp(8.2 sigma).
    Bounds that must hold for every draw (a hard limit of the schema) are checked on this range.
    """
    if isinstance(value, bool):
        return float(value), float(value)
    if isinstance(value, int):
        try:
            return float(value), float(value)
        except OverflowError:  # an integer of hundreds of digits
            return (math.inf, math.inf) if value > 0 else (-math.inf, -math.inf)
    if isinstance(value, float):
        return value, value
    if isinstance(value, Fixed):
        return draw_range(value.value)
    if isinstance(value, (Uniform, Triangular)):
        return draw_range(value.low)[0], draw_range(value.high)[1]
    if isinstance(value, Normal):
        m_lo, m_hi = draw_range(value.mean)
        s_hi = draw_range(value.sd)[1]
        lo = m_lo + s_hi * _Z_LO if s_hi > 0 else m_lo
        hi = m_hi + s_hi * _Z_HI if s_hi > 0 else m_hi
        return max(lo, float(value.low)), min(hi, float(value.high))
    if isinstance(value, LogNormal):
        m_lo, m_hi = draw_range(value.median)
        s_hi = draw_range(value.sigma)[1]
        return m_lo * _exp(s_hi * _Z_LO), m_hi * _exp(s_hi * _Z_HI)
    raise TypeError(f"not a scenario quantity: {value!r}")


def typical(value) -> float:
    """The median of a number or distribution, its own uncertain parameters taken at their medians."""
    if isinstance(value, (int, float)):
        return float(value)
    updates = {name: typical(getattr(value, name)) for name in type(value).model_fields if isinstance(getattr(value, name), _Spec)}
    spec = value.model_copy(update=updates) if updates else value
    return float(spec.ppf(0.5))


def ppf(value, u):
    """Inverse CDF of a realised number or distribution at ``u`` in [0, 1)."""
    if isinstance(value, (int, float)):
        return float(value) + 0.0 * np.asarray(u) if np.ndim(u) else float(value)
    return value.ppf(u)


def in_range(lo: float | None = None, hi: float | None = None, *, strict_lo: bool = False):
    """A pydantic after-validator: every value the quantity can take is in range."""

    def check(v):
        s_lo, s_hi = support(v)
        if lo is not None and (s_lo < lo or (strict_lo and s_lo <= lo)):
            op = ">" if strict_lo else ">="
            raise ValueError(f"must be {op} {lo}, got {_show(v)}")
        if hi is not None and s_hi > hi:
            raise ValueError(f"must be <= {hi}, got {_show(v)}")
        return v

    check.bounds = (lo, hi, strict_lo)  # read by the parameter reference (``parksim params``)
    return check

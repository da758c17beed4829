"""Bounds of the scenario's numbers: hard limits (refused) and plausible ranges (warned about).

Each field of the schema declares its bounds with :func:`parksim.scenario.spec._p`:

* every number must be finite (a patience may be ``inf``: "waits for ever"), and so must every value a
  distribution can draw (:func:`parksim.scenario.dists.draw_range`);
* ``limit=(lo, hi)``: a hard limit, where a value outside cannot describe a park (signings per month, firms,
  institutions per year, ...) or would make a run run out of memory or time; every other number is limited to
  ±:data:`MAGNITUDE`. Checked on every value a distribution can draw, so the engines never see a value
  validation did not bound;
* ``plausible=(lo, hi)``: the range of values seen in real parks. A value outside it (a distribution's
  median) is accepted with a warning naming key, value, unit and range: most often a value in the wrong unit
  (a growth of 10 meaning 10%, a revenue in 万元 where 亿元 is expected).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

from parksim.errors import Problem
from parksim.scenario.dists import _show, _Spec, draw_range, typical

__all__ = ["check_field", "plausibility_problems", "fmt"]


#: the hard limit of a number without a limit of its own: larger than any park's amount in any unit (1e15 m² is
#: seven times the Earth's land; 1e15 yuan ten times the world's yearly output), small enough that sums over a
#: million firms and fifty years of growth stay far inside floating-point range
MAGNITUDE = 1e15


def fmt(x: float) -> str:
    """A bound or value as a person writes it: 10000, 0.5, 1e+06, inf."""
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e6):
        return f"{int(x)}"
    return f"{x:g}"


def _extra(model_cls, name: str) -> dict:
    f = model_cls.model_fields.get(name)
    return (f.json_schema_extra or {}) if f is not None and isinstance(f.json_schema_extra, dict) else {}


def _finite_floats(v: Any) -> bool:
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(_finite_floats(x) for x in v)
    return True


def check_field(model_cls, name: str, v: Any) -> Any:
    """Check one field's value against its declared bounds (a pydantic after-validator of every field)."""
    if v is None or isinstance(v, bool | str | dict | BaseModel) and not isinstance(v, _Spec):
        return v
    extra = _extra(model_cls, name)
    unit = extra.get("unit", "")
    unit_s = f" {unit}" if unit and unit != "-" else ""
    if isinstance(v, list):
        if not _finite_floats(v):
            raise ValueError(f"expected finite numbers, got {v}")
        return v
    if not isinstance(v, int | float | _Spec):
        return v
    lo, hi = draw_range(v)
    dist = isinstance(v, _Spec)
    if not extra.get("allow_inf") and not (math.isfinite(lo) and math.isfinite(hi)):
        if dist:
            raise ValueError(
                f"the distribution {_show(v)} can draw {fmt(hi if not math.isfinite(hi) else lo)}; expected finite values"
                " (a smaller sigma or sd, or bounds low/high)"
            )
        raise ValueError("expected a finite number")
    limit = extra.get("limit", (-MAGNITUDE, MAGNITUDE))
    if extra.get("allow_inf"):  # inf is allowed ("no limit"); finite values are still bounded
        lo, hi = (lo if math.isfinite(lo) else limit[0]), (hi if math.isfinite(hi) else limit[1])
    if limit is not None:
        a, b = limit
        if lo < a or hi > b:
            bad = lo if lo < a else hi
            what = f"the distribution {_show(v)} can draw {fmt(bad)}" if dist else f"got {fmt(v)}"
            raise ValueError(f"must be between {fmt(a)} and {fmt(b)}{unit_s} (a value outside cannot describe a park); {what}")
    return v


def _walk(model: BaseModel, path: tuple, out: list) -> None:
    cls = type(model)
    for name in cls.model_fields:
        v = getattr(model, name)
        key = (*path, name)
        if isinstance(v, BaseModel) and not isinstance(v, _Spec):
            _walk(v, key, out)
        elif isinstance(v, dict):
            for k, x in v.items():
                if isinstance(x, BaseModel) and not isinstance(x, _Spec):
                    _walk(x, (*key, str(k)), out)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                if isinstance(x, BaseModel) and not isinstance(x, _Spec):
                    _walk(x, (*key, str(i)), out)
        elif isinstance(v, int | float | _Spec) and not isinstance(v, bool):
            plausible = _extra(cls, name).get("plausible")
            if plausible is None:
                continue
            t = typical(v)
            if math.isinf(t) and _extra(cls, name).get("allow_inf"):
                continue  # "no limit" / "waits for ever": a choice, not a slip
            a, b = plausible
            if not a <= t <= b:
                unit = _extra(cls, name).get("unit", "")
                shown = fmt(v) if not isinstance(v, _Spec) else f"{_show(v)} (median {fmt(t)})"
                out.append((key, f"{shown} {unit} is outside the plausible range {fmt(a)} to {fmt(b)} {unit}; check the unit"))


def plausibility_problems(scenario: BaseModel, where) -> list[Problem]:
    """Warnings for the values of ``scenario`` outside their plausible range; ``where(key)`` names the file of a key."""
    found: list = []
    _walk(scenario, (), found)
    return [Problem(where(key), ".".join(key), msg) for key, msg in found]

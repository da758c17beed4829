"""Draw a scenario's uncertain parameters for one replication.

Parameters given as distributions become numbers (one draw per replication,
from a stream keyed by the parameter's key path); entity distributions keep
their shape but their own uncertain parameters become numbers. The result is a
scenario of the same type that an engine can read directly.
"""

from __future__ import annotations

from pydantic import BaseModel

from parksim.model.random import Streams, key_of
from parksim.scenario.dists import ENTITY, _Spec


def _draw(spec: _Spec, path: str, streams: Streams) -> float:
    return float(spec.ppf(streams.param_uniform(key_of(path))))


def has_uncertain_parameters(spec) -> bool:
    """Whether some parameter of the distribution ``spec`` is itself a distribution (drawn per replication)."""
    return isinstance(spec, _Spec) and any(isinstance(getattr(spec, name), _Spec) for name in type(spec).model_fields)


def _realise_spec(spec: _Spec, path: str, streams: Streams) -> _Spec:
    updates = {}
    for name in type(spec).model_fields:
        v = getattr(spec, name)
        if isinstance(v, _Spec):
            inner = _realise_spec(v, f"{path}.{name}", streams)
            updates[name] = _draw(inner, f"{path}.{name}", streams)
    return spec.model_copy(update=updates) if updates else spec


def _value(v, path: str, entity: bool, streams: Streams):
    if isinstance(v, _Spec):
        spec = _realise_spec(v, path, streams)
        return spec if entity else _draw(spec, path, streams)
    if isinstance(v, BaseModel):
        return _walk(v, path, streams)
    if isinstance(v, dict):
        out = {k: _value(x, f"{path}.{k}", entity, streams) for k, x in v.items()}
        return v if all(out[k] is v[k] for k in v) else out
    if isinstance(v, list):
        out = [_value(x, f"{path}.{i}", entity, streams) for i, x in enumerate(v)]
        return v if all(a is b for a, b in zip(out, v, strict=True)) else out
    return v


def _walk(model: BaseModel, path: str, streams: Streams) -> BaseModel:
    updates = {}
    for name, field in type(model).model_fields.items():
        v = getattr(model, name)
        p = f"{path}.{name}" if path else name
        nv = _value(v, p, ENTITY in field.metadata, streams)
        if nv is not v:
            updates[name] = nv
    if not updates:
        return model
    out = model.model_copy(update=updates)
    # private attributes (source path, ...) survive model_copy
    return out


def realise(scenario, streams: Streams):
    """Return ``scenario`` with every uncertain parameter drawn for ``streams``' replication."""
    return _walk(scenario, "", streams)


def with_given(scenario, given):
    """A copy of ``scenario`` whose uncertain parameters in ``given`` (:class:`parksim.model.random.GivenUniforms`)
    take its uniforms instead of being drawn, in both engines; a portfolio's parks with it. ``given`` None: drawn."""
    out = scenario.model_copy()
    out._given = given
    out._uncertain = None
    if scenario._members:
        members = []
        for name, member in scenario._members:
            m = member.model_copy()
            m._given, m._uncertain = given, None
            members.append((name, m))
        out._members = members
    return out


def uncertain_parameters(model: BaseModel, path: str = "") -> list[str]:
    """Key paths of all parameters given as distributions (drawn once per replication)."""
    out: list[str] = []

    def visit(v, p, entity):
        if isinstance(v, _Spec):
            for name in type(v).model_fields:
                inner = getattr(v, name)
                if isinstance(inner, _Spec):
                    visit(inner, f"{p}.{name}", False)
            if not entity:
                out.append(p)
        elif isinstance(v, BaseModel):
            for name, field in type(v).model_fields.items():
                visit(getattr(v, name), f"{p}.{name}" if p else name, ENTITY in field.metadata)
        elif isinstance(v, dict):
            for k, x in v.items():
                visit(x, f"{p}.{k}", entity)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                visit(x, f"{p}.{i}", entity)

    visit(model, path, False)
    return out

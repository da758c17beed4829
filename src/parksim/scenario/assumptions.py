"""What a scenario assumes: its uncertain parameters (with their ranges) and which policy levers are on.

A lever's own parameters (an R&D subsidy's elasticity, credit's effect on exits) are only
assumptions of a run in which the lever acts: with the lever off they change nothing, so they are
not listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from parksim.scenario.dists import _Spec

if TYPE_CHECKING:  # pandas is loaded when a table is made
    import pandas as pd

#: each lever and the fields that switch it on (any of them away from its "off" value)
LEVER_SWITCHES = {
    "promotion": {"extra_signings_per_month": 0.0},
    "service": {"delay_factor": 1.0, "cost_yuan_per_year": 0.0},
    "factories": {"floor_space_m2": 0.0},
    "land": {"extra_quota_mu_per_year": 0.0},
    "rd_subsidy": {"rate": 0.0},
    "cultivation": {"apply_boost": 0.0, "approval_boost": 0.0},
    "credit": {"fund_yuan": 0.0},
    "platforms": {"extra_institutions_per_year": 0.0},
    "bonds": {"amount_yuan": 0.0},
}

UNCERTAIN_COLUMNS = ["key", "distribution", "p5", "median", "p95", "unit", "meaning"]


def active_levers(scenario) -> list[str]:
    """Names of the policy levers that act in ``scenario`` (a lever set by a distribution counts as on).

    Examples
    --------
    >>> import parksim
    >>> scn = parksim.load_scenario("scenarios/xiushan-2024.toml", ["levers.rd_subsidy.rate=0.1"])
    >>> parksim.active_levers(scn)
    ['rd_subsidy']
    """
    levers = scenario.levers
    out = []
    for name, switches in LEVER_SWITCHES.items():
        lever = getattr(levers, name)
        if any(isinstance(getattr(lever, f), _Spec) or getattr(lever, f) != off for f, off in switches.items()):
            out.append(name)
    return out


def _resolve(model, path: str):
    """The value at ``path`` and the schema field (of the innermost table) that holds it."""
    obj, field = model, None
    for part in path.split("."):
        if isinstance(obj, BaseModel) and part in type(obj).model_fields:
            if not isinstance(obj, _Spec):
                field = type(obj).model_fields[part]
            obj = getattr(obj, part)
        elif isinstance(obj, dict):
            obj = obj[part]
        elif isinstance(obj, list):
            obj = obj[int(part)]
        else:  # pragma: no cover - paths come from the same walk
            raise KeyError(path)
    return obj, field


def describe(spec: _Spec) -> str:
    """A distribution as a scenario file writes it, e.g. ``uniform(low=5000, high=15000)``."""
    d = spec.model_dump()
    kind = d.pop("dist")
    args = ", ".join(
        f"{k}={'?' if isinstance(v, dict) else f'{v:g}'}" for k, v in d.items() if abs(v if not isinstance(v, dict) else 0) != np.inf
    )
    return f"{kind}({args})"


def uncertain_parameters(scenario, *, inactive_levers: bool = False) -> pd.DataFrame:
    """The scenario's parameters given as distributions (drawn once per replication), with their ranges.

    Parameters
    ----------
    scenario : Scenario or path
    inactive_levers : bool, default False
        Also list the parameters of levers that are off (they have no effect on the run).

    Returns
    -------
    pandas.DataFrame
        ``key, distribution, p5, median, p95, unit, meaning``: one row per uncertain parameter;
        ``p5, median, p95`` are its 5%, 50% and 95% quantiles (NaN where they depend on another
        uncertain parameter).

    Examples
    --------
    >>> import parksim
    >>> u = parksim.uncertain_parameters("scenarios/xiushan-2024.toml")
    >>> row = u.set_index("key").loc["institutions.incubation_added_m2_per_year"]
    >>> row.distribution, float(row.p5), float(row.p95)
    ('uniform(low=5000, high=15000)', 5500.0, 14500.0)
    """
    import pandas as pd

    from parksim.model.realise import uncertain_parameters as paths
    from parksim.scenario.loader import as_scenario

    scn = as_scenario(scenario)
    on = set(active_levers(scn))
    rows = []
    for key in paths(scn):
        parts = key.split(".")
        if not inactive_levers and parts[0] == "levers" and parts[1] not in on:
            continue
        if parts[:2] == ["certification", "chongqing_registry"] and scn.certification.tech_based != "chongqing_registry":
            continue  # the definition of a tech-based firm the scenario does not use: no effect
        if parts[:3] == ["certification", "tech_sme", "register_prob"] and scn.certification.tech_based != "national_tech_sme":
            continue
        spec, field = _resolve(scn, key)
        try:
            p5, p50, p95 = (float(x) for x in spec.ppf(np.array([0.05, 0.5, 0.95])))
        except (TypeError, ValueError, AttributeError):  # a parameter of the distribution is itself uncertain
            p5 = p50 = p95 = np.nan
        extra = (field.json_schema_extra or {}) if field is not None else {}
        rows.append((key, describe(spec), p5, p50, p95, extra.get("unit", ""), field.description or "" if field is not None else ""))
    return pd.DataFrame(rows, columns=UNCERTAIN_COLUMNS)

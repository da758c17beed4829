"""Every result of a run is a number: a non-finite indicator is an error, never a row of an output file."""

from __future__ import annotations

import numpy as np

from parksim.errors import InputError

#: indicators that are NaN, not an error, where they are undefined: a growth over a zero base (a park with no
#: output, revenue or R&D the year before)
UNDEFINED_GROWTH = frozenset({"output_growth", "above_size_output_growth", "rd_growth"})
ASSESSMENT_COLUMNS = frozenset({"assessment_outcome", "assessment_status"})


class ResultError(InputError):
    """A run produced a value that is not a finite number (the scenario drives the model out of range)."""


def unlimited(scenario) -> frozenset:
    """Indicators that are not finite by the scenario's own choice: a park with no limit to its factory floor has
    an infinite floor space and no utilisation (NaN)."""
    members = [m for _, m in scenario._members] if scenario.portfolio is not None and scenario._members else [scenario]
    if any(m.capacity.factory_floor_m2 == np.inf for m in members):
        return frozenset({"factory_floor_m2", "factory_utilisation"})
    return frozenset()


def assessed_parks(scenario) -> bool | frozenset:
    """What :func:`check_finite` takes as ``assessed``: whether the scenario has an assessment, or for a portfolio the
    names of the parks it assesses (a park with ``assessed = false`` has no outcome or status)."""
    if scenario.assessment is None or scenario.portfolio is None:
        return scenario.assessment is not None
    return frozenset(p.name for p in scenario.portfolio.parks if p.assessed)


def check_finite(
    values: np.ndarray,
    names: list[str],
    first_year: int,
    seed: int,
    assessed: bool | frozenset,
    shown: int = 5,
    infinite_ok: frozenset = frozenset(),
) -> None:
    """Raise :class:`ResultError` naming indicator, year and replication of every non-finite value (the first few).

    ``values`` is (replications, years, columns) with column ``names`` (``park:indicator`` in a portfolio);
    the indicators in ``infinite_ok`` may be +inf or NaN (see :func:`unlimited`). ``assessed``: whether the
    assessment columns hold values, or the names of the parks whose do (:func:`assessed_parks`).
    """
    if values.size == 0:
        return
    finite = np.isfinite(values).all(axis=(0, 1))  # one pass; the columns checked in detail are those with a non-finite value
    if finite.all():
        return
    some = np.flatnonzero(~finite)
    values, names = values[:, :, some], [names[k] for k in some]

    def has_status(name: str) -> bool:
        return assessed if isinstance(assessed, bool) else name.rsplit(":", 1)[0] in assessed

    base = [n.rsplit(":", 1)[-1] for n in names]
    check = np.array([not (b in ASSESSMENT_COLUMNS and not has_status(n)) for n, b in zip(names, base, strict=True)])
    nan_ok = np.array([b in UNDEFINED_GROWTH for b in base])
    inf_ok = np.array([b in infinite_ok for b in base])
    v = values[:, :, check]
    bad = (np.isinf(v) & ~(inf_ok[check] & (v > 0))) | (np.isnan(v) & ~(nan_ok | inf_ok)[check])
    if not bad.any():
        return
    cols = np.flatnonzero(check)
    where = np.argwhere(bad)
    parts = [f"replication {int(r)}, year {first_year + int(y)}: {names[cols[c]]} = {v[r, y, c]}" for r, y, c in where[:shown]]
    more = f" (and {len(where) - shown:,} more)" if len(where) > shown else ""
    raise ResultError(
        f"the run's results are not all finite numbers (seed {seed}): " + "; ".join(parts) + more + ". Nothing was written."
        " The scenario drives the model beyond floating-point range: check its growth, noise and size parameters"
        " (parksim validate warns about values outside their plausible range)."
    )


#: shares of firms (0 to 100 %); growth indicators are at least -100 %; every other indicator is at least 0
SHARES = frozenset(
    {
        "hnte_share",
        "tech_based_share",
        "above_size_rd_active_share",
        "above_size_rd_institution_share",
        "factory_utilisation",
        "hightech_service_share",
    }
)
_TOL = 1e-6


def check_ranges(values: np.ndarray, names: list[str], first_year: int, n_statuses: int, shown: int = 5) -> None:
    """Raise :class:`ResultError` for values no run can produce: a negative count or amount, a share outside
    0-100 %, a growth below -100 %, an assessment outcome other than 0, 1, 2 or a status code out of range.
    (Used on checkpoints, which a run reads back from disk.)"""
    if values.size == 0:
        return
    found = []
    for c, name in enumerate(names):
        base = name.rsplit(":", 1)[-1]
        v = values[:, :, c]
        with np.errstate(invalid="ignore"):
            if base in ASSESSMENT_COLUMNS:
                if n_statuses == 0:
                    continue
                top = 2 if base == "assessment_outcome" else n_statuses - 1
                bad = ~np.isnan(v) & ((v < 0) | (v > top) | (v != np.round(v)))
                expected = f"a whole number from 0 to {top}"
            elif base in UNDEFINED_GROWTH:
                bad, expected = v < -100 - _TOL, "at least -100 %"
            elif base in SHARES:
                bad, expected = (v < -_TOL) | (v > 100 + _TOL), "a share from 0 to 100 %"
            else:
                bad, expected = v < -_TOL, "at least 0"
        for r, y in np.argwhere(bad)[:shown]:
            found.append(f"replication {int(r)}, year {first_year + int(y)}: {name} = {v[r, y]:g} (expected {expected})")
    if found:
        more = f" (and {len(found) - shown} more)" if len(found) > shown else ""
        raise ResultError("; ".join(found[:shown]) + more)

"""Every result of a run is a number: a non-finite indicator is an error, never a row of an output file."""

from __future__ import annotations

import numpy as np

from ._errors import InputError

#: indicators that are NaN, not an error, where they are undefined: a growth over a zero base (a park with no
#: output, revenue or R&D the year before)
UNDEFINED_GROWTH = frozenset({"output_growth", "above_size_output_growth", "rd_growth"})
ASSESSMENT_COLUMNS = frozenset({"assessment_outcome", "assessment_status"})


class ResultError(InputError):
    """A run produced a value that is not a finite number (the scenario drives the model out of range)."""


def check_finite(values: np.ndarray, names: list[str], first_year: int, seed: int, assessed: bool, shown: int = 5) -> None:
    """Raise :class:`ResultError` naming indicator, year and replication of every non-finite value (the first few).

    ``values`` is (replications, years, columns) with column ``names`` (``park:indicator`` in a portfolio).
    """
    if values.size == 0:
        return
    base = [n.rsplit(":", 1)[-1] for n in names]
    check = np.array([not (b in ASSESSMENT_COLUMNS and not assessed) for b in base])
    nan_ok = np.array([b in UNDEFINED_GROWTH for b in base])
    v = values[:, :, check]
    bad = np.isinf(v) | (np.isnan(v) & ~nan_ok[check])
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

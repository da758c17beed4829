"""CSV inputs next to a scenario: the enterprise register and the signed-project pipeline (and the observations'
CSV, :mod:`parksim.scenario.observations`, read the same way).

Every column is documented in :data:`REGISTER_COLUMNS` and
:data:`PIPELINE_COLUMNS` (and in the README). A bad cell is an error that names
the file, the row, the column, the value and what was expected.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import math
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from parksim.errors import Problem, ScenarioError

if TYPE_CHECKING:  # pandas is loaded when a table is made
    import pandas as pd

# name: (kind, required, unit, meaning)
REGISTER_COLUMNS: dict[str, tuple[str, bool, str, str]] = {
    "firm_id": ("text", True, "-", "Firm identifier, unique in the file."),
    "sector": ("sector", True, "-", "One of the scenario's sectors."),
    "revenue": ("nonneg", True, "万元", "Last year's revenue (main-business revenue)."),
    "employees": ("pos", False, "persons", "Employees; default: revenue ÷ a labour productivity drawn for the sector."),
    "rd_spend": ("nonneg", False, "万元", "Last year's R&D spending; default: drawn from the sector's R&D parameters."),
    "st_staff_share": ("share", False, "ratio", "S&T staff ÷ employees; default: drawn for the sector."),
    "hightech_revenue_share": ("share", False, "ratio", "High-tech products/services ÷ revenue; default: drawn."),
    "hightech_service_share": ("share", False, "ratio", "High-tech service revenue ÷ revenue; default: drawn."),
    "age_years": ("nonneg", False, "years", "Years since registration; default: drawn from the sector baseline."),
    "hnte_expiry": ("date", False, "date", "Expiry date of a valid high-tech certificate (YYYY-MM-DD); empty: none."),
    "tech_sme": (
        "bool",
        False,
        "0/1",
        "Tech-based (a registered tech-based SME, or in Chongqing's registry: certification.tech_based) for the current year.",
    ),
    "zjtx_expiry": ("date", False, "date", "Expiry date of a valid 专精特新 recognition; empty: none."),
    "floor_space_m2": ("nonneg", False, "m²", "Rented standard-factory floor space; 0 or empty: own premises."),
    "ip_class1": ("bool", False, "0/1", "Owns a Class I IP item (invention patent, ...); default: drawn."),
    "ip_class2": ("count", False, "items", "Number of Class II IP items; default: drawn."),
    "niche": ("bool", False, "0/1", "Works in a niche market (专精特新 precondition); default: drawn."),
    "rd_institution": ("bool", False, "0/1", "Has its own R&D institution; default: drawn."),
    "listed": ("bool", False, "0/1", "Listed company."),
}

PIPELINE_COLUMNS: dict[str, tuple[str, bool, str, str]] = {
    "project_id": ("text", True, "-", "Project identifier, unique in the file."),
    "signing_date": ("date", True, "date", "Date of signing (YYYY-MM-DD or YYYY-MM); may be before the start."),
    "sector": ("sector", True, "-", "One of the scenario's sectors."),
    "mode": ("mode", True, "rent/build", "`rent` a standard factory or `build` on bought land."),
    "floor_space_m2": ("nonneg", False, "m²", "Floor space needed; required when mode is rent."),
    "land_mu": ("nonneg", False, "mu", "Land needed; required when mode is build."),
    "planned_output": ("pos", True, "万元/year", "Planned yearly output at full capacity."),
    "jobs": ("pos", False, "persons", "Planned jobs at full capacity; default: output ÷ sector labour productivity."),
    "investment": ("nonneg", False, "万元", "Planned fixed-asset investment; default: drawn."),
    "status": ("status", False, "signed/landed", "Stage reached at the start: `signed` (default) or `landed`."),
}

_EXPECT = {
    "text": "a non-empty text",
    "sector": "a sector name",
    "nonneg": "a finite number >= 0",
    "pos": "a finite number > 0",
    "share": "a number between 0 and 1",
    "count": "a whole number >= 0",
    "bool": "0 or 1 (or true/false)",
    "date": "a date YYYY-MM-DD or YYYY-MM",
    "mode": "rent or build",
    "status": "signed or landed",
    "year": "a whole number (a calendar year)",
    "real": "a finite number",
}


def months_since_start(date: dt.date, start_year: int) -> float:
    """Months from 1 January of ``start_year`` to ``date`` (fractional within a month)."""
    days = calendar.monthrange(date.year, date.month)[1]
    return (date.year - start_year) * 12 + (date.month - 1) + (date.day - 1) / days


def _parse(kind: str, text: str, sectors) -> object:
    if kind == "text":
        if not text:
            raise ValueError
        return text
    if kind == "sector":
        if text not in sectors:
            raise KeyError
        return text
    if kind in ("real", "nonneg", "pos", "share"):
        x = float(text)
        if not math.isfinite(x) or (kind == "nonneg" and x < 0) or (kind == "pos" and x <= 0) or (kind == "share" and not 0 <= x <= 1):
            raise ValueError
        return x
    if kind in ("count", "year"):
        x = float(text)
        if not math.isfinite(x) or (kind == "count" and x < 0) or x != int(x):
            raise ValueError
        return int(x)
    if kind == "bool":
        t = text.lower()
        if t in ("1", "true", "yes", "y"):
            return True
        if t in ("0", "false", "no", "n"):
            return False
        raise ValueError
    if kind == "date":
        if len(text) == 7:
            text = text + "-01"
        return dt.date.fromisoformat(text)
    if kind == "mode":
        if text not in ("rent", "build"):
            raise ValueError
        return text
    if kind == "status":
        if text not in ("signed", "landed"):
            raise ValueError
        return text
    raise AssertionError(kind)  # pragma: no cover


#: largest input files read: a scenario (TOML) and a register or pipeline (CSV, about a million rows)
MAX_TOML_BYTES = 16 * 2**20
MAX_CSV_BYTES = 128 * 2**20


def read_bytes(path: str | Path, limit: int, what: str) -> bytes:
    """The content of ``path`` if it is a regular file of at most ``limit`` bytes, else a :class:`ScenarioError`.

    A directory, a device (``/dev/zero``), a named pipe or a socket is refused before it is opened (reading a
    pipe would wait for a writer, a device would never end).
    """
    name = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError([Problem(name, "", "file not found")]) from None
    except OSError as err:
        raise ScenarioError([Problem(name, "", f"cannot read: {err.strerror or err}")]) from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError([Problem(name, "", f"is a directory; expected a {what} file")])
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError([Problem(name, "", f"is not a regular file (a device, pipe or socket); expected a {what} file")])
    if st.st_size > limit:
        raise ScenarioError([Problem(name, "", f"is {st.st_size:,} bytes; expected a {what} file of at most {limit:,} bytes")])
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as err:
        raise ScenarioError([Problem(name, "", f"cannot read: {err.strerror or err}")]) from None
    if len(data) > limit:  # grew since stat
        raise ScenarioError([Problem(name, "", f"is more than {limit:,} bytes; expected a {what} file of at most {limit:,} bytes")])
    return data


def _read(path: Path, columns: dict, sectors=(), *, unique: bool = True) -> pd.DataFrame:
    """The checked cells of a CSV input, one object column per entry of ``columns`` (an empty optional cell: None).

    ``sectors``: the names a "sector" cell may take; ``unique``: the first column identifies a row (each value once).
    """
    import pandas as pd

    name = str(path)
    data = read_bytes(path, MAX_CSV_BYTES, "CSV")
    try:
        text = data.decode("utf-8-sig")
        lines = [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, csv.Error) as err:
        raise ScenarioError([Problem(name, "", f"not a readable UTF-8 CSV file: {err}")]) from None
    if not lines:
        raise ScenarioError([Problem(name, "", f"empty file; expected a header line with columns {list(columns)}")])
    problems: list[Problem] = []
    header = [c.strip() for c in lines[0]]
    for col in dict.fromkeys(header):
        where = [i + 1 for i, c in enumerate(header) if c == col]
        if len(where) > 1:
            places = ", ".join(str(i) for i in where)
            problems.append(
                Problem(name, f"column {col!r}", f"appears {len(where)} times in the header (columns {places}); expected each column once")
            )
    for col in header:
        if col not in columns:
            problems.append(Problem(name, f"column {col!r}", f"unknown column; expected columns are {list(columns)}"))
    for col, (_, required, _, _) in columns.items():
        if required and col not in header:
            problems.append(Problem(name, f"column {col!r}", "required column is missing"))
    if problems:
        raise ScenarioError(problems)
    sectors = set(sectors)
    out: dict[str, list] = {c: [] for c in columns}
    for i, row in enumerate(lines[1:], start=1):
        if len(row) != len(header):
            problems.append(
                Problem(name, f"row {i} (line {i + 1})", f"has {len(row)} cells; expected {len(header)}, one per header column")
            )
            for col in columns:
                out[col].append(None)
            continue
        values = dict(zip(header, row, strict=True))
        for col, (kind, required, _, _) in columns.items():
            text = (values.get(col) or "").strip()
            if not text:
                if required:
                    problems.append(Problem(name, f"row {i} (line {i + 1}), column {col!r}", "value is missing"))
                out[col].append(None)
                continue
            try:
                out[col].append(_parse(kind, text, sectors))
            except KeyError:
                problems.append(
                    Problem(name, f"row {i} (line {i + 1}), column {col!r}", f"unknown sector {text!r}; expected one of {sorted(sectors)}")
                )
                out[col].append(None)
            except ValueError:
                problems.append(Problem(name, f"row {i} (line {i + 1}), column {col!r}", f"value {text!r} is not {_EXPECT[kind]}"))
                out[col].append(None)
    # object columns: an empty optional cell stays None (pandas would turn it into NaN)
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in out.items()})
    key = next(iter(columns))
    ids = frame[key][frame[key].notna()]
    for v in ids[ids.duplicated()].unique() if unique else ():
        rows = [int(r) + 1 for r in ids.index[ids == v]]
        where = ", ".join(f"row {r}" for r in rows)
        problems.append(Problem(name, f"column {key!r}", f"duplicate identifier {v!r} in {where}; expected each once"))
    if problems:
        raise ScenarioError(problems)
    return frame


def read_register(path: str | Path, scenario) -> pd.DataFrame:
    """Read and check an enterprise register CSV (columns: :data:`REGISTER_COLUMNS`)."""
    path = Path(path)
    frame = _read(path, REGISTER_COLUMNS, scenario.sectors)
    start = scenario.simulation.start_year
    for col in ("hnte_expiry", "zjtx_expiry"):
        frame[col + "_month"] = [np.nan if d is None else months_since_start(d, start) for d in frame[col]]
    return frame


def read_pipeline(path: str | Path, scenario) -> pd.DataFrame:
    """Read and check a signed-project pipeline CSV (columns: :data:`PIPELINE_COLUMNS`)."""
    path = Path(path)
    frame = _read(path, PIPELINE_COLUMNS, scenario.sectors)
    problems = []
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        need = "floor_space_m2" if row.mode == "rent" else "land_mu"
        if getattr(row, need) is None:
            problems.append(
                Problem(str(path), f"row {i} (line {i + 1}), column {need!r}", f"value is missing; required when mode is {row.mode}")
            )
    if problems:
        raise ScenarioError(problems)
    start = scenario.simulation.start_year
    frame["signing_month"] = [months_since_start(d, start) for d in frame["signing_date"]]
    horizon = 12 * scenario.simulation.years
    late = frame.index[frame["signing_month"] >= horizon]
    if len(late):
        i = int(late[0]) + 1
        raise ScenarioError(
            [
                Problem(
                    str(path),
                    f"row {i} (line {i + 1}), column 'signing_date'",
                    f"date {frame['signing_date'][i - 1]} is after the simulated years;"
                    f" expected a date before {start + scenario.simulation.years}-01-01",
                )
            ]
        )
    frame["status"] = frame["status"].fillna("signed")
    return frame

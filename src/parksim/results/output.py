"""Atomic file output: a crash never leaves a half-written file that looks complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


#: a CSV cell starting with one of these is a formula when the file is opened in a spreadsheet
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it, never as a formula: a leading ``'`` before ``= + - @`` (and tab, CR)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(frame) -> str:
    """``frame`` as CSV text, every text cell and column name that would be a spreadsheet formula neutralised.

    Labels come from scenario files (target labels, park, sector and status names, project ids); a label such as
    ``=HYPERLINK(...)`` would run when the CSV is opened in Excel. Numbers are written as they are (a negative
    number is a number, not a formula); Parquet and JSON outputs keep the text unchanged.
    """
    import pandas as pd

    out = frame.copy(deep=False)
    for col in out.columns:
        s = out[col]
        if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(lambda x: neutralise(x) if isinstance(x, str) else x)
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
    return out.to_csv(index=False)

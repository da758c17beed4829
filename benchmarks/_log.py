"""Measurement logs: a benchmark's printed figures appended to a Markdown file, with when, where and on what code.

Every benchmark script takes ``--log FILE`` (e.g. ``--log benchmarks/log.md``): what it prints is
also appended to FILE as a dated section naming the command, the commit, the processor and the
versions, so that measurement logs are written by the scripts, never copied by hand.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path


def _commit() -> str:
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + (" with uncommitted changes" if dirty.strip() else "")


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(argv: list[str]) -> str:
    """The section heading and the facts a reader needs to compare it with another run."""
    import numba
    import numpy

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"## {when}: `{' '.join(['python', *argv])}`\n\n"
        f"- commit {_commit()}; {os.cpu_count()} cores, {_processor()}\n"
        f"- Python {platform.python_version()}, NumPy {numpy.__version__}, numba {numba.__version__}\n\n"
    )


class _Tee(io.TextIOBase):
    def __init__(self, out, copy):
        self.out, self.copy = out, copy

    def write(self, s: str) -> int:
        self.out.write(s)
        self.copy.write(s)
        return len(s)

    def flush(self) -> None:
        self.out.flush()


@contextlib.contextmanager
def logged(path: str | None, argv: list[str]):
    """Print as usual and, with a ``path``, append what was printed to it as a dated section (written atomically)."""
    if path is None:
        yield
        return
    buf = io.StringIO()
    with contextlib.redirect_stdout(_Tee(sys.stdout, buf)):
        yield
    target = Path(path)
    old = target.read_text(encoding="utf-8") if target.exists() else "# Benchmark measurement logs (appended by the scripts' --log)\n\n"
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    tmp.write_text(old + header(argv) + "```\n" + buf.getvalue() + "```\n\n", encoding="utf-8")
    os.replace(tmp, target)
    print(f"appended to {target}")

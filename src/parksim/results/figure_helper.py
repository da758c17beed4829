"""The figure helper: a second process that draws a run's figures (fan.png, assessment.png) for the ``parksim`` command.

Loading matplotlib and its fonts takes about a second of processor time, and drawing a run's figures about half a
second more. In the running process that time is taken from the engine (the imports, which would otherwise run on
a thread beside the engine's) and from the writing step. The ``parksim run`` command therefore starts this
helper before it loads anything (:func:`start_early`): it loads matplotlib on the core the command's single-threaded
start-up leaves idle, draws a small figure to load the fonts and the PNG writer, and waits. When the run's files
are written, :func:`parksim.results.report_files.write_run` sends it the figures' data (plain numbers and strings:
:func:`parksim.results.plots.fan_data`, :func:`~parksim.results.plots.assessment_data`) and writes the tables
while the helper draws and saves the figures (atomically, as every output file).

An optimisation only: a figure the helper does not report as written (it could not start, failed, or did not
answer in :data:`WAIT_SECONDS`) is drawn by the running process, with the same function (:func:`write_figure`). The
Python API (``result.write``) starts no helper and draws in its own process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

#: the helper's program: this process's module path (a source tree works as well as an install), then
#: :func:`_serve`; then it exits without the interpreter's teardown
_CODE = (
    "import os, pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from parksim.results.figure_helper import _serve; _serve(); os._exit(0)"
)
#: how long the writing step waits for the helper's figures before it draws them itself (a figure takes well under a
#: second; the helper's start-up, which a very short run may wait for, about one)
WAIT_SECONDS = 60.0

_STARTED: list = []  # the helper start_early started, until a run's writing takes it


def start_early() -> None:
    """For the ``parksim run`` command: start the helper now (nothing happens if it cannot be started)."""
    if _STARTED:
        return
    try:
        proc = subprocess.Popen([sys.executable, "-c", _CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        pickle.dump(list(sys.path), proc.stdin)
        proc.stdin.flush()
    except Exception:  # noqa: BLE001 - an optimisation only
        return
    _STARTED.append(proc)


def started() -> bool:
    """Whether a helper is waiting for a run's figures."""
    return bool(_STARTED)


def take() -> subprocess.Popen | None:
    """The helper :func:`start_early` started, for the run's writing step (None if there is none)."""
    return _STARTED.pop() if _STARTED else None


def stop(proc: subprocess.Popen | None) -> None:
    """End the helper (it writes its files atomically, so stopping it midway leaves no partial file)."""
    if proc is not None:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def send(proc: subprocess.Popen, jobs: list) -> bool:
    """Give the helper the figures to write: ``jobs`` is a list of (kind, data, path) for :func:`write_figure`."""
    try:
        pickle.dump([(kind, data, str(path)) for kind, data, path in jobs], proc.stdin)
        proc.stdin.flush()  # (its input is closed by collect)
    except Exception:  # noqa: BLE001 - the helper has gone: the run draws the figures itself
        return False
    return True


def collect(proc: subprocess.Popen, jobs: list, timeout: float = WAIT_SECONDS) -> list:
    """Wait for the helper (at most ``timeout`` seconds) and end it; return the jobs it did not write."""
    try:
        answer, _ = proc.communicate(timeout=timeout)
        done = pickle.loads(answer)
    except Exception:  # noqa: BLE001 - it ended without answering, or is too slow: the run draws the figures itself
        done = None
    stop(proc)
    if not (isinstance(done, list) and len(done) == len(jobs)):
        done = [False] * len(jobs)
    return [job for job, ok in zip(jobs, done, strict=True) if ok is not True]


def save_figure(kind: str, fig, path) -> Path:
    """Save a run's figure ``kind`` ("fan" or "assessment") as a PNG at ``path``, atomically, and close it."""
    import matplotlib.pyplot as plt

    from parksim.results.output import atomic_write

    if kind == "fan":
        bbox = None  # laid out by tight_layout already (bbox_inches="tight" draws it twice)
    elif kind == "assessment":
        fig.tight_layout()
        bbox = "tight"  # (the legend stands outside the axes)
    else:
        raise ValueError(f"unknown figure {kind!r}")
    try:
        return atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png", bbox_inches=bbox))
    finally:
        plt.close(fig)


def write_figure(kind: str, data: dict, path) -> Path:
    """Draw figure ``kind`` ("fan" or "assessment") from its data (:func:`parksim.results.plots.fan_data`,
    :func:`~parksim.results.plots.assessment_data`) and save it with :func:`save_figure`."""
    from parksim.results import plots

    if kind == "fan":
        fig = plots.draw_fan(data)
    elif kind == "assessment":
        fig = plots.draw_assessment(None, data).figure
    else:
        raise ValueError(f"unknown figure {kind!r}")
    return save_figure(kind, fig, path)


def _serve() -> None:
    """The helper process: load matplotlib and the fonts, then write the figures it is sent and answer, for each,
    True or the error (pickled on its standard output). A closed input (the run ended first) ends it."""
    import matplotlib

    matplotlib.use("Agg")
    from parksim.results.plots import _pyplot, warm_up

    _pyplot()
    warm_up()
    try:
        jobs = pickle.load(sys.stdin.buffer)
    except EOFError:
        return
    done = []
    for kind, data, path in jobs:
        try:
            write_figure(kind, data, path)
            done.append(True)
        except Exception as err:  # noqa: BLE001 - reported; the run then draws this figure itself
            done.append(f"{type(err).__name__}: {err}")
    pickle.dump(done, sys.stdout.buffer)
    sys.stdout.flush()
    os.close(sys.stdout.fileno())

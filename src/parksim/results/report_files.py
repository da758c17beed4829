"""Write a run's files atomically: targets.csv, annual.parquet, manifest.json, fan.png, ..."""

from __future__ import annotations

import functools
import json
import math
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from parksim.experiments.lock import output_lock
from parksim.results.output import atomic_write, atomic_write_text, csv_text
from parksim.scenario.loader import scenario_hash

DEPENDENCIES = ["simpy", "numpy", "numba", "scipy", "pandas", "pydantic", "pyarrow", "matplotlib", "tqdm", "SALib", "ema_workbench"]


def _jsonable(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    return x


def _versions() -> dict:
    """The installed versions of parksim, its dependencies and Python (for the manifest; read once a process: the
    ``parksim`` command reads them while the engine runs)."""
    return dict(_installed_versions())


@functools.cache
def _installed_versions() -> dict:
    out = {}
    for name in ["parksim", *DEPENDENCIES]:
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover
            out[name] = "not installed"
    out["python"] = platform.python_version()
    return out


def manifest(result) -> dict:
    scn = result.scenario
    return {
        "scenario_name": scn.name,
        "scenario_file": scn._source,
        "scenario_sha256": scenario_hash(scn),
        "seed": result.seed,
        "replications": result.replications,
        "stopped_by": result.stopped_by,
        "precision": result.precision,
        "jobs": result.jobs,
        "engine": result.engine,
        # the Dask cluster that ran it (--cluster: a scheduler's address or local:N), or null: this machine
        "cluster": getattr(result, "cluster", None),
        "started": result.started,
        "finished": result.finished,
        "versions": _versions(),
        "assessment_statuses": result.statuses,
        # drawn from a calibrated posterior (parksim calibrate; --posterior) instead of the priors
        "posterior": ({"digest": scn._given.digest, **scn._given.meta} if scn._given is not None else None),
        # conditioned on observed years (--given-observations): only the replications consistent with them are kept
        "given_observations": result.conditioning.manifest() if result.conditioning is not None else None,
        "scenario": _jsonable(scn.model_dump(mode="python")),
    }


def write_run(result, out) -> list[Path]:
    from parksim.experiments.result import _COLUMNS
    from parksim.scenario.finite import check_finite, unlimited

    for r in result.parks.values() if hasattr(result, "parks") else [result]:  # nothing is written unless every value is a number
        check_finite(r.values, list(_COLUMNS), r.years[0], r.seed, r.assessment_def is not None, infinite_ok=unlimited(r.scenario))
    out = Path(out)
    with output_lock(out):
        _invalidate(out)
        return _write_run(result, out)


def _invalidate(out: Path) -> None:
    """Remove a previous run's manifest before the first new file is written: a folder whose write was killed
    has no manifest, never an old manifest beside new data files."""
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest_path.unlink()
        fd = os.open(out, os.O_RDONLY)
        try:
            os.fsync(fd)  # the removal reaches the disk before any new file does
        finally:
            os.close(fd)


def write_folder(out, files: dict, manifest: dict) -> list[Path]:
    """Write a result folder atomically, in order, under its lock: each of ``files`` (name -> a DataFrame: CSV, or
    Parquet for a ``.parquet`` name; a matplotlib Figure: PNG, closed once saved; a dict: JSON), then
    ``manifest.json`` last, the previous manifest removed first (its presence says the files are complete)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    def as_json(x) -> str:
        return json.dumps(x, indent=2, ensure_ascii=False, default=str)

    out = Path(out)
    written = []
    with output_lock(out):
        _invalidate(out)
        for name, x in files.items():
            if isinstance(x, Figure):
                written.append(atomic_write(out / name, lambda p, x=x: x.savefig(p, dpi=110, format="png")))
                plt.close(x)
            elif isinstance(x, dict):
                written.append(atomic_write_text(out / name, as_json(x)))
            elif name.endswith(".parquet"):
                written.append(atomic_write(out / name, lambda p, x=x: x.to_parquet(p, index=False)))
            else:
                written.append(atomic_write_text(out / name, csv_text(x)))
        written.append(atomic_write_text(out / "manifest.json", as_json(manifest)))
    return written


def _write_run(result, out: Path) -> list[Path]:
    from concurrent.futures import ThreadPoolExecutor

    # the Parquet file on a thread of its own: pyarrow encodes and compresses without holding the interpreter, so
    # it is written while this thread builds the tables and draws the figures (about 0.4 s of a 10,000-replication
    # run's writing, which otherwise leaves one of two cores idle)
    with ThreadPoolExecutor(1, thread_name_prefix="parksim-parquet") as pool:
        annual = pool.submit(atomic_write, out / "annual.parquet", result.write_annual)
        written = _write_tables_and_figures(result, out)
        written.insert(5, annual.result())
    # the manifest goes last: its presence says the run's files are complete
    text = json.dumps(manifest(result), indent=2, ensure_ascii=False, default=str)
    written.append(atomic_write_text(out / "manifest.json", text))
    return written


def _write_tables_and_figures(result, out: Path) -> list[Path]:
    from parksim.results import figure_helper

    figures = _figure_jobs(result, out)
    helper = figure_helper.take()  # started by the `parksim run` command: it draws the figures meanwhile
    if helper is not None and (figures is None or not figure_helper.send(helper, figures)):
        figure_helper.stop(helper)
        helper = None
    written = [
        atomic_write_text(out / "targets.csv", csv_text(result.targets)),
        atomic_write_text(out / "quantiles.csv", csv_text(result.quantiles)),
        atomic_write_text(out / "binding.csv", csv_text(result.binding)),
        atomic_write_text(out / "shortfall.csv", csv_text(result.shortfall)),
        atomic_write_text(out / "gaps.csv", csv_text(result.gaps)),
    ]
    if result.conditioning is not None:
        conditioning = [atomic_write_text(out / "conditioning.csv", csv_text(result.conditioning.table()))]
    else:  # a previous conditioned run's table does not describe this run
        (out / "conditioning.csv").unlink(missing_ok=True)
        conditioning = []
    tables = []
    if result.scenario.assessment is not None:
        tables.append(atomic_write_text(out / "assessment.csv", csv_text(result.assessment)))
        tables.append(atomic_write_text(out / "first_passage.csv", csv_text(result.first_passage)))
    if figures is None:  # a portfolio: its figures are drawn here
        pngs = _portfolio_figures(result, out)
    else:
        left = figure_helper.collect(helper, figures) if helper is not None else figures
        pngs = [Path(path) for _, _, path in figures]
        for kind, data, path in left:
            figure_helper.write_figure(kind, data, path)
    return [*written, pngs[0], *conditioning, *tables, *pngs[1:]]


def _figure_jobs(result, out: Path) -> list | None:
    """A run's figures as data (fan.png, and assessment.png with an assessment), or None for a portfolio."""
    from parksim.results.plots import assessment_data, fan_data

    if getattr(result, "parks", None):
        return None
    jobs = [("fan", fan_data(result), out / "fan.png")]
    if result.scenario.assessment is not None:
        jobs.append(("assessment", assessment_data(result), out / "assessment.png"))
    return jobs


def _portfolio_figures(result, out: Path) -> list[Path]:
    """A portfolio's fan.png (a row per indicator, a panel per park) and its assessment.png (a panel per park)."""
    from parksim.results.figure_helper import save_figure
    from parksim.results.plots import fan_figure

    written = [save_figure("fan", fan_figure(result), out / "fan.png")]
    if result.scenario.assessment is not None:
        written.append(save_figure("assessment", result.plot_assessment().figure, out / "assessment.png"))
    return written


def write_compare(comparison, out, target: str = "ALL") -> list[Path]:
    """compare.csv, mcnemar.csv, compare.png, manifest.json, and each scenario's targets.csv."""
    out = Path(out)
    with output_lock(out):
        _invalidate(out)
        return _write_compare(comparison, out, target)


def _write_compare(comparison, out: Path, target: str) -> list[Path]:
    written = [
        atomic_write_text(out / "compare.csv", csv_text(comparison.table)),
        atomic_write_text(out / "mcnemar.csv", csv_text(comparison.mcnemar)),
        atomic_write_text(out / "levels.csv", csv_text(comparison.levels)),
    ]
    for k, (name, res) in enumerate(zip(comparison.names, comparison.results, strict=True)):
        if k == 0:  # the base's full run files: the report shows its fan charts, binding target, assessment
            written += write_run(res, out / "scenarios" / name)
        else:
            written.append(atomic_write_text(out / "scenarios" / name / "targets.csv", csv_text(res.targets)))
    ax = comparison.plot(target)
    fig = ax.figure
    fig.tight_layout()
    written.append(atomic_write(out / "compare.png", lambda p: fig.savefig(p, dpi=110, format="png", bbox_inches="tight")))
    import matplotlib.pyplot as plt

    plt.close(fig)
    first = comparison.results[0]
    meta = {
        "kind": "compare",
        "base": comparison.names[0],
        "ranked_by": target,
        "scenarios": {
            name: {
                "file": r.scenario._source,
                "scenario_sha256": scenario_hash(r.scenario),
                "scenario": _jsonable(r.scenario.model_dump(mode="python")),
            }
            for name, r in zip(comparison.names, comparison.results, strict=True)
        },
        "seed": comparison.seed,
        "replications": first.replications,
        "common_random_numbers": True,
        "engine": first.engine if len(set(comparison.engines.values())) == 1 else "mixed",
        "engines": comparison.engines,
        "cluster": getattr(first, "cluster", None),
        "versions": _versions(),
        "started": first.started,
        "finished": comparison.results[-1].finished,
    }
    written.append(atomic_write_text(out / "manifest.json", json.dumps(meta, indent=2, ensure_ascii=False, default=str)))
    return written

"""Stored SimPy references for ``tests/test_engine_agreement.py``.

The SimPy engine needs 0.05-0.3 s of CPU per replication (~19 s for
``bench-large.toml``, whose 36,000 projects a replication are SimPy processes), too slow for the thousands of replications per scenario
the engine-agreement test needs in every test run.
This script runs it once per scenario and stores, in
``tests/data/engine_reference/<name>.npz`` (``levers/bonds.toml`` ->
``levers__bonds.npz``):

* ``sha256``: the scenario's key (:func:`reference_key`: the scenario as written,
  i.e. its values that differ from the schema's defaults, and its CSV inputs),
  ``seed``, ``replications``;
* ``labels``/``parks``/``indicators``/``years`` and ``values`` (float32,
  replications x columns): every targeted indicator-year (once per park in a
  portfolio); a scenario without targets (``bench.toml``, ``bench-large.toml``)
  stores every indicator in its last year (every year would take ~1.3 MB);
* ``target_labels`` and ``met`` (bool, replications x targets): which target each
  replication meets (computed from the float64 values);
* ``outcome_parks`` and ``outcomes`` (int8, replications x parks x years):
  assessment outcome codes (0 fail, 1 pass, 2 excellent, -1 none);
* ``head`` (float64): the full value array of the first :data:`HEAD`
  replications, which the test recomputes to prove the reference is the
  current model's.

Usage::

    python tests/engine_reference.py [--replications N] [--jobs 2] [scenario files...]

(``--replications`` defaults to 2000, 100 for ``bench-large.toml``: see :data:`REPLICATIONS_FOR`.)

Without files it regenerates every scenario under ``scenarios/`` and
``scenarios/levers/``. Each file is written atomically.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DATA = ROOT / "tests" / "data" / "engine_reference"
REFERENCE_SEED = 20_250_101
REPLICATIONS = 2000
#: fewer replications where SimPy is too slow for 2000: bench-large.toml (20,000 firms, weight 1) takes ~19 s of CPU per
#: replication; with 100 times bench's firms its indicators are ~10 times less noisy, so 100 replications still see a bias
#: east-lake-2025.toml is simulated firm by firm too (~45,000 firms at its end): the same reasoning
REPLICATIONS_FOR = {"bench-large": 100, "east-lake-2025": 100}
HEAD = 3  # replications stored in full, and recomputed by the staleness check


def scenario_files() -> list[Path]:
    """Every scenario the agreement test covers: scenarios/*.toml and scenarios/levers/*.toml."""
    return sorted(SCENARIOS.glob("*.toml")) + sorted((SCENARIOS / "levers").glob("*.toml"))


def scenario_id(path: Path) -> str:
    """``levers/bonds.toml`` (relative to scenarios/) -> ``levers/bonds``."""
    return Path(path).resolve().relative_to(SCENARIOS).with_suffix("").as_posix()


def replications_for(path: Path) -> int:
    """How many replications each engine runs for the scenario (:data:`REPLICATIONS` unless listed in :data:`REPLICATIONS_FOR`)."""
    return REPLICATIONS_FOR.get(scenario_id(path), REPLICATIONS)


def reference_path(path: Path) -> Path:
    return DATA / (scenario_id(path).replace("/", "__") + ".npz")


def regenerate_command(path: Path) -> str:
    return f"python tests/engine_reference.py scenarios/{scenario_id(path)}.toml"


@dataclass
class Extract:
    """What the agreement test compares, taken from one run (either engine)."""

    labels: list[str]  # one per column of ``values``
    parks: list[str]
    indicators: list[str]
    years: list[int]
    values: np.ndarray  # (replications, columns) float64
    target_labels: list[str]
    met: np.ndarray  # (replications, targets) bool
    outcome_parks: list[str]
    outcomes: np.ndarray  # (replications, parks, years) int8, -1 = no assessment that year


def _parks(result) -> list[tuple[str, object]]:
    """(park name, RunResult) pairs: a portfolio's parks, or ("", the result)."""
    return list(result.parks.items()) if hasattr(result, "parks") else [("", result)]


def compared_indicator_years(scenario) -> list[tuple[str, int]]:
    """The distinct (indicator, year) pairs the scenario's targets read (a portfolio's own targets and an average
    growth's base included); without targets, every indicator in the last year."""
    from parksim.experiments.result import expand_targets, portfolio_targets
    from parksim.rules.indicators import GROWTH_OF, INDICATORS

    first = scenario.simulation.start_year
    read = []
    for s in expand_targets(scenario) + portfolio_targets(scenario):
        read.append((s.indicator, int(s.year)))
        if s.base_year is not None and s.base_value is None:  # the model's base: a simulated year, or the year before
            read += [(s.indicator, first), (GROWTH_OF[s.indicator], first)] if s.base_year < first else [(s.indicator, s.base_year)]
    pairs = list(dict.fromkeys(read))
    last = scenario.simulation.start_year + scenario.simulation.years - 1
    return pairs or [(name, last) for name in INDICATORS]


def compared_parks(scenario) -> list[str]:
    """The parks compared: a portfolio's (its targets apply to each park), or "" for a single park."""
    from parksim.experiments.result import park_names

    return park_names(scenario) if scenario.portfolio is not None else [""]


def extract(result) -> Extract:
    """The targeted indicator values, met flags and assessment outcomes of a run."""
    from parksim.experiments.result import _INDEX

    pairs = compared_indicator_years(result.scenario)
    labels, parks, indicators, years, cols = [], [], [], [], []
    assert [p for p, _ in _parks(result)] == compared_parks(result.scenario)
    for park, r in _parks(result):
        for ind, year in pairs:
            labels.append(f"{park}: {ind} {year}" if park else f"{ind} {year}")
            parks.append(park)
            indicators.append(ind)
            years.append(year)
            cols.append(r.value(ind, year))
    n = result.replications
    values = np.column_stack(cols) if cols else np.empty((n, 0))
    met = result.met()
    outcome_parks, outcomes = [], np.empty((n, 0, len(result.years)), dtype=np.int8)
    if _parks(result)[0][1].assessment_def is not None:
        blocks = []
        for park, r in _parks(result):
            codes = r.values[:, :, _INDEX["assessment_outcome"]]
            blocks.append(np.where(np.isnan(codes), -1, codes).astype(np.int8))
            outcome_parks.append(park)
        outcomes = np.stack(blocks, axis=1)
    return Extract(labels, parks, indicators, years, values, [s.label for s in result.specs], met, outcome_parks, outcomes)


def full_values(result) -> np.ndarray:
    """The run's whole value array (replications, years, columns); a portfolio's parks side by side."""
    return np.concatenate([r.values for _, r in _parks(result)], axis=2)


def reference_key(scenario) -> str:
    """SHA-256 of the scenario as written: the resolved values that differ from the schema's defaults, and its CSV inputs.

    A new parameter at its default (a lever that is off) leaves the key, and the results, as they were; a changed
    default that changes the results is caught by the head check (the first :data:`HEAD` replications recomputed).
    The scenario's observations are left out: a run never reads them.
    """
    import hashlib
    import json

    dumped = scenario.model_dump(mode="json", exclude_defaults=True)
    dumped.pop("observations", None)
    payload = json.dumps(dumped, sort_keys=True, ensure_ascii=False)
    h = hashlib.sha256(payload.encode("utf-8"))
    for frame in (scenario._register, scenario._projects):
        if frame is not None:
            h.update(frame.to_csv(index=False).encode("utf-8"))
    return h.hexdigest()


def head_values(scenario, seed: int) -> np.ndarray:
    """The first :data:`HEAD` SimPy replications of ``seed``, run alone on one job (what the staleness check recomputes)."""
    import parksim

    return full_values(parksim.simulate(scenario, replications=HEAD, seed=seed, jobs=1, quiet=True, engine="simpy"))


def generate(path: Path, replications: int | None = None, jobs: int = 2, seed: int = REFERENCE_SEED) -> Path:
    """Run the SimPy engine on ``path`` and store its reference (atomically); returns the file."""
    import parksim
    from parksim.results.output import atomic_write

    scn = parksim.load_scenario(path)
    replications = replications_for(path) if replications is None else replications
    t0 = time.perf_counter()
    res = parksim.simulate(scn, replications=replications, seed=seed, jobs=jobs, quiet=True, engine="simpy")
    seconds = time.perf_counter() - t0
    head = head_values(scn, seed)
    # the staleness check recomputes the head alone, with one job: it must be the run's first replications
    np.testing.assert_array_equal(head, full_values(res)[:HEAD])
    ex = extract(res)
    arrays = dict(
        sha256=np.array(reference_key(scn)),
        seed=np.uint64(seed),
        replications=np.int64(replications),
        labels=np.array(ex.labels, dtype=str),
        parks=np.array(ex.parks, dtype=str),
        indicators=np.array(ex.indicators, dtype=str),
        years=np.array(ex.years, dtype=np.int64),
        values=ex.values.astype(np.float32),
        target_labels=np.array(ex.target_labels, dtype=str),
        met=ex.met.astype(bool),
        outcome_parks=np.array(ex.outcome_parks, dtype=str),
        outcomes=ex.outcomes,
        head=np.asarray(head, dtype=np.float64),
        simpy_seconds=np.float64(seconds),
        jobs=np.int64(jobs),
        created=np.array(datetime.now(UTC).isoformat(timespec="seconds")),
    )

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    out = reference_path(path)
    atomic_write(out, write)  # a temporary file beside it, then os.replace: never a half-written reference
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", type=Path, help="scenario files (default: all under scenarios/ and scenarios/levers/)")
    ap.add_argument("--replications", "-n", type=int, help=f"per scenario (default {REPLICATIONS}; {REPLICATIONS_FOR})")
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--seed", type=int, default=REFERENCE_SEED)
    args = ap.parse_args(argv)
    files = args.scenarios or scenario_files()
    for f in files:
        t0 = time.perf_counter()
        out = generate(Path(f), args.replications, args.jobs, args.seed)
        size = out.stat().st_size / 1024
        n = args.replications or replications_for(Path(f))
        print(
            f"{scenario_id(Path(f))}: {n} replications in {time.perf_counter() - t0:.0f} s -> {out.name} ({size:.0f} KB)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

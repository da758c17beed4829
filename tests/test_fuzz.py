"""Fuzz: hostile and careless mutations of every built-in scenario and its CSV files never crash or hang parksim.

Property, for each of 1,000 mutated scenarios (hypothesis, derandomized: the same examples on every run):

* loading and validating it either accepts it or refuses it with a :class:`ScenarioError` / :class:`InputError`
  (what the ``parksim`` command turns into exit 2 with a message) — never another exception (a traceback);
* no example takes longer than :data:`LIMIT_S` seconds (a hang fails the test, it does not stall it);
* an accepted scenario runs: one example in three, if the estimate says 2 replications take under a second,
  runs 2 replications with the fast engine in-process, and every indicator is a finite number (or NaN where
  it is undefined: a growth over a zero base), or the run is refused cleanly before it starts.

Mutations, one or two per example: set any value of the resolved scenario (numbers, distribution tables,
lists, tables) to a hostile one (inf, nan, huge or negative numbers, integers of hundreds of digits, wrong
types, reserved or formula labels), scale a number by a power of ten (a value in the wrong unit) or by a factor 0.5-3 (a careless edit), delete a
key, add an unknown key; and edit a CSV input (a hostile cell, a duplicated or missing column, a cut-short
file, stray bytes, an empty file).
"""

from __future__ import annotations

import copy
import math
import signal
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parksim.engines.simpy import ParkModel
from parksim.errors import InputError, ScenarioError
from parksim.experiments.estimate import RUN_SECONDS, SECONDS_PER_FIRM, check_memory, estimate
from parksim.experiments.montecarlo import resolve_engine, simulate
from parksim.experiments.result import _NAMES
from parksim.model.random import Streams
from parksim.scenario.finite import UNDEFINED_GROWTH, ResultError
from parksim.scenario.loader import _resolve, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "scenarios").glob("*.toml")) + sorted((ROOT / "scenarios" / "levers").glob("*.toml"))
EXAMPLES = 1000
LIMIT_S = 60.0  # per example: far above the slowest one (bench-large's starting state, about 4 s)
CSV_KEYS = (("baseline", "enterprises"), ("pipeline", "known_projects"))

HOSTILE = [
    0,
    1,
    -1,
    0.0,
    -0.5,
    1e-300,
    1e300,
    -1e300,
    math.inf,
    -math.inf,
    math.nan,
    2**63 - 1,
    -(2**63),
    10**309,
    True,
    "",
    "ALL",
    "=HYPERLINK(1)",
    "each",
    "x" * 300,
    [],
    [1.0] * 12,
    [math.inf] * 12,
    {},
    {"dist": "lognormal", "median": 5.0, "sigma": 40.0},
    {"dist": "normal", "mean": 1.0, "sd": math.inf},
    {"dist": "uniform", "low": 2.0, "high": 1.0},
    {"dist": "triangular", "low": 0.0, "mode": 1e308, "high": math.inf},
    {"dist": "fixed", "value": 10**400},
    {"dist": "nope"},
]
CSV_CELLS = ["", "-1", "inf", "nan", "1e309", "=cmd|' /C calc'!A0", "2023-13-45", "9" * 400, "0", "rent", "landed", "\x00", "a,b"]


def _leaves(node, path=()):
    """Every key path of the resolved scenario, tables and lists included."""
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _leaves(v, (*path, i))
    return out


def _set(data, path, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        if isinstance(node, dict):
            node.pop(path[-1], None)
        else:
            del node[path[-1]]
    else:
        node[path[-1]] = value


def _get(data, path):
    for part in path:
        data = data[part]
    return data


_DELETE = object()


def _mutate_csv(text: str, draw) -> str:
    lines = text.splitlines()
    kind = draw(st.sampled_from(["cell", "cell", "dup column", "drop column", "cut", "garbage", "empty", "extra cells"]))
    if kind == "empty" or not lines:
        return ""
    if kind == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if kind == "garbage":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(["\x00\xff", '"', "\n,,,\n", "\ufeff"])) + text[at:]
    rows = [line.split(",") for line in lines]
    width = len(rows[0])
    col = draw(st.integers(0, width - 1))
    if kind == "dup column":
        rows = [r + [r[col] if col < len(r) else ""] for r in rows]
    elif kind == "drop column":
        rows = [r[:col] + r[col + 1 :] for r in rows]
    elif kind == "extra cells":
        r = draw(st.integers(0, len(rows) - 1))
        rows[r] = rows[r] + ["1"]
    elif len(rows) > 1:
        r = draw(st.integers(1, len(rows) - 1))
        if col < len(rows[r]):
            rows[r][col] = draw(st.sampled_from(CSV_CELLS))
    return "\n".join(",".join(r) for r in rows) + "\n"


@pytest.fixture(scope="module")
def warm_fast_engine():
    """Compile (or load) the fast engine once, outside the per-example time limit."""
    import parksim

    parksim.simulate(ROOT / "scenarios" / "bench.toml", replications=1, seed=1, jobs=1, quiet=True, engine="fast")


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang(f"an example ran past {LIMIT_S} s")


def test_mutated_scenarios_never_crash_or_hang(tmp_path_factory, warm_fast_engine):
    bases = {f: _resolve(f, ()) for f in FILES}
    outcomes: Counter = Counter()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )
    @given(st.data())
    def check(data):
        draw = data.draw
        path = draw(st.sampled_from(FILES))
        base, origins = bases[path]
        scn_data = copy.deepcopy(base)
        work = tmp_path_factory.mktemp("fuzz")
        for _ in range(draw(st.integers(1, 2))):
            kind = draw(st.sampled_from(["value", "value", "value", "scale", "nudge", "nudge", "delete", "unknown key", "csv"]))
            leaves = _leaves(scn_data)
            if kind == "csv":
                keys = [k for k in CSV_KEYS if isinstance(scn_data.get(k[0]), dict) and isinstance(scn_data[k[0]].get(k[1]), str)]
                if not keys:
                    continue
                key = draw(st.sampled_from(keys))
                defined_in = Path(origins.get(key, str(path))).parent
                source = defined_in / scn_data[key[0]][key[1]]
                text = source.read_text(encoding="utf-8") if source.is_file() else ""
                target = work / f"{key[1]}-{draw(st.integers(0, 9))}.csv"
                target.write_text(_mutate_csv(text, draw), encoding="utf-8", errors="surrogatepass")
                scn_data[key[0]][key[1]] = str(target)
            elif not leaves:
                continue
            elif kind == "value":
                value = draw(st.one_of(st.sampled_from(HOSTILE), st.floats(), st.integers(-(2**70), 2**70), st.text(max_size=4)))
                _set(scn_data, draw(st.sampled_from(leaves)), copy.deepcopy(value))
            elif kind in ("scale", "nudge"):  # a value in the wrong unit, or a careless but plausible edit
                numbers = [p for p in leaves if isinstance(_get(scn_data, p), int | float) and not isinstance(_get(scn_data, p), bool)]
                if numbers:
                    p = draw(st.sampled_from(numbers))
                    x = _get(scn_data, p)
                    if kind == "scale":
                        _set(scn_data, p, x * 10.0 ** draw(st.integers(-6, 12)))
                    else:
                        factor = draw(st.sampled_from([0.5, 0.9, 1.1, 2.0, 3.0]))
                        _set(scn_data, p, type(x)(x * factor) if isinstance(x, float) else int(round(x * factor)))
            elif kind == "delete":
                _set(scn_data, draw(st.sampled_from(leaves)), _DELETE)
            else:
                tables = [p for p in leaves if isinstance(_get(scn_data, p), dict)]
                if tables:
                    _get(scn_data, draw(st.sampled_from(tables)))["not_a_key"] = 1

        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
        try:
            outcome = _validate_and_run(scn_data, origins, path, run=draw(st.integers(0, 2)) == 0)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        outcomes[outcome] += 1

    check()
    # the examples reach both sides: many refused, many accepted, and some of these run
    assert sum(outcomes.values()) == EXAMPLES
    assert outcomes["refused"] >= EXAMPLES // 5 and outcomes["accepted"] + outcomes["ran"] >= EXAMPLES // 5, outcomes
    assert outcomes["ran"] >= EXAMPLES // 20, outcomes


def _validate_and_run(data, origins, path: Path, run: bool) -> str:
    """What ``parksim validate`` (then a short ``parksim run``) does: 'refused', 'accepted' or 'ran'."""
    try:
        scn = scenario_from_dict(data, base_dir=path.parent, origins=origins, source=str(path))
        assert all(w.where and "plausible range" in w.message for w in scn.warnings)
        members = scn._members or [(scn.name, scn)]
        check_memory(estimate(scn, 1, "simpy", 1))
        est = estimate(scn, 2, resolve_engine(scn, "fast", quiet=True), 1)
        if est.start_firms * SECONDS_PER_FIRM["simpy"] <= 5.0:  # validate builds starting states up to 20 s; 5 s here
            for _, member in members:
                ParkModel(member, Streams(0, 0))
        if not run or est.seconds - RUN_SECONDS > 1.0:
            return "accepted"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = simulate(scn, replications=2, seed=1, jobs=1, quiet=True, engine="fast")
    except ResultError as err:
        raise AssertionError(f"an accepted scenario gave non-finite results: {err}") from None
    except (ScenarioError, InputError):
        return "refused"
    for park in res.parks.values() if hasattr(res, "parks") else [res]:
        v = park.values[:, :, : len(_NAMES)]
        undefined = np.array([n in UNDEFINED_GROWTH for n in _NAMES])
        assert np.isfinite(v[:, :, ~undefined]).all(), "an accepted scenario gave non-finite indicators"
        assert not np.isinf(v[:, :, undefined]).any()
    return "ran"

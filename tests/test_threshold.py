"""What it would take (parksim threshold): the value of a key at which P(target) reaches p, found with common random
numbers; its known answer against a fine grid of plain runs, what CRN saves, the ends of the range, a falling P, the
command's files and sentence, and its errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import synthetic_park_file

import parksim
from parksim.cli import main
from parksim.experiments.threshold import _crossing, outcome

SIGNED = "projects signed >= 90 in 2026"
FIRMS = "firms >= 150 in 2026"
KEY = "pipeline.signings_per_month"
R = 300
#: on the synthetic park (~62 projects a year are signed at 5 a month, so signing 90 in 2026 needs about 8 a month)
TARGETS = f"""[[targets]]
label = "{SIGNED}"
indicator = "projects_signed"
comparison = ">="
threshold = 90
year = 2026
[[targets]]
label = "{FIRMS}"
indicator = "firms"
comparison = ">="
threshold = 150
year = 2026
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return synthetic_park_file(tmp_path_factory.mktemp("threshold"), TARGETS)


@pytest.fixture(scope="module")
def found(small):
    """The signing rate at which P(90 projects signed in 2026) reaches 0.8, searched over [4, 12]."""
    return parksim.threshold(small, KEY, 4, 12, target=SIGNED, p=0.8, replications=R, seed=1, jobs=2)


STEP = 0.1
FINE = np.round(np.arange(7.4, 8.81, STEP), 6)


def _fine_grid(small, seeds) -> np.ndarray:
    """Plain runs on a fine grid of signing rates: (points, replications) outcomes of SIGNED."""
    rows = []
    for x, seed in zip(FINE, seeds, strict=True):
        res = parksim.simulate(parksim.load_scenario(small, {KEY: float(x)}), replications=R, seed=seed, engine="fast", jobs=2, quiet=True)
        rows.append(outcome(res, SIGNED))
    return np.array(rows)


@pytest.fixture(scope="module")
def fine(small):
    """The fine grid with the search's seed at every point (common random numbers, as the search runs them)."""
    return _fine_grid(small, [1] * len(FINE))


def test_known_answer_matches_a_fine_grid_of_plain_runs(found, fine):
    # an independent fine grid of plain runs, the same seed and replications: where its P first reaches 0.8
    # (interpolated linearly) must lie inside the answer's 95% interval, and within the tolerance (0.08) plus the
    # fine grid's step (0.1) of the answer
    P = fine.mean(axis=1)
    assert P[0] < 0.8 <= P[-1], f"the fine grid must bracket the crossing: {dict(zip(FINE, P, strict=True))}"
    at, code = _crossing(FINE, P, 0.8, "increasing", False)
    assert code == 0
    lo, hi = found.ci
    assert found.status == "found" and found.direction == "increasing"
    assert lo <= at <= hi, f"fine grid's crossing {at:.3f} outside the answer's 95% CI [{lo:.3f}, {hi:.3f}]"
    assert abs(found.answer - at) <= found.tolerance + STEP, f"answer {found.answer:.3f} vs fine grid {at:.3f}"
    assert found.tolerance == pytest.approx(0.08)
    # bisection stopped at the tolerance: the two evaluated points around the answer are at most that far apart
    t = found.table[(found.table.value >= 4) & (found.table.value <= 12)]
    below, above = t[t.value < found.answer], t[t.value >= found.answer]
    assert above.value.min() - below.value.max() <= found.tolerance + 1e-9
    assert below.p_met.iloc[-1] < 0.8 <= above.p_met.iloc[0]
    assert set(t.stage) >= {"grid", "refine"} and found.evaluations == len(found.table) <= 20


def test_common_random_numbers_make_neighbouring_points_agree(small, found, fine):
    # what CRN buys: between neighbouring values (0.1 a month apart) few replications change their outcome, so the
    # differences between evaluated points, which place the crossing, are nearly free of noise (P-hat nearly monotone).
    # With a seed of its own at every point, about half the replications change (measured: 8% against 50%)
    indep = _fine_grid(small, [100 + k for k in range(len(FINE))])
    changed_crn = (fine[1:] != fine[:-1]).mean()
    changed_ind = (indep[1:] != indep[:-1]).mean()
    assert changed_crn < changed_ind / 3, f"replications changing between neighbours: CRN {changed_crn:.3f}, independent {changed_ind:.3f}"
    assert (np.diff(fine.mean(axis=1)) >= -0.02).all()  # nearly monotone
    # the answer's own interval is set by P-hat's precision at the answer (~ sqrt(p(1-p)/R) / slope), which CRN does
    # not narrow: the interval from independent seeds per point is of the same order (ratio in the message)
    other = parksim.threshold(small, KEY, 4, 12, target=SIGNED, p=0.8, replications=R, seed=1, jobs=2, crn=False)
    w_crn, w_ind = found.ci[1] - found.ci[0], other.ci[1] - other.ci[0]
    assert other.status == "found" and 0.2 < w_ind / w_crn < 5, f"95% CI width: CRN {w_crn:.3f}, independent {w_ind:.3f}"
    assert abs(other.answer - found.answer) < 3 * max(w_crn, w_ind)


def test_out_of_range_both_ways_and_already_met(small):
    # not reached within the range: signing 2-6 a month never signs 90 projects in 2026
    th = parksim.threshold(small, KEY, 2, 6, target=SIGNED, replications=100, jobs=2, grid=5)
    assert th.status == "above_range" and math.isnan(th.answer) and th.direction == "increasing"
    assert th.message.startswith("not reached within [2.000, 6.000]: P at HIGH 6.000 = 0.0")
    assert "not reached within" in th.sentence()
    # already met at the low end (a Scenario object, not a path: the same search)
    th = parksim.threshold(parksim.load_scenario(small), KEY, 10, 14, target=SIGNED, replications=100, jobs=2, grid=5)
    assert th.status == "below_range" and th.message.startswith("already met at LOW: P at 10.000 = ")
    # a falling P not reached even at the low end: fewer than 40 signed needs fewer than ~3 a month
    th = parksim.threshold(small, KEY, 4, 8, target=SIGNED, p=0.8, replications=100, jobs=2, grid=5, direction="decreasing")
    assert th.status == "below_range" and "not reached within [4.000, 8.000]" in th.message
    # the scenario's own P (its signing rate is a distribution) is said beside it
    assert th.current == {"dist": "uniform", "low": 2.0, "high": 10.0} and 0 < th.current_p < 1
    assert "a distribution: uniform 2 to 10" in th.sentence()


def test_falling_probability_finds_the_largest_value(small):
    # more young firms exiting, fewer firms: the largest exit rate at which P(>= 150 firms in 2026) stays >= 0.5
    th = parksim.threshold(
        small, "sectors.manufacturing.exit_rate_young", 0.0, 0.6, target=FIRMS, p=0.5, replications=R, jobs=2, overrides=[f"{KEY}=5.0"]
    )
    assert th.direction == "decreasing" and th.status == "found", th.table
    t = th.table
    assert t[t.value <= th.answer].p_met.iloc[-1] >= 0.5 > t[t.value > th.answer].p_met.iloc[0]
    assert th.ci[0] <= th.answer <= th.ci[1]
    assert f"needs sectors.manufacturing.exit_rate_young ≤ {th.fmt(th.answer)}" in th.sentence()
    # the scenario's value (0.059, fixed) is evaluated and reported
    assert th.current == pytest.approx(0.059) and "at the scenario's value 0.059" in th.sentence()


def test_command_writes_its_files_and_says_the_answer(small, tmp_path, capsys):
    out = tmp_path / "th"
    code = main(["threshold", str(small), "--vary", f"{KEY}=4:12", "--target", SIGNED, "-n", "200", "-j", "2", "--out", str(out), "-q"])
    text = capsys.readouterr().out
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"threshold.csv", "threshold.png", "answer.json", "manifest.json"}
    table = pd.read_csv(out / "threshold.csv")
    assert list(table.columns[:6]) == ["key", "value", "p_met", "ci_low", "ci_high", "replications"]
    assert (table.key == KEY).all() and (table.replications == 200).all() and table.value.is_monotonic_increasing
    answer = json.loads((out / "answer.json").read_text(encoding="utf-8"))
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for k in ("key", "target", "p", "direction", "answer", "ci_low", "ci_high", "status", "evaluations", "seed", "replications"):
        assert answer[k] == man[k], k
    assert answer["status"] == "found" and answer["evaluations"] == len(table) and len(man["scenario_sha256"]) == 64
    sentence = f"P({SIGNED}) ≥ 0.8 needs {KEY} ≥ {answer['answer']:.3f} (95% CI {answer['ci_low']:.3f} to {answer['ci_high']:.3f})"
    assert sentence in text
    assert "in the scenario as it is (pipeline.signings_per_month a distribution: uniform 2 to 10) it is 0." in text
    assert "replaces it by that fixed value" in text


@pytest.mark.parametrize(
    "vary, target, expected",
    [
        ("pipeline.nope=1:2", SIGNED, "pipeline.nope: unknown key"),
        (f"{KEY}=5:2", SIGNED, f"--vary {KEY}=5:2: LOW must be below HIGH"),
        ("name=1:2", SIGNED, "--vary name: holds 'Small synthetic park' (a string), not a number"),
        (f"{KEY}=-1:5", SIGNED, f"LOW -1 is refused: {KEY}: must be >= 0.0, got -1.0"),
        (f"{KEY}=2:x", SIGNED, "HIGH 'x' is not a number; expected KEY=LOW:HIGH"),
        (f"{KEY}=2:5", "no such target", "--target 'no such target' is not an outcome of 'Small synthetic park'; expected one of"),
    ],
)
def test_bad_input_exits_2_naming_it(small, tmp_path, capsys, vary, target, expected):
    code = main(["threshold", str(small), "--vary", vary, "--target", target, "-n", "20", "--out", str(tmp_path / "e"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err, err

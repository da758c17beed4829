"""Assessment rules and the status state machine: hand-computed 3-year examples."""

from __future__ import annotations

import numpy as np
import pytest

from parksim.rules.assessment import (
    EXCELLENT,
    FAIL,
    PASS,
    Transition,
    combine,
    efficacy_scores,
    rank_outcome,
    run_status,
    score_outcome,
    thresholds_outcome,
    weighted_score,
)


def test_thresholds_k_of_n_over_three_years():
    # indicators: R&D intensity >= 1.7, HNTE >= 20, R&D-active share >= 50; pass if 2 of 3, excellent if 3
    years = np.array(
        [
            [1.8, 15, 40],  # 1 met -> fail
            [1.8, 22, 40],  # 2 met -> pass
            [2.0, 25, 55],  # 3 met -> excellent
        ]
    )
    out, count = thresholds_outcome(years, [">=", ">=", ">="], [1.7, 20, 50], min_met=2, excellent_min=3)
    assert count.tolist() == [1, 2, 3]
    assert out.tolist() == [FAIL, PASS, EXCELLENT]
    out, _ = thresholds_outcome(years, [">=", ">=", ">="], [1.7, 20, 50], min_met=2)
    assert out.tolist() == [FAIL, PASS, PASS]  # no excellence level declared


def test_efficacy_coefficient_score_hand_computed():
    # floor/ceiling per indicator; the second is "lower is better" (ceiling < floor)
    floors, ceilings, weights = [0.0, 10.0, 100.0], [4.0, 2.0, 300.0], [30.0, 30.0, 40.0]
    years = np.array(
        [
            [1.0, 8.0, 50.0],  # 60+40*1/4=70; 60+40*(8-10)/(2-10)=70; below floor -> 60
            [2.0, 6.0, 200.0],  # 80; 80; 80
            [5.0, 1.0, 300.0],  # clipped 100; clipped 100; 100
        ]
    )
    s = efficacy_scores(years, floors, ceilings)
    assert s.tolist() == [[70, 70, 60], [80, 80, 80], [100, 100, 100]]
    total = weighted_score(years, floors, ceilings, weights)
    assert total.tolist() == pytest.approx([(30 * 70 + 30 * 70 + 40 * 60) / 100, 80.0, 100.0])  # 66, 80, 100
    assert score_outcome(total, pass_mark=70, excellence_mark=90).tolist() == [FAIL, PASS, EXCELLENT]


def test_rank_among_peers_three_years():
    # 4 zones' output over 3 years; bottom 1 fails, top 1 excellent
    years = np.array([[10, 30, 20, 40], [50, 30, 20, 40], [10, 10, 20, np.nan]], dtype=float)
    out, rank = rank_outcome(years, fail_bottom=1, excellent_top=1)
    # NaN ranks last, so zone 4 fails in year 3 and the 10/10 tie is broken by position
    assert rank[2].tolist() == [1, 2, 0, 3]
    assert out[2].tolist() == [PASS, PASS, EXCELLENT, FAIL]
    assert out[0].tolist() == [FAIL, PASS, PASS, EXCELLENT]
    assert out[1].tolist() == [EXCELLENT, PASS, FAIL, PASS]
    low, _ = rank_outcome([3.0, 1.0, 2.0], fail_bottom=1, higher_is_better=False)
    assert low.tolist() == [FAIL, PASS, PASS]


def test_combine_rules():
    # rules x parks; rule 0 awards excellence, rule 1 does not
    outcomes = np.array([[EXCELLENT, EXCELLENT, PASS, FAIL], [PASS, FAIL, PASS, PASS]])
    assert combine(outcomes, [True, False]).tolist() == [EXCELLENT, FAIL, PASS, FAIL]
    assert combine(outcomes, [False, False]).tolist() == [PASS, FAIL, PASS, FAIL]


NINGXIA = [
    Transition("recognised", "fail", "warned"),
    Transition("warned", "fail", "revoked"),
    Transition("warned", "pass", "recognised"),
    Transition("warned", "excellent", "recognised"),
]


def test_two_consecutive_fails_revoke():
    assert run_status("recognised", ["fail", "fail", "pass"], NINGXIA) == ["warned", "revoked", "revoked"]
    assert run_status("recognised", ["fail", "pass", "fail"], NINGXIA) == ["warned", "recognised", "warned"]


def test_streak_form_of_the_same_rule():
    rules = [Transition("recognised", "fail", "revoked", streak=2)]
    assert run_status("recognised", ["fail", "fail", "pass"], rules) == ["recognised", "revoked", "revoked"]
    assert run_status("recognised", ["fail", "pass", "fail"], rules) == ["recognised"] * 3


def test_candidate_must_qualify_within_three_years():
    rules = [Transition("candidate", "pass", "recognised"), Transition("candidate", "fail", "dropped", min_years=3)]
    assert run_status("candidate", ["fail", "fail", "fail"], rules) == ["candidate", "candidate", "dropped"]
    assert run_status("candidate", ["fail", "pass", "fail"], rules) == ["candidate", "recognised", "recognised"]


def test_excellent_two_years_makes_upgrade_eligible():
    rules = [Transition("recognised", "excellent", "upgrade_eligible", streak=2), Transition("upgrade_eligible", "any", "upgraded")]
    assert run_status("recognised", ["excellent", "pass", "excellent"], rules) == ["recognised"] * 3
    assert run_status("recognised", ["excellent", "excellent", "pass"], rules) == ["recognised", "upgrade_eligible", "upgraded"]


def test_assessing_arrays_of_replications_equals_assessing_each(root):
    # the fast engine assesses every replication at once: the result must be each replication's own outcome,
    # for threshold, score and rank rules (the Zunyi portfolio ranks its parks against each other)
    import parksim
    from parksim.rules import assessment as A

    for name in ("zunyi-2025", "liangping-2025", "xiushan-2024", "ningxia-2025"):
        scn = parksim.load_scenario(root / "scenarios" / f"{name}.toml")
        rules = scn.assessment.rules
        wanted = sorted({c.indicator for rule in rules for c in rule.criteria})
        parks = len(scn._members) if scn.portfolio is not None else 1
        rng = np.random.default_rng(3)
        reps = 50
        per_park = [{ind: rng.normal(50.0, 30.0, reps) for ind in wanted} for _ in range(parks)]
        per_park[0][wanted[0]][:5] = np.nan  # undefined values take part too
        together = A.assess(rules, per_park)
        assert together.shape == (reps, parks)
        for r in range(reps):
            alone = A.assess(rules, [{ind: float(v[ind][r]) for ind in wanted} for v in per_park])
            np.testing.assert_array_equal(together[r], alone)

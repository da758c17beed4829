"""Yearly assessment of a park (DOMAIN §4-5): rule shapes and the status state machine.

An assessment rule has one of three shapes, and a zone may face several:

* **thresholds** -- pass if at least ``k`` of ``n`` indicator thresholds are met
  (:func:`thresholds_outcome`);
* **weighted score** -- the efficacy-coefficient method (功效系数法): each
  indicator scores ``60 + 40 * (value - floor) / (ceiling - floor)``, clipped to
  [60, 100], and the weighted mean is compared with a pass mark and an
  excellence mark (:func:`efficacy_scores`, :func:`score_outcome`);
* **rank among peer parks** -- the bottom ``m`` fail, the top ``k`` are
  excellent (:func:`rank_outcome`).

Each rule gives an outcome per park: ``FAIL``, ``PASS`` or ``EXCELLENT``.
:func:`combine` merges them: the year fails if any rule fails; it is excellent
if every rule that can award excellence does; otherwise it passes.

Consequences are path-dependent ("fail twice in a row -> revoked"), so the
status follows a state machine (:func:`step`) whose transitions are data:
``Transition(from_status, on, to, streak=1, min_years=0)``. A transition fires
when the park is in ``from_status`` (or ``"*"``), this year's outcome is ``on``
(or ``"any"``), the outcome has now occurred ``streak`` years in a row, and the
park has been in its status for at least ``min_years`` assessments (this one
included). The first matching transition, in declaration order, wins; if none
matches, the status stays.

All functions are plain and vectorise over parks (and, where it helps, over
replications); none draws random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parksim.experiments.stats import compare

FAIL, PASS, EXCELLENT = 0, 1, 2
OUTCOME_NAMES = {FAIL: "fail", PASS: "pass", EXCELLENT: "excellent"}
OUTCOMES = {v: k for k, v in OUTCOME_NAMES.items()}


def thresholds_outcome(values, comparisons, thresholds, min_met: int, excellent_min: int | None = None):
    """Outcome of a k-of-n thresholds rule.

    Parameters
    ----------
    values : array (..., n)
        The n indicator values (last axis) of each park.
    comparisons, thresholds : sequences of length n
    min_met : int
        Pass if at least this many thresholds are met.
    excellent_min : int, optional
        Excellent if at least this many are met (None: the rule awards no excellence).

    Returns
    -------
    (outcome, met_count) : arrays of shape (...)
    """
    v = np.asarray(values, dtype=float)
    met = np.stack([compare(v[..., i], c, t) for i, (c, t) in enumerate(zip(comparisons, thresholds, strict=True))], axis=-1)
    count = met.sum(axis=-1)
    out = np.where(count >= min_met, PASS, FAIL)
    if excellent_min is not None:
        out = np.where(count >= excellent_min, EXCELLENT, out)
    return out, count


def efficacy_scores(values, floors, ceilings):
    """Efficacy-coefficient score of each indicator: ``60 + 40 (v - floor) / (ceiling - floor)`` in [60, 100].

    A ``ceiling`` below its ``floor`` describes an indicator where lower is better.
    """
    v = np.asarray(values, dtype=float)
    lo = np.asarray(floors, dtype=float)
    hi = np.asarray(ceilings, dtype=float)
    s = 60.0 + 40.0 * (v - lo) / (hi - lo)
    return np.clip(np.where(np.isnan(v), 60.0, s), 60.0, 100.0)


def weighted_score(values, floors, ceilings, weights):
    """Weighted mean of the efficacy scores over the last axis."""
    w = np.asarray(weights, dtype=float)
    return (efficacy_scores(values, floors, ceilings) * w).sum(axis=-1) / w.sum()


def score_outcome(score, pass_mark: float, excellence_mark: float | None = None):
    """FAIL below ``pass_mark``, EXCELLENT from ``excellence_mark`` (if given), else PASS."""
    s = np.asarray(score, dtype=float)
    out = np.where(s >= pass_mark, PASS, FAIL)
    if excellence_mark is not None:
        out = np.where(s >= excellence_mark, EXCELLENT, out)
    return out


def rank_outcome(values, fail_bottom: int = 0, excellent_top: int = 0, higher_is_better: bool = True):
    """Rank parks on the last axis: the bottom ``fail_bottom`` fail, the top ``excellent_top`` are excellent.

    Ties are broken by position (the earlier park ranks higher), so that a rank
    rule always fails exactly ``fail_bottom`` parks; NaN ranks last.
    """
    v = np.asarray(values, dtype=float)
    key = np.where(np.isnan(v), -np.inf, v if higher_is_better else -v)
    n = v.shape[-1]
    # rank 0 = best; stable sort on -key keeps earlier parks ahead on ties
    order = np.argsort(-key, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n), axis=-1)
    out = np.full(v.shape, PASS)
    out = np.where(rank >= n - fail_bottom, FAIL, out)
    out = np.where((rank < excellent_top) & (out != FAIL), EXCELLENT, out)
    return out, rank


def combine(outcomes, awards_excellence):
    """Merge rule outcomes (first axis = rules): fail if any fails; excellent if all
    excellence-awarding rules award it (and at least one can); else pass."""
    o = np.asarray(outcomes)
    aw = np.asarray(awards_excellence, dtype=bool)
    any_fail = (o == FAIL).any(axis=0)
    if aw.any():
        exc = (o[aw] == EXCELLENT).all(axis=0)
    else:
        exc = np.zeros(o.shape[1:], dtype=bool)
    return np.where(any_fail, FAIL, np.where(exc, EXCELLENT, PASS))


def assess(rules, values_by_park) -> np.ndarray:
    """Outcome of each park's yearly assessment under ``rules`` (the scenario's rule tables).

    ``values_by_park`` is a list of ``{indicator: value}``, one per park; rank
    rules rank the parks against each other. A value may also be an array (one
    entry per replication): the result then has the replications first,
    ``(..., parks)``, and every replication is assessed on its own.
    """
    outcomes, awards = [], []
    for rule in rules:
        v = np.array([[vals[c.indicator] for c in rule.criteria] for vals in values_by_park], dtype=float)
        v = np.moveaxis(v, (0, 1), (-2, -1))  # (..., parks, criteria)
        if rule.kind == "thresholds":
            n = len(rule.criteria)
            o, _ = thresholds_outcome(
                v,
                [c.comparison for c in rule.criteria],
                [c.threshold for c in rule.criteria],
                n if rule.min_met is None else rule.min_met,
                rule.excellent_min,
            )
        elif rule.kind == "score":
            score = weighted_score(
                v, [c.floor for c in rule.criteria], [c.ceiling for c in rule.criteria], [c.weight for c in rule.criteria]
            )
            o = score_outcome(score, rule.pass_mark, rule.excellence_mark)
        else:  # rank: on one indicator, or on the weighted efficacy score of several
            if len(rule.criteria) == 1:
                key, higher = v[..., 0], rule.higher_is_better
            else:
                key = weighted_score(
                    v, [c.floor for c in rule.criteria], [c.ceiling for c in rule.criteria], [c.weight for c in rule.criteria]
                )
                higher = True
            o, _ = rank_outcome(key, rule.fail_bottom, rule.excellent_top, higher)
        outcomes.append(np.asarray(o))
        awards.append(rule.awards_excellence)
    return combine(np.stack(outcomes), awards)


@dataclass(frozen=True)
class Transition:
    """``from_status --on [streak times in a row, after min_years in status]--> to``."""

    from_status: str
    on: str
    to: str
    streak: int = 1
    min_years: int = 0


@dataclass(frozen=True)
class StatusState:
    """Where a park stands: its status, assessments spent in it, and the current outcome streak."""

    status: str
    years_in_status: int = 0
    last_outcome: int | None = None
    streak: int = 0


def step(state: StatusState, outcome: int, transitions: list[Transition]) -> StatusState:
    """Apply one yearly assessment outcome to a park's status."""
    streak = state.streak + 1 if outcome == state.last_outcome else 1
    years = state.years_in_status + 1
    name = OUTCOME_NAMES[outcome]
    for t in transitions:
        if t.from_status not in ("*", state.status):
            continue
        if t.on not in ("any", name):
            continue
        if t.on != "any" and streak < t.streak:
            continue
        if years < t.min_years:
            continue
        if t.to == state.status:
            break
        return StatusState(t.to, 0, outcome, streak)
    return StatusState(state.status, years, outcome, streak)


def run_status(initial: str, outcomes, transitions: list[Transition]) -> list[str]:
    """Statuses after each of a sequence of yearly outcomes (for checks and reports)."""
    state = StatusState(initial)
    out = []
    for o in outcomes:
        state = step(state, OUTCOMES[o] if isinstance(o, str) else int(o), transitions)
        out.append(state.status)
    return out


# --- the yearly cycle: one driver for every engine -------------------------------------------
@dataclass(frozen=True)
class StatusEffects:
    """What being in a status does to a park (the scenario's ``assessment.effects``; none: no change)."""

    signing_factor: float = 1.0
    land_quota_factor: float = 1.0
    growth_bonus: float = 0.0


def status_effects(assessment, status: str) -> StatusEffects:
    """The :class:`StatusEffects` of ``status`` under ``assessment`` (None: no assessment, no effects)."""
    eff = assessment.effects.get(status) if assessment is not None else None
    if eff is None:
        return StatusEffects()
    return StatusEffects(float(eff.signing_factor), float(eff.land_quota_factor), float(eff.growth_bonus))


def has_feedback(assessment) -> bool:
    """Whether any status changes the park (else outcomes need not be decided before the horizon ends)."""
    return assessment is not None and any(status_effects(assessment, s) != StatusEffects() for s in assessment.statuses)


def decision_month(assessment, y: int) -> int:
    """The month (from the start) at whose beginning year ``y``'s result is decided: ``month`` of year ``y + 1``."""
    return 12 * (y + 1) + assessment.month - 1


def assessments(scenario) -> list:
    """The assessment each park of ``scenario`` is under, in member order: the scenario's ``[assessment]`` (None
    without one), or None for a portfolio park with ``assessed = false``."""
    if scenario.portfolio is None:
        return [scenario.assessment]
    return [scenario.assessment if p.assessed else None for p in scenario.portfolio.parks]


def drive(assessment, parks: int, replications: int, months: int, years: int, *, advance, indicators, apply, record, assessed=None) -> None:
    """Run ``parks`` parks (each ``replications`` replications) over ``months`` months with a yearly assessment.

    Both engines schedule a run through this function; they differ only in the callbacks:

    * ``advance(m)``: run every park up to the beginning of month ``m`` (``months``: to the end);
    * ``indicators(y)``: one ``{indicator: array (replications,)}`` per park, year ``y``'s indicators;
    * ``apply(park, replication, effects)``: a new status's :class:`StatusEffects` act on the park's
      replication from now on (called only when some status has effects);
    * ``record(y, park, outcomes, statuses)``: year ``y``'s outcome codes and the statuses after them
      (arrays (replications,); statuses as indices into ``assessment.statuses``).

    Years are decided at the beginning of their decision month (:func:`decision_month`); a year decided
    after the horizon is assessed at the end, when its decision can no longer act on the park. Each
    replication of each park follows its own status (:func:`step`); rank rules compare the parks of a
    replication. The initial status's effects are the engine's to apply when it creates the park
    (:func:`status_effects` of ``assessment.initial_status``). ``assessed`` (default: every park) marks the
    parks the assessment applies to: the others are never assessed, recorded or ranked (:func:`assessments`).
    """
    if assessment is None:
        advance(months)
        return
    which = [p for p in range(parks) if assessed is None or assessed[p]]
    transitions = [Transition(t.from_status, t.on, t.to, t.streak, t.min_years) for t in assessment.transitions]
    states = [[StatusState(assessment.initial_status)] * replications for _ in range(parks)]
    feedback = has_feedback(assessment)
    statuses = assessment.statuses

    def decide(y: int, act: bool) -> None:
        if not which:
            return
        values = indicators(y)
        every = assess(assessment.rules, [values[p] for p in which]).reshape(replications, len(which))
        for j, p in enumerate(which):
            for r in range(replications):
                before = states[p][r].status
                states[p][r] = step(states[p][r], int(every[r, j]), transitions)
                if act and states[p][r].status != before:
                    apply(p, r, status_effects(assessment, states[p][r].status))
            record(y, p, every[:, j], np.array([statuses.index(s.status) for s in states[p]]))

    decided = 0
    for y in range(years):
        d = decision_month(assessment, y)
        if d >= months:
            break
        advance(d)
        decide(y, act=feedback)
        decided = y + 1
    advance(months)
    for y in range(decided, years):
        decide(y, act=False)

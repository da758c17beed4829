"""The fast engine agrees with the SimPy engine in distribution, for every scenario.

For every scenario under ``scenarios/`` and ``scenarios/levers/`` the test
compares 2000 fast-engine replications with 2000 stored SimPy replications
(100 of each for ``bench-large.toml``, whose SimPy replications take ~15 s each;
with 100 times bench's firms its indicators are ~10 times less noisy):

* every **targeted indicator-year** (in each park of a portfolio; for a scenario
  without targets, ``bench.toml`` and ``bench-large.toml``, every indicator in
  the last year): a two-sample Kolmogorov-Smirnov test on the replications
  where the indicator is defined, and a two-proportion z test on how often it
  is undefined (NaN, e.g. a growth rate without a base). A failure message
  gives both engines' 5/25/50/75/95% quantiles, mean and NaN share; the KS
  test is the decision.
* every **target probability**, ``ALL`` (every target met) included: a
  two-proportion z test.
* the **assessment outcome** (fail / pass / excellent / none) in each park and
  year: a chi-square test of homogeneity.

Why a stored reference
    SimPy needs 0.05-0.3 s of CPU per replication (2-10 CPU-minutes per
    scenario for 2000; ~19 s each for ``bench-large.toml``, whose 36,000
    projects a replication are SimPy processes): too slow for every test run. ``tests/engine_reference.py``
    runs it once per scenario and stores the compared quantities in
    ``tests/data/engine_reference/*.npz`` (the values as float32: they are
    compared at that precision, and the met flags are computed from the float64
    values first). The test runs only the fast engine live: 5-20 s per scenario
    after the one-off numba compilation.

Staleness check
    A stored reference is only valid for the SimPy model that made it. The test
    checks the scenario's key (:func:`engine_reference.reference_key`: the scenario
    as written, its non-default values and CSV inputs, so that a new parameter
    at its default, which changes nothing, does not invalidate every reference)
    and re-runs the first 3 SimPy replications of the stored
    seed, which must equal the stored ones up to floating-point rounding
    (relative 1e-10: the same model on another CPU differs in the last bits;
    every indicator, NaN where NaN). So a change to the scenario or to the SimPy engine's behaviour fails
    the test with the command that regenerates the reference, rather than
    comparing against an outdated model. (A change that leaves those three
    replications bit-identical but alters others would slip through; regenerate
    after model changes.)

False-alarm rate
    The engines use different random streams, so each comparison is a
    statistical test. There are 1059 of them over all scenarios
    (:data:`DOCUMENTED_COMPARISONS`, checked by ``test_false_alarm_rate_is_documented``),
    each at ``alpha = 0.01 / 1059 = 9.4e-6`` (Bonferroni; |z| > 4.43), so when the
    engines agree in distribution the probability that the module reports any
    disagreement is at most 1% (the bound holds for dependent tests). The
    seeds are fixed, so a given model gets the same verdict every time. The
    KS p-value is exact for continuous data only; for discrete indicators
    (counts, shares of small counts, values tied at a bound) it is
    conservative, so the false-alarm rate is lower still (and the power
    somewhat lower). The NaN-share test is counted for every indicator even
    where neither engine has NaN (it cannot fail there): conservative too. The
    z and chi-square tests are large-sample approximations, accurate with 2000
    replications except for very rare events, where they are conservative at
    this alpha. A KS test needs at least 20 defined values in each sample
    (else only the NaN share is tested). Power, with 2000 replications each: a
    shift of a continuous indicator by 0.2 standard deviations is detected
    ~80% of the time, by 0.25 always; a target probability near 50% must differ
    by ~7-9 percentage points, near 5% by ~3-4.

Discretisation
    The fast engine does not step time: as its module docstring says, event
    times (signing, landing, giving up, production start) are continuous, as
    in SimPy; it advances month by month only to process the events falling in
    each month in time order before running the month end (growth, exits,
    certification rounds, year end) at the same instants as the SimPy clock.
    Firms are updated monthly in both engines (the same rules), uncertain
    parameters are drawn identically, and the yearly assessment acts on the
    months after its decision in both. So no discretisation difference is
    tolerated: the engines must agree within Monte Carlo error. What can differ
    is the order of things happening at the same instant; e.g. SimPy lets the
    floor space freed by exits at a month end to waiting projects only after
    that month end (a ``Container.put`` serves the waiting requests when the
    put event is processed), so the year-end indicators see it vacant. Such a
    difference is a modelling difference, which this test reports, not a
    tolerance.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from engine_reference import (
    HEAD,
    ROOT,
    compared_indicator_years,
    compared_parks,
    extract,
    head_values,
    reference_key,
    reference_path,
    regenerate_command,
    replications_for,
    scenario_files,
    scenario_id,
)
from scipy.stats import chi2_contingency, ks_2samp, norm

import parksim
from parksim.experiments.result import expand_targets

FAST_SEED = 424_242  # not the reference's seed (the engines' streams differ anyway)
FAST_JOBS = 2
FAMILY_ALPHA = 0.01  # probability of any false alarm in the whole module
MIN_DEFINED = 20  # KS only with at least this many defined values in each sample
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
OUTCOME_NAMES = {-1: "none", 0: "fail", 1: "pass", 2: "excellent"}
#: the number of statistical comparisons over all scenarios (the Bonferroni family), as documented above
DOCUMENTED_COMPARISONS = 1059

SCENARIOS = scenario_files()


def comparisons(path: Path) -> int:
    """The number of tests for one scenario: KS and NaN share per indicator column, one per target and ALL, one per assessed park-year."""
    scn = parksim.load_scenario(path)
    parks = compared_parks(scn)
    columns = len(parks) * len(compared_indicator_years(scn))
    targets = len(parks) * len(expand_targets(scn))
    assessed = len(parks) * scn.simulation.years if scn.assessment is not None else 0
    return 2 * columns + targets + (1 if targets else 0) + assessed


@cache
def family_size() -> int:
    return sum(comparisons(p) for p in SCENARIOS)


def alpha() -> float:
    return FAMILY_ALPHA / family_size()


# --- statistics --------------------------------------------------------------------------
def two_proportion_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z test (1 if both are 0 or both 1)."""
    pooled = (k1 + k2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return 1.0
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2 * norm.sf(abs(z)))


def describe(x: np.ndarray) -> str:
    """Quantiles, mean and NaN share of one engine's sample."""
    defined = x[~np.isnan(x)]
    nan = f", NaN {1 - len(defined) / len(x):.1%}" if len(defined) < len(x) else ""
    if not len(defined):
        return f"all NaN (n={len(x)})"
    q = np.quantile(defined.astype(np.float64), QUANTILES)
    qs = " / ".join(f"{v:.6g}" for v in q)
    return f"p5/25/50/75/95 = {qs}, mean {defined.astype(np.float64).mean():.6g}{nan} (n={len(x)})"


def compare_indicator(ref: np.ndarray, fast: np.ndarray, a: float) -> list[str]:
    """Problems with one indicator-year: KS on the defined values, z test on the NaN share."""
    problems = []
    na, nb = np.isnan(ref), np.isnan(fast)
    p_nan = two_proportion_p(int(na.sum()), len(ref), int(nb.sum()), len(fast))
    if p_nan < a:
        problems.append(f"undefined (NaN) in {na.mean():.2%} (SimPy) vs {nb.mean():.2%} (fast) of replications: p = {p_nan:.3g}")
    x, y = ref[~na], fast[~nb]
    if min(len(x), len(y)) >= MIN_DEFINED:
        ks = ks_2samp(x, y)
        if ks.pvalue < a:
            problems.append(f"KS D = {ks.statistic:.4f}, p = {ks.pvalue:.3g}")
    return problems


def outcome_table(ref: np.ndarray, fast: np.ndarray) -> tuple[np.ndarray, list[int]]:
    codes = sorted(set(np.unique(ref).tolist()) | set(np.unique(fast).tolist()))
    table = np.array([[int((s == c).sum()) for c in codes] for s in (ref, fast)])
    return table, codes


def outcome_p(ref: np.ndarray, fast: np.ndarray) -> float:
    """Chi-square test of homogeneity of two samples of outcome codes (1 if only one outcome occurs)."""
    table, _ = outcome_table(ref, fast)
    if table.shape[1] < 2:
        return 1.0
    return float(chi2_contingency(table, correction=False).pvalue)


# --- the tests -----------------------------------------------------------------------------
def load_reference(path: Path, scn) -> dict:
    ref_file = reference_path(path)
    how = f"generate it with `{regenerate_command(path)}`"
    if not ref_file.exists():
        shown = ref_file.relative_to(ROOT) if ref_file.is_relative_to(ROOT) else ref_file
        pytest.fail(f"no SimPy reference for {scenario_id(path)} ({shown}): {how}")
    with np.load(ref_file) as z:
        ref = {k: z[k] for k in z.files}
    if str(ref["sha256"]) != reference_key(scn):
        pytest.fail(f"the SimPy reference of {scenario_id(path)} is of another version of the scenario (its hash differs): {how}")
    try:
        # equal up to floating-point rounding: the same model on another CPU (numpy's SIMD math paths, summation
        # order) differs in the last bits (measured: at most 2.2e-14 relative over every stored reference); a change of
        # the model moves values far more, and NaN positions must match exactly
        np.testing.assert_allclose(head_values(scn, int(ref["seed"])), ref["head"], rtol=1e-10, atol=0, equal_nan=True)
    except AssertionError as e:
        pytest.fail(
            f"the SimPy model changed: its first {HEAD} replications of {scenario_id(path)} differ from the stored reference "
            f"(or the scenario's inputs did); regenerate it with `{regenerate_command(path)}`\n{e}"
        )
    return ref


@pytest.mark.parametrize("path", SCENARIOS, ids=[scenario_id(p) for p in SCENARIOS])
def test_fast_engine_agrees_with_simpy(path):
    scn = parksim.load_scenario(path)
    ref = load_reference(path, scn)
    fast = extract(parksim.simulate(scn, replications=replications_for(path), seed=FAST_SEED, jobs=FAST_JOBS, quiet=True, engine="fast"))
    assert fast.labels == ref["labels"].tolist(), "the compared indicator-years changed: regenerate the reference"
    assert fast.target_labels == ref["target_labels"].tolist(), "the targets changed: regenerate the reference"
    a = alpha()
    name = scenario_id(path)
    failures = []
    for k, label in enumerate(fast.labels):
        x, y = ref["values"][:, k], fast.values[:, k].astype(np.float32)  # compared at the stored precision
        for problem in compare_indicator(x, y, a):
            failures.append(f"{name}: {label}: {problem}\n    SimPy: {describe(x)}\n    fast:  {describe(y)}")
    met_ref, met_fast = ref["met"], fast.met
    probabilities = list(zip(fast.target_labels, met_ref.T, met_fast.T, strict=True))
    if fast.target_labels:
        probabilities.append(("ALL", met_ref.all(axis=1), met_fast.all(axis=1)))
    for label, m1, m2 in probabilities:
        p = two_proportion_p(int(m1.sum()), len(m1), int(m2.sum()), len(m2))
        if p < a:
            failures.append(f"{name}: target {label!r}: P(met) = {m1.mean():.4f} (SimPy) vs {m2.mean():.4f} (fast): p = {p:.3g}")
    assert fast.outcome_parks == ref["outcome_parks"].tolist()
    years = range(scn.simulation.start_year, scn.simulation.start_year + scn.simulation.years)
    for j, park in enumerate(fast.outcome_parks):
        for yi, year in enumerate(years):
            o1, o2 = ref["outcomes"][:, j, yi], fast.outcomes[:, j, yi]
            p = outcome_p(o1, o2)
            if p < a:
                table, codes = outcome_table(o1, o2)
                shares = [", ".join(f"{OUTCOME_NAMES[c]} {n / row.sum():.3f}" for c, n in zip(codes, row, strict=True)) for row in table]
                where = f"{park}: " if park else ""
                failures.append(f"{name}: {where}assessment outcome {year}: SimPy {shares[0]} vs fast {shares[1]}: chi-square p = {p:.3g}")
    assert not failures, f"{len(failures)} disagreement(s) at alpha = {a:.3g} per test ({FAMILY_ALPHA} for the module):\n" + "\n".join(
        failures
    )


def test_false_alarm_rate_is_documented():
    n = family_size()
    assert n == DOCUMENTED_COMPARISONS and f"There are {n} of them" in __doc__ and f"0.01 / {n} " in __doc__, (
        f"the scenarios now need {n} comparisons (alpha = {alpha():.1e} per test), not {DOCUMENTED_COMPARISONS}: "
        "update DOCUMENTED_COMPARISONS and the module docstring"
    )


def test_the_tests_can_fail():
    """The statistics flag a real difference and pass equal distributions (the same seeded samples)."""
    rng = np.random.default_rng(5)
    a = alpha()
    same = rng.normal(size=(2, 2000)).astype(np.float32)
    assert compare_indicator(same[0], same[1], a) == []
    shifted = same[1] + np.float32(0.25)
    assert any("KS" in p for p in compare_indicator(same[0], shifted, a))
    nans = same[1].copy()
    nans[:200] = np.nan
    assert any("NaN" in p for p in compare_indicator(same[0], nans, a))
    assert two_proportion_p(1000, 2000, 1000, 2000) == 1.0
    assert two_proportion_p(1000, 2000, 1200, 2000) < a
    assert outcome_p(np.zeros(2000), np.zeros(2000)) == 1.0
    assert outcome_p(np.repeat([0, 1], 1000), np.repeat([0, 1], [800, 1200])) < a


def test_a_missing_or_stale_reference_fails(tmp_path, monkeypatch):
    """The reference checks can fail: no file, another scenario hash, SimPy replications that differ from the stored ones."""
    import sys

    path = ROOT / "scenarios" / "bench.toml"
    scn = parksim.load_scenario(path)
    with np.load(reference_path(path)) as z:
        ref = {k: z[k] for k in z.files}
    fake = tmp_path / "ref.npz"
    monkeypatch.setattr(sys.modules[__name__], "reference_path", lambda p: fake)

    def fails_with(text: str) -> None:
        with pytest.raises(pytest.fail.Exception, match=text):
            load_reference(path, scn)

    fails_with("no SimPy reference for bench")
    np.savez(fake, **{**ref, "sha256": np.array("0" * 64)})
    fails_with("another version of the scenario")
    head = ref["head"].copy()
    head[0, -1, 0] *= 1 + 1e-8  # a change far above rounding, far below any model change's
    np.savez(fake, **{**ref, "head": head})
    fails_with("the SimPy model changed")
    np.savez(fake, **ref)
    assert load_reference(path, scn)["head"].shape == head.shape

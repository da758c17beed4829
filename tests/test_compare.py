"""Comparing scenarios: paired differences, common random numbers, compare.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_PARK as BASE  # noqa: E402

import parksim
from parksim.cli import main
from parksim.experiments.compare import COMPARE_COLUMNS, mcnemar_p, paired_difference


def test_paired_difference_hand_computed():
    base = np.array([1, 0, 1, 1, 0, 0], dtype=bool)
    variant = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    diff, lo, hi = paired_difference(base, variant, seed=1)
    assert diff == pytest.approx(1 / 6)  # +2 gained, -1 lost over 6 pairs
    assert lo <= diff <= hi and -1 <= lo and hi <= 1
    assert paired_difference(base, variant, seed=1) == (diff, lo, hi)  # reproducible
    same = paired_difference(base, base, seed=1)
    assert same == (0.0, 0.0, 0.0)  # identical outcomes: no uncertainty at all


def test_mcnemar_exact():
    b = np.array([0, 0, 0, 1, 1], dtype=bool)
    v = np.array([1, 1, 1, 1, 1], dtype=bool)
    assert mcnemar_p(b, v) == pytest.approx(0.25)  # 3 gained, 0 lost: 2 * 0.5^3
    assert mcnemar_p(b, b) == 1.0


def test_common_random_numbers_narrow_the_paired_interval(write):
    """Same N, same scenarios: pairing replications that share their random numbers gives a much
    narrower interval for the difference than pairing independent runs (a different seed)."""
    base = write("base.toml", BASE)
    variant = write("variant.toml", 'extends = "base.toml"\n[pipeline.landing]\ndelay = {dist = "lognormal", median = 2.0, sigma = 0.7}\n')
    n = 120
    b = parksim.simulate(base, replications=n, seed=3, jobs=2, quiet=True).value("total_output", 2024)
    v_crn = parksim.simulate(variant, replications=n, seed=3, jobs=2, quiet=True).value("total_output", 2024)
    v_ind = parksim.simulate(variant, replications=n, seed=4, jobs=2, quiet=True).value("total_output", 2024)
    _, lo_c, hi_c = paired_difference(b, v_crn, seed=1)
    _, lo_i, hi_i = paired_difference(b, v_ind, seed=1)
    # slower landing only delays some output: with CRN the differences are small and alike
    assert (hi_c - lo_c) < 0.25 * (hi_i - lo_i)


def test_compare_writes_table_and_figure(write, tmp_path, capsys):
    base = write("base.toml", BASE)
    more = write("more.toml", 'extends = "base.toml"\n[pipeline]\nsignings_per_month = 6.0\n')
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(more), "-n", "40", "-j", "1", "-q", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "largest other change" in printed and "pp/100m" in printed
    table = pd.read_csv(out / "compare.csv")
    assert list(table.columns) == COMPARE_COLUMNS
    assert set(table.scenario) == {"base", "more"} and set(table.target) == {"output", "ALL"}
    base_rows = table[table.scenario == "base"]
    assert (base_rows.diff_vs_base == 0).all()
    row = table[(table.scenario == "more") & (table.target == "output")].iloc[0]
    assert row.diff_vs_base > 0 and row.diff_ci_low > 0  # twice the signings: clearly more output
    # the difference is the difference of the two scenarios' P(met) (same replications)
    assert row.diff_vs_base == pytest.approx(row.p_met - base_rows[base_rows.target == "output"].p_met.item())
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "scenarios" / "more" / "targets.csv").exists()


def test_compare_refuses_different_targets(write, capsys):
    base = write("base.toml", BASE)
    other = write("other.toml", 'extends = "base.toml"\n[[targets]]\nlabel = "extra"\nindicator = "firms"\nthreshold = 1.0\nyear = 2024\n')
    assert main(["compare", str(base), str(other), "-n", "5", "-j", "1", "-q"]) == 2
    assert "targets differ from the base's" in capsys.readouterr().err

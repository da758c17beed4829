"""Targets a variant adds (extra_targets), a variant that replaces them (said by validate), and targets per park."""

from __future__ import annotations

import pytest

import parksim
from parksim.cli import main

EXTRA = """
[[extra_targets]]
label = "{label}"
indicator = "firms"
threshold = {threshold}
year = 2024
"""


def test_extra_targets_add_to_the_base_targets(root, write):
    base = root / "scenarios" / "xiushan-2024.toml"
    n = len(parksim.load_scenario(base).targets)
    v1 = write("v1.toml", f'extends = "{base}"\n' + EXTRA.format(label="firms >= 700", threshold=700.0))
    v2 = write("v2.toml", 'extends = "v1.toml"\n' + EXTRA.format(label="firms >= 800", threshold=800.0))
    s1, s2 = parksim.load_scenario(v1), parksim.load_scenario(v2)
    assert [t.label for t in s1.targets][:n] == [t.label for t in parksim.load_scenario(base).targets]
    assert [t.label for t in s1.targets][n:] == ["firms >= 700"]
    assert [t.label for t in s2.targets][n:] == ["firms >= 700", "firms >= 800"]  # each file of the chain adds its own
    res = parksim.simulate(v2, replications=5, seed=1, jobs=1, quiet=True, engine="simpy")
    assert res.targets.target.tolist()[-3:] == ["firms >= 700", "firms >= 800", "ALL"]


def test_a_bad_extra_target_names_the_file_that_adds_it(root, write, capsys):
    base = root / "scenarios" / "xiushan-2024.toml"
    bad = write("bad.toml", f'extends = "{base}"\n' + EXTRA.format(label="bad", threshold='"x"'))
    assert main(["validate", str(bad)]) == 2
    assert f"{bad}: extra_targets.0.threshold: " in capsys.readouterr().err  # named as the file names it


def test_validate_says_when_a_variants_targets_replace_the_base(root, write, capsys):
    base = root / "scenarios" / "xiushan-2024.toml"
    v = write("only.toml", f'extends = "{base}"\n[[targets]]\nlabel = "only"\nindicator = "firms"\nthreshold = 1.0\nyear = 2024\n')
    assert main(["validate", str(v)]) == 0
    out = capsys.readouterr().out
    assert f"note: {v}: its 1 [[targets]] replace every target of the scenario it extends (xiushan-2024.toml)" in out
    assert "use [[extra_targets]] to add targets instead" in out
    assert main(["validate", str(base)]) == 0
    assert "replace every target" not in capsys.readouterr().out


PARKS_TARGET = """
[[extra_targets]]
label = "A and B: output >= 300"
indicator = "total_output"
threshold = 300.0
year = 2025
parks = ["A-materials", "B-energy-chem"]
"""


def test_a_target_holds_only_the_parks_it_names(root, write, capsys):
    nx = root / "scenarios" / "ningxia-2025.toml"
    v = write("nx.toml", f'extends = "{nx}"\n' + PARKS_TARGET)
    scn = parksim.load_scenario(v)
    base = {name: len(m.targets) for name, m in parksim.load_scenario(nx)._members}
    counts = {name: len(m.targets) for name, m in scn._members}
    assert counts == {name: n + (name in ("A-materials", "B-energy-chem")) for name, n in base.items()}
    res = parksim.simulate(v, replications=4, seed=1, jobs=1, quiet=True, engine="simpy")
    labels = res.targets.target.tolist()
    assert "A-materials: A and B: output >= 300" in labels and "B-energy-chem: A and B: output >= 300" in labels
    assert not any(x.startswith("C-equip-IT: A and B") for x in labels)
    # ALL is every target of every park, and the portfolio's own targets (on the parks together)
    met = res.met()
    assert met.shape[1] == sum(counts.values()) + len(scn.portfolio.targets)
    assert main(["validate", str(v)]) == 0
    out = capsys.readouterr().out
    assert f"A-materials {counts['A-materials']}, B-energy-chem {counts['B-energy-chem']}, C-equip-IT {counts['C-equip-IT']}" in out
    assert f"the parks together (portfolio) {len(scn.portfolio.targets)}" in out


@pytest.mark.parametrize(
    "parks, message",
    [('["Z-zone"]', "unknown park(s) ['Z-zone']; expected names from portfolio.parks"), ("[]", "an empty list")],
)
def test_bad_parks_lists_are_clear_errors(root, write, capsys, parks, message):
    nx = root / "scenarios" / "ningxia-2025.toml"
    v = write("nx.toml", f'extends = "{nx}"\n' + PARKS_TARGET.replace('["A-materials", "B-energy-chem"]', parks))
    assert main(["validate", str(v)]) == 2
    err = capsys.readouterr().err
    assert f"{v}: extra_targets.0.parks: " in err and message in err


def test_parks_on_a_single_park_is_an_error(root, write, capsys):
    xs = root / "scenarios" / "xiushan-2024.toml"
    v = write("xs.toml", f'extends = "{xs}"\n' + PARKS_TARGET.replace("year = 2025", "year = 2024"))
    assert main(["validate", str(v)]) == 2
    assert "a target's parks apply only to a portfolio" in capsys.readouterr().err

"""Shared fixtures: small scenarios written under tmp_path, and the repository root."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from parksim.engines.contract import ENGINES

ROOT = Path(__file__).resolve().parents[1]


def pytest_sessionstart(session):
    """Compiled test helpers (``numba.njit(cache=True)`` in these modules) call parksim's samplers and rules, and
    numba's cache sees only a change in the test file itself: start their cache afresh when those sources change."""
    from parksim.model import jit, sources

    here = Path(__file__).parent
    jit._refresh_cache([here / "__pycache__"], sources.sources_digest(sources.PACKAGE), modules=("test_fastrand", "test_rules_firms"))


@pytest.fixture(params=list(ENGINES))
def engine(request) -> str:
    """Each registered engine in turn: for tests that every engine gives the same answers."""
    return request.param


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def write(tmp_path):
    """Write a dedented text file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return _write


#: a small park with one output target, used by the comparison, lever and report tests
SMALL_PARK = """
name = "Small park"
[simulation]
years = 2
[pipeline]
signings_per_month = 3.0
[sectors.a]
[baseline.sectors.a]
firms = 15
[[targets]]
label = "output"
indicator = "total_output"
threshold = 30.0
year = 2024
"""


#: a synthetic park of 60 firms on scenarios/bench.toml, 2023-2026, its signing rate uncertain (2-10 a month): the park
#: of the calibration, nowcast, exploration, threshold and cluster tests
SYNTHETIC_PARK = """
extends = "{bench}"
name = "Small synthetic park"
[simulation]
years = 4
[pipeline]
signings_per_month = {{dist = "uniform", low = 2.0, high = 10.0}}
[baseline.sectors.manufacturing]
firms = 30
[baseline.sectors.electronics]
firms = 20
[baseline.sectors.services]
firms = 10
"""
#: targets the signing rate drives (signings) and one it bears on less (high-tech firms), for explorations
SIGNED_AND_HNTE_TARGETS = """[[targets]]
label = "signed >= 90"
indicator = "projects_signed"
comparison = ">="
threshold = 90.0
year = 2026
[[targets]]
label = "hnte >= 8"
indicator = "hnte_valid"
comparison = ">="
threshold = 8.0
year = 2026
"""


def synthetic_park(extra: str = "") -> str:
    """:data:`SYNTHETIC_PARK` extending the repository's bench.toml, with ``extra`` (targets, observations) after it."""
    return SYNTHETIC_PARK.format(bench=(ROOT / "scenarios" / "bench.toml").as_posix()) + extra


def synthetic_park_file(folder: Path, extra: str = "") -> Path:
    """:func:`synthetic_park` written to ``folder/small.toml``."""
    path = folder / "small.toml"
    path.write_text(synthetic_park(extra), encoding="utf-8")
    return path


def tiny_park(name: str, target: bool = True) -> str:
    """A two-year park of 12 firms and 2 signings a month, with a firm-count target unless ``target`` is False."""
    text = f"""\
name = "{name}"
[simulation]
years = 2
[pipeline]
signings_per_month = 2.0
[sectors.a]
[baseline.sectors.a]
firms = 12
"""
    if target:
        text += '[[targets]]\nlabel = "firms"\nindicator = "firms"\nthreshold = 12.0\nyear = 2024\n'
    return text

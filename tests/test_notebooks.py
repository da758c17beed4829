"""Notebooks are executed by the test suite, so they always run against the current code."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = ["xiushan-2024.ipynb", "levers.ipynb", "stress-test.ipynb"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(root, name):
    path = root / "notebooks" / name
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    expected = {
        "xiushan-2024.ipynb": ["median_gap", "recognised", "ALL"],
        "levers.ipynb": ["pp_per_100m_yuan", "promotion", "yuan_per_unit_gained"],
        "stress-test.ipynb": [
            "common random numbers: True",
            "institutions.incubation_added_m2_per_year",
            "is met with P >= 0.5",
            "share_inputs",
            "P(status recognised after 2024) ≥ 0.8",
        ],
    }[name]
    for fragment in expected:
        assert fragment in text, fragment
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the figures were drawn

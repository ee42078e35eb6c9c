"""Notebooks hold parameters, one-line calls, prose and figures: at most 250 code lines besides
the parameters cell, and no code cell over 30 lines (the algorithms, grids, verdict numbers and
table shaping live in the chapter packages, where tests and linters read them)."""
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def code_cells(path: Path) -> list[list[str]]:
    """Source lines of every code cell but the parameters cell."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]).splitlines() for c in cells if c["cell_type"] == "code"
            and "parameters" not in c.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_thin(path):
    cells = code_cells(path)
    assert sum(len(c) for c in cells) <= 250, f"{path.name}: over 250 code lines"
    longest = max((len(c) for c in cells), default=0)
    assert longest <= 30, f"{path.name}: a code cell of {longest} lines (at most 30)"

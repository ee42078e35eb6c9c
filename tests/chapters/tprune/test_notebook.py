"""The TPrune notebook as a reader gets it (read from its JSON, not executed): folded setup,
exercises with solutions, every quoted number glued, every download written."""
from __future__ import annotations

import json
import re
from pathlib import Path

from pruninglib.chapters.tprune import report

NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "tprune.ipynb"


def _cells():
    return json.loads(NOTEBOOK.read_text())["cells"]


def _text(cell) -> str:
    return "".join(cell["source"])


def test_title_and_folded_cells():
    cells = _cells()
    assert _text(cells[0]).startswith("# TPrune: our experiment\n")
    tagged = {tuple(c["metadata"].get("tags", [])): c for c in cells if c["cell_type"] == "code"}
    assert "hide-input" in tagged[("parameters", "hide-input")]["metadata"]["tags"]
    visible = [_text(c) for c in cells if c["cell_type"] == "code"
               and not {"hide-input", "remove-cell"} & set(c["metadata"].get("tags", []))]
    assert any("tprune.run(" in c for c in visible), "the call that trains stays visible"
    too_long = [line for c in cells if c["cell_type"] == "code"
                for line in _text(c).splitlines() if len(line) > 88]
    assert not too_long


def test_exercises_have_solutions_and_every_glued_number_is_glued():
    markdown = "\n".join(_text(c) for c in _cells() if c["cell_type"] == "markdown")
    exercises = re.findall(r"```\{exercise\}.*\n:label: (tprune-[\w-]+)", markdown)
    solutions = re.findall(r"````\{solution\} (tprune-[\w-]+)", markdown)
    assert len(exercises) >= 2 and sorted(solutions) == sorted(exercises)
    used = set(re.findall(r"\{glue:text\}`(\w+)(?::[^`]*)?`", markdown))
    assert used and used <= set(report.GLUED)
    code = "\n".join(_text(c) for c in _cells() if c["cell_type"] == "code")
    assert "report.glued_numbers(" in code and "glue(name, value, display=False)" in code


def test_every_linked_download_is_a_table_the_notebook_saves():
    markdown = "\n".join(_text(c) for c in _cells() if c["cell_type"] == "markdown")
    linked = set(re.findall(r"<data/tprune-(\w+)\.csv>", markdown))
    assert linked and linked <= set(report.TABLES)
    code = "\n".join(_text(c) for c in _cells() if c["cell_type"] == "code")
    assert 'save_tables("tprune", report.tables(' in code

"""The tour's notebook as a reader gets it (read from its JSON, not executed): folded setup,
exercises with solutions, every quoted number glued, every download written."""
from __future__ import annotations

import json
import re
from pathlib import Path

from pruninglib.chapters.pai_in_ten_minutes import report

NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "pai_in_ten_minutes.ipynb"


def _cells(kind: str) -> list[tuple[str, list[str]]]:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return [("".join(c["source"]), c["metadata"].get("tags", [])) for c in cells
            if c["cell_type"] == kind]


def test_title_and_folded_cells():
    assert _cells("markdown")[0][0].startswith(
        "# Pruning at initialization in ten minutes\n")
    code = _cells("code")
    assert code[0][1] == ["parameters", "hide-input"]
    visible = [text for text, tags in code if not {"hide-input", "remove-cell"} & set(tags)]
    assert any("sweep.run_tour(" in text for text in visible), "the training call is shown"
    assert any("verdicts.results(" in text for text in visible)
    assert not [line for text, _ in code for line in text.splitlines() if len(line) > 88]


def test_exercises_have_solutions_and_every_quoted_number_is_glued():
    markdown = "\n".join(text for text, _ in _cells("markdown"))
    exercises = re.findall(r"```\{exercise\}.*\n:label: (pai-[\w-]+)", markdown)
    solutions = re.findall(r"````\{solution\} (pai-[\w-]+)", markdown)
    assert len(exercises) >= 2 and sorted(solutions) == sorted(exercises)
    used = set(re.findall(r"\{glue:text\}`(\w+)(?::[^`]*)?`", markdown))
    assert used and used <= set(report.GLUED)
    code = "\n".join(text for text, _ in _cells("code"))
    assert "report.glued_numbers(" in code and "glue(name, value, display=False)" in code


def test_every_linked_download_is_a_table_the_notebook_saves():
    markdown = "\n".join(text for text, _ in _cells("markdown"))
    linked = set(re.findall(r"<data/pai_in_ten_minutes-(\w+)\.csv>", markdown))
    assert linked and linked <= set(report.TABLES)
    code = "\n".join(text for text, _ in _cells("code"))
    assert 'save_tables("pai_in_ten_minutes", report.tables(' in code

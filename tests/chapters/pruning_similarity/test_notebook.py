"""The chapter notebook as a reader meets it, read from its JSON (nothing executed): titles,
folded cells, exercises with solutions, glued numbers, downloads."""
from __future__ import annotations

import json
import re
from pathlib import Path

from pruninglib.chapters.pruning_similarity import report

ROOT = Path(__file__).resolve().parents[3]
CELLS = json.loads((ROOT / "notebooks" / "pruning_similarity.ipynb").read_text())["cells"]
CODE = [c for c in CELLS if c["cell_type"] == "code"]
MARKDOWN = "\n".join("".join(c["source"]) for c in CELLS if c["cell_type"] == "markdown")


def _source(cell) -> str:
    return "".join(cell["source"])


def _tags(cell) -> list[str]:
    return cell["metadata"].get("tags", [])


def test_the_notebook_and_the_paper_page_say_which_is_which():
    assert _source(CELLS[0]).splitlines()[0] == "# Is pruning compression?: our experiment"
    page = (ROOT / "book" / "blakeney_2020.md").read_text().splitlines()
    assert page[0] == "# Is pruning compression?: the paper"


def test_parameters_and_setup_are_folded_and_visible_code_fits_the_column():
    parameters = [c for c in CODE if "parameters" in _tags(c)]
    assert len(parameters) == 1 and "hide-input" in _tags(parameters[0])
    assert "hide-input" in _tags(CODE[1])  # imports and the resolved parameters
    visible = [c for c in CODE if not {"hide-input", "remove-cell"} & set(_tags(c))]
    assert any("train_networks" in _source(c) for c in visible)  # the library calls stay
    assert any("layer_similarities" in _source(c) for c in visible)
    for cell in visible:
        assert max(len(line) for line in _source(cell).splitlines()) <= 88, _source(cell)
    lines = [len(_source(c).splitlines()) for c in CODE if "parameters" not in _tags(c)]
    assert sum(lines) <= 250 and max(lines) <= 30


def test_exercises_have_solutions_and_every_glued_number_is_computed():
    exercises = re.findall(r"^```\{exercise\}", MARKDOWN, flags=re.MULTILINE)
    solutions = re.findall(r"^````\{solution\} (\S+)", MARKDOWN, flags=re.MULTILINE)
    labels = re.findall(r"^:label: (\S+)", MARKDOWN, flags=re.MULTILINE)
    assert len(exercises) >= 2 and sorted(solutions) == sorted(labels) and len(labels) >= 2
    used = set(re.findall(r"\{glue:text\}`([a-z0-9_]+)", MARKDOWN))
    assert used and used <= set(report.EXERCISE_NAMES)
    glue_cells = [c for c in CODE if "glue(name, value" in _source(c)]
    assert len(glue_cells) == 1 and "report.exercise_numbers(" in _source(glue_cells[0])
    assert "remove-cell" in _tags(glue_cells[0])


def test_every_linked_table_is_written_by_the_notebook():
    linked = set(re.findall(r"<data/pruning_similarity-([a-z0-9_]+)\.csv>", MARKDOWN))
    written = [c for c in CODE if "save_tables(" in _source(c)]
    assert len(written) == 1 and "report.download_tables(" in _source(written[0])
    empty = [None] * 5
    assert linked == set(report.download_tables(*empty))

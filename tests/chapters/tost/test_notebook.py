"""The ToST notebook as a reader meets it (read as JSON, never executed): its title, folded
setup and plotting cells, visible lines that fit the column, exercises with solutions whose
numbers are all glued, and download links to tables the notebook writes."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pruninglib.book import claims as book_claims
from pruninglib.chapters.tost import claims, experiment, report

NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "tost.ipynb"


@pytest.fixture(scope="module")
def cells() -> list[dict]:
    return json.loads(NOTEBOOK.read_text())["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _markdown(cells) -> str:
    return "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")


def test_the_title_says_it_is_our_experiment(cells):
    assert _source(cells[0]).splitlines()[0] == "# ToST: our experiment"


def test_parameters_and_display_cells_are_folded(cells):
    code = [c for c in cells if c["cell_type"] == "code"]
    parameters = [c for c in code if "parameters" in _tags(c)]
    assert len(parameters) == 1 and "hide-input" in _tags(parameters[0])
    for cell in code:
        text = _source(cell)
        if text.startswith(("fig = figures.", "report.gain_table", "print_environment")):
            assert "hide-input" in _tags(cell), text
    # the calls that train and measure stay visible
    visible = [_source(c) for c in code if not {"hide-input", "remove-cell"} & set(_tags(c))]
    assert any("experiment.run_protocols(" in text for text in visible)
    assert any("claims.estimates(" in text for text in visible)


def test_visible_code_fits_the_column_and_the_notebook_stays_thin(cells):
    code = [c for c in cells if c["cell_type"] == "code"]
    for cell in code:
        if "remove-cell" not in _tags(cell) and "hide-input" not in _tags(cell):
            assert all(len(line) <= 88 for line in _source(cell).splitlines())
        assert "parameters" in _tags(cell) or len(cell["source"]) <= 30
    lines = sum(len(c["source"]) for c in code if "parameters" not in _tags(c))
    assert lines <= 250


def test_exercises_have_solutions_and_every_glued_number_is_glued(cells, design, runs_frame,
                                                                  dense_frame, monkeypatch):
    text = _markdown(cells)
    exercises = re.findall(r"```\{exercise\}.*\n:label: (\S+)", text)
    solutions = re.findall(r"````\{solution\} (\S+)", text)
    assert len(exercises) >= 2 and sorted(solutions) == sorted(exercises)
    used = set(re.findall(r"\{glue:text\}`([a-z0-9_]+)", text))
    assert used and all(name.startswith("tost_") for name in used)
    glue_cell = next(_source(c) for c in cells if "glue(" in _source(c))
    assert "report.glue_values(" in glue_cell
    monkeypatch.delenv(book_claims.CHAPTER_ENV, raising=False)
    result = experiment.ProtocolRuns(dense_frame, runs_frame)
    glued = report.glue_values(design, result, claims.estimates(design, result))
    assert used <= set(glued)


def test_download_links_are_tables_the_notebook_writes(cells, runs_frame, dense_frame):
    linked = set(re.findall(r"<data/tost-([a-z0-9_]+)\.csv>", _markdown(cells)))
    assert linked
    assert any('save_tables("tost", report.downloads(result))' in _source(c) for c in cells)
    assert linked <= set(report.downloads(experiment.ProtocolRuns(dense_frame, runs_frame)))

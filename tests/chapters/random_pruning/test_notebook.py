"""The chapter notebook read as JSON (nothing executed): what a reader sees folded, the
exercises and their solutions, every glued number and every download link."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from pruninglib.book import claims
from pruninglib.book.parameters import parameters_for
from pruninglib.chapters.random_pruning import report, study

NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "random_pruning.ipynb"
CELLS = json.loads(NOTEBOOK.read_text())["cells"]
CODE = [c for c in CELLS if c["cell_type"] == "code"]
MARKDOWN = "\n".join("".join(c["source"]) for c in CELLS if c["cell_type"] == "markdown")


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def test_titles_and_folded_cells():
    assert "".join(CELLS[0]["source"]).startswith(
        "# Randomly pruned networks and the NTK: our experiment\n")
    (parameters,) = [c for c in CODE if "parameters" in _tags(c)]
    assert "hide-input" in _tags(parameters)
    setup = "".join(CODE[1]["source"])
    assert "parameters_from" in setup and "hide-input" in _tags(CODE[1])
    for cell in CODE:
        source = "".join(cell["source"])
        if source.lstrip().startswith("fig = "):
            assert "hide-input" in _tags(cell), source  # figures fold
        if "hide-input" not in _tags(cell):
            assert all(len(line) <= 88 for line in source.splitlines()), source
    page = (NOTEBOOK.parents[1] / "book" / "yang_2023.md").read_text()
    assert page.startswith("# Randomly pruned networks and the NTK: the paper\n")


def test_exercises_have_solutions():
    exercises = re.findall(r"^```{exercise}.*\n:label: (\S+)", MARKDOWN, flags=re.MULTILINE)
    solutions = re.findall(r"^````{solution} (\S+)", MARKDOWN, flags=re.MULTILINE)
    assert 2 <= len(exercises) <= 4 and sorted(solutions) == sorted(exercises)
    assert all(label.startswith("random_pruning-") for label in exercises)
    assert MARKDOWN.count("papermill notebooks/random_pruning.ipynb out.ipynb") >= 2


def test_every_glued_name_is_glued_by_a_code_cell():
    used = set(re.findall(r"\{glue:text\}`([\w]+)", MARKDOWN))
    assert used
    code = "\n".join("".join(c["source"]) for c in CODE)
    assert "glue(name, value, display=False)" in code and "report.glue_values(" in code
    params = parameters_for("random_pruning", "smoke")
    one = claims.Estimate.from_samples([1.0, 2.0, 3.0])
    glued = report.glue_values(params, {i: one for i in ("N1", "B2", "B3a", "B3b")})
    assert used <= set(glued), sorted(used - set(glued))


def test_every_linked_download_is_written():
    linked = set(re.findall(r"<data/random_pruning-(\w+)\.csv>", MARKDOWN))
    frame = pd.DataFrame({"variant": ["dense"], "seed": [0]})
    written = set(study.download_tables(frame, frame, frame, frame, frame))
    assert linked == written
    code = "\n".join("".join(c["source"]) for c in CODE)
    assert 'save_tables("random_pruning", study.download_tables(' in code

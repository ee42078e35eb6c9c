"""The chapter notebook read as JSON (nothing executed): titles, what a reader sees folded,
the exercises and their solutions, every glued number and every download link."""
from __future__ import annotations

import json
import re
from pathlib import Path

from pruninglib.book.claims import Estimate
from pruninglib.book.parameters import parameters_for
from pruninglib.chapters.ramanujan import report
from pruninglib.chapters.ramanujan.verdicts import METRICS

from .test_report import downloads
from .test_verdicts import frame

ROOT = Path(__file__).resolve().parents[3]
CELLS = json.loads((ROOT / "notebooks" / "ramanujan.ipynb").read_text())["cells"]
CODE = [c for c in CELLS if c["cell_type"] == "code"]
MARKDOWN = "\n".join("".join(c["source"]) for c in CELLS if c["cell_type"] == "markdown")


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def test_titles_and_folded_cells():
    assert "".join(CELLS[0]["source"]).startswith(
        "# The Ramanujan-graph lens: our experiment\n")
    page = (ROOT / "book" / "hoang_2023.md").read_text()
    assert page.startswith("# The Ramanujan-graph lens: the paper\n")
    (parameters,) = [c for c in CODE if "parameters" in _tags(c)]
    assert "hide-input" in _tags(parameters)
    assert "parameters_from" in "".join(CODE[1]["source"]) and "hide-input" in _tags(CODE[1])
    for cell in CODE:
        source = "".join(cell["source"])
        if source.lstrip().startswith("fig = "):
            assert "hide-input" in _tags(cell), source  # figures fold
        if not {"hide-input", "remove-cell"} & set(_tags(cell)):
            assert all(len(line) <= 88 for line in source.splitlines()), source


def test_exercises_have_solutions():
    exercises = re.findall(r"^```{exercise}.*\n:label: (\S+)", MARKDOWN, flags=re.MULTILINE)
    solutions = re.findall(r"^````{solution} (\S+)", MARKDOWN, flags=re.MULTILINE)
    assert 2 <= len(exercises) <= 4 and sorted(solutions) == sorted(exercises)
    assert all(label.startswith("ramanujan-") for label in exercises)
    assert MARKDOWN.count("papermill notebooks/ramanujan.ipynb out.ipynb") >= 2


def test_every_glued_name_is_glued_by_a_code_cell():
    used = set(re.findall(r"\{glue:text\}`(\w+)", MARKDOWN))
    assert used
    code = "\n".join("".join(c["source"]) for c in CODE)
    assert "glue(name, value, display=False)" in code and "report.glue_values(" in code
    params = parameters_for("ramanujan", "smoke")
    one = Estimate.from_samples([0.1, 0.2, 0.3])
    results = {f"{claim} · {label}": one for claim in METRICS for label in ("MLP", "Conv-4")}
    pruned = frame().assign(**{"model.name": ["mlp", "conv4"] * (len(frame()) // 2)})
    glued = report.glue_values(params, results, pruned, pruned)
    assert used <= set(glued), sorted(used - set(glued))


def test_every_linked_download_is_written():
    linked = set(re.findall(r"<data/ramanujan-(\w+)\.csv>", MARKDOWN))
    code = "\n".join("".join(c["source"]) for c in CODE)
    assert 'save_tables("ramanujan", report.download_tables(' in code
    assert linked == set(downloads())

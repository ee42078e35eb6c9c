"""The chapter notebook read as JSON (nothing executed): titles, what a reader sees folded,
the exercises and their solutions, every glued number and every download link; and
:mod:`pruninglib.chapters.robust_pruning.report` on hand-made frames."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pruninglib.chapters.robust_pruning import report, verdicts
from pruninglib.chapters.robust_pruning.claims import claims_for

from .frames import chis, params, prune_layers, res_runs, train_runs, widths

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "robust_pruning.ipynb"
CELLS = json.loads(NOTEBOOK.read_text())["cells"]
CODE = [c for c in CELLS if c["cell_type"] == "code"]
CODE_TEXT = "\n".join("".join(c["source"]) for c in CODE)
MARKDOWN = "\n".join("".join(c["source"]) for c in CELLS if c["cell_type"] == "markdown")


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _glued():
    p = params()
    results = verdicts.chapter_estimates(p, claims_for(p), prune_layers=prune_layers(),
                                         train_runs=train_runs(), chis=chis(),
                                         widths=widths(),
                                         res_runs=res_runs())
    return report.glue_values(p, results, chis(), widths())


def test_titles_and_folded_cells():
    assert "".join(CELLS[0]["source"]).startswith(
        "# Robust pruning at initialization: our experiment\n")
    page = (ROOT / "book" / "hayou_2021.md").read_text()
    assert page.startswith("# Robust pruning at initialization: the paper\n")
    (parameters,) = [c for c in CODE if "parameters" in _tags(c)]
    assert "hide-input" in _tags(parameters)
    assert "parameters_from" in "".join(CODE[1]["source"]) and "hide-input" in _tags(CODE[1])
    for cell in CODE:
        source = "".join(cell["source"])
        if source.lstrip().startswith("fig = "):
            assert "hide-input" in _tags(cell), source
        if "hide-input" not in _tags(cell):
            assert all(len(line) <= 88 for line in source.splitlines()), source


def test_exercises_have_solutions():
    exercises = re.findall(r"^```{exercise}.*\n:label: (\S+)", MARKDOWN, flags=re.MULTILINE)
    solutions = re.findall(r"^````{solution} (\S+)", MARKDOWN, flags=re.MULTILINE)
    assert 2 <= len(exercises) <= 4 and sorted(solutions) == sorted(exercises)
    assert all(label.startswith("robust_pruning-") for label in exercises)
    assert MARKDOWN.count("papermill notebooks/robust_pruning.ipynb out.ipynb") >= 2


def test_every_glued_name_is_glued_by_a_code_cell():
    used = set(re.findall(r"\{glue:text\}`(\w+)", MARKDOWN))
    assert len(used) >= 5
    assert "glue(name, value, display=False)" in CODE_TEXT
    assert "report.glue_values(P, RESULTS, chis, widths)" in CODE_TEXT
    glued = _glued()
    assert used <= set(glued), sorted(used - set(glued))
    assert all(name.startswith("robust_pruning_") for name in glued)


def test_glued_numbers():
    glued = _glued()
    assert glued["robust_pruning_chi_pruned"] == pytest.approx(0.81)
    assert glued["robust_pruning_chi_rescaled"] == pytest.approx(1.0)
    assert glued["robust_pruning_widest"] == 60
    assert glued["robust_pruning_chi_rescaled_widest"] == pytest.approx(1.0)
    assert glued["robust_pruning_inputless_widest"] == pytest.approx(0.0)
    assert glued["robust_pruning_sparsity"] == pytest.approx(90.0)
    assert glued["robust_pruning_inputless"] == pytest.approx(20.0)
    assert glued["robust_pruning_rescaling_gain"].startswith("4.0 ± ")
    assert glued["robust_pruning_ordered_minus_eoc"].startswith("5.0 ")


def test_every_linked_download_is_written():
    linked = set(re.findall(r"<data/robust_pruning-(\w+)\.csv>", MARKDOWN))
    frame = train_runs()
    written = set(report.download_tables(prune_runs=frame, prune_layers=frame,
                                         train_runs=frame,
                                         train_layers=frame, chis=frame, widths=frame,
                                         res_runs=frame))
    assert linked == written
    assert 'save_tables("robust_pruning", report.download_tables(' in CODE_TEXT

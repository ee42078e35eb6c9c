"""The SynFlow notebook read as JSON (nothing executed): titles, folded cells, exercises and
their solutions, every glued number and every download link; :mod:`.report` on hand-made
frames; and :func:`pruninglib.chapters.synflow.plan`, the tasks the notebook computes."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from pruninglib.book import claims
from pruninglib.book.parameters import parameters_for
from pruninglib.chapters import synflow
from pruninglib.chapters.synflow import report, study
from pruninglib.runs.experiments import grid_specs, run_task

ROOT = Path(__file__).resolve().parents[3]
CELLS = json.loads((ROOT / "notebooks" / "synflow.ipynb").read_text())["cells"]
CODE = [c for c in CELLS if c["cell_type"] == "code"]
CODE_TEXT = "\n".join("".join(c["source"]) for c in CODE)
MARKDOWN = "\n".join("".join(c["source"]) for c in CELLS if c["cell_type"] == "markdown")


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def test_titles_and_folded_cells():
    assert "".join(CELLS[0]["source"]).startswith("# SynFlow: our experiment\n")
    page = (ROOT / "book" / "tanaka_2020.md").read_text()
    assert page.startswith("# SynFlow: the paper\n")
    (parameters,) = [c for c in CODE if "parameters" in _tags(c)]
    assert "hide-input" in _tags(parameters)
    for cell in CODE:
        source, tags = "".join(cell["source"]), _tags(cell)
        if "parameters_from" in source or source.startswith(("fig = ", "tables.", "Markdown(")):
            assert "hide-input" in tags, source
        if "hide-input" not in tags and "remove-cell" not in tags:
            assert all(len(line) <= 88 for line in source.splitlines()), source
    visible = ["".join(c["source"]) for c in CODE
               if not {"hide-input", "remove-cell"} & set(_tags(c))]
    assert any("study.accuracy_study(P)" in s for s in visible)  # the calls that teach
    assert any("study.collapse_study(P)" in s for s in visible)


def test_exercises_have_solutions():
    exercises = re.findall(r"^```{exercise}.*\n:label: (\S+)", MARKDOWN, flags=re.MULTILINE)
    solutions = re.findall(r"^````{solution} (\S+)", MARKDOWN, flags=re.MULTILINE)
    assert 2 <= len(exercises) <= 4 and sorted(solutions) == sorted(exercises)
    assert all(label.startswith("synflow-") for label in exercises)
    assert MARKDOWN.count("papermill notebooks/synflow.ipynb out.ipynb -p ") >= 2


def _frames():
    P = parameters_for("synflow", "smoke", seeds=3, imp_seeds=3)
    conservation = pd.DataFrame({
        "model": ["vgg11"] * 4 + ["mlp"], "objective": ["snip", "synflow"] * 2 + ["snip"],
        "seed": [0, 0, 1, 1, 0], "data_statistics": [True] * 4 + [False],
        "unit_mismatch": [0.3, 0.01, 0.4, 0.03, 0.0]})
    summary = pd.DataFrame({"model.name": ["mlp"], "alpha_max": [5.03]})
    imp = pd.DataFrame([{"prune.iterations": c, "seed": s, "prune.density": 10 ** -a,
                         "collapsed_layers": int(a > (2 if c == 1 else 3))}
                        for c in (1, 2) for s in (0, 1, 2) for a in (2, 3, 4)])
    results = {"S3-order": claims.Estimate.from_samples([1.0, 1.0, 0.5]),
               "S4": claims.Estimate.from_samples([1.0, 1.0, 1.0], unit="decades")}
    return P, results, conservation, summary, imp


def test_glued_numbers():
    P, results, conservation, summary, imp = _frames()
    glued = report.glue_values(P, results, conservation=conservation, summary=summary,
                               imp=imp)
    assert all(name.startswith("synflow_") for name in glued)
    assert glued["synflow_mismatch_snip"] == pytest.approx(0.35)
    assert glued["synflow_mismatch_synflow"] == pytest.approx(0.02)
    assert glued["synflow_imp_alpha_cr_fewest"] == pytest.approx(2.0)
    assert glued["synflow_imp_alpha_cr_most"] == pytest.approx(3.0)
    assert glued["synflow_mlp_alpha_max"] == pytest.approx(5.03)
    assert glued["synflow_first_layer_as_predicted"].startswith("0.83 ± ")
    assert glued["synflow_single_gap"] == "not measured"
    assert glued["synflow_imp_paper"].startswith("1.9 with 1 cycle")
    empty = report.glue_values(P, {}, conservation=conservation.drop(
        columns="data_statistics"), summary=summary.iloc[:0], imp=imp)
    assert math.isnan(empty["synflow_mismatch_snip"]) and math.isnan(
        empty["synflow_mlp_alpha_max"])


def test_every_glued_name_is_glued_by_a_code_cell():
    used = set(re.findall(r"\{glue:text\}`(\w+)", MARKDOWN))
    assert len(used) >= 6
    assert "glue(name, value, display=False)" in CODE_TEXT
    assert "report.glue_values(P, RESULTS," in CODE_TEXT
    P, results, conservation, summary, imp = _frames()
    glued = report.glue_values(P, results, conservation=conservation, summary=summary,
                               imp=imp)
    assert used <= set(glued), sorted(used - set(glued))


def test_every_linked_download_is_written():
    linked = set(re.findall(r"<data/synflow-(\w+)\.csv>", MARKDOWN))
    frame = pd.DataFrame({"a": [1]})
    written = set(report.download_tables(conservation=frame, pruned=frame, summary=frame,
                                         runs=frame, dense=frame, imp=frame))
    assert linked == written
    assert 'save_tables("synflow", report.download_tables(' in CODE_TEXT


def test_plan_lists_the_notebooks_tasks_once_each():
    P = parameters_for("synflow", "smoke")
    tasks = synflow.plan(P)
    keys = [task.key() for task in tasks]
    assert len(keys) == len(set(keys))
    runs = {task.key() for task in tasks if task.kind == "run"}
    (_, base, grid) = study.accuracy_grids(P)[0]  # the first grid the notebook trains
    first = {run_task(spec).key() for spec in grid_specs(base, grid)}
    assert first and first <= runs
    imp = {run_task(spec).key() for spec in grid_specs(*study.imp_grid(P))}
    assert imp <= runs
    counts = {kind: sum(t.kind == kind for t in tasks) for kind in ("collapse", "run")}
    # smoke: the MLP pruned by 5 methods at 3 compressions (step 1.5 up to 10^5.03); LeNet
    # dense + 3 methods x 3 compressions; IMP 2 cycle counts x 2 compressions
    assert counts == {"collapse": 5 * 3, "run": 1 + 9 + 4}

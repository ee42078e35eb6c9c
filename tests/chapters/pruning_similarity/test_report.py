"""Tables, summary texts, the exercises' numbers and the downloads, on hand-made frames."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.book.claims import below
from pruninglib.chapters.pruning_similarity import report, study, verdicts

from .frames import MODEL, toy_study
from .test_study import GRID


def _frames():
    sim, runs = toy_study()
    return sim, runs, study.summarise(sim, runs, GRID)


def test_tables_show_the_main_recipe_averaged_over_references():
    sim, runs, summary = _frames()
    assert report.comparison_note(sim).startswith(
        "24 networks compared with their reference; 0 layer comparisons undefined")
    accuracy = report.accuracy_table(runs, GRID)
    assert list(accuracy.columns) == [1.0, 0.5, 0.1]
    assert accuracy.loc[(MODEL, "dense (the references)"), 1.0] == 90.0
    assert accuracy.loc[(MODEL, "pruned + fine-tuned"), 0.1] == 88.3  # not the 5-ep 89.5
    assert accuracy.loc[(MODEL, "random sparse, uniform density"), 0.1] == 80.0
    middle = report.measures_table(summary, GRID, ["svcca", "cka"])
    assert list(middle.columns) == ["SVCCA", "linear CKA"]
    assert middle.loc[(MODEL, "dense, other seed (control)"), "SVCCA"] == pytest.approx(0.533)
    assert middle.loc[(MODEL, "pruned + fine-tuned"), "linear CKA"] == pytest.approx(0.693)
    assert report.dense_accuracy(runs) == {MODEL: pytest.approx(0.90)}


def test_the_summary_text_quotes_the_frames():
    _, _, summary = _frames()
    text = report.summary_text(summary, GRID)
    assert text.startswith("- **LeNet-300-100** (3 references): two dense networks of "
                           "different seeds share a middle-layer SVCCA of 0.53 (first layer "
                           "0.87, logits 0.80)")
    assert "keeps 0.85 at density 0.5, 0.49 at density 0.1 (-0.04 against the control" in text
    assert "reaches 88.3 % (the dense networks 90.0 %)" in text
    assert ("for 4 epochs, the re-initialised one 87.0 %, the random sparse one with the same "
            "layer sizes 86.0 % and the uniform random one 80.0 %") in text
    assert text.endswith("+0.41 for the pruned network, +0.30 for the control (A7 judges the "
                         "difference).")


def test_the_budget_text_says_which_way_the_answer_moves():
    rows = [("5 ep", 5, False, -0.10, -0.12, -0.08, "reproduced"),
            ("1 ep", 1, False, 0.02, 0.01, 0.03, "not reproduced at this scale"),
            ("5 ep, LR rewound", 5, True, -0.2, -0.3, -0.1, "reproduced")]
    frame = pd.DataFrame([{"model": "LeNet-300-100", "measure": "SVCCA", "arm": a,
                           "epochs": e, "rewound": w, "mean": m, "low": lo, "high": hi,
                           "verdict": v} for a, e, w, m, lo, hi, v in rows])
    assert report.budget_text(frame) == (
        "- **LeNet-300-100, SVCCA**: 1 ep: +0.020 (not reproduced at this scale); 5 ep: -0.100 "
        "(reproduced); 5 ep, LR rewound: -0.200 (reproduced). More fine-tuning moves the "
        "pruned network further from its reference, relative to the control (from +0.020 at "
        "1 ep to -0.100 at 5 ep per step).")
    overlapping = frame.assign(low=-0.5, high=0.5)
    assert report.budget_text(overlapping).endswith(
        "No clear direction with the budget: from +0.020 at 1 ep to -0.100 at 5 ep per step, "
        "intervals overlap.")


def test_the_exercises_numbers_have_their_glue_names():
    _, runs, summary = _frames()
    b1b = verdicts.b1b_frame(verdicts.b1b_estimates(summary, GRID, ["svcca", "cka"]), GRID,
                             ["svcca", "cka"], below(0.0))
    numbers = report.exercise_numbers(b1b, summary, runs, GRID)
    assert tuple(numbers) == report.EXERCISE_NAMES
    assert all(name.startswith("pruning_similarity_") for name in numbers)
    short = {k.removeprefix("pruning_similarity_"): v for k, v in numbers.items()}
    assert short == pytest.approx({
        "least_epochs": 1, "most_epochs": 5, "svcca_gap_least": -0.04,
        "svcca_gap_most": -0.25 / 3, "cka_gap_least": 0.06, "cka_gap_most": 0.05 / 3,
        "control_ends": 0.3, "pruned_ends": 1.22 / 3, "a7": 0.32 / 3,
        "b1a_half": 4.303 * 0.288675 / 3 ** 0.5, "references": 3}, abs=1e-4)


def test_the_downloads_are_the_frames_behind_the_page():
    sim, runs, summary = _frames()
    arms = study.arms_frame(summary, runs, GRID)
    tables = report.download_tables(runs, sim, summary, arms, arms.head(0))
    assert list(tables) == ["networks", "layers", "positions", "budgets", "b1b"]
    assert tables["layers"] is sim and tables["positions"] is summary

"""The chapter's grid, frames, verdict numbers and summary, checked on hand-made frames."""
from __future__ import annotations

import math

import pytest

from pruninglib.book import claims
from pruninglib.chapters.pruning_similarity import study
from pruninglib.chapters.pruning_similarity.claims import ROWS, chapter_claims
from pruninglib.chapters.pruning_similarity.finetune import FinetuneSpec, ScratchSpec

from .frames import MODEL, toy_study

PARAMETERS = {"dataset": "synthetic", "augment": False, "models": [MODEL],
              "widths": {}, "train_subsets": {MODEL: 200}, "test_subset": 100, "epochs": 2,
              "lr": 0.05, "weight_decay": 0.0, "batch_size": 64,
              "densities": {MODEL: [0.5, 0.1]}, "scratch_densities": {MODEL: [0.1]},
              "finetune_epochs": 1, "finetune_lr": 0.01, "dense_seeds": 2, "seeds": 2}
PLAN = study.studies(PARAMETERS)


def test_a_study_lists_dense_then_pruned_paths_then_scratch_variants():
    plan = PLAN[MODEL]
    assert plan.width == 1.0 and plan.data.train_subset == 200 and plan.tuning.lr == 0.01
    assert [s.seed for s in plan.dense] == [0, 1] and plan.reference == plan.dense[0]
    assert [(s.seed, s.densities) for s in plan.pruned] == [
        (0, (0.5,)), (0, (0.5, 0.1)), (1, (0.5,)), (1, (0.5, 0.1))]
    assert all(isinstance(s, FinetuneSpec) and s.parent == plan.reference for s in plan.pruned)
    assert [(s.variant, s.seed, s.source.seed, s.density) for s in plan.scratch] == [
        ("reinit", 0, 0, 0.1), ("random", 0, 0, 0.1), ("reinit", 1, 1, 0.1),
        ("random", 1, 1, 0.1)]
    assert all(isinstance(s, ScratchSpec) and s.train == plan.training for s in plan.scratch)
    assert len(plan.specs) == 10 and plan.specs[0] == plan.reference
    assert plan.setting == ("LeNet-300-100 · synthetic 200 training images · 2 ep + 1 ep per "
                            "pruning step")


def test_a_model_without_a_pruning_path_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"^densities=.* 'vgg11' has none$"):
        study.studies({**PARAMETERS, "models": [MODEL, "vgg11"]})


def test_summary_gaps_and_tables_by_hand():
    sim, runs = toy_study()
    summary = study.summarise(sim, runs)
    pruned = summary[(summary["variant"] == "magnitude") & (summary["density"] == 0.1)]
    pruned = pruned.sort_values("seed")
    assert pruned["middle"].tolist() == pytest.approx([0.50, 0.51, 0.52])
    assert pruned["middle_control"].tolist() == pytest.approx([0.55] * 3)
    assert pruned["middle_gap"].tolist() == pytest.approx([-0.05, -0.04, -0.03])
    assert pruned["test_accuracy"].tolist() == [0.885, 0.895, 0.875]
    assert study.comparison_note(sim).startswith("14 networks compared with their reference; "
                                                 "0 layer comparisons undefined")
    accuracy = study.accuracy_table(runs)
    assert list(accuracy.columns) == [1.0, 0.5, 0.1]
    assert accuracy.loc[(MODEL, "dense (reference and control)"), 1.0] == 89.3
    assert accuracy.loc[(MODEL, "pruned + fine-tuned"), 0.1] == 88.5
    middle = study.measures_table(summary, 0.1, ["svcca"])
    assert middle.loc[(MODEL, "dense, other seed (control)"), "svcca"] == 0.55
    assert middle.loc[(MODEL, "random sparse"), "svcca"] == 0.4
    assert study.reference_accuracy(runs) == {MODEL: 0.90}


def test_verdict_numbers_by_hand_and_one_reference_gives_at_most_partly():
    sim, runs = toy_study()
    summary = study.summarise(sim, runs)
    results = study.verdict_estimates(summary, PLAN, 0.1, study.reference_accuracy(runs))
    mean = {cid.split(" ·")[0]: est.mean for cid, est in results.items()}
    assert mean == pytest.approx({"B1a": 1.5, "B1b": -0.04, "B1c": 0.34, "B2": 2.5, "B3": 1.5,
                                  "A7": 0.39})
    b1b = results["B1b · LeNet-300-100"]
    assert b1b.n == 1 and math.isinf(b1b.half_width)  # one reference: no interval
    assert "3 seeds" in b1b.setting and "±0.025" in b1b.setting  # t(2) * 0.01 / sqrt(3)
    assert results["B1c · LeNet-300-100"].n == 3  # the check keeps its interval
    table = claims.verdict_table(chapter_claims(PLAN, 0.1), results)
    assert table.verdicts == {
        "B1a · LeNet-300-100": claims.PARTLY, "B1b · LeNet-300-100": claims.PARTLY,
        "B1c · LeNet-300-100": claims.CHECK_PASSED,
        "B2 · LeNet-300-100": claims.NOT_REPRODUCED, "B3 · LeNet-300-100": claims.PARTLY,
        "A7 · LeNet-300-100": claims.PARTLY}
    # three seeds around one reference would pass B1b's criterion as independent replicates
    spread = claims.Estimate.from_samples([-0.05, -0.04, -0.03])
    assert claims.below(0.0).verdict(spread) == claims.REPRODUCED


def test_a_variant_left_out_is_not_measured():
    sim, runs = toy_study()
    keep = runs["variant"] != "random"
    summary = study.summarise(sim[sim["variant"] != "random"], runs[keep])
    results = study.verdict_estimates(summary, PLAN, 0.1, study.reference_accuracy(runs))
    assert results["B2 · LeNet-300-100"].n == 0
    assert results["B3 · LeNet-300-100"].n == 1


def test_the_summary_text_quotes_the_frames():
    sim, runs = toy_study()
    summary = study.summarise(sim, runs)
    text = study.summary_text(summary, PLAN, 0.1, study.reference_accuracy(runs))
    assert text.startswith("- **LeNet-300-100**: two dense networks of different seeds share "
                           "a middle-layer SVCCA of 0.55 (first layer 0.90, logits 0.80)")
    assert "keeps 0.85 at density 0.5, 0.51 at density 0.1 (-0.04 against the control" in text
    assert "its accuracy is 88.5 % against the reference's 90.0 %" in text
    assert "re-initialised network reaches 87.0 % and the random sparse one 86.0 %" in text
    assert text.endswith("with middle-layer SVCCA 0.45 and 0.40.")


def test_claims_are_rendered_per_model_from_the_table():
    rendered = chapter_claims(PLAN, 0.1)
    assert [c.id for c in rendered] == [f"{row.id} · LeNet-300-100" for row in ROWS]
    kinds = {c.id.split(" ·")[0]: c.kind for c in rendered}
    assert kinds == {"B1a": "claim", "B1b": "claim", "B1c": "check", "B2": "claim",
                     "B3": "claim", "A7": "claim"}
    b1c = rendered[2]
    assert "density 0.5 minus at 0.1" in b1c.metric and "one pruning path" in b1c.reason
    assert "90 % sparsity (density 0.1)" in rendered[0].metric
    assert all(c.criterion.why and c.scale.ours == PLAN[MODEL].setting for c in rendered)

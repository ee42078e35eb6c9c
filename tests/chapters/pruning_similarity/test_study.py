"""The chapter's grid, compared pairs, plan and frames, checked on small specs and hand-made
frames."""
from __future__ import annotations

import pytest

from pruninglib.book.parameters import parameters_for
from pruninglib.chapters.pruning_similarity import plan, study
from pruninglib.chapters.pruning_similarity.finetune import (
    FinetuneSpec,
    ScratchSpec,
    task_of,
)

from .frames import MODEL, toy_study

PARAMETERS = {"dataset": "synthetic", "augment": False, "models": [MODEL],
              "widths": {}, "train_subsets": {MODEL: 200}, "test_subset": 100, "epochs": 2,
              "lr": 0.05, "weight_decay": 0.0, "batch_size": 64,
              "densities": {MODEL: [0.5, 0.1]}, "scratch_densities": {MODEL: [0.1]},
              "finetune_epochs": 1, "finetune_lr": 0.01, "budget_epochs": {MODEL: [1, 5]},
              "rewind_epochs": {MODEL: 0}, "claim_density": 0.1, "references": 3,
              "measures": ["svcca", "cka"], "conv": "average"}
GRID = study.studies(PARAMETERS)
REWOUND = study.studies({**PARAMETERS, "rewind_epochs": {MODEL: 2}})


def test_every_reference_has_its_own_paths_and_from_scratch_networks():
    grid = REWOUND[MODEL]
    assert [s.seed for s in grid.dense] == [0, 1, 2] and grid.data.train_subset == 200
    assert [(a.label, a.train.epochs, a.train.lr, a.rewound) for a in grid.arms] == [
        ("1 ep", 1, 0.01, False), ("5 ep", 5, 0.01, False), ("2 ep, LR rewound", 2, 0.05, True)]
    for r in range(3):
        main = grid.path(r)
        assert [(s.densities, s.seed, s.parent) for s in main] == [
            ((0.5,), r, grid.dense[r]), ((0.5, 0.1), r, grid.dense[r])]
        assert all(isinstance(s, FinetuneSpec) and s.train == grid.tuning for s in main)
        assert grid.path(r, grid.arms[0]) == main  # the main recipe is the 1-epoch arm
        assert [s.train.epochs for s in grid.path(r, grid.arms[1])] == [5, 5]
        scratch = grid.scratch(r)
        assert [(s.variant, s.seed, s.source, s.density) for s in scratch] == [
            (v, r, main[-1], 0.1) for v in ("reinit", "random", "uniform")]
        # equal budgets: 2 dense epochs + 2 pruning steps of 1 epoch, at the dense lr
        assert all(isinstance(s, ScratchSpec) and s.train.epochs == 4 and s.train.lr == 0.05
                   for s in scratch)
        assert len(grid.networks(r)) == 10  # dense, 2 main, 2 + 2 other arms, 3 scratch
        compared = grid.compared(r)
        assert [s.seed for s in compared[:2]] == [s for s in range(3) if s != r]
        assert len(compared) == 9 and grid.dense[r] not in compared
    assert len(grid.specs) == 30 == len({task_of(s).key() for s in grid.specs})
    assert grid.setting == ("LeNet-300-100 · synthetic 200 training images · 2 ep + 1 ep per "
                            "pruning step · 3 independent references")


def test_the_plan_lists_every_cached_task_once():
    tasks = plan(PARAMETERS)
    kinds = [t.kind for t in tasks]
    assert (kinds.count("run"), kinds.count("derived"), kinds.count("drift")) == (3, 21, 24)
    assert len({t.key() for t in tasks}) == len(tasks)
    comparisons = study.comparisons(GRID)
    assert len(comparisons) == 24 and {r.seed for r, _, _ in comparisons} == {0, 1, 2}


def test_at_the_smoke_profile_the_plan_holds_the_first_grid_the_notebook_trains():
    parameters = parameters_for("pruning_similarity", "smoke")
    tasks = plan(parameters)
    keys = [t.key() for t in tasks]
    assert len(set(keys)) == len(keys)
    grid = study.studies(parameters)
    trained = [task_of(spec).key() for s in grid.values() for spec in s.specs]
    assert set(trained) <= set(keys)
    assert {t.kind for t in tasks} == {"run", "derived", "drift"}


@pytest.mark.parametrize("change, message", [
    ({"references": 1}, r"^references=1 is not allowed: at least 2"),
    ({"claim_density": 0.2}, r"^claim_density=0.2 is not allowed for lenet_300_100: a density"),
    ({"scratch_densities": {MODEL: [0.3]}}, r"^scratch_densities=0.3 is not allowed"),
    ({"rewind_epochs": {MODEL: 2}, "finetune_lr": 0.05}, r"^finetune_lr=0.05 is not allowed"),
    ({"models": [MODEL, "vgg11"]}, r"^densities=.* 'vgg11' has none$"),
])
def test_bad_grids_are_one_line_errors(change, message):
    with pytest.raises(ValueError, match=message) as error:
        study.studies({**PARAMETERS, **change})
    assert "\n" not in str(error.value)


def test_summary_gaps_are_to_the_control_of_the_same_reference():
    sim, runs = toy_study()
    summary = study.summarise(sim, runs, GRID)
    svcca = summary[summary["measure"] == "svcca"]
    control = svcca[svcca["variant"] == "dense"].sort_values(["reference", "seed"])
    assert control["middle"].tolist() == pytest.approx([0.6, 0.5, 0.6, 0.5, 0.5, 0.5])
    assert control["middle_control"].tolist() == pytest.approx([0.55, 0.55, 0.55, 0.55,
                                                                0.5, 0.5])
    pruned = svcca[(svcca["arm"] == "1 ep") & (svcca["density"] == 0.1)].sort_values("seed")
    assert pruned["middle_gap"].tolist() == pytest.approx([-0.05, -0.04, -0.03])
    assert pruned["ends_minus_middle"].tolist() == pytest.approx([0.40, 0.39, 0.43])
    assert pruned["ends_minus_middle_control"].tolist() == pytest.approx([0.30, 0.275, 0.325])
    assert pruned["ends_minus_middle_gap"].tolist() == pytest.approx([0.10, 0.115, 0.105])
    assert pruned["test_accuracy"].tolist() == [0.885, 0.890, 0.875]
    assert set(svcca.loc[svcca["finetune_epochs"] == 5, "arm"]) == {"5 ep"}
    assert set(svcca.loc[svcca["variant"] != "magnitude", "arm"]) == {""}
    assert len(study.main_arm(svcca, GRID)) == len(svcca) - 3


def test_the_budget_frame_pairs_each_pruned_network_with_its_own_reference():
    sim, runs = toy_study()
    arms = study.arms_frame(study.summarise(sim, runs, GRID), runs, GRID)
    svcca = arms[arms["measure"] == "svcca"].sort_values(["epochs", "reference"])
    assert svcca["arm"].tolist() == ["1 ep"] * 3 + ["5 ep"] * 3
    assert svcca["middle_gap"].tolist() == pytest.approx([-0.05, -0.04, -0.03,
                                                          -0.10, -0.10, -0.05])
    assert svcca["drop"].tolist() == pytest.approx([1.5, 2.0, 1.5, 0.5, 1.5, -0.5])

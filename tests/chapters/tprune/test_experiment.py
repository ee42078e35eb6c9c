"""The TPrune experiment: every seed is a cached task, computed on the process pool and loaded,
not recomputed, on a second call; the rows compare each model with its seed's dense one."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.chapters.tprune import experiment as tprune
from pruninglib.config import DataSpec

TINY_DATA = DataSpec("synthetic", train_subset=64, test_subset=32)
TINY = tprune.TPruneSpec(d_model=8, layers=1, heads=2, hidden=8, epochs=1, reg_epochs=1,
                         lasso_strengths=(0.1,), hoyer_strengths=(0.1,), finetune_epochs=1,
                         batch_size=32, latency_batch=4, latency_repeats=3)


def test_seeds_run_on_the_pool_and_are_loaded_not_recomputed(tmp_path, monkeypatch):
    runs, bssl = tprune.run(TINY_DATA, TINY, [0, 1], executor="pool:2", results_dir=tmp_path)
    stored = sorted(p.parent.name for p in (tmp_path / "tprune").glob("*/*/result.json"))
    assert stored == sorted(tprune.seed_task(TINY_DATA, TINY, s).key() for s in (0, 1))
    monkeypatch.setattr(tprune, "run_seed", lambda *a, **k: pytest.fail("recomputed"))
    again, again_bssl = tprune.run(TINY_DATA, TINY, [0, 1], results_dir=tmp_path)
    pd.testing.assert_frame_equal(again, runs)
    pd.testing.assert_frame_equal(again_bssl, bssl)
    assert sorted(runs["method"]) == sorted(["dense", "one_line", "group_lasso", "hoyer_square",
                                             "hoyer_guided", "hoyer_both", "magnitude"] * 2)
    dense = runs[runs["method"] == "dense"]
    assert (dense["flop_reduction"] == 1).all() and (dense["speedup_padded_1"] == 1).all()
    assert (dense["lines_removed"] == 0).all() and (dense["relative_drop"] == 0).all()
    assert (runs["flops_padded"] >= runs["flops"]).all()
    assert runs.filter(like="latency").gt(0).all().all()
    probe = runs[runs["method"] == "one_line"].iloc[0]
    assert probe["removed_ffn"] == 1 / 8 and probe["removed_qk"] == 1 / 8
    both = runs[runs["method"] == "hoyer_both"].iloc[0]
    assert both["directions"].startswith("q:out+in k:out+in")
    hs, mag = (runs[(runs["method"] == m) & (runs["seed"] == 0)].iloc[0]
               for m in ("hoyer_square", "magnitude"))
    assert mag["removed_ffn"] == pytest.approx(round(hs["removed_ffn"] * 8) / 8)
    assert len(bssl) == 2 * 6 * 2 and bssl["sparse"].between(0, 1).all()


def test_the_seed_key_names_the_payload_format():
    # format 2 (guided and both-direction runs, three timing paths) changed every key: a seed
    # stored in format 1 ("fdb06c47e9479824" for the cpu sizes, seed 0) is never misread
    data = DataSpec("fashion_mnist", train_subset=8000, test_subset=2000)
    task = tprune.seed_task(data, tprune.TPruneSpec(), 0)
    assert task.kind == "tprune" and task.spec["format"] == tprune.FORMAT == 2
    assert task.key() != "fdb06c47e9479824"
    assert task.key() != tprune.seed_task(data, tprune.TPruneSpec(), 1).key()


def test_plan_lists_one_task_per_seed_with_the_keys_the_notebook_computes():
    from pruninglib.book import parameters_for
    from pruninglib.chapters.tprune import plan

    params = parameters_for("tprune", "smoke")
    tasks = plan(params)
    data, spec, seeds = tprune.inputs(params)
    assert [t.key() for t in tasks] == [tprune.seed_task(data, spec, s).key() for s in seeds]
    assert len({t.key() for t in tasks}) == len(tasks) == params["seeds"]
    assert {t.kind for t in tasks} == {"tprune"}
    paper = plan(parameters_for("tprune", "paper"))
    assert len(paper) == parameters_for("tprune", "paper")["seeds"]


def test_spec_from_parameters_takes_its_fields_and_makes_tuples():
    values = {**{f: getattr(TINY, f) for f in TINY.__dataclass_fields__},
              "lasso_strengths": [0.1], "seeds": 3, "max_drop": 1.0}
    assert tprune.TPruneSpec.from_parameters(values) == TINY


def test_against_dense_compares_each_model_with_its_seed():
    runs = pd.DataFrame({
        "seed": [0, 0, 1, 1], "method": ["dense", "hoyer_square"] * 2,
        "accuracy": [0.80, 0.76, 0.50, 0.50], "latency_1": [2.0, 1.0, 3.0, 2.0],
        "latency_batch": [4.0, 4.0, 6.0, 2.0], "flops": [100, 50, 100, 25]})
    out = tprune.against_dense(runs)
    assert out["accuracy_drop"].tolist() == pytest.approx([0, 4, 0, 0])
    assert out["relative_drop"].tolist() == pytest.approx([0, 5, 0, 0])  # 4 of 80 points
    assert out["speedup_1"].tolist() == pytest.approx([1, 2, 1, 1.5])
    assert out["speedup_batch"].tolist() == pytest.approx([1, 1, 1, 3])
    assert out["flop_reduction"].tolist() == pytest.approx([1, 2, 1, 4])
    with pytest.raises(ValueError, match=r"seeds \[1\] have no dense row"):
        tprune.against_dense(runs.drop(index=2))

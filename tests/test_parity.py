"""Mask variants of the random-sparse parity study: specs, labels, best-of and paired
differences, checked against hand computations."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from helpers import make_model
from pruninglib.chapters.random_pruning import parity
from pruninglib.config import DataSpec, ModelSpec, PruneSpec, RunSpec
from pruninglib.pruners import ScoringContext, prune

BASE = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("mlp", hidden=(16,)))


def test_parity_specs_list_found_shuffled_reinitialised_and_ratio_masks():
    specs = parity.parity_specs(BASE, ["snip", "synflow"], ["uniform", "erk"], [0.5, 0.1],
                                [0, 1, 2])
    assert len(specs) == (3 * 2 + 2) * 2 * 3
    assert len({s.key() for s in specs}) == len(specs)
    flags = {(s.prune.method, s.prune.shuffle, s.prune.reinit) for s in specs}
    assert flags == {("snip", False, False), ("snip", True, False), ("snip", False, True),
                     ("synflow", False, False), ("synflow", True, False),
                     ("synflow", False, True), ("uniform", False, False),
                     ("erk", False, False)}
    assert all(s.model == BASE.model and s.train == BASE.train for s in specs)


def test_variant_labels_and_kinds():
    frame = pd.DataFrame({
        "prune.method": ["dense", "snip", "snip", "snip", "erk", "grasp"],
        "prune.shuffle": [False, False, True, False, False, True],
        "prune.reinit": [False, False, False, True, False, True],
        "prune.invert": [False] * 6})
    out = parity.with_variants(frame)
    assert list(out["variant"]) == ["dense", "snip", "snip shuffled", "snip re-initialised",
                                    "erk", "grasp shuffled re-initialised"]
    assert list(out["kind"]) == ["dense", "found", "shuffled", "re-initialised",
                                 "layer ratio", "shuffled re-initialised"]
    assert parity.variant_label("snip", invert=True) == "snip inverted"
    assert "variant" not in frame  # a copy


def _frame(values: dict) -> pd.DataFrame:
    """{(variant, density): [accuracy of seed 0, seed 1, ...]} -> a tidy frame."""
    return pd.DataFrame([{"variant": v, "prune.density": d, "seed": s, "test_accuracy": a}
                         for (v, d), accs in values.items() for s, a in enumerate(accs)])


def test_best_of_chooses_by_the_mean_over_seeds():
    # at 0.1 SNIP has the best single seed (0.90) but SynFlow the best mean (0.86 > 0.85)
    frame = _frame({("snip", 0.1): [0.80, 0.90], ("synflow", 0.1): [0.86, 0.86],
                    ("snip", 0.01): [0.50, 0.52], ("synflow", 0.01): [0.60, 0.40],
                    ("erk", 0.1): [0.99, 0.99]})
    best = parity.best_of(frame, ["snip", "synflow"], "best PaI")
    assert set(best["variant"]) == {"best PaI"}
    chosen = best.groupby("prune.density")["best_of"].first().to_dict()
    assert chosen == {0.1: "synflow", 0.01: "snip"}
    assert list(best[best["prune.density"] == 0.1]["test_accuracy"]) == [0.86, 0.86]


def test_paired_differences_pair_by_seed_and_summarise_with_student_t():
    frame = _frame({("erk", 0.1): [0.80, 0.84, 0.90], ("snip", 0.1): [0.81, 0.82, 0.86],
                    ("erk", 0.01): [0.5], ("snip", 0.01): [0.6, 0.7]})
    diffs = parity.paired_differences(frame, "erk", "snip")
    assert list(diffs.columns) == ["prune.density", "seed", "variant", "reference",
                                   "difference"]
    at = diffs.set_index(["prune.density", "seed"])["difference"]
    assert at[(0.1, 0)] == pytest.approx(-1.0) and at[(0.1, 2)] == pytest.approx(4.0)
    assert at[(0.01, 0)] == pytest.approx(-10.0) and (0.01, 1) not in at.index  # unpaired
    summary = parity.summarise(diffs).set_index("prune.density")
    # seeds -1, 2, 4: mean 5/3, sd sqrt(19/3), t(2) = 4.303
    half = 4.303 * (19 / 3) ** 0.5 / 3 ** 0.5
    assert summary.loc[0.1, "mean"] == pytest.approx(5 / 3)
    assert summary.loc[0.1, "high"] - summary.loc[0.1, "mean"] == pytest.approx(half)
    assert summary.loc[0.01, "n"] == 1


def test_highest_failing_density():
    summary = pd.DataFrame({"variant": ["a"] * 3 + ["b"] * 2,
                            "prune.density": [0.5, 0.1, 0.01, 0.5, 0.01],
                            "mean": [0.0, -3.0, -1.0, -0.5, -0.1]})
    assert parity.highest_failing_density(summary, -2.0) == {"a": 0.1, "b": None}


def test_a_shuffled_mask_is_a_random_mask_with_the_methods_layer_counts():
    """Layer-wise shuffling keeps every layer's count and nothing else: over many shuffles
    every position of a layer is kept with probability (kept / numel)."""
    model = make_model("mlp", hidden=(12,))
    ctx = ScoringContext(input_shape=(1, 8, 8), generator=torch.Generator().manual_seed(0))
    found = prune(model, PruneSpec("magnitude", density=0.2), ctx)
    frequency = {n: torch.zeros(m.shape, dtype=torch.float64) for n, m in found.items()}
    trials = 400
    for t in range(trials):
        ctx.generator = torch.Generator().manual_seed(t)
        shuffled = prune(model, PruneSpec("magnitude", density=0.2, shuffle=True), ctx)
        for n, m in shuffled.items():
            assert int(m.sum()) == int(found[n].sum())
            frequency[n] += m
    for n, m in found.items():
        p = float(m.sum()) / m.numel()
        # binomial(400, p) frequencies: mean p, no position favoured beyond 6 sd
        observed = frequency[n] / trials
        assert float(observed.mean()) == pytest.approx(p, rel=1e-12)
        assert float((observed - p).abs().max()) < 6 * (p * (1 - p) / trials) ** 0.5

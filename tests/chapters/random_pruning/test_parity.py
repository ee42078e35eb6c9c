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


def test_dense_and_width_specs():
    dense = parity.dense_specs(BASE, [0, 1])
    assert [s.seed for s in dense] == [0, 1] and {s.prune.method for s in dense} == {"dense"}
    specs = parity.width_specs(BASE, [0.5, 1.0], ["erk", "snip"], 0.05, [0, 1])
    assert len(specs) == 2 * 2 * (1 + 2) and len({s.key() for s in specs}) == len(specs)
    assert [(s.model.width, s.seed, s.prune.method) for s in specs[:4]] == [
        (0.5, 0, "dense"), (0.5, 1, "dense"), (1.0, 0, "dense"), (1.0, 1, "dense")]
    assert {s.prune.density for s in specs[4:]} == {0.05}
    assert specs[2].key() == dense[0].key()  # width x1 is the parity study's dense run


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


def _runs(rows: list[tuple]) -> pd.DataFrame:
    """(method, shuffle, reinit, density, seed, accuracy) -> a labelled sweep frame."""
    frame = pd.DataFrame(rows, columns=["prune.method", "prune.shuffle", "prune.reinit",
                                        "prune.density", "seed", "test_accuracy"])
    return parity.with_variants(frame.assign(**{"prune.invert": False}))


RUNS = _runs([
    # found, shuffled, re-initialised SNIP and SynFlow, uniform random; two densities, 2 seeds
    ("snip", False, False, 0.1, 0, 0.80), ("snip", False, False, 0.1, 1, 0.84),
    ("snip", True, False, 0.1, 0, 0.78), ("snip", True, False, 0.1, 1, 0.80),
    ("snip", False, True, 0.1, 0, 0.81), ("snip", False, True, 0.1, 1, 0.85),
    ("synflow", False, False, 0.1, 0, 0.86), ("synflow", False, False, 0.1, 1, 0.86),
    ("synflow", True, False, 0.1, 0, 0.86), ("synflow", True, False, 0.1, 1, 0.87),
    ("synflow", False, True, 0.1, 0, 0.85), ("synflow", False, True, 0.1, 1, 0.85),
    ("uniform", False, False, 0.1, 0, 0.70), ("uniform", False, False, 0.1, 1, 0.74),
    ("snip", False, False, 0.01, 0, 0.50), ("snip", False, False, 0.01, 1, 0.54),
    ("snip", True, False, 0.01, 0, 0.40), ("snip", True, False, 0.01, 1, 0.42),
    ("snip", False, True, 0.01, 0, 0.50), ("snip", False, True, 0.01, 1, 0.50),
    ("synflow", False, False, 0.01, 0, 0.45), ("synflow", False, False, 0.01, 1, 0.45),
    ("synflow", True, False, 0.01, 0, 0.45), ("synflow", True, False, 0.01, 1, 0.45),
    ("synflow", False, True, 0.01, 0, 0.45), ("synflow", False, True, 0.01, 1, 0.45),
    ("uniform", False, False, 0.01, 0, 0.30), ("uniform", False, False, 0.01, 1, 0.36),
])


def test_check_pairs_list_each_methods_checks_in_order():
    assert parity.check_pairs(["snip", "grasp"]) == [
        ("snip shuffled", "snip"), ("snip re-initialised", "snip"),
        ("grasp shuffled", "grasp"), ("grasp re-initialised", "grasp")]


def test_sanity_checks_are_paired_differences_against_the_found_mask():
    checks = parity.sanity_checks(RUNS, ["snip", "synflow"])
    assert len(checks) == 2 * 2 * 2 * 2  # methods x checks x densities x seeds
    at = checks.set_index(["variant", "prune.density", "seed"])["difference"]
    assert at[("snip shuffled", 0.1, 1)] == pytest.approx(-4.0)
    assert at[("snip re-initialised", 0.01, 1)] == pytest.approx(-4.0)
    assert at[("synflow shuffled", 0.1, 1)] == pytest.approx(1.0)
    summary = parity.summarise(checks).set_index(["variant", "prune.density"])
    assert summary.loc[("snip shuffled", 0.01), "mean"] == pytest.approx(-11.0)


def test_against_best_picks_the_best_method_by_mean_at_each_density():
    best, gaps = parity.against_best(RUNS, ["snip", "synflow"], ["uniform"])
    chosen = best.groupby("prune.density")["best_of"].first().to_dict()
    assert chosen == {0.1: "synflow", 0.01: "snip"}
    at = gaps.set_index(["prune.density", "seed"])["difference"]
    assert at[(0.1, 0)] == pytest.approx(-16.0) and at[(0.1, 1)] == pytest.approx(-12.0)
    assert at[(0.01, 0)] == pytest.approx(-20.0) and at[(0.01, 1)] == pytest.approx(-18.0)
    assert set(gaps["reference"]) == {parity.BEST_PAI}
    table = parity.best_method_table(best, str.upper)
    assert list(table.columns) == [0.1, 0.01]
    assert table.loc["best PaI method"].tolist() == ["SYNFLOW", "SNIP"]


def test_accuracy_and_on_paths_tables():
    dense = _runs([("dense", False, False, 1.0, 0, 0.90), ("dense", False, False, 1.0, 1, 0.92)])
    table = parity.accuracy_table(dense, RUNS)
    assert list(table.columns) == [1.0, 0.1, 0.01]
    assert table.loc["dense", 1.0] == 91.0 and table.loc["snip shuffled", 0.01] == 41.0
    runs = RUNS.assign(density=RUNS["prune.density"],
                       effective_density=RUNS["prune.density"] * ([0.5, 1.0] * 14))
    paths = parity.on_paths_table(runs, ["snip"], [0.01])
    assert list(paths.index) == ["snip", "snip shuffled"] and list(paths.columns) == [0.01]
    assert paths.loc["snip", 0.01] == pytest.approx(75.0)  # seeds 50 % and 100 %


def test_width_gaps_and_their_table():
    widths = _runs([(m, False, False, d, s, a) for m, d, s, a in [
        ("dense", 1.0, 0, 0.90), ("dense", 1.0, 1, 0.92), ("erk", 0.05, 0, 0.80),
        ("erk", 0.05, 1, 0.84)]])
    widths = pd.concat([widths.assign(**{"model.width": 0.5}),
                        widths.assign(**{"model.width": 2.0},
                                      test_accuracy=widths["test_accuracy"] + [0.0, 0.0,
                                                                               0.05, 0.05])])
    gaps = parity.width_gaps(widths, ["erk"])
    at = gaps.set_index(["model.width", "seed"])["difference"]
    assert at[(0.5, 0)] == pytest.approx(10.0) and at[(2.0, 0)] == pytest.approx(5.0)
    table = parity.width_gap_table(gaps)
    assert list(table.columns) == ["mask", "model.width", "mean", "low", "high", "n"]
    assert table.set_index("model.width").loc[2.0, "mean"] == pytest.approx(4.0)

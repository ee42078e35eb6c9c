"""The TPrune chapter's verdict numbers, tables and claims, checked on small hand-made frames."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.book import claims as book_claims
from pruninglib.chapters.tprune import claims, verdicts


def _runs():
    """Two seeds; dense accuracy 0.80 (seed 0) and 0.50 (seed 1). Hoyer-Square (inner lines,
    and guided, identical here) strengths 1 and 2 remove 30 % / 60 % of the lines, group
    lasso 20 % / 40 % (its strength 2 drops 2 points at seed 0, 0.9 at seed 1: seed 1's grid
    does not bracket a 1-point budget), Hoyer-Square on every line 10 % / 30 %; magnitude
    matches Hoyer-Square. Padded latencies are 90 % of the as-sliced ones, per-head ones
    110 %, the padded model executes 10 % more operations than the sliced one."""
    rows = []
    for seed, dense in ((0, 0.80), (1, 0.50)):
        for method, strength, removed, drop in (
                ("dense", 0.0, 0.0, 0.0), ("one_line", 0.0, 0.01, 0.0),
                ("hoyer_square", 1.0, 0.3, 0.5), ("hoyer_square", 2.0, 0.6, 3.0 + seed),
                ("hoyer_guided", 1.0, 0.3, 0.5), ("hoyer_guided", 2.0, 0.6, 3.0 + seed),
                ("hoyer_both", 1.0, 0.1, 0.8), ("hoyer_both", 2.0, 0.3, 1.5),
                ("group_lasso", 1.0, 0.2, 0.5), ("group_lasso", 2.0, 0.4, 2.0 - 1.1 * seed),
                ("magnitude", 1.0, 0.3, 2.0), ("magnitude", 2.0, 0.6, 10.0)):
            latency_1, latency_batch = 1.0 - removed / 2, 2.0 - removed
            flops = 100 * (1 - removed)
            rows.append({"seed": seed, "method": method, "strength": strength,
                         "lines_removed": removed, "accuracy": dense - drop / 100,
                         "accuracy_sliced": dense - drop / 50, "accuracy_drop": drop,
                         "relative_drop": drop / dense, "params": 1000 * (1 - removed),
                         "flops": flops, "flops_padded": min(100, flops * 1.1),
                         "latency_1": latency_1, "latency_batch": latency_batch,
                         "latency_per_head_1": latency_1 * 1.1,
                         "latency_per_head_batch": latency_batch * 1.1,
                         "latency_padded_1": latency_1 * 0.9,
                         "latency_padded_batch": latency_batch * 0.9,
                         "speedup_1": 1 / latency_1, "speedup_batch": 2 / latency_batch,
                         "speedup_per_head_1": 1 / latency_1,
                         "speedup_per_head_batch": 2 / latency_batch,
                         "speedup_padded_1": 1 / latency_1,
                         "speedup_padded_batch": 2 / latency_batch,
                         "flop_reduction": 1 / (1 - removed),
                         "flop_reduction_padded": 100 / min(100, flops * 1.1)})
    return pd.DataFrame(rows)


def _bssl():
    """One block, one seed: output lines of Q sparse 60 %, of O 10 %; input lines of O 40 %;
    everything else 0."""
    rows = []
    for matrix in ("q", "k", "v", "o", "fc1", "fc2"):
        for direction in ("out", "in"):
            sparse = {("q", "out"): 0.6, ("o", "out"): 0.1, ("o", "in"): 0.4}.get(
                (matrix, direction), 0.0)
            rows.append({"seed": 0, "block": 0, "matrix": matrix, "direction": direction,
                         "sparse": sparse, "mean_relative": 0.5})
    return pd.DataFrame(rows)


def test_best_within_takes_the_most_lines_removed_in_budget_or_the_dense_row():
    runs = _runs()
    # 4 % of the dense accuracy: seed 0 (80 %) allows 3.2 points -> strength 2 (3.0 points);
    # seed 1 (50 %) allows 2 points -> strength 1 (its strength 2 drops 4 points)
    chosen = verdicts.fastest(runs, 4.0)
    assert chosen["method"].tolist() == ["hoyer_guided"] * 2
    assert chosen["lines_removed"].tolist() == [0.6, 0.3]
    # like for like: padded speed-up at the typical batch / operations the padded model runs
    assert chosen["ratio"].tolist() == pytest.approx(
        [(2 / 1.4) / (100 / 44), (2 / 1.7) / (100 / 77)])
    points = verdicts.best_within(runs, "hoyer_square", 3.5)
    assert points["lines_removed"].tolist() == [0.6, 0.3]
    none = verdicts.best_within(runs, "hoyer_square", 0.1)
    assert none["lines_removed"].tolist() == [0.0, 0.0]
    assert none["method"].tolist() == ["hoyer_square"] * 2
    with pytest.raises(ValueError, match="drop='loss' is not allowed"):
        verdicts.best_within(runs, "hoyer_square", 1.0, drop="loss")


def test_a_grid_brackets_the_budget_only_with_a_strength_on_either_side():
    runs = _runs()
    assert verdicts.bracketed(runs, ["hoyer_square", "group_lasso"], 1.0).tolist() == [
        True, False]                                   # seed 1: lasso's 0.5 and 0.9 points
    assert verdicts.bracketed(runs, ["hoyer_guided", "hoyer_both"], 1.0).tolist() == [
        True, True]
    assert verdicts.bracketed(runs, ["hoyer_both"], 2.0).tolist() == [False, False]
    assert verdicts.bracketed(runs, ["hoyer_both", "absent"], 1.0).tolist() == [False, False]
    table = verdicts.bracket_table(runs, ["group_lasso"], 1.0)
    assert table.loc[("group_lasso", 1)].tolist() == [1.0, 0.5, 2.0, 0.9, False]
    assert table.loc[("group_lasso", 0), "brackets the budget"]


def test_within_budget_counts_only_the_seeds_whose_grids_bracket_it():
    runs = _runs()
    p3 = verdicts.within_budget(runs, verdicts.P3_PAIR, 1.0)
    assert (p3.mean, p3.n, p3.entered, p3.total) == (pytest.approx(10.0), 1, 1, 2)
    assert p3.too_few_entered and "bracket" in p3.what
    p2 = verdicts.within_budget(runs, verdicts.P2_PAIR, 1.0)
    assert (p2.mean, p2.n, p2.entered) == (pytest.approx(20.0), 2, 2)


def test_bssl_gaps_in_percentage_points():
    bssl = _bssl()
    # along the paper: q out 60, k/v/fc1 out 0, o in 40, fc2 in 0 -> mean 100/6;
    # against it: o out 10, the rest 0 -> mean 10/6
    assert verdicts.direction_gap(bssl).tolist() == pytest.approx([90 / 6])
    # Q, K, V along the paper: 20; O, FFN1, FFN2: 40/3
    assert verdicts.attention_gap(bssl).tolist() == pytest.approx([20 - 40 / 3])


def test_results_give_every_measured_claim_its_estimate():
    found = verdicts.results(_runs(), _bssl(), max_drop=1.0, max_loss=4.0, setting="tiny")
    measured = [c.id for c in claims.CLAIMS if c.kind == "claim"]
    assert sorted(found) == sorted(measured)
    # P3: within 1 point Hoyer-Square removes 30 %, group lasso 20 %: +10 pp at seed 0, the
    # one seed whose two grids bracket the budget
    assert found["P3"].mean == pytest.approx(10.0) and found["P3"].entered == 1
    # P2: guided 30 %, every line 10 % at both seeds
    assert found["P2"].mean == pytest.approx(20.0) and found["P2"].n == 2
    # P3b: Hoyer-Square minus magnitude, mean over strengths: seed 0 (1.5 + 7) / 2 = 4.25,
    # seed 1 (1.5 + 6) / 2 = 3.75
    assert found["P3b"].mean == pytest.approx(4.0)
    # P4a: padded speed-up at batch 1 of the chosen models (60 % and 30 % removed)
    assert found["P4a"].mean == pytest.approx((1 / 0.7 + 1 / 0.85) / 2)
    assert found["P4b"].unit == "×" and found["P4b"].setting == "tiny"


def test_tables_are_means_over_seeds_in_display_units():
    table = verdicts.model_table(_runs())
    row = table.loc[("hoyer_square", 2.0)]
    assert row["lines removed (%)"] == 60.0
    assert row["fine-tuned (%)"] == pytest.approx(
        round(((0.80 - 0.03) + (0.50 - 0.04)) / 2 * 100, 2))
    assert row["batched ×, b=1"] == pytest.approx(round(1 / 0.7, 2))
    assert verdicts.bssl_table(_bssl()).loc[(0, "o")].tolist() == [40.0, 10.0]


def test_the_path_table_separates_the_path_from_the_pruning():
    runs = _runs()
    frame = verdicts.path_frame(runs, 4.0)
    assert len(frame) == 2 * 3 * 3 * 2           # seeds x models x paths x batches
    dense = frame[(frame["model"] == "dense") & (frame["batch"] == "1")].set_index(
        ["seed", "path"])
    assert dense["same_path"].tolist() == pytest.approx([1.0] * 6)
    # the dense model through the per-head loop against itself batched: 1 / 1.1
    assert dense.loc[(0, "per_head"), "vs_batched_dense"] == pytest.approx(1 / 1.1)
    chosen = frame[(frame["model"] == "TPrune model (P4)") & (frame["seed"] == 0)
                   & (frame["batch"] == "batch")].set_index("path")
    assert chosen.loc["padded", "latency_ms"] == pytest.approx(1.4 * 0.9 * 1e3)
    assert chosen.loc["padded", "same_path"] == pytest.approx(2 / 1.4)
    table = verdicts.path_table(runs, 4.0, latency_batch=64)
    assert list(table.columns) == ["ms, b=1", "ms, b=64", "× vs dense, same path, b=1",
                                   "× vs dense, same path, b=64", "× vs dense batched, b=1",
                                   "× vs dense batched, b=64"]
    assert table.loc[("dense", "per-head loop"), "× vs dense batched, b=1"] == pytest.approx(
        round(1 / 1.1, 2))


def test_the_guidance_table_names_each_seed_s_directions():
    table = verdicts.guidance_table(_bssl())
    # Q's output lines 60 % under the threshold; O's input lines 40 % against output 10 %;
    # the rest tie at 0 and go by the smaller mean relative norm (absent here: 'out' first)
    assert table.loc["W_Q", "seed 0"] == "output lines"
    assert table.loc["W_O", "seed 0"] == "input lines"
    assert table.loc["W_FFN2", "sliceable (inner)"] == "input lines"


def test_summary_names_the_relative_budget_and_the_computed_numbers():
    text = verdicts.summary(_runs(), max_drop=1.0, max_loss=4.0, latency_batch=64)
    assert "65.0 % test" in text and "loses at most 4 % of that accuracy" in text
    assert "removes 45 % of the inner lines" in text
    assert "the dense model itself runs at 0.91× its batched speed" in text
    assert ("inner lines removes 30 % of the lines and group lasso 30 %; guided by BSSL, "
            "Hoyer-Square removes 30 %, and on every row and column 10 %") in text
    assert "bracket the budget in 1 of 2 seeds for P3 and 2 of 2 for P2" in text


def test_declared_claims_fill_the_knobs_and_the_scale():
    rows = claims.declared(max_drop=1.0, max_loss=8.0, latency_batch=64,
                           scale=claims.our_scale(dataset="fashion_mnist", train_subset=8000,
                                                  d_model=64, layers=2, heads=4, epochs=4,
                                                  seeds=3))
    by_id = {c.id: c for c in rows}
    assert "at most 8 % of the dense accuracy" in by_id["P4a"].metric
    assert "1-point" in by_id["P3"].metric and "batch 64" in by_id["P4b"].metric
    assert by_id["P4a"].scale.ours.startswith("Transformer 2×64, 4 heads · fashion_mnist")
    assert {c.id for c in rows if c.kind == "not_measured"} == {"P1"}
    assert "bracket the budget" in by_id["P2"].metric and "guided" in by_id["P4a"].metric
    assert all(c.criterion.why for c in rows if c.kind != "not_measured")
    assert by_id["P1"].verdict(None) == book_claims.NOT_MEASURED


def test_the_report_glues_its_named_numbers_and_saves_its_named_tables():
    from pruninglib.chapters.tprune import report

    runs = _runs()
    found = verdicts.results(runs, _bssl(), max_drop=1.0, max_loss=4.0)
    numbers = report.glued_numbers(runs, found, max_loss=4.0)
    assert tuple(numbers) == report.GLUED
    assert numbers["tprune_path_cost_1"] == pytest.approx(1 / 1.1)
    assert numbers["tprune_final_removed"] == pytest.approx(45.0)
    assert numbers["tprune_strongest"] == 2.0 and numbers["tprune_seeds"] == 2
    assert numbers["tprune_strongest_removed"] == pytest.approx(60.0)
    assert tuple(report.tables(runs, _bssl(), max_loss=4.0)) == report.TABLES

"""The TPrune chapter's verdict numbers, tables and claims, checked on small hand-made frames."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.book import claims as book_claims
from pruninglib.chapters.tprune import claims, verdicts


def _runs():
    """Two seeds; dense accuracy 0.80 (seed 0) and 0.50 (seed 1). Hoyer-Square strengths 1
    and 2 remove 30 % / 60 % of the lines, group lasso 20 %; magnitude matches Hoyer-Square."""
    rows = []
    for seed, dense in ((0, 0.80), (1, 0.50)):
        for method, strength, removed, drop in (
                ("dense", 0.0, 0.0, 0.0), ("hoyer_square", 1.0, 0.3, 0.5),
                ("hoyer_square", 2.0, 0.6, 3.0 + seed), ("group_lasso", 1.0, 0.2, 0.5),
                ("magnitude", 1.0, 0.3, 2.0), ("magnitude", 2.0, 0.6, 10.0)):
            rows.append({"seed": seed, "method": method, "strength": strength,
                         "lines_removed": removed, "accuracy": dense - drop / 100,
                         "accuracy_sliced": dense - drop / 50, "accuracy_drop": drop,
                         "relative_drop": drop / dense, "params": 1000 * (1 - removed),
                         "flops": 100 * (1 - removed), "latency_1": 1.0 - removed / 2,
                         "latency_batch": 2.0 - removed, "speedup_1": 1 / (1 - removed / 2),
                         "speedup_batch": 2 / (2 - removed),
                         "flop_reduction": 1 / (1 - removed)})
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
                         "sparse": sparse})
    return pd.DataFrame(rows)


def test_best_within_takes_the_most_lines_removed_in_budget_or_the_dense_row():
    runs = _runs()
    # 4 % of the dense accuracy: seed 0 (80 %) allows 3.2 points -> strength 2 (3.0 points);
    # seed 1 (50 %) allows 2 points -> strength 1 (its strength 2 drops 4 points)
    chosen = verdicts.fastest(runs, 4.0)
    assert chosen["lines_removed"].tolist() == [0.6, 0.3]
    assert chosen["ratio"].tolist() == pytest.approx(
        [(2 / 1.4) / (1 / 0.4), (2 / 1.7) / (1 / 0.7)])
    points = verdicts.best_within(runs, "hoyer_square", 3.5)
    assert points["lines_removed"].tolist() == [0.6, 0.3]
    none = verdicts.best_within(runs, "hoyer_square", 0.1)
    assert none["lines_removed"].tolist() == [0.0, 0.0]
    assert none["method"].tolist() == ["hoyer_square"] * 2
    with pytest.raises(ValueError, match="drop='loss' is not allowed"):
        verdicts.best_within(runs, "hoyer_square", 1.0, drop="loss")


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
    # P3: within 1 point Hoyer-Square removes 30 % per seed, group lasso 20 % -> +10 pp
    assert found["P3"].mean == pytest.approx(10.0) and found["P3"].n == 2
    # P3b: Hoyer-Square minus magnitude, mean over strengths: seed 0 (1.5 + 7) / 2 = 4.25,
    # seed 1 (1.5 + 6) / 2 = 3.75
    assert found["P3b"].mean == pytest.approx(4.0)
    assert found["P4a"].mean == pytest.approx((1 / 0.7 + 1 / 0.85) / 2)
    assert found["P4b"].unit == "×" and found["P4b"].setting == "tiny"


def test_tables_are_means_over_seeds_in_display_units():
    table = verdicts.model_table(_runs())
    row = table.loc[("hoyer_square", 2.0)]
    assert row["lines_removed"] == 60.0
    assert row["accuracy"] == pytest.approx(round(((0.80 - 0.03) + (0.50 - 0.04)) / 2 * 100, 2))
    assert row["latency_1"] == pytest.approx(700.0)
    assert verdicts.bssl_table(_bssl()).loc[(0, "o")].tolist() == [40.0, 10.0]


def test_summary_names_the_relative_budget_and_the_computed_numbers():
    text = verdicts.summary(_runs(), max_drop=1.0, max_loss=4.0, latency_batch=64)
    assert "65.0 % test accuracy" in text and "loses at most 4 % of it" in text
    assert "removes 45 % of the inner lines" in text
    assert "Hoyer-Square removes 30 % of the lines and group lasso 20 %" in text


def test_declared_claims_fill_the_knobs_and_the_scale():
    rows = claims.declared(max_drop=1.0, max_loss=8.0, latency_batch=64,
                           scale=claims.our_scale(dataset="fashion_mnist", train_subset=8000,
                                                  d_model=64, layers=2, heads=4, epochs=4,
                                                  seeds=3))
    by_id = {c.id: c for c in rows}
    assert "at most 8 % of the dense accuracy" in by_id["P4a"].metric
    assert "1-point" in by_id["P3"].metric and "batch 64" in by_id["P4b"].metric
    assert by_id["P4a"].scale.ours.startswith("Transformer 2×64, 4 heads · fashion_mnist")
    assert {c.id for c in rows if c.kind == "not_measured"} == {"P1", "P2"}
    assert all(c.criterion.why for c in rows if c.kind != "not_measured")
    assert by_id["P1"].verdict(None) == book_claims.NOT_MEASURED

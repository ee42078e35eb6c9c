"""The estimates the verdict table judges, on hand-made frames whose numbers are known."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.book.claims import CHECK_PASSED, PARTLY, REPRODUCED
from pruninglib.chapters.robust_pruning import verdicts
from pruninglib.chapters.robust_pruning.claims import claims_for

from .frames import chis, params, prune_layers, res_runs, train_runs, widths


def estimates(p=None):
    p = p or params()
    return verdicts.chapter_estimates(p, claims_for(p), prune_layers=prune_layers(),
                                      train_runs=train_runs(), chis=chis(),
                                      widths=widths(),
                                      res_runs=res_runs())


def test_mlp_estimates_are_per_seed_and_paired():
    got = estimates()
    assert got["H1a"].mean == pytest.approx(0.0) and got["H1a"].n == 3   # depth 3
    # SNIP − the best same-density control (SNIP + rescaling, mean 86 % > random 70 %)
    assert got["H1b"].mean == pytest.approx(-4.0)      # −5, −3, −4 pp
    assert "vs snip + rescaling" in got["H1b"].setting and got["H1b"].entered == 3
    assert got["H3a"].mean == pytest.approx(5.0) and got["H3b"].mean == pytest.approx(2.0)
    assert got["H4a"].mean == pytest.approx(0.81) and got["H4b"].mean == pytest.approx(1.0)
    assert got["H4c"].mean == pytest.approx(4.0)       # rescaled − plain: 5, 3, 4 pp
    assert got["H4c"].unit == "pp" and "3 seed(s)" in got["H4c"].setting


def test_pruning_damage_is_a_difference_in_differences_against_the_best_other_init():
    h3e = estimates()["H3e"]
    # damage at density 0.1 (SNIP − dense): ordered −70, EOC −10/−9/−8, chaotic −60 pp;
    # the best other by mean is chaotic: EOC − chaotic = 50, 51, 52 pp
    assert h3e.mean == pytest.approx(51.0) and h3e.n == 3
    assert "vs chaotic, the best other by mean" in h3e.setting
    assert (h3e.entered, h3e.total) == (3, 3) and "dense net trains" in h3e.what


def test_an_init_whose_dense_net_does_not_train_does_not_enter():
    damage = verdicts.pruning_damage(train_runs(), activation="tanh", depth=4, density=0.1,
                                     trainable=0.75)   # chaotic dense: 70 %
    chaotic = damage[damage["phase"] == "chaotic"]["damage"]
    assert len(chaotic) == 3 and chaotic.isna().all()
    h3e = estimates(params(trainable_accuracy=0.75))["H3e"]
    assert h3e.mean == pytest.approx(61.0) and (h3e.entered, h3e.total) == (2, 3)
    assert "vs ordered" in h3e.setting


def test_h1a_counts_empty_layers_after_the_input_layer_and_their_growth_with_depth():
    got = estimates(params(depths=[3, 6]))
    assert got["H1a"].mean == pytest.approx(1.0) and got["H1a"].n == 3    # 1, 2, 0
    assert got["H1a-depth"].mean == pytest.approx(1.0)                   # minus 0, 0, 0


def test_residual_estimates_gap_growth_and_sbp_sr_against_the_best_other():
    got = estimates()
    assert got["H5a"].mean == pytest.approx(11.0)      # Stable − standard at 4: 15, 6, 12
    assert got["H5b"].mean == pytest.approx(10.0)      # minus 2, 1, 0 at depth 2
    # SNIP (mean 45 %) is the best other, not SynFlow (43.3 %, but 70 % in seed 0)
    assert got["H6"].mean == pytest.approx(11.0)
    assert "vs snip" in got["H6"].setting and got["H6"].entered == 3


def test_rows_not_measured_get_no_estimate_and_verdicts_follow_the_kinds():
    p = params(activations=["tanh", "relu"])
    rows = {row.id: row for row in claims_for(p)}
    mlps = pd.concat([train_runs(), train_runs().assign(activation="relu")],
                     ignore_index=True)
    both = verdicts.chapter_estimates(p, list(rows.values()), prune_layers=prune_layers(),
                                      train_runs=mlps, chis=chis(), widths=widths(),
                                      res_runs=res_runs())
    assert "H2" not in both and "H3d" not in both and "H3c" in both and "H3f" in both
    assert rows["H3a"].verdict(both["H3a"]) == CHECK_PASSED
    assert rows["H1b"].verdict(both["H1b"]) == REPRODUCED          # −4 ± 2.5 pp below 0
    assert rows["H4b"].verdict(both["H4b"]) == REPRODUCED          # 1.0 ± 0.025 in 1 ± 0.1
    assert rows["H5b"].verdict(both["H5b"]) == PARTLY              # 10 ± 10.8 pp: CI below 0


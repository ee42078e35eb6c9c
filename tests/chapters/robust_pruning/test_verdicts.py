"""The estimates the verdict table judges, on hand-made frames whose numbers are known."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.book.claims import CHECK_PASSED, PARTLY, REPRODUCED
from pruninglib.chapters.robust_pruning import verdicts
from pruninglib.chapters.robust_pruning.claims import claims_for

from .frames import chis, params, prune_runs, res_runs, train_runs


def estimates(p=None):
    p = p or params()
    return verdicts.chapter_estimates(p, claims_for(p), prune_runs=prune_runs(),
                                      train_runs=train_runs(), chis=chis(),
                                      res_runs=res_runs())


def test_mlp_estimates_are_per_seed_and_paired():
    got = estimates()
    assert got["H1a"].mean == pytest.approx(4 / 3) and got["H1a"].n == 3
    assert got["H1b"].mean == pytest.approx(9.0)       # dense − SNIP: 10, 9, 8 pp
    assert got["H3a"].mean == pytest.approx(5.0) and got["H3b"].mean == pytest.approx(2.0)
    assert got["H4a"].mean == pytest.approx(0.81) and got["H4b"].mean == pytest.approx(1.0)
    assert got["H4c"].mean == pytest.approx(4.0)       # rescaled − plain: 5, 3, 4 pp
    assert got["H4c"].unit == "pp" and "3 seed(s)" in got["H4c"].setting


def test_the_best_other_init_is_chosen_by_its_mean_then_paired_by_seed():
    h3e = estimates()["H3e"]
    # chaotic (mean 35 %) beats ordered (30 %, but 50 % in seed 0): EOC − chaotic = 25 pp
    assert h3e.mean == pytest.approx(25.0) and h3e.half_width == pytest.approx(0.0)
    assert "vs chaotic, the best other by mean" in h3e.setting
    assert (h3e.entered, h3e.total, h3e.what) == (3, 3, "inits")


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
    both = verdicts.chapter_estimates(p, list(rows.values()), prune_runs=prune_runs(),
                                      train_runs=mlps, chis=chis(), res_runs=res_runs())
    assert "H2" not in both and "H3d" not in both and "H3c" in both and "H3f" in both
    assert rows["H3a"].verdict(both["H3a"]) == CHECK_PASSED
    assert rows["H1b"].verdict(both["H1b"]) == REPRODUCED          # 9 ± 2.5 pp above 5
    assert rows["H4b"].verdict(both["H4b"]) == REPRODUCED          # 1.0 ± 0.025 in 1 ± 0.1
    assert rows["H5b"].verdict(both["H5b"]) == PARTLY              # 10 ± 10.8 pp: CI below 0


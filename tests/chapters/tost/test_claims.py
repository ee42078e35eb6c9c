"""The ToST chapter's claims as data: rows per design, ToST's claims apart from this book's own
tests, and the estimates on a frame whose gains are known by construction."""
from __future__ import annotations

import pytest

from pruninglib.book import claims as book_claims
from pruninglib.chapters.tost import claims, experiment

from .conftest import TINY


def test_rows_expand_per_mask_and_trick_and_keep_own_tests_apart(design):
    rows = claims.declared(design)
    assert [c.id for c in rows.tost] == ["T1-random", "T1-SNIP", "T1-other-masks", "T3a",
                                         "T3-scope", "T2-ghost_skips"]
    assert [c.id for c in rows.own] == ["own-gap", "own-T3b", "own-fan_in"]
    assert {c.paper for c in rows.tost} == {claims.TOST}
    assert {c.paper for c in rows.own} == {claims.OWN}
    kinds = {c.id: c.kind for c in rows.tost + rows.own}
    assert kinds["T1-other-masks"] == kinds["T3-scope"] == "not_measured"
    assert kinds["own-gap"] == "check"  # the experiment's precondition, not ToST's claim
    assert all(kinds[i] == "claim" for i in kinds
               if i not in ("T1-other-masks", "T3-scope", "own-gap"))
    other = next(c for c in rows.tost if c.id == "T1-other-masks")
    assert "lottery-ticket (IMP), GraSP, SynFlow" in other.statement
    assert other.reason.startswith("this page trains only random, SNIP masks (the `methods` "
                                   "knob); lottery tickets (IMP) cost five trainings each")
    t1 = rows.tost[0]
    assert t1.metric == "all − default test accuracy, mean over sparsities 99 %, paired by seed"
    assert t1.criterion.why and t1.scale.paper == claims.PAPER_SCALE
    assert t1.scale.ours == "residual MLP 1×8 · synthetic all · 2 ep"
    assert all(c.criterion is None or c.criterion.why for c in rows.tost + rows.own)
    t2 = rows.tost[-1]
    assert t2.metric == ("ghost skips − default, mean over random, SNIP masks at sparsities "
                         "99 %, paired by seed")


def test_the_fan_in_row_goes_with_the_own_tests_even_inside_the_recipe():
    design = experiment.Design.from_parameters(
        {**TINY, "recipe": [*TINY["recipe"], "fan_in"], "methods": ["random", "snip",
                                                                     "synflow", "grasp", "imp"]})
    rows = claims.declared(design)
    assert "T1-other-masks" not in [c.id for c in rows.tost]
    assert [c.id for c in rows.own] == ["own-gap", "own-T3b", "own-fan_in"]


def test_estimates_on_known_gains(design, runs_frame, dense_frame, monkeypatch):
    monkeypatch.delenv(book_claims.CHAPTER_ENV, raising=False)
    results = claims.estimates(design, experiment.ProtocolRuns(dense_frame, runs_frame))
    half = 4.303 * 0.1 / 3 ** 0.5  # t(0.975, 2) * sd 0.1 / sqrt(3)
    assert results["T1-random"].mean == pytest.approx(2.1)
    assert results["T1-random"].half_width == pytest.approx(half, rel=1e-3)
    assert results["T1-SNIP"].mean == pytest.approx(3.1)
    assert results["T3a"].mean == pytest.approx(1.5)        # 2.5 - 1.0 for every seed
    assert results["own-T3b"].mean == pytest.approx(1.1)
    assert results["T2-ghost_skips"].mean == pytest.approx(1.6)
    assert results["own-fan_in"].mean == pytest.approx(3.6)
    assert results["own-gap"].mean == pytest.approx(30.0)  # dense 0.8 vs default 0.5
    assert {r.n for r in results.values()} == {3}
    tost, own = claims.verdict_tables(claims.declared(design), results)
    assert tost.verdicts == {"T1-random": "reproduced", "T1-SNIP": "reproduced",
                             "T1-other-masks": "not measured", "T3a": "reproduced",
                             "T3-scope": "not measured", "T2-ghost_skips": "reproduced"}
    # 1.1 ± 0.25 is not within ±1 pp
    assert own.verdicts == {"own-gap": "check passed",
                            "own-T3b": "not reproduced at this scale",
                            "own-fan_in": "reproduced"}
    assert own.caption == claims.OWN_CAPTION


def test_single_tricks_on_fewer_masks_average_over_those(runs_frame, dense_frame):
    design = experiment.Design.from_parameters(
        {**TINY, "trick_methods": ["snip"], "trick_sparsities": [0.99]})
    t2 = next(c for c in claims.declared(design).tost if c.id == "T2-ghost_skips")
    assert "mean over SNIP masks at sparsities 99 %" in t2.metric
    runs = runs_frame[(runs_frame["protocol"].isin(["default", "all"]))
                      | ((runs_frame["prune.method"] == "snip")
                         & (runs_frame["prune.density"] == 0.01))]
    results = claims.estimates(design, experiment.ProtocolRuns(dense_frame, runs))
    assert results["T2-ghost_skips"].mean == pytest.approx(1.0 + 1 + 0.1)  # SNIP only
    assert results["T1-random"].mean == pytest.approx(2.1)


def test_a_protocol_left_out_is_not_measured(design, runs_frame, dense_frame):
    runs = runs_frame[runs_frame["protocol"] != "all"]
    results = claims.estimates(design, experiment.ProtocolRuns(dense_frame, runs))
    assert results["T1-random"].n == 0
    tost, _ = claims.verdict_tables(claims.declared(design), results)
    assert tost.verdicts["T1-random"] == "not measured"

"""The verdict numbers, by hand, on a hand-made study of three independent references."""
from __future__ import annotations

import math

import pytest

from pruninglib.book import claims
from pruninglib.chapters.pruning_similarity import study, verdicts
from pruninglib.chapters.pruning_similarity.claims import (
    B1B_STATEMENT,
    ROWS,
    b1b_claims,
    chapter_claims,
)

from .frames import toy_study
from .test_study import GRID

NAME = "LeNet-300-100"


def _frames():
    sim, runs = toy_study()
    return study.summarise(sim, runs, GRID), runs


def test_every_claim_is_over_the_references_with_its_interval():
    summary, runs = _frames()
    results = verdicts.verdict_estimates(summary, runs, GRID)
    mean = {cid.split(" ·")[0]: est.mean for cid, est in results.items()}
    assert mean == pytest.approx({"B1a": 5 / 3, "B1c": 1.07 / 3, "B2": 7 / 3, "B2u": 25 / 3,
                                  "B3": 4 / 3, "A7": 0.32 / 3})
    b1a = results[f"B1a · {NAME}"]  # drops 1.5, 2.0, 1.5 pp: sd 0.2887, t(2) = 4.303
    assert b1a.n == 3 and b1a.half_width == pytest.approx(4.303 * 0.288675 / math.sqrt(3))
    assert "over 3 independent references" in b1a.setting
    assert "4 epochs each" in results[f"B2 · {NAME}"].setting  # 2 + 2 steps x 1 epoch
    table = claims.ClaimTable(chapter_claims(GRID), results)
    assert table.verdicts == {
        f"B1a · {NAME}": claims.PARTLY, f"B1c · {NAME}": claims.CHECK_PASSED,
        f"B2 · {NAME}": claims.NOT_REPRODUCED, f"B2u · {NAME}": claims.NOT_REPRODUCED,
        f"B3 · {NAME}": claims.PARTLY, f"A7 · {NAME}": claims.REPRODUCED}


def test_a7_is_judged_against_the_control_not_alone():
    summary, runs = _frames()
    a7 = verdicts.verdict_estimates(summary, runs, GRID)[f"A7 · {NAME}"]
    alone = summary[(summary["measure"] == "svcca") & (summary["arm"] == "1 ep")
                    & (summary["density"] == 0.1)]["ends_minus_middle"].mean()
    assert alone == pytest.approx(1.22 / 3) and a7.mean == pytest.approx(alone - 0.3)


def test_b1b_per_measure_and_budget():
    summary, _ = _frames()
    b1b = verdicts.b1b_estimates(summary, GRID, ["svcca", "cka"])
    assert {k: round(v.mean, 4) for k, v in b1b.items()} == {
        f"B1b · SVCCA · 1 ep · {NAME}": -0.04, f"B1b · linear CKA · 1 ep · {NAME}": 0.06,
        f"B1b · SVCCA · 5 ep · {NAME}": -0.0833, f"B1b · linear CKA · 5 ep · {NAME}": 0.0167}
    rendered = b1b_claims(GRID, ["svcca", "cka"])
    assert [c.id for c in rendered] == list(b1b)
    assert all(c.statement == B1B_STATEMENT for c in rendered)
    assert "5 ep per pruning step, learning rate 0.01" in rendered[2].metric
    table = claims.ClaimTable(rendered, b1b)
    assert list(table.verdicts.values()) == [claims.REPRODUCED, claims.NOT_REPRODUCED,
                                             claims.REPRODUCED, claims.NOT_REPRODUCED]
    frame = verdicts.b1b_frame(b1b, GRID, ["svcca", "cka"], rendered[0].criterion)
    assert frame["measure"].tolist() == ["SVCCA", "linear CKA"] * 2
    assert frame["epochs"].tolist() == [1, 1, 5, 5] and frame["n"].tolist() == [3] * 4
    assert frame["verdict"].tolist() == list(table.verdicts.values())


def test_a_variant_or_measure_left_out_is_not_measured():
    sim, runs = toy_study()
    keep = runs["variant"] != "random"
    summary = study.summarise(sim[sim["variant"] != "random"], runs[keep], GRID)
    results = verdicts.verdict_estimates(summary, runs[keep], GRID)
    assert results[f"B2 · {NAME}"].n == 0 and results[f"B3 · {NAME}"].n == 3
    assert verdicts.b1b_estimates(summary, GRID, ["pwcca"])[
        f"B1b · PWCCA · 1 ep · {NAME}"].n == 0


def test_claims_are_rendered_per_model_from_the_table():
    rendered = chapter_claims(GRID)
    assert [c.id for c in rendered] == [f"{row.id} · {NAME}" for row in ROWS]
    kinds = {c.id.split(" ·")[0]: c.kind for c in rendered}
    assert kinds == {"B1a": "claim", "B1c": "check", "B2": "claim", "B2u": "claim",
                     "B3": "claim", "A7": "claim"}
    b1c = rendered[1]
    assert "density 0.5 minus at 0.1" in b1c.metric and "one pruning path" in b1c.reason
    assert "90 % sparsity (density 0.1)" in rendered[0].metric
    assert "minus that of the dense control" in rendered[-1].metric
    assert all(c.criterion.why and c.scale.ours == GRID["lenet_300_100"].setting
               for c in rendered)

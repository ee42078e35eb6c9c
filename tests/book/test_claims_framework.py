"""The claims framework (issue 15): kinds, why, replicates, scale, calibration column, fair
comparisons with counted undefined values, and the rows a verdict table records."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from pruninglib.book import claims


def _est(mean, half, n=3):
    return claims.Estimate(mean, mean - half, mean + half, n)


# -- kinds --------------------------------------------------------------------------------
def test_a_check_passes_or_fails_and_is_never_a_reproduction():
    check = claims.Claim("S2", "P", "Identity.", "log10 error", claims.below(-9),
                         kind="check", reason="exact for bias-free ReLU nets")
    assert check.verdict(_est(-15, 1)) == claims.CHECK_PASSED
    assert check.verdict(_est(-3, 1)) == claims.CHECK_FAILED
    assert check.verdict(claims.Estimate.from_samples([-16.0])) == claims.CHECK_PASSED
    assert check.verdict(None) == claims.NOT_MEASURED
    assert claims.CHECK_PASSED not in claims.VERDICTS


def test_not_measured_needs_a_reason_and_a_claim_needs_a_criterion():
    row = claims.Claim("P1", "P", "Latency on phones.", "—", kind="not_measured",
                       reason="no phone in the study")
    assert row.verdict(_est(1, 0.1)) == claims.NOT_MEASURED
    with pytest.raises(ValueError, match="reason"):
        claims.Claim("P1", "P", "s", "m", kind="not_measured")
    with pytest.raises(ValueError, match="criterion"):
        claims.Claim("P1", "P", "s", "m")
    with pytest.raises(ValueError, match="kind"):
        claims.Claim("P1", "P", "s", "m", claims.above(0), kind="identity")


def _rows():
    scale = claims.Scale(paper="VGG-16 · CIFAR-10 · 160 ep",
                         ours="VGG-11×⅛ · Fashion-MNIST 3k · 3 ep")
    return [
        claims.Claim("S7", "Tanaka et al. 2020", "SynFlow beats the best other method.",
                     "SynFlow − best other", claims.above(0, "pp", why="the paper's wording"),
                     scale=scale,
                     calibration=claims.Calibration("fail", "10 of 12 panels")),
        claims.Claim("S2", "Tanaka et al. 2020", "Saliency is conserved.", "log10 error",
                     claims.below(-9, why="float64 rounding"), kind="check",
                     reason="an identity"),
        claims.Claim("P1", "Mao et al. 2021", "Faster on phones.", "latency",
                     kind="not_measured", reason="no phone"),
    ]


def test_verdict_table_puts_checks_in_their_own_table_under_the_claims():
    table = claims.verdict_table(_rows(), {"S7": _est(2.0, 1.0), "S2": _est(-15, 1)})
    page = table._repr_html_()
    claims_part, checks_part = page.split('<table class="checks-table"')
    assert claims_part.startswith('<table class="verdict-table"')
    assert claims.CHECKS_CAPTION in checks_part and "S2" in checks_part
    assert "S2" not in claims_part and "S7" in claims_part and "P1" in claims_part
    assert "check passed" in checks_part and "not measured: no phone" in claims_part
    assert table.verdicts == {"S7": claims.REPRODUCED, "S2": claims.CHECK_PASSED,
                              "P1": claims.NOT_MEASURED}
    plan = claims.plan_table(_rows())._repr_html_()
    assert plan.startswith('<table class="claims-plan-table"') and "checks-table" in plan


def test_every_verdict_line_prints_n_why_scale_and_calibration():
    page = claims.verdict_table(_rows(), {"S7": _est(2.0, 1.0, n=3)})._repr_html_()
    assert "n = 3 · criterion: 95 % CI above 0 pp (why: the paper&#x27;s wording)" in page
    assert "n = 0" in page  # the unmeasured rows say so too
    assert "VGG-16 · CIFAR-10 · 160 ep" in page and "ours: VGG-11×⅛ · Fashion-MNIST 3k" in page
    assert "<strong>fail</strong>" in page and "10 of 12 panels" in page
    assert "the paper&#x27;s own data fail this criterion" in page
    plan = claims.plan_table(_rows())._repr_html_()
    assert "why: float64 rounding" in plan and "10 of 12 panels" in plan
    assert claims.above(1, why="x").described == "95 % CI above 1 (why: x)"


# -- rules --------------------------------------------------------------------------------
@pytest.mark.parametrize("n, verdict", [(2, claims.PARTLY), (3, claims.REPRODUCED),
                                        (1, claims.PARTLY)])
def test_fewer_than_three_replicates_never_reproduce(n, verdict):
    estimate = _est(5.0, 1.0, n=n) if n > 1 else claims.Estimate.from_samples([5.0])
    assert claims.above(0).verdict(estimate) == verdict
    assert claims.MIN_REPLICATES == 3


def test_no_relationship_is_two_sided():
    crit = claims.no_relationship(0.3, why="a weak correlation at most")
    assert crit.verdict(_est(0.05, 0.1)) == claims.REPRODUCED
    assert crit.verdict(_est(-0.8, 0.1)) == claims.NOT_REPRODUCED  # strongly negative fails
    assert crit.verdict(_est(0.8, 0.1)) == claims.NOT_REPRODUCED
    assert crit.verdict(_est(-0.2, 0.3)) == claims.PARTLY
    assert "two-sided" in crit.text and crit.why
    assert crit.holds(-0.29) and not crit.holds(-0.31) and crit.holds(float("nan")) is None


def test_calibration_values_are_checked():
    assert claims.Calibration("n.a.").format() == "n.a."
    with pytest.raises(ValueError):
        claims.Calibration("maybe")


# -- fair comparisons ---------------------------------------------------------------------
def _methods():
    # per seed, "b" or "c" is the best other; by mean, "b" is (a per-seed max would mix)
    acc = {"target": [80, 81, 82], "b": [79, 83, 80], "c": [81, 78, 78],
           "d": [np.nan, np.nan, np.nan], "e": [70, 71, 72], "f": [np.nan, np.nan, np.nan]}
    return pd.DataFrame([{"method": m, "seed": s, "acc": v[s], "density": 0.1}
                         for m, v in acc.items() for s in range(3)])


def test_best_other_chooses_by_mean_then_pairs_by_seed():
    result = claims.best_other(_methods(), "acc", "target", where={"density": 0.1})
    assert result.competitor == "b"
    assert list(result.samples) == [1.0, -2.0, 2.0]
    per_seed_max = [80 - 81, 81 - 83, 82 - 80]  # the biased rule gives a lower mean
    assert np.mean(per_seed_max) < np.mean(list(result.samples))
    assert (result.entered, result.total) == (4, 6)
    estimate = claims.Estimate.from_samples(result, unit="pp")
    assert estimate.n == 3 and math.isclose(estimate.mean, 1 / 3)
    assert estimate.entered_text() == "entered: 4 of 6 methods, at least 2 needed"
    est = result.estimate(unit="pp", setting="toy")
    assert "vs b, the best other by mean" in est.setting
    table = claims.verdict_table([claims.Claim("X", "P", "s", "m", claims.above(0))],
                                 {"X": est})
    assert "entered: 4 of 6 methods" in table._repr_html_()


def test_too_few_entered_is_not_measured():
    frame = _methods()
    result = claims.best_other(frame, "acc", "target", minimum=5)
    estimate = claims.Estimate.from_samples(result)
    assert estimate.too_few_entered
    assert claims.above(-100).verdict(estimate) == claims.NOT_MEASURED
    alone = claims.best_other(frame[frame["method"].isin(["target", "d"])], "acc", "target")
    assert alone.competitor is None and len(alone) == 0
    assert claims.entered(frame, "acc") == (4, 6)


# -- the rows a verdict table records -----------------------------------------------------
def test_verdict_table_records_its_rows_for_claims_csv(tmp_path, monkeypatch):
    monkeypatch.delenv(claims.CHAPTER_ENV, raising=False)
    claims.verdict_table(_rows(), {"S7": _est(2.0, 1.0)}, chapter="toy", record_to=tmp_path)
    rows = json.loads((tmp_path / "toy.json").read_text())
    assert [r["id"] for r in rows] == ["S7", "S2", "P1"]
    assert set(rows[0]) == set(claims.RECORD_COLUMNS)
    first = rows[0]
    assert (first["kind"], first["verdict"], first["replicates"]) == \
        ("claim", claims.REPRODUCED, 3)
    assert (first["ci_low"], first["ci_high"]) == (1.0, 3.0)
    assert first["calibration"] == "fail" and first["calibration_detail"] == "10 of 12 panels"
    assert first["scale_paper"].startswith("VGG-16") and first["why"] == "the paper's wording"
    assert rows[1]["kind"] == "check" and rows[2]["reason"] == "no phone"
    assert rows[2]["ci_low"] is None  # no interval: empty, not inf
    # the runner's way: environment variables; a second table merges by id
    monkeypatch.setenv(claims.CLAIMS_DIR_ENV, str(tmp_path / "env"))
    monkeypatch.setenv(claims.CHAPTER_ENV, "chap")
    claims.verdict_table(_rows()[:1], {})
    claims.verdict_table(_rows()[1:], {"S2": _est(-15, 1)})
    merged = json.loads((tmp_path / "env" / "chap.json").read_text())
    assert [r["id"] for r in merged] == ["S7", "S2", "P1"]
    assert merged[0]["verdict"] == claims.NOT_MEASURED


def test_no_record_without_a_chapter(tmp_path, monkeypatch):
    monkeypatch.delenv(claims.CHAPTER_ENV, raising=False)
    monkeypatch.setenv(claims.CLAIMS_DIR_ENV, str(tmp_path))
    claims.verdict_table(_rows(), {})
    assert list(tmp_path.iterdir()) == []


def test_a_check_holds_in_every_replicate_whatever_the_number_of_seeds():
    """An identity is judged on each network: two seeds' wide interval does not fail it, one
    network that breaks it does."""
    from pruninglib.book.claims import CHECK_FAILED, CHECK_PASSED, Estimate, below

    criterion = below(-9, why="float64 round-off")
    tight = Estimate.from_samples([-15.3, -11.0])
    assert tight.low < -9 < tight.high  # the CI alone would call it failed
    assert criterion.check_verdict(tight) == CHECK_PASSED
    assert criterion.check_verdict(Estimate.from_samples([-15.3, -14.9, -3.0])) == CHECK_FAILED

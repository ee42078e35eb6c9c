"""The chapter's claims table: kinds, scale, and the paper's numbers and calibration computed
from the authors' typed-in table (not asserted)."""
from __future__ import annotations

from pruninglib.book import reference
from pruninglib.book.claims import CHECK, CLAIM, NOT_MEASURED, Estimate
from pruninglib.chapters.ramanujan import claims

PARAMS = {"models": ["mlp", "conv4"], "hidden": [512, 256], "widths": {"conv4": 0.25},
          "dataset": "fashion_mnist", "train_subset": {"mlp": 10000, "conv4": None},
          "epochs": {"mlp": 4, "conv4": 3}, "bf16": {"conv4": True},
          "optimizer": {"conv4": "adam"},
          "densities": {"mlp": [0.2, 0.01], "conv4": [0.2, 0.05]}}


def test_one_row_per_claim_and_model_with_kinds_and_scale():
    rows = claims.chapter_claims(PARAMS)
    assert len(rows) == 2 * len(claims.CLAIMS)
    by_id = {row.id: row for row in rows}
    assert by_id["R3 · MLP"].kind == CHECK and "by construction" in by_id["R3 · MLP"].reason
    assert all(row.kind == CLAIM for row in rows if not row.id.startswith("R3"))
    assert all(row.criterion.why for row in rows)
    assert by_id["R1 · MLP"].criterion.kind == "within"        # two-sided "no relationship"
    assert by_id["R1 · MLP"].scale.ours == "MLP 512-256 · Fashion-MNIST 10 k · 4 ep (SGD) · d = 0.2–0.01"
    assert by_id["R1 · Conv-4"].scale.ours == "Conv-4 ×0.25 · Fashion-MNIST · 3 ep (Adam, bf16) · d = 0.2–0.05"
    assert "CIFAR-10" in by_id["R1 · Conv-4"].scale.paper


def test_paper_numbers_and_calibration_come_from_the_authors_table():
    by_id = {row.id: row for row in claims.chapter_claims(PARAMS)}
    # median over the 5 densities of the authors' rho(acc, IMDB): 0.90 and 0.89
    assert by_id["R5 · MLP"].paper_number.value == \
        "median ρ = +0.90 (ResNet-34), +0.89 (VGG-16)"
    assert by_id["R1 · MLP"].paper_number.value == \
        "median ρ = −0.03 (ResNet-34), −0.09 (VGG-16)"
    for claim_id in ("R1", "R2", "R3", "R4", "R5", "R5-trained"):
        assert by_id[f"{claim_id} · MLP"].calibration.format() == "pass: 2 of 2 networks"
    assert by_id["C1 · MLP"].calibration.result == "n.a." and by_id["C1 · MLP"].paper_number \
        is None


def test_the_calibration_follows_the_data(monkeypatch):
    table = reference.ramanujan_summary()
    flipped = table.assign(imdb=-table["imdb"])               # IMDB now ranks in reverse
    monkeypatch.setattr(reference, "ramanujan_summary", lambda: flipped.copy())
    by_id = {row.id: row for row in claims.chapter_claims(PARAMS)}
    assert by_id["R5 · MLP"].calibration.format() == "fail: 0 of 2 networks"
    assert by_id["R5 · MLP"].paper_number.value.startswith("median ρ = −0.90 (ResNet-34)")


def test_first_written_r2_and_r4_fail_on_the_authors_data_the_revised_ones_pass():
    table = claims.calibration_table().set_index("claim")["on the authors' data"]
    assert table["R2 as first written"].startswith("fail")
    assert table["R4 as first written"].startswith("fail: 0 of 2")
    assert table["R2 as used here"].startswith("pass") and \
        table["R4 as used here"].startswith("pass")


def test_a_row_with_too_few_entered_values_is_not_measured():
    row = {r.id: r for r in claims.chapter_claims(PARAMS)}["R5 · MLP"]
    few = Estimate.from_samples([0.9, 0.95, 0.92], entered=2, total=10, minimum=5)
    assert row.verdict(few) == NOT_MEASURED
    enough = Estimate.from_samples([0.9, 0.95, 0.92], entered=9, total=10, minimum=5)
    assert row.verdict(enough) == "reproduced"

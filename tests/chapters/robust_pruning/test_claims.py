"""The chapter's claims as data: kinds, criteria with their reasons, scales, texts filled."""
from __future__ import annotations

from pruninglib.book.claims import CHECK, CLAIM, NOT_MEASURED_KIND
from pruninglib.chapters.robust_pruning.claims import SCALE_FREE, claims_for

from .frames import params


def kinds(rows) -> dict[str, str]:
    return {row.id: row.kind for row in rows}


def test_one_activation_gives_the_tanh_rows_with_their_kinds():
    rows = claims_for(params())
    assert kinds(rows) == {
        "H1a": CLAIM, "H1a-depth": CLAIM, "H1b": CLAIM, "H2": NOT_MEASURED_KIND, "H3a": CHECK, "H3b": CHECK,
        "H3e": CLAIM, "H4a": CHECK, "H4b": CLAIM, "H4c": CLAIM, "H5a": CLAIM, "H5b": CLAIM,
        "H6": CLAIM}


def test_relu_in_the_chaotic_phase_is_outside_the_theorem_and_not_measured():
    rows = {row.id: row for row in claims_for(params(activations=["tanh", "relu"]))}
    assert rows["H3c"].kind == CHECK and "relu" in rows["H3c"].metric
    assert rows["H3d"].kind == NOT_MEASURED_KIND and rows["H3d"].reason == SCALE_FREE
    assert rows["H3d"].reason.startswith("outside the theorem's scope")
    assert rows["H3f"].kind == CLAIM and "relu" in rows["H3f"].metric
    # the kind follows the activation, not the position
    swapped = {row.id: row for row in claims_for(params(activations=["relu", "tanh"]))}
    assert swapped["H3b"].kind == NOT_MEASURED_KIND and swapped["H3d"].kind == CHECK


def test_every_measured_row_has_a_reason_for_its_threshold_and_a_scale():
    for row in claims_for(params(activations=["tanh", "relu"])):
        assert "{" not in row.metric + row.statement, row.id
        assert row.scale.paper and row.scale.ours, row.id
        if row.kind == NOT_MEASURED_KIND:
            assert row.reason
            continue
        assert row.criterion.why and "{" not in row.criterion.why, row.id
        if row.kind == CHECK:
            assert row.reason, row.id


def test_texts_are_computed_from_the_parameters():
    rows = {row.id: row for row in claims_for(params())}
    assert "4-layer MLP of width 6" in rows["H1b"].metric
    assert "90 % sparsity" in rows["H1b"].metric and "90 % sparsity" in rows["H3e"].metric
    assert rows["H4b"].criterion.why.endswith("×0.66 / ×1.46 over 4 layers")  # 0.9⁴, 1.1⁴
    assert rows["H5b"].metric.startswith("(Stable − standard) at depth 4 minus at depth 2")
    assert rows["H1a"].scale.ours == "tanh MLP 3×6 · synthetic all · not trained · 3 seeds"
    assert rows["H6"].scale.ours.startswith("resmlp depth 4 × 8 · synthetic all · 1 ep")

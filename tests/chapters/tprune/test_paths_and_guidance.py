"""The timing paths keep the function and choose the code path; the guidance reads BSSL's
directions from its rows."""
from __future__ import annotations

import pytest
import torch

from pruninglib.chapters.tprune import experiment, guidance, paths
from pruninglib.models.transformer import MATRICES, TransformerClassifier
from pruninglib.pruners.structured import INNER_ONLY, flops, slice_units, unit_scores


def _unequal():
    """A 2-block model sliced to unequal heads: block 0 heads of 3 and 1 query/key and 2 and
    4 value dimensions; block 1 loses every value dimension (attention output = W_O's
    bias)."""
    torch.manual_seed(0)
    model = TransformerClassifier(5, 3, 2, d_model=8, layers=2, heads=2, hidden=6).eval()
    keep = {name: torch.ones(len(s), dtype=torch.bool) for name, s in unit_scores(model).items()}
    keep["blocks.0.qk"][[1, 5, 6, 7]] = False
    keep["blocks.0.vo"][[0, 1]] = False
    keep["blocks.1.vo"][:] = False
    keep["blocks.1.ffn"][[2]] = False
    return model, slice_units(model, keep).eval()


def test_both_paths_compute_the_same_function_through_the_path_they_name():
    dense, pruned = _unequal()
    assert [b.attn.qk_dims for b in pruned.blocks] == [[3, 1], [4, 4]]
    assert [b.attn.v_dims for b in pruned.blocks] == [[2, 4], [0, 0]]
    x = torch.randn(3, 5, 3)
    for model in (dense, pruned):
        with torch.no_grad():
            expected = model(x)
            for path in paths.PATHS:
                moved = paths.on_path(model, path).eval()
                torch.testing.assert_close(moved(x), expected, rtol=0, atol=1e-6)
        assert not paths.batched(paths.per_head_path(model))
        assert paths.batched(paths.padded_heads(model))
    assert paths.batched(dense) and not paths.batched(pruned)
    padded = paths.padded_heads(pruned)
    assert [b.attn.qk_dims for b in padded.blocks] == [[3, 3], [4, 4]]
    assert [b.attn.v_dims for b in padded.blocks] == [[4, 4], [1, 1]]
    # the padded model executes more operations than the sliced one, the empty head none
    assert flops(padded, 5) > flops(pruned, 5) == flops(paths.per_head_path(pruned), 5)
    with pytest.raises(ValueError, match="path='fast' is not allowed"):
        paths.on_path(dense, "fast")


def test_the_shape_probe_removes_one_unit_per_group_the_lowest():
    scores = {"blocks.0.qk": torch.tensor([0.5, 0.1, 0.9]), "blocks.0.ffn": torch.tensor([0.2,
                                                                                           0.3])}
    keep = experiment.one_line_removed(scores)
    assert keep["blocks.0.qk"].tolist() == [True, False, True]
    assert keep["blocks.0.ffn"].tolist() == [False, True]


def _rows(sparse: dict, relative: dict | None = None):
    return [{"block": b, "matrix": m, "direction": d,
             "sparse": sparse.get((m, d), [0.0, 0.0])[b],
             "mean_relative": (relative or {}).get((m, d), [0.5, 0.5])[b]}
            for b in (0, 1) for m in MATRICES for d in guidance.DIRECTIONS]


def test_guided_directions_follow_the_sparser_direction_then_the_smaller_norms():
    rows = _rows({("q", "out"): [0.8, 0.2], ("q", "in"): [0.1, 0.8],   # 0.5 vs 0.45: out
                  ("o", "out"): [0.6, 0.6], ("o", "in"): [0.2, 0.3],   # along the residual
                  ("fc2", "in"): [0.4, 0.0]},
                 relative={("k", "in"): [0.2, 0.3], ("v", "out"): [0.9, 0.9]})
    found = guidance.guided_directions(rows)
    # q by its sparse fractions; k and v tie at 0 and go by the smaller mean relative norm
    assert found == {"q": ("out",), "k": ("in",), "v": ("in",), "o": ("out",),
                     "fc1": ("out",), "fc2": ("in",)}
    agree = guidance.agrees_with_inner(found)
    assert agree == {"q": True, "k": False, "v": False, "o": False, "fc1": True, "fc2": True}
    everything_inner = _rows({(m, d[0]): [0.5, 0.5] for m, d in INNER_ONLY.items()})
    assert guidance.guided_directions(everything_inner) == INNER_ONLY
    with pytest.raises(ValueError, match="BSSL rows lack q/in"):
        guidance.guided_directions([r for r in rows if (r["matrix"], r["direction"])
                                    != ("q", "in")])


def test_bssl_rows_count_lines_under_the_threshold():
    torch.manual_seed(0)
    model = TransformerClassifier(4, 3, 2, d_model=8, layers=1, heads=2, hidden=6)
    with torch.no_grad():
        model.blocks[0].attn.q.weight[:3] = 0       # 3 of 8 output lines (bias aside)
        model.blocks[0].attn.q.bias[:3] = 0
    rows = {(r["matrix"], r["direction"]): r for r in guidance.bssl_rows(model, 0.05)}
    assert rows[("q", "out")]["sparse"] == pytest.approx(3 / 8)
    assert rows[("q", "out")]["lines"] == 8 and rows[("fc1", "in")]["lines"] == 8
    assert rows[("fc1", "out")]["lines"] == 6 and rows[("fc1", "out")]["sparse"] == 0
    assert 0 < rows[("q", "out")]["mean_relative"] <= 1


def test_lines_penalised_knows_three_choices():
    rows = _rows({(m, d[0]): [0.5, 0.5] for m, d in INNER_ONLY.items()})
    assert experiment.lines_penalised("guided", rows) == INNER_ONLY
    assert experiment.lines_penalised("both", rows)["o"] == ("out", "in")
    with pytest.raises(ValueError, match="lines='rows' is not allowed"):
        experiment.lines_penalised("rows", rows)
    assert experiment.describe({"q": ("out",), "o": ("out", "in")}) == "q:out o:out+in"

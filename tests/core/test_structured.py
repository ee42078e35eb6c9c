"""Line-wise structured pruning of the small Transformer: penalties, slicing, FLOPs, latency."""
import math
from types import SimpleNamespace

import pytest
import torch

from pruninglib.pruners.structured import (count_parameters, flops, group_hoyer_square, group_lasso,
                                   keep_above, keep_largest, latency, line_norms, penalty,
                                   slice_units, unit_scores, INNER_ONLY)
from pruninglib.models.transformer import TransformerClassifier, matrices


def tiny(seed=0, **kw):
    torch.manual_seed(seed)
    args = dict(tokens=5, features=3, classes=4, d_model=8, layers=2, heads=2, hidden=6)
    return TransformerClassifier(**{**args, **kw}).double().eval()


def test_group_penalties_match_their_formulas():
    w = torch.tensor([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    lin = torch.nn.Linear(2, 3, bias=False)
    lin.weight.data.copy_(w)
    rows = line_norms(lin, "out")          # 5, 0, 1
    cols = line_norms(lin, "in")           # sqrt(10), 4
    assert rows.tolist() == pytest.approx([5.0, 0.0, 1.0])
    assert cols.tolist() == pytest.approx([math.sqrt(10), 4.0])
    assert group_lasso(rows).item() == pytest.approx(6.0)
    assert group_hoyer_square(rows).item() == pytest.approx(36 / 26)
    assert group_hoyer_square(cols).item() == pytest.approx((math.sqrt(10) + 4) ** 2 / 26)
    # one non-zero group: Hoyer-Square attains its minimum, 1
    assert group_hoyer_square(torch.tensor([0.0, 2.0, 0.0])).item() == pytest.approx(1.0)


def test_output_lines_include_the_bias():
    lin = torch.nn.Linear(2, 1)
    lin.weight.data.fill_(0.0)
    lin.bias.data.fill_(3.0)
    assert line_norms(lin, "out").item() == pytest.approx(3.0)


def test_penalty_gradients_gradcheck():
    for fn in (group_lasso, group_hoyer_square):
        for direction in ("out", "in"):
            def f(w, b, fn=fn, direction=direction):   # line_norms reads .weight, .bias
                return fn(line_norms(SimpleNamespace(weight=w, bias=b), direction))
            w = torch.randn(3, 4, dtype=torch.double, requires_grad=True)
            b = torch.randn(3, dtype=torch.double, requires_grad=True)
            assert torch.autograd.gradcheck(f, (w, b))


def test_penalty_sums_over_blocks_and_directions():
    model = tiny()
    total = penalty(model, "group_lasso", {"q": ("out",), "o": ("in", "out")})
    expected = sum(line_norms(model.blocks[i].attn.q, "out").sum()
                   + line_norms(model.blocks[i].attn.o, "in").sum()
                   + line_norms(model.blocks[i].attn.o, "out").sum() for i in range(2))
    assert total.item() == pytest.approx(expected.item())
    assert len(matrices(model)) == 12


def _zero_units(model):
    """Zero one line of each kind: qk dim 1 (in W_Q only), vo dim 6 (W_O column), ffn unit 2
    (fc1 row and bias) in block 0; ffn unit 0 (fc2 column) in block 1."""
    with torch.no_grad():
        b0, b1 = model.blocks
        b0.attn.q.weight[1] = 0
        b0.attn.q.bias[1] = 0
        b0.attn.o.weight[:, 6] = 0
        b0.ffn.fc1.weight[2] = 0
        b0.ffn.fc1.bias[2] = 0
        b1.ffn.fc2.weight[:, 0] = 0


def test_slicing_zero_lines_keeps_the_function_and_counts_parameters():
    model = tiny()
    _zero_units(model)
    keep = keep_above(unit_scores(model), 1e-12)
    removed = {k: int((~v).sum()) for k, v in keep.items()}
    assert removed == {"blocks.0.qk": 1, "blocks.0.vo": 1, "blocks.0.ffn": 1,
                       "blocks.1.qk": 0, "blocks.1.vo": 0, "blocks.1.ffn": 1}
    small = slice_units(model, keep)
    x = torch.randn(7, 5, 3, dtype=torch.double)
    assert torch.allclose(small(x), model(x), atol=1e-6, rtol=0)
    d = 8
    # a qk dim: a row and a bias of W_Q and of W_K; a vo dim: row + bias of W_V, column of W_O;
    # a hidden unit: row + bias of fc1, column of fc2
    expected = 2 * (d + 1) + (d + 1 + d) + 2 * (d + 1 + d)
    assert count_parameters(model) - count_parameters(small) == expected
    assert small.blocks[0].attn.qk_dims == [3, 4] and small.blocks[0].attn.v_dims == [4, 3]


def test_slicing_a_whole_head_and_all_hidden_units():
    model = tiny()
    with torch.no_grad():   # head 1 of block 1 reads nothing: its values are zero
        model.blocks[1].attn.v.weight[4:] = 0
        model.blocks[1].attn.v.bias[4:] = 0
        model.blocks[1].ffn.fc2.weight[:] = 0
    keep = keep_above(unit_scores(model), 1e-12)
    small = slice_units(model, keep)
    x = torch.randn(3, 5, 3, dtype=torch.double)
    assert torch.allclose(small(x), model(x), atol=1e-6, rtol=0)
    assert small.blocks[1].attn.v_dims == [4, 0] and small.blocks[1].ffn.fc1.out_features == 0


def test_magnitude_keeps_exact_counts():
    scores = {"a": torch.tensor([0.5, 0.1, 0.9, 0.1]), "b": torch.tensor([1.0, 0.2])}
    keep = keep_largest(scores, 0.5)
    assert keep["a"].tolist() == [True, False, True, False]
    assert keep["b"].tolist() == [True, False]


def test_flop_count_of_a_known_model():
    model = tiny(layers=1)
    t, f, d, h, c = 5, 3, 8, 6, 4
    per_block = 2 * t * (4 * d * d + 2 * d * h) + 2 * t * t * (d + d)
    assert flops(model, t) == 2 * t * f * d + per_block + 2 * d * c
    small = slice_units(model, {"blocks.0.ffn": torch.tensor([True] * 4 + [False] * 2)})
    assert flops(model, t) - flops(small, t) == 2 * t * d * 2 * 2


def test_latency_reports_the_median_of_repeats():
    models = [tiny().float(), tiny(layers=1).float()]
    results = latency(models, torch.randn(2, 5, 3), threads=1, warmup=1, repeats=5)
    assert len(results) == 2
    for result in results:
        assert len(result["times"]) == 5
        assert result["median"] == sorted(result["times"])[2]
        assert result["q1"] <= result["median"] <= result["q3"]
    assert INNER_ONLY["o"] == ("in",)


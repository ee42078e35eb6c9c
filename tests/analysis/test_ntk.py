"""Empirical NTK over unpruned parameters, the analytic ReLU NTK, and the pruning scale factor:
exact checks against a plain autograd Jacobian on tiny nets, statistical checks at width 2048."""
from __future__ import annotations

import math

import pytest
import torch
from helpers import make_model
from torch import nn

from pruninglib import seeds
from pruninglib.analysis import ntk
from pruninglib.masks import apply_mask


def inputs(n: int, d: int, seed: int = 0) -> torch.Tensor:
    """n Gaussian inputs of dimension d, each of squared norm d (so x.x/d = 1), float64."""
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return x / x.norm(dim=1, keepdim=True) * math.sqrt(d)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def autograd_ntk(model, x, mask=None, scales=None):
    """J J^T with J from one torch.autograd.grad call per output, on a float64 copy of the model
    whose weights are s * m * theta; each gradient column (w.r.t. theta) multiplied by s * m."""
    model = _float64_copy(model)
    mask, scales = mask or {}, scales or {}
    named = dict(model.named_parameters())
    factor = {n: (mask[n].double() if n in mask else torch.ones_like(p)) * scales.get(n, 1.0)
              for n, p in named.items()}
    theta = {n: p.detach().clone().requires_grad_() for n, p in named.items()}
    out = torch.func.functional_call(model, {n: theta[n] * factor[n] for n in named},
                                     (x.double(),)).reshape(-1)
    rows = []
    for r in range(out.numel()):
        grads = torch.autograd.grad(out[r], list(theta.values()), retain_graph=True)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    jac = torch.stack(rows)
    return jac @ jac.T


def _float64_copy(model):
    import copy
    return copy.deepcopy(model).double()


# --------------------------------------------------------------------------- exactness

@pytest.mark.parametrize("method", ["jacobian", "linear"])
def test_empirical_ntk_is_j_jt_of_the_unpruned_parameters(method):
    model = ntk.NTKMLP((5, 7, 6, 3), generator=gen(0))
    x = inputs(4, 5)
    mask = ntk.bernoulli_mask(model, (0.6, 0.5, 0.7), gen(1))
    scales = {"hidden.1.weight": 1.7}
    full = ntk.empirical_ntk(model, x, mask, scales=scales, method=method)
    expected = autograd_ntk(model, x, mask, scales)
    assert full.shape == (12, 12) and full.dtype == torch.float64
    torch.testing.assert_close(full, expected, rtol=1e-12, atol=1e-12)
    # rows are (input, output), output fastest
    blocks = expected.reshape(4, 3, 4, 3)
    torch.testing.assert_close(ntk.empirical_ntk(model, x, mask, scales=scales, output=2,
                                                 method=method), blocks[:, 2, :, 2])
    torch.testing.assert_close(ntk.empirical_ntk(model, x, mask, scales=scales, output="trace",
                                                 method=method),
                               sum(blocks[:, c, :, c] for c in range(3)))
    terms = ntk.empirical_ntk(model, x, mask, scales=scales, method=method, by_parameter=True)
    assert list(terms) == ["hidden.0.weight", "hidden.1.weight", "classifier.weight"]
    torch.testing.assert_close(sum(terms.values()), expected, rtol=1e-12, atol=1e-12)


def test_biased_standard_mlp_and_a_conv_net_use_the_right_path():
    model = make_model("mlp", input_shape=(1, 3, 3), num_classes=2, hidden=(6, 5), bias=True)
    x = inputs(3, 9).reshape(3, 1, 3, 3)
    mask = ntk.bernoulli_mask(model, 0.5, gen(2), include_classifier=False)
    expected = autograd_ntk(model, x, mask)
    for method in ("auto", "linear", "jacobian"):
        torch.testing.assert_close(ntk.empirical_ntk(model, x, mask, method=method), expected,
                                   rtol=1e-12, atol=1e-12)
    conv = nn.Sequential(nn.Conv1d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6, 2))
    xs = inputs(3, 4).reshape(3, 1, 4)
    torch.testing.assert_close(ntk.empirical_ntk(conv, xs), autograd_ntk(conv, xs),
                               rtol=1e-12, atol=1e-12)  # auto falls back to jacobian
    with pytest.raises(ValueError, match="method='linear'"):
        ntk.empirical_ntk(conv, xs, method="linear")


def test_pruned_entries_contribute_nothing():
    """Pruning hidden unit 2 entirely (its incoming row, bias and outgoing column) gives the NTK
    of the network with that unit deleted; the stored values of pruned entries do not matter."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)).double()
    keep = torch.tensor([True, True, False, True, True])
    mask = {"0.weight": keep[:, None].expand(5, 4).clone(), "0.bias": keep.clone(),
            "2.weight": keep[None, :].expand(2, 5).clone()}
    small = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    with torch.no_grad():
        small[0].weight.copy_(net[0].weight[keep])
        small[0].bias.copy_(net[0].bias[keep])
        small[2].weight.copy_(net[2].weight[:, keep])
        small[2].bias.copy_(net[2].bias)
    x = inputs(5, 4)
    theta = ntk.empirical_ntk(net, x, mask)
    torch.testing.assert_close(theta, ntk.empirical_ntk(small, x), rtol=1e-12, atol=1e-12)
    with torch.no_grad():  # garbage in the pruned entries, and a random mask applied in place
        net[0].weight[~mask["0.weight"]] = 1e3
    torch.testing.assert_close(ntk.empirical_ntk(net, x, mask), theta, rtol=1e-12, atol=1e-12)
    random_mask = ntk.bernoulli_mask(net, 0.5, gen(3))
    before = ntk.empirical_ntk(net, x, random_mask)
    apply_mask(net, random_mask)
    torch.testing.assert_close(ntk.empirical_ntk(net, x, random_mask), before)


def test_standard_parameterisation_ntk_is_a_per_layer_reweighting():
    """Same function, W = (sigma_w / sqrt(n_{l-1})) V:
    Theta_SP,l = (n_{l-1} / sigma_w^2) Theta_l."""
    net = ntk.NTKMLP((6, 9, 7, 1), generator=gen(4))
    sp = make_model("mlp", input_shape=(6,), num_classes=1, hidden=(9, 7), bias=False).double()
    with torch.no_grad():
        for p, v, c in zip(sp.parameters(), net.parameters(), net.multipliers):
            p.copy_(c * v)
    x = inputs(4, 6)
    torch.testing.assert_close(sp(x), net(x))
    theta_sp = ntk.empirical_ntk(sp, x, by_parameter=True)
    theta = ntk.empirical_ntk(net, x, by_parameter=True)
    for (name_sp, t_sp), t, fan_in in zip(theta_sp.items(), theta.values(), (6, 9, 7)):
        torch.testing.assert_close(t_sp, fan_in / 2 * t, msg=name_sp)


def test_bernoulli_mask_and_rescale_factors():
    model = ntk.NTKMLP((50, 200, 1), generator=gen(0))
    a = ntk.bernoulli_mask(model, (0.3, 0.8), gen(5))
    b = ntk.bernoulli_mask(model, (0.3, 0.8), gen(5))
    assert list(a) == ["hidden.0.weight", "classifier.weight"]
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert float(a["hidden.0.weight"].double().mean()) == pytest.approx(0.3, abs=0.01)
    factors = ntk.rescale_factors(a)
    assert factors["hidden.0.weight"] == pytest.approx(
        1 / math.sqrt(float(a["hidden.0.weight"].double().mean())))
    assert list(ntk.bernoulli_mask(model, 0.5, gen(5), include_classifier=False)) == [
        "hidden.0.weight"]
    for bad in (0.0, 1.5, (0.5,)):
        with pytest.raises(ValueError, match="keep"):
            ntk.bernoulli_mask(model, bad, gen(0))
    with pytest.raises(ValueError, match="output"):
        ntk.empirical_ntk(model, inputs(2, 50), output=1)
    with pytest.raises(ValueError, match="widths"):
        ntk.NTKMLP((5,))
    with pytest.raises(KeyError, match="mask"):
        ntk.empirical_ntk(model, inputs(2, 50), {"nope.weight": torch.ones(1, dtype=bool)})


# --------------------------------------------------------------------------- the limit

def test_limit_closed_forms():
    """sigma_w^2 = 2, |x|^2 = d: Theta(x, x) = (L + 1) * 2; orthogonal inputs, depth 1:
    Sigma^1 = 0, Sigma^2 = 2 * k1 = 2 / pi, so Theta = 2 / pi."""
    x = torch.zeros(2, 4, dtype=torch.float64)
    x[0, 0] = x[1, 1] = 2.0
    for depth in range(4):
        theta = ntk.relu_ntk_limit(x, depth)
        torch.testing.assert_close(theta.diagonal(), torch.full((2,), 2.0 * (depth + 1),
                                                                dtype=torch.float64))
    assert float(ntk.relu_ntk_limit(x, 1)[0, 1]) == pytest.approx(2 / math.pi, rel=1e-14)
    assert float(ntk.relu_ntk_limit(x, 0)[0, 1]) == 0.0
    theta, sigma = ntk.relu_ntk_limit(x, 2, sigma_w=1.0, nngp=True)
    assert float(sigma[0, 0]) == pytest.approx(0.25)  # halved by each ReLU layer at sigma_w = 1


def test_limit_matches_a_wide_network():
    x = inputs(8, 16)
    limit = ntk.relu_ntk_limit(x, 2)
    kernels = [ntk.empirical_ntk(ntk.NTKMLP((16, 2048, 2048, 1), generator=gen(s)), x, output=0)
               for s in range(3)]
    mean = sum(kernels) / len(kernels)
    assert ntk.relative_error(mean, limit) < 0.1
    assert ntk.fit_scale(mean, limit) == pytest.approx(1.0, abs=0.05)
    assert ntk.relative_error(mean, ntk.relu_ntk_limit(x, 3)) > 0.2  # the test can tell depths


def test_pruned_limit_recursion_agrees_with_the_closed_form_factors():
    x = inputs(6, 10, seed=1)
    dense = ntk.relu_ntk_limit(x, 3)
    qs = (0.5, 0.2, 0.7, 0.1)
    for rescale in ("none", "multiplier"):
        torch.testing.assert_close(ntk.relu_ntk_limit(x, 3, keep=qs, rescale=rescale),
                                   ntk.predicted_scale(qs, rescale) * dense, rtol=1e-12, atol=0)
    assert ntk.predicted_scale(qs) == pytest.approx(0.5 * 0.2 * 0.7 * 0.1)
    torch.testing.assert_close(ntk.relu_ntk_limit(x, 3, keep=0.3, rescale="values"),
                               0.3 * dense, rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="not a multiple"):
        ntk.predicted_scale(qs, "values")
    # a layer-wise q under 'values' weighs layer l's term by q_l: check on a two-layer net
    t1 = ntk.relu_ntk_limit(x, 1, keep=(1.0, 1e-9), rescale="values")  # ~ the first layer's term
    two = ntk.relu_ntk_limit(x, 1)
    torch.testing.assert_close(ntk.relu_ntk_limit(x, 1, keep=(0.5, 0.2), rescale="values"),
                               0.5 * t1 + 0.2 * (two - t1), rtol=1e-7, atol=0)


# --------------------------------------------------------------------------- the scale factor

def test_unrescaled_pruned_ntk_is_q_to_the_number_of_masked_matrices_times_dense():
    """Width 2048, depth 2, q = 0.25 on all three matrices: Theta_pruned ~ q^3 Theta (not q^2,
    not q^4), the same factor for each layer's term; 1/sqrt(q) on the stored values leaves q."""
    x, q = inputs(8, 256), 0.25
    limit = ntk.relu_ntk_limit(x, 2)
    pruned, values, ratios = [], [], []
    for seed in range(3):
        model = ntk.NTKMLP((256, 2048, 2048, 1), generator=gen(seed))
        mask = ntk.bernoulli_mask(model, q, gen(100 + seed))
        dense_terms = ntk.empirical_ntk(model, x, output=0, by_parameter=True)
        terms = ntk.empirical_ntk(model, x, mask, output=0, by_parameter=True)
        pruned.append(sum(terms.values()))
        ratios.append([ntk.fit_scale(terms[n], dense_terms[n]) for n in terms])
        values.append(ntk.empirical_ntk(
            model, x, mask, params={n: p / math.sqrt(q) for n, p in model.named_parameters()},
            output=0))
    scale = ntk.fit_scale(sum(pruned) / 3, limit)
    assert scale / q ** 3 == pytest.approx(1.0, abs=0.1)
    for layer in range(3):  # every layer's term carries the same factor
        assert sum(r[layer] for r in ratios) / 3 / q ** 3 == pytest.approx(1.0, abs=0.15)
    assert ntk.fit_scale(sum(values) / 3, limit) / q == pytest.approx(1.0, abs=0.1)


def test_multiplier_rescaling_divides_by_the_realised_factor_exactly():
    """Bias-free ReLU is homogeneous: the 1/sqrt(q_l) multipliers give Theta_unrescaled /
    prod_l q_l at any width, so the rescaled fitted scale is ~1 wherever the unrescaled one is
    ~prod q_l (checked at width 2048 above)."""
    x = inputs(5, 12)
    model = ntk.NTKMLP((12, 30, 20, 2), generator=gen(7))
    mask = ntk.bernoulli_mask(model, (0.5, 0.3, 0.8), gen(8))
    factors = ntk.rescale_factors(mask)
    realised = math.prod(f ** -2 for f in factors.values())
    torch.testing.assert_close(ntk.empirical_ntk(model, x, mask, scales=factors),
                               ntk.empirical_ntk(model, x, mask) / realised,
                               rtol=1e-11, atol=1e-13)
    row = ntk.compare_pruned_ntk(x, 64, 2, 0.5, seed=3)
    assert row["relerr_rescaled"] == pytest.approx(row["relerr_pruned"], rel=1e-9)
    assert row["scale_rescaled"] == pytest.approx(row["scale_ratio"], rel=1e-9)


def test_masked_input_layer_limit_averages_over_mask_rows():
    """With d = 4 inputs the first layer's masked fan-in never grows: a width-65536 pruned net
    matches the mask-averaged limit (input_masks), not prod q * Theta_dense."""
    x = inputs(8, 4, seed=1)
    closed = ntk.relu_ntk_limit(x, 1, keep=0.5)
    averaged = ntk.relu_ntk_limit(x, 1, keep=0.5, input_masks=50_000, generator=gen(0))
    model = ntk.NTKMLP((4, 65536, 1), generator=gen(0))
    theta = ntk.empirical_ntk(model, x, ntk.bernoulli_mask(model, 0.5, gen(1)), output=0)
    assert ntk.relative_error(theta, averaged) < 0.035
    assert ntk.relative_error(theta, closed) > 0.05
    assert ntk.relative_error(averaged, closed) > 0.05
    assert ntk.fit_scale(averaged, closed) == pytest.approx(1.0, abs=0.05)


# --------------------------------------------------------------------------- random streams

def test_ntk_cells_draw_weights_and_mask_from_independent_streams():
    """Every stream of a cell comes from (seed, purpose): two purposes of one seed and one
    purpose of two seeds differ, and replicate s's mask stream is not replicate s + 1's weight
    stream (the old ``seed + 1`` mask was exactly that)."""
    def draw(seed, purpose):
        return torch.rand(64, generator=seeds.generator(seed, purpose), dtype=torch.float64)

    for s in range(4):
        assert not torch.equal(draw(s, ntk.INIT_PURPOSE), draw(s, ntk.MASK_PURPOSE))
        assert not torch.equal(draw(s, ntk.INIT_PURPOSE), draw(s + 1, ntk.INIT_PURPOSE))
        assert not torch.equal(draw(s, ntk.MASK_PURPOSE), draw(s + 1, ntk.MASK_PURPOSE))
        assert not torch.equal(draw(s, ntk.MASK_PURPOSE), draw(s + 1, ntk.INIT_PURPOSE))
    # the cell uses exactly these streams: rebuilt by hand, the same weights, mask and numbers
    x, seed = inputs(4, 6), 5
    row = ntk.compare_pruned_ntk(x, 16, 1, 0.5, seed)
    model = ntk.NTKMLP((6, 16, 1), generator=seeds.generator(seed, ntk.INIT_PURPOSE))
    mask = ntk.bernoulli_mask(model, 0.5, seeds.generator(seed, ntk.MASK_PURPOSE))
    kept = sum(int(m.sum()) for m in mask.values())
    assert row["density"] == kept / sum(m.numel() for m in mask.values())
    limit = ntk.relu_ntk_limit(x, 1)
    assert row["scale"] == pytest.approx(
        ntk.fit_scale(ntk.empirical_ntk(model, x, mask, output=0), limit), rel=1e-12)

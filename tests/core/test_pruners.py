"""Pruning scores, thresholds and schedules: exact identities and hand-computed values."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers import make_model
from pruninglib.analysis.connectivity import (layer_totals, synaptic_saliency, unit_flows)
from pruninglib.config import PruneSpec
from pruninglib.masks import count, full_mask, layer_densities
from pruninglib.pruners import ScoringContext, prune, rescale_fan_in
from pruninglib.pruners.ratios import erk_densities, exact_counts, smart_ratio_densities
from pruninglib.pruners.scores import grasp_scorer, snip_scorer, synflow_scorer
from pruninglib.pruners.selection import schedule_densities, select_global, select_per_layer

UNEQUAL = (64, 16, 48, 8)  # very unequal hidden widths


def _ctx(x=None, y=None, input_shape=(1, 8, 8), seed=0, **kw):
    return ScoringContext(input_shape=input_shape, x=x, y=y,
                          generator=torch.Generator().manual_seed(seed), **kw)


def _batch(n=32, shape=(1, 8, 8), classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, *shape), generator=g), torch.randint(0, classes, (n,), generator=g)


# -- SynFlow's conservation law (Tanaka et al., Thm 1 and 2) ------------------------------------

@pytest.mark.parametrize("name, fields", [
    ("mlp", dict(hidden=UNEQUAL, bias=False)),
    ("conv2", dict(width=0.125, bias=False)),
])
def test_synflow_scores_conserve_per_unit_and_per_layer(name, fields):
    model = make_model(name, **fields)
    scores = synflow_scorer(model, _ctx(), PruneSpec("synflow", density=0.5))(full_mask(model))
    for flow in unit_flows(scores):
        torch.testing.assert_close(flow["incoming"], flow["outgoing"], rtol=1e-9, atol=0)
    totals = list(layer_totals(scores).values())
    assert max(totals) == pytest.approx(min(totals), rel=1e-9)


def test_signed_loss_saliency_conserves_on_bias_free_relu_mlp():
    model = make_model("mlp", hidden=UNEQUAL, bias=False).double()
    x, y = _batch()
    scores = synaptic_saliency(model, lambda m: F.cross_entropy(m(x.double()), y))
    for flow in unit_flows(scores):
        torch.testing.assert_close(flow["incoming"], flow["outgoing"], rtol=1e-8, atol=1e-15)


def test_synflow_mean_score_per_layer_is_inverse_to_layer_size():
    model = make_model("mlp", hidden=UNEQUAL, bias=False)
    scores = synflow_scorer(model, _ctx(), PruneSpec("synflow", density=0.5))(full_mask(model))
    products = [float(s.double().mean()) * s.numel() for s in scores.values()]
    assert max(products) == pytest.approx(min(products), rel=1e-9)


# -- SNIP, GraSP, magnitude by hand ---------------------------------------------------------

def test_snip_equals_hand_computed_gradient_times_weight():
    model = make_model("mlp", input_shape=(5,), num_classes=3, hidden=(4,), bias=False)
    x, y = _batch(8, (5,), 3)
    weights = [m.weight.detach().double() for m in model.modules() if isinstance(m, nn.Linear)]
    w1, w2 = weights
    xd = x.double()
    pre = xd @ w1.T
    h = pre.clamp_min(0)
    out = h @ w2.T
    d_out = (torch.softmax(out, 1) - F.one_hot(y, 3).double()) / len(y)
    g2 = d_out.T @ h
    g1 = ((d_out @ w2) * (pre > 0)).T @ xd
    scores = list(snip_scorer(model, _ctx(x, y, (5,)), PruneSpec("snip", density=0.5))(full_mask(model)).values())
    torch.testing.assert_close(scores[0].double(), (g1 * w1).abs(), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(scores[1].double(), (g2 * w2).abs(), rtol=1e-5, atol=1e-7)


def test_grasp_is_weight_times_hessian_gradient_product_at_temperature():
    model = make_model("mlp", input_shape=(3,), num_classes=2, hidden=(3,), bias=False).double()
    x, y = _batch(6, (3,), 2)
    x = x.double()
    temperature = 2.0
    names = list(full_mask(model))
    params = [dict(model.named_parameters())[n] for n in names]
    sizes = [p.numel() for p in params]
    flat0 = torch.cat([p.detach().reshape(-1) for p in params])

    def loss(flat):
        ws = torch.split(flat, sizes)
        h = torch.relu(x @ ws[0].reshape(params[0].shape).T)
        return F.cross_entropy(h @ ws[1].reshape(params[1].shape).T / temperature, y)

    g = torch.autograd.functional.jacobian(loss, flat0)
    hessian = torch.autograd.functional.hessian(loss, flat0)
    expected = flat0 * (hessian @ g)
    spec = PruneSpec("grasp", density=0.5, grasp_temperature=temperature)
    got = grasp_scorer(model, _ctx(x, y, (3,)), spec)(full_mask(model))
    torch.testing.assert_close(torch.cat([got[n].reshape(-1) for n in names]), expected,
                               rtol=1e-8, atol=1e-12)
    # GraSP keeps the largest theta*Hg (the reference removes the largest -theta*Hg)
    mask = prune(model, spec, _ctx(x, y, (3,)))
    kept = torch.cat([mask[n].reshape(-1) for n in names])
    assert expected[kept].min() >= expected[~kept].max()


def test_magnitude_removes_exactly_the_smallest():
    model = make_model("mlp", hidden=(32, 16))
    mask = prune(model, PruneSpec("magnitude", density=0.3), _ctx())
    weights = torch.cat([p.detach().abs().reshape(-1)
                         for p in model.parameters() if p.dim() > 1])
    kept = torch.cat([m.reshape(-1) for m in mask.values()])
    assert int(kept.sum()) == round(0.3 * kept.numel())
    assert weights[kept].min() >= weights[~kept].max()


# -- exact counts, ties, schedules ----------------------------------------------------------

METHODS = ["random", "magnitude", "snip", "grasp", "synflow", "uniform", "erk", "smart_ratio"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scope", ["global", "layerwise"])
@pytest.mark.parametrize("density", [0.5, 0.037, 0.001])
def test_requested_density_is_met_exactly(method, scope, density):
    model = make_model("mlp", hidden=(40, 20), seed=1)
    x, y = _batch()
    mask = prune(model, PruneSpec(method, density=density, scope=scope, iterations=3),
                 _ctx(x, y))
    kept, total = count(mask)
    assert kept == max(1, round(density * total))


def test_ties_are_broken_deterministically_with_exact_count():
    model = make_model("mlp", hidden=(10,), bias=False)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.5)  # every magnitude ties
    spec = PruneSpec("magnitude", density=0.25)
    first = prune(model, spec, _ctx())
    second = prune(model, spec, _ctx())
    assert count(first)[0] == round(0.25 * count(first)[1])
    assert all(torch.equal(first[n], second[n]) for n in first)


def test_selection_never_revives_a_pruned_weight():
    alive = {"a": torch.tensor([True, False, True, False]), "b": torch.tensor([False, True])}
    scores = {"a": torch.tensor([1.0, 100.0, 2.0, 100.0]), "b": torch.tensor([100.0, 3.0])}
    chosen = select_global(scores, alive, 2)
    assert chosen["a"].tolist() == [False, False, True, False]
    assert chosen["b"].tolist() == [False, True]


def test_non_finite_scores_raise_a_clear_error():
    alive = {"w": torch.ones(3, dtype=torch.bool)}
    with pytest.raises(FloatingPointError, match="not finite"):
        select_global({"w": torch.tensor([1.0, float("nan"), 2.0])}, alive, 1, "synflow")


def test_schedules_end_at_the_target_density():
    exp = schedule_densities(0.01, 100, "exponential")
    assert exp[-1] == pytest.approx(0.01) and exp[49] == pytest.approx(0.1)
    lin = schedule_densities(0.2, 4, "linear")
    assert lin == pytest.approx([0.8, 0.6, 0.4, 0.2])


def test_iterative_synflow_avoids_collapse_on_unequal_mlp():
    model = make_model("mlp", hidden=UNEQUAL, bias=False)
    mask = prune(model, PruneSpec("synflow", density=0.01, iterations=20), _ctx())
    assert all(bool(m.any()) for m in mask.values()), "SynFlow must not collapse a layer here"


def test_invert_keeps_the_lowest_scores():
    model = make_model("mlp", hidden=(32,))
    mask = prune(model, PruneSpec("magnitude", density=0.2, invert=True), _ctx())
    weights = torch.cat([p.detach().abs().reshape(-1)
                         for p in model.parameters() if p.dim() > 1])
    kept = torch.cat([m.reshape(-1) for m in mask.values()])
    assert weights[kept].max() <= weights[~kept].min()


def test_layerwise_shuffle_really_moves_weights_and_keeps_counts():
    model = make_model("mlp", hidden=(64, 32))
    base = prune(model, PruneSpec("magnitude", density=0.1), _ctx())
    shuffled = prune(model, PruneSpec("magnitude", density=0.1, shuffle=True), _ctx())
    for n in base:
        assert int(base[n].sum()) == int(shuffled[n].sum())
    assert any(not torch.equal(base[n], shuffled[n]) for n in base)


def test_classifier_can_be_left_unpruned():
    model = make_model("mlp", hidden=(16,))
    mask = prune(model, PruneSpec("random", density=0.1, include_classifier=False), _ctx())
    classifier = [n for n, p in model.named_parameters() if p is model.classifier.weight][0]
    assert classifier not in mask


# -- layer ratios ---------------------------------------------------------------------------

@pytest.mark.parametrize("ratios", [erk_densities, smart_ratio_densities])
def test_layer_ratio_methods_meet_the_global_budget(ratios):
    shapes = [(64, 3, 3, 3), (128, 64, 3, 3), (256, 128, 3, 3), (10, 256)]
    sizes = [math.prod(s) for s in shapes]
    for density in (0.5, 0.1, 0.01):
        densities = ratios(shapes, density)
        assert all(0 <= d <= 1 for d in densities)
        assert sum(d * n for d, n in zip(densities, sizes)) == pytest.approx(density * sum(sizes))
        counts = exact_counts(densities, sizes, round(density * sum(sizes)))
        assert sum(counts) == round(density * sum(sizes))


def test_erk_gives_small_layers_higher_density():
    shapes = [(16, 1, 3, 3), (512, 512, 3, 3), (10, 512)]
    dens = erk_densities(shapes, 0.05)
    assert dens[0] >= dens[2] > dens[1]
    # ERK's raw ratio is (sum of dims) / (prod of dims): check the proportionality of the free layers
    raw = [sum(s) / math.prod(s) for s in shapes]
    free = [i for i, d in enumerate(dens) if d < 1]
    ratios = {dens[i] / raw[i] for i in free}
    assert max(ratios) == pytest.approx(min(ratios))


# -- rescaling, numerics on deep nets ------------------------------------------------------

def test_rescale_fan_in_restores_each_units_incoming_norm():
    model = make_model("mlp", hidden=(50, 30))
    dense = {n: p.detach().clone() for n, p in model.named_parameters()}
    mask = prune(model, PruneSpec("random", density=0.2), _ctx())
    from pruninglib.masks import apply_mask
    apply_mask(model, mask)
    rescale_fan_in(model, mask, dense)
    named = dict(model.named_parameters())
    for n, m in mask.items():
        after = (named[n].detach().double() ** 2).sum(1)
        before = (dense[n].double() ** 2).sum(1)
        alive_units = m.any(1)
        torch.testing.assert_close(after[alive_units], before[alive_units], rtol=1e-5, atol=0)


def test_synflow_stays_finite_on_resnet110_where_float32_overflows():
    model = make_model("resnet110", input_shape=(3, 32, 32), num_classes=10)
    mask = prune(model, PruneSpec("synflow", density=0.1, iterations=3),
                 _ctx(input_shape=(3, 32, 32)))
    assert count(mask)[0] == round(0.1 * count(mask)[1])
    # the reference computes R in float32, where this network's R is not finite
    import copy
    work = copy.deepcopy(model).eval()
    with torch.no_grad():
        for t in work.state_dict().values():
            t.abs_()
        r32 = work(torch.ones(1, 3, 32, 32)).sum()
    assert not torch.isfinite(r32)


def test_layer_densities_report_matches_mask():
    model = make_model("mlp", hidden=(20,))
    mask = prune(model, PruneSpec("uniform", density=0.25), _ctx())
    rows = layer_densities(mask)
    assert [r["kept"] for r in rows] == [int(m.sum()) for m in mask.values()]
    assert all(r["density"] == pytest.approx(0.25, abs=1 / r["numel"]) for r in rows)


# -- SynFlow in float32: one common factor from float64, finite on deep ResNets ----------------

def _flat(scores):
    return torch.cat([s.reshape(-1).double() for s in scores.values()])


def _nonzero_shifts(model):
    """Biases and BatchNorm shifts away from zero, so the scaling of shifts is exercised."""
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) - 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) - 0.5)
    return model


@pytest.mark.parametrize("name, shape, fields", [
    ("mlp", (1, 8, 8), dict(hidden=UNEQUAL, sigma_b=0.3)),
    ("vgg11", (3, 32, 32), dict(width=0.125)),
    ("resnet20", (3, 16, 16), dict(width=0.25, sigma_b=0.1)),
    ("resmlp", (1, 8, 8), dict(hidden=(16,) * 6, stable=True)),
])
def test_float32_synflow_scores_are_the_float64_ones_times_one_constant(name, shape, fields):
    model = _nonzero_shifts(make_model(name, input_shape=shape, num_classes=10, **fields))
    spec = PruneSpec("synflow", density=0.1)
    ctx = _ctx(input_shape=shape)
    alive = prune(model, PruneSpec("random", density=0.5), ctx)  # a pruned network too
    for mask in (full_mask(model), alive):
        exact = _flat(synflow_scorer(model, ctx, spec, precision="float64")(mask))
        fast = synflow_scorer(model, ctx, spec, precision="float32")(mask)
        assert all(s.dtype == torch.float32 for s in fast.values())
        fast = _flat(fast)
        assert torch.equal(exact == 0, fast == 0)
        ratio = fast[exact > 0] / exact[exact > 0]
        torch.testing.assert_close(ratio, ratio.median().expand_as(ratio), rtol=1e-5, atol=0)


def test_float32_synflow_is_finite_on_resnet110_and_keeps_the_float64_mask():
    model = make_model("resnet110", input_shape=(3, 8, 8), num_classes=10, width=0.25)
    ctx = _ctx(input_shape=(3, 8, 8))
    spec = PruneSpec("synflow", density=0.1, iterations=5)
    exact = prune(model, spec, ctx, synflow_precision="float64")
    fast = prune(model, spec, ctx, synflow_precision="float32")
    kept, total = count(fast)
    assert kept == count(exact)[0] == round(0.1 * total)
    differing = sum(int((exact[n] != fast[n]).sum()) for n in exact)
    assert differing <= 2e-3 * total  # rounding near the threshold only
    scores = synflow_scorer(model, ctx, spec, precision="float32")(full_mask(model))
    assert all(bool(torch.isfinite(s).all()) and s.dtype == torch.float32
               for s in scores.values())


def test_a_spec_asks_for_float32_synflow_and_only_then_its_key_changes():
    from pruninglib.config import DataSpec, ModelSpec, RunSpec

    model = make_model("conv2", input_shape=(1, 8, 8), num_classes=10, width=0.25)
    ctx = _ctx(input_shape=(1, 8, 8))
    spec32 = PruneSpec("synflow", density=0.05, iterations=20, synflow_precision="float32")
    assert all(prune(model, spec32, ctx)[n].equal(m) for n, m in
               prune(model, spec32, ctx, synflow_precision="float32").items())
    run = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("conv2"),
                  prune=PruneSpec("synflow", density=0.05))
    assert "synflow_precision" not in run.to_json()  # the default: earlier keys unchanged
    fast = run.replace(**{"prune.synflow_precision": "float32"})
    assert fast.key() != run.key() and RunSpec.from_dict(fast.to_dict()) == fast


@pytest.mark.parametrize("name, shape, fields", [
    ("mlp", (1, 8, 8), dict(hidden=UNEQUAL, bias=False)),
    ("conv2", (1, 8, 8), dict(width=0.25)),
    ("vgg11", (3, 32, 32), dict(width=0.125)),
])
def test_float32_synflow_masks_equal_the_float64_ones_up_to_rounding(name, shape, fields):
    model = make_model(name, input_shape=shape, num_classes=10, **fields)
    for scope in ("global", "layerwise"):
        spec = PruneSpec("synflow", density=0.05, iterations=20, scope=scope)
        exact = prune(model, spec, _ctx(input_shape=shape), synflow_precision="float64")
        fast = prune(model, spec, _ctx(input_shape=shape), synflow_precision="float32")
        total = count(exact)[1]
        differing = sum(int((exact[n] != fast[n]).sum()) for n in exact)
        assert count(fast)[0] == count(exact)[0]
        assert differing <= max(4, 1e-3 * total)


def test_float32_synflow_without_homogeneity_uses_float64_and_falls_back_on_overflow():
    # tanh is not homogeneous (and float32 loses 1 - tanh**2 of saturated units): float64
    ctx, spec = _ctx(), PruneSpec("synflow", density=0.1)
    train_bn = PruneSpec("synflow", density=0.1, bn_mode="train")
    for model, s, homogeneous in [
            (make_model("mlp", hidden=(32, 32), activation="tanh"), spec, False),
            (make_model("resnet20", width=0.25), train_bn, False),
            (make_model("resnet20", width=0.25), spec, True)]:
        exact = synflow_scorer(model, ctx, s, precision="float64")(full_mask(model))
        fast = synflow_scorer(model, ctx, s, precision="float32")(full_mask(model))
        assert all(f.dtype == (torch.float32 if homogeneous else torch.float64)
                   for f in fast.values())
        if not homogeneous:
            assert all(torch.equal(exact[n], fast[n]) for n in exact)
    # huge weights: the ReLU net's rescaled float32 stays finite and proportional
    model = make_model("mlp", hidden=(64,) * 16, sigma_w=40.0)
    exact = _flat(synflow_scorer(model, ctx, spec, precision="float64")(full_mask(model)))
    fast = _flat(synflow_scorer(model, ctx, spec, precision="float32")(full_mask(model)))
    ratio = fast[exact > 0] / exact[exact > 0]
    torch.testing.assert_close(ratio, ratio.median().expand_as(ratio), rtol=1e-5, atol=0)
    with pytest.raises(ValueError, match="precision"):
        synflow_scorer(model, ctx, spec, precision="float16")


def test_a_non_finite_float32_round_is_scored_again_in_float64(monkeypatch):
    import pruninglib.pruners.scores as scores_module

    model = make_model("mlp", hidden=(16, 16))
    ctx, spec = _ctx(), PruneSpec("synflow", density=0.1)
    monkeypatch.setattr(scores_module._SignalScaling, "_rescale",
                        lambda self, module, args, output: output * 1e30)  # overflow
    fast = synflow_scorer(model, ctx, spec, precision="float32")(full_mask(model))
    exact = synflow_scorer(model, ctx, spec, precision="float64")(full_mask(model))
    assert all(torch.equal(exact[n], fast[n]) for n in exact)


def test_synflow_precision_defaults_to_float64_and_follows_the_spec_field():
    model = make_model("mlp", hidden=(16,))
    spec = PruneSpec("synflow", density=0.5)
    assert all(s.dtype == torch.float64 for s in
               synflow_scorer(model, _ctx(), spec)(full_mask(model)).values())

    class WithField:  # a PruneSpec that has the field (config may add it)
        synflow_precision = "float32"
        bn_mode = "eval"
    assert all(s.dtype == torch.float32 for s in
               synflow_scorer(model, _ctx(), WithField())(full_mask(model)).values())


# -- selection: the buffered numpy path equals a plain sort ----------------------------------

def _top_k_by_sort(scores, alive, keep):
    """Keep the ``keep`` largest alive scores; ties to the earlier layer, then lower index."""
    names = list(scores)
    flat = torch.cat([scores[n].reshape(-1).double() for n in names])
    live = torch.cat([alive[n].reshape(-1) for n in names])
    index = torch.arange(len(flat))
    order = sorted(index[live].tolist(), key=lambda i: (-float(flat[i]), i))[:keep]
    chosen = torch.zeros(len(flat), dtype=torch.bool)
    chosen[order] = True
    return dict(zip(names, [c.reshape(scores[n].shape) for n, c in
                            zip(names, torch.split(chosen, [scores[n].numel() for n in names]))]))


@pytest.mark.parametrize("seed", range(6))
def test_global_and_per_layer_selection_equal_a_plain_sort_with_ties(seed):
    g = torch.Generator().manual_seed(seed)
    shapes = {"a": (7, 5), "b": (13,), "c": (3, 2, 2)}
    dtype = torch.float32 if seed % 2 else torch.float64
    scores = {n: torch.randint(0, 6, s, generator=g).to(dtype) for n, s in shapes.items()}
    alive = {n: torch.rand(s, generator=g) < 0.7 for n, s in shapes.items()}
    live = sum(int(a.sum()) for a in alive.values())
    for keep in (1, live // 3, live - 1, live):
        got = select_global(scores, alive, keep)
        want = _top_k_by_sort(scores, alive, keep)
        assert all(torch.equal(got[n], want[n]) for n in shapes)
    per_layer = {n: int(a.sum()) // 2 for n, a in alive.items()}
    got = select_per_layer(scores, alive, per_layer)
    for n in shapes:
        want = _top_k_by_sort({n: scores[n]}, {n: alive[n]}, per_layer[n])[n]
        assert torch.equal(got[n], want)

"""Mean-field EOC analysis: quadrature, fixed points, EOC points, phases, correlation map, and a
Monte-Carlo check on a wide random tanh MLP."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from pruninglib.analysis import eoc
from pruninglib.config import ACTIVATIONS, ModelSpec
from pruninglib.models import build_model
from pruninglib.models.layers import ACTIVATION_LAYERS

# Independent scalar definitions (math module, not the library's numpy versions).
PHI = {"tanh": math.tanh, "elu": lambda x: x if x > 0 else math.expm1(x)}
DPHI = {"tanh": lambda x: 1 - math.tanh(x) ** 2, "elu": lambda x: 1.0 if x > 0 else math.exp(x)}


def quad_mean(f, q: float) -> float:
    """E[f(sqrt(q) z)], z ~ N(0, 1), by adaptive quadrature split at the kink z = 0."""
    def integrand(z):
        return f(math.sqrt(q) * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return sum(integrate.quad(integrand, a, b, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
               for a, b in ((-math.inf, 0.0), (0.0, math.inf)))


def quad_q_star_and_chi(name: str, sigma_b: float, sigma_w: float) -> tuple[float, float]:
    """q* by plain iteration of the quad-based variance map from q = 1, and chi there."""
    q, previous = 1.0, math.inf
    while abs(q - previous) > 1e-14:
        previous, q = q, sigma_b ** 2 + sigma_w ** 2 * quad_mean(lambda x: PHI[name](x) ** 2, q)
    return q, sigma_w ** 2 * quad_mean(lambda x: DPHI[name](x) ** 2, q)


def test_activations_match_the_torch_layers_and_their_derivatives():
    assert set(eoc.ACTIVATIONS) == set(ACTIVATIONS)
    x = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    x = x[x != 0].requires_grad_()
    for name, act in eoc.ACTIVATIONS.items():
        y = ACTIVATION_LAYERS[name]()(x)
        (grad,) = torch.autograd.grad(y.sum(), x)
        np.testing.assert_allclose(act.phi(x.detach().numpy()), y.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(act.dphi(x.detach().numpy()), grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_second_moments_match_adaptive_quadrature(name):
    act = eoc.ACTIVATIONS[name]
    for q in (0.01, 1.0, 10.0, 100.0):
        e_phi2, e_dphi2 = eoc.second_moments(name, q)
        assert e_phi2 == pytest.approx(quad_mean(lambda x: act.phi(x) ** 2, q), rel=1e-10)
        assert e_dphi2 == pytest.approx(quad_mean(lambda x: act.dphi(x) ** 2, q), rel=1e-10)


def test_relu_closed_forms_and_its_eoc_is_exactly_0_sqrt2():
    assert eoc.second_moments("relu", 3.0) == (1.5, 0.5)
    assert eoc.eoc_sigma_w("relu", 0.0) == math.sqrt(2)
    assert eoc.chi("relu", 0.0, math.sqrt(2)) == pytest.approx(1.0, abs=1e-15)
    assert eoc.phase("relu", 0.0, math.sqrt(2)) == "eoc"
    # sigma_b = 0 on the EOC: every q is a fixed point, q* = q0 by convention
    assert eoc.q_star("relu", 0.0, math.sqrt(2)) == 1.0
    assert eoc.q_star("relu", 0.0, math.sqrt(2), q0=2.5) == 2.5
    # with a bias: q* = sigma_b^2 / (1 - sigma_w^2 / 2) below sqrt 2, diverging from sqrt 2 on
    assert eoc.q_star("relu", 0.1, 1.0) == pytest.approx(0.01 / 0.5)
    assert eoc.q_star("relu", 0.1, math.sqrt(2)) == math.inf
    assert eoc.phase("relu", 0.1, math.sqrt(2)) == "chaotic"
    with pytest.raises(ValueError, match="no EOC point"):
        eoc.eoc_sigma_w("relu", 0.1)
    np.testing.assert_array_equal(eoc.eoc_curve("relu", [0.0, 0.1]), [math.sqrt(2), np.nan])
    with pytest.raises(ValueError, match="q0"):
        eoc.q_star("tanh", 0.2, 1.0, q0=0.0)


@pytest.mark.parametrize("name", ["tanh", "elu"])
def test_eoc_sigma_w_has_chi_one_by_independent_quadrature(name):
    sigma_w = eoc.eoc_sigma_w(name, 0.2)
    q, chi = quad_q_star_and_chi(name, 0.2, sigma_w)
    assert abs(chi - 1) < 1e-6
    assert eoc.q_star(name, 0.2, sigma_w) == pytest.approx(q, rel=1e-9)
    assert eoc.phase(name, 0.2, sigma_w) == "eoc"


def test_reference_points_are_slightly_ordered():
    table = eoc.reference_comparison().set_index("activation")
    for name, (sigma_b, sigma_w) in eoc.REFERENCE_EOC.items():
        q, chi = quad_q_star_and_chi(name, sigma_b, sigma_w)
        assert chi < 1
        assert table.loc[name, "chi_reference"] == pytest.approx(chi, abs=1e-9)
        assert table.loc[name, "q_star_reference"] == pytest.approx(q, rel=1e-9)
        assert table.loc[name, "sigma_w_eoc"] > sigma_w
        assert eoc.phase(name, sigma_b, sigma_w) == "ordered"
    assert round(quad_q_star_and_chi("tanh", 0.2, 1.2981)[1], 3) == 0.997


@pytest.mark.parametrize("name", ["tanh", "elu"])
def test_phases_below_and_above_the_eoc_curve(name):
    sigma_bs = [0.0, 0.2, 0.5]
    curve = eoc.eoc_curve(name, sigma_bs)
    assert curve[0] == pytest.approx(1.0, abs=1e-6)  # degenerate sigma_b = 0 point: q* = 0
    assert np.all(np.diff(curve) > 0)
    for sigma_b, sigma_w in zip(sigma_bs[1:], curve[1:], strict=True):
        assert eoc.phase(name, sigma_b, 0.9 * sigma_w) == "ordered"
        assert eoc.phase(name, sigma_b, 1.1 * sigma_w) == "chaotic"


def test_gelu_and_silu_have_an_eoc_only_at_larger_bias():
    for name in ("gelu", "silu"):
        with pytest.raises(ValueError, match="no EOC point"):
            eoc.eoc_sigma_w(name, 0.2)
        sigma_w = eoc.eoc_sigma_w(name, 1.0)
        assert eoc.chi(name, 1.0, sigma_w) == pytest.approx(1.0, abs=1e-12)
        assert 1 < eoc.q_star(name, 1.0, sigma_w) < math.inf


@pytest.mark.parametrize("name, sigma_b, sigma_w", [
    ("tanh", 0.2, 1.0), ("tanh", 0.2, 1.3041458400565094), ("tanh", 0.2, 1.6),
    ("elu", 0.2, 1.0), ("elu", 0.2, 1.35), ("selu", 0.3, 1.0), ("gelu", 0.5, 1.3)])
def test_correlation_map_is_one_at_one_with_slope_chi(name, sigma_b, sigma_w):
    chi = eoc.chi(name, sigma_b, sigma_w)
    assert eoc.correlation_map(name, sigma_b, sigma_w, 1.0) == pytest.approx(1.0, abs=1e-12)
    assert eoc.correlation_slope(name, sigma_b, sigma_w, 1.0) == pytest.approx(chi, abs=1e-12)
    h = 1e-5  # central difference at c = 0.5 against the integration-by-parts slope
    numeric = (eoc.correlation_map(name, sigma_b, sigma_w, 0.5 + h)
               - eoc.correlation_map(name, sigma_b, sigma_w, 0.5 - h)) / (2 * h)
    assert numeric == pytest.approx(eoc.correlation_slope(name, sigma_b, sigma_w, 0.5), abs=1e-8)
    q = eoc.q_star(name, sigma_b, sigma_w)
    np.testing.assert_allclose(eoc.covariance_map(name, sigma_b, sigma_w, q, q, 0.5),
                               (q, q, eoc.correlation_map(name, sigma_b, sigma_w, 0.5)),
                               rtol=1e-12)


def test_relu_correlation_map_is_the_arc_cosine_kernel():
    for c in (-0.9, 0.0, 0.3, 0.9, 0.999):
        theta = math.acos(c)
        arccos = (math.sqrt(1 - c * c) + (math.pi - theta) * c) / math.pi
        assert eoc.correlation_map("relu", 0.0, math.sqrt(2), c) == pytest.approx(arccos,
                                                                                  abs=1e-12)
        assert eoc.correlation_slope("relu", 0.0, math.sqrt(2), c) == pytest.approx(
            1 - theta / math.pi, abs=1e-10)


def test_depth_scales():
    assert eoc.depth_scale("tanh", 0.2, 1.0) == pytest.approx(-1 / math.log(eoc.chi("tanh", 0.2,
                                                                                     1.0)))
    assert eoc.depth_scale("tanh", 0.2, eoc.eoc_sigma_w("tanh", 0.2)) == math.inf
    c_star = eoc.correlation_fixed_point("tanh", 0.2, 1.6)
    assert 0 < c_star < 1
    assert eoc.correlation_map("tanh", 0.2, 1.6, c_star) == pytest.approx(c_star, abs=1e-12)
    slope = eoc.correlation_slope("tanh", 0.2, 1.6, c_star)
    assert slope < 1
    assert eoc.depth_scale("tanh", 0.2, 1.6) == pytest.approx(-1 / math.log(slope))
    assert eoc.correlation_fixed_point("tanh", 0.0, 1.6) == 0.0  # odd phi, no bias


@pytest.mark.parametrize("sigma_w", [1.0, 1.3041458400565094, 1.6])
def test_monte_carlo_on_a_wide_tanh_net_matches_the_theory(sigma_w):
    """Width N = 1000, L = 10 hidden layers, B = 16 input pairs at q^1 = q*. Relative
    fluctuations of a layer's q are ~ sqrt(2/N) = 0.045 (std of the layer mean measured over 12
    seeds: 0.010); the geometric-mean chi over L - 1 layers has std ~ sqrt(2 / (N B (L - 1)))
    = 0.0037 (measured 0.004): the tolerances are about 4 of these standard deviations."""
    n_in, width, depth, batch, sigma_b = 64, 1000, 10, 16, 0.2
    q_star = eoc.q_star("tanh", sigma_b, sigma_w)
    torch.manual_seed(0)
    model = build_model(ModelSpec("mlp", hidden=(width,) * depth, activation="tanh",
                                  sigma_w=sigma_w, sigma_b=sigma_b), (n_in,), 10)
    gen = torch.Generator().manual_seed(0)

    def inputs():  # |x|^2 / n_in = (q* - sigma_b^2) / sigma_w^2, so that q^1 = q*
        x = torch.randn(batch, n_in, generator=gen, dtype=torch.float64)
        return x * math.sqrt(n_in * (q_star - sigma_b ** 2) / sigma_w ** 2) / x.norm(dim=1,
                                                                                      keepdim=True)

    x1 = inputs()
    x2 = (0.6 * x1 + 0.8 * inputs())
    measured = eoc.propagate_correlations(model, x1, x2)
    assert measured.c.shape == (batch, depth)
    assert abs(measured.q1.mean() / q_star - 1) < 0.04
    theory = eoc.mean_field_propagation("tanh", sigma_b, sigma_w, q_star,
                                        float(measured.q2[:, 0].mean()),
                                        float(measured.c[:, 0].mean()), depth)
    np.testing.assert_allclose(measured.c.mean(0), theory.c, atol=0.05)
    growth = eoc.measure_chi(model, x1, generator=gen)
    assert growth.shape == (depth - 1,)
    assert np.exp(np.log(growth).mean()) == pytest.approx(eoc.chi("tanh", sigma_b, sigma_w),
                                                          abs=0.015)


@pytest.mark.parametrize("name, sigma_b, sigma_w", [
    ("tanh", 0.2, 1.3), ("tanh", 0.0, 1.5), ("elu", 0.2, 1.2), ("selu", 0.2, 0.9),
    ("gelu", 0.5, 1.3), ("silu", 1.0, 1.3)])
def test_q_star_is_the_limit_of_the_iterated_variance_map(name, sigma_b, sigma_w):
    q = 1.0
    for _ in range(300):
        q = eoc.variance_map(name, sigma_b, sigma_w, q)
    assert eoc.q_star(name, sigma_b, sigma_w) == pytest.approx(q, rel=1e-12)
    assert eoc.q_star("tanh", 0.0, 0.9) == 0.0  # ordered without bias: the signal dies out


def test_phase_diagram_agrees_with_the_pointwise_functions():
    frame = eoc.phase_diagram("tanh", [0.0, 0.2, 1.0], [0.7, 1.3041458400565094, 2.0])
    assert list(frame.columns) == ["sigma_b", "sigma_w", "q_star", "chi", "phase"]
    assert len(frame) == 9 and list(frame["sigma_w"][:3]) == [0.7, 1.3041458400565094, 2.0]
    for row in frame.itertuples():
        assert row.q_star == eoc.q_star("tanh", row.sigma_b, row.sigma_w)
        assert row.chi == eoc.chi("tanh", row.sigma_b, row.sigma_w)
        assert row.phase == eoc.phase("tanh", row.sigma_b, row.sigma_w)
    assert frame.loc[4, "phase"] == "eoc"
    relu = eoc.phase_diagram("relu", [0.0, 0.2], [1.0, 2.0])
    assert list(relu["phase"]) == ["ordered", "chaotic", "ordered", "chaotic"]


def test_input_pair_sets_layer_one_variance_and_correlation_exactly():
    x1, x2 = eoc.input_pair(5, 30, 0.7, -0.2, 0.3, 1.5, torch.Generator().manual_seed(0))
    assert x1.shape == x2.shape == (5, 30) and x1.dtype == torch.float64
    n = 30
    q1 = 0.3 ** 2 + 1.5 ** 2 * (x1 ** 2).sum(1) / n
    q2 = 0.3 ** 2 + 1.5 ** 2 * (x2 ** 2).sum(1) / n
    q12 = 0.3 ** 2 + 1.5 ** 2 * (x1 * x2).sum(1) / n
    torch.testing.assert_close(q1, torch.full((5,), 0.7, dtype=torch.float64))
    torch.testing.assert_close(q2, torch.full((5,), 0.7, dtype=torch.float64))
    torch.testing.assert_close(q12 / 0.7, torch.full((5,), -0.2, dtype=torch.float64))
    with pytest.raises(ValueError, match="no inputs"):
        eoc.input_pair(2, 30, 0.05, 0.5, 0.3, 1.5)  # q1 < sigma_b^2


def test_measured_chi_of_a_deep_linear_net_does_not_underflow():
    """A linear net multiplies a perturbation's squared norm by sigma_w^2 |W z|^2 / |z|^2 per
    layer (expectation sigma_w^2, relative std ~ sqrt(2 / (N B)) = 0.0063 at N = 200, B = 256):
    over 150 layers at sigma_w^2 = 0.25 the perturbation shrinks by 1e-90, far below float64
    resolution for finite differences, and the linearised measurement still reads 0.25."""
    torch.manual_seed(0)
    model = build_model(ModelSpec("mlp", hidden=(200,) * 150, activation="linear",
                                  sigma_w=0.5, bias=False), (20,), 10)
    x = torch.randn(256, 20, generator=torch.Generator().manual_seed(1))
    ratios = eoc.measure_chi(model, x, torch.Generator().manual_seed(2))
    assert ratios.shape == (149,)
    assert np.all(np.isfinite(ratios)) and np.all(ratios > 0)
    assert eoc.measured_chi(model, x, skip=0,
                            generator=torch.Generator().manual_seed(2)) == pytest.approx(
        0.25, rel=0.01)


def test_measured_chi_after_random_pruning_and_after_rescaling():
    """Keeping a random fraction d of every unit's incoming weights scales its incoming squared
    norm by about d, i.e. sigma_w^2 -> d sigma_w^2: the pruned tanh net measures
    chi(sigma_b, sigma_w sqrt(d)); rescaling each unit to its dense norm gives back
    chi(sigma_b, sigma_w). Width 400 (about 200 survivors a unit), 12 hidden layers, B = 128:
    noise of the geometric mean ~ sqrt(2 / (N B (L - 1 - skip))) = 0.008, plus the spread of
    the kept norms; tolerance 0.04."""
    from pruninglib.masks import apply_mask
    from pruninglib.pruners import ScoringContext, prune, rescale_fan_in
    from pruninglib.config import PruneSpec

    sigma_b, sigma_w, d = 0.2, 1.3041458400565094, 0.5
    torch.manual_seed(0)
    model = build_model(ModelSpec("mlp", hidden=(400,) * 12, activation="tanh",
                                  sigma_w=sigma_w, sigma_b=sigma_b), (64,), 10)
    dense = {n: p.detach().clone() for n, p in model.named_parameters()}
    x = torch.randn(128, 64, generator=torch.Generator().manual_seed(1))
    mask = prune(model, PruneSpec("random", density=d, scope="layerwise"),
                 ScoringContext(input_shape=(64,), generator=torch.Generator().manual_seed(2)))
    apply_mask(model, mask)
    pruned = eoc.measured_chi(model, x, skip=3, generator=torch.Generator().manual_seed(3))
    assert pruned == pytest.approx(eoc.chi("tanh", sigma_b, sigma_w * math.sqrt(d)), abs=0.04)
    rescale_fan_in(model, mask, dense)
    rescaled = eoc.measured_chi(model, x, skip=3, generator=torch.Generator().manual_seed(3))
    assert rescaled == pytest.approx(1.0, abs=0.04)
    assert pruned < 0.9 < rescaled


def test_summary_and_propagation_frame():
    row = eoc.summary("tanh", 0.2, 2.0)
    assert row["phase"] == "chaotic" and row["chi"] == eoc.chi("tanh", 0.2, 2.0)
    assert row["depth_scale"] == eoc.depth_scale("tanh", 0.2, 2.0)
    assert math.isnan(eoc.summary("relu", 0.2, 2.0)["depth_scale"])  # q* = inf
    assert eoc.summary("relu", 0.0, math.sqrt(2))["depth_scale"] == math.inf
    theory = eoc.mean_field_propagation("tanh", 0.2, 1.0, 0.3, 0.3, 0.5, 4)
    frame = theory.frame()
    assert list(frame.columns) == ["layer", "q1", "q2", "c"] and list(frame["layer"]) == [1, 2, 3, 4]
    measured = eoc.Propagation(np.ones((2, 3)), np.ones((2, 3)), np.zeros((2, 3))).frame()
    assert list(measured.columns) == ["pair", "layer", "q1", "q2", "c"] and len(measured) == 6

"""Representation similarity: identities, invariances, an independent numpy implementation
(QR-based CCA, Gram-matrix CKA), expectations for independent Gaussians, guards, capture."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from pruninglib.analysis.similarity import (CCAResult, capture_activations, cca, linear_cka,
                                            pwcca, svcca)

from helpers import make_model


def gaussian(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def related(p=12, q=9, n=300, seed=0):
    """x (p, n) and y (q, n) sharing a 5-dimensional signal plus noise."""
    signal = gaussian(5, n, seed=seed)
    return (gaussian(p, 5, seed=seed + 1) @ signal + 0.5 * gaussian(p, n, seed=seed + 2),
            gaussian(q, 5, seed=seed + 3) @ signal + 0.8 * gaussian(q, n, seed=seed + 4))


# -- independent numpy implementation: textbook formulas on the tall activations -------------------
def np_cca(x, y):
    """QR-based CCA (Björck & Golub): rho, canonical variables of x and y (n, k), unit norm."""
    qx, _ = np.linalg.qr((x - x.mean(1, keepdims=True)).T)
    qy, _ = np.linalg.qr((y - y.mean(1, keepdims=True)).T)
    u, rho, vt = np.linalg.svd(qx.T @ qy, full_matrices=False)
    return rho, qx @ u, qy @ vt.T


def np_svcca(x, y, keep, keep_by):
    """Raghu et al.: centre, SVD, keep the top directions reaching ``keep`` of the mass, CCA."""
    reduced = []
    for a in (x, y):
        _, s, vt = np.linalg.svd(a - a.mean(1, keepdims=True), full_matrices=False)
        mass = s if keep_by == "singular_values" else s ** 2
        k = int(np.argmax(np.cumsum(mass) / mass.sum() >= keep)) + 1
        reduced.append(s[:k, None] * vt[:k])
    return np_cca(*reduced)[0].mean()


def np_pwcca(x, y):
    """Morcos et al.: weights from the layer with fewer neurons, sum_j |<h_i, z_j>|."""
    rho, hx, hy = np_cca(x, y)
    h, z = (hx, x) if len(x) <= len(y) else (hy, y)
    weights = np.abs(h.T @ (z - z.mean(1, keepdims=True)).T).sum(1)
    return (weights / weights.sum() * rho).sum()


def np_cka(x, y, debiased):
    """CKA from n x n Gram matrices: HSIC = tr(KHLH), or Song et al.'s unbiased estimator."""
    k, l, n = x.T @ x, y.T @ y, x.shape[1]

    def hsic(a, b):
        if not debiased:
            h = np.eye(n) - 1 / n
            return np.trace(a @ h @ b @ h)
        a, b = a - np.diag(np.diag(a)), b - np.diag(np.diag(b))
        one = np.ones(n)
        return (np.trace(a @ b) + one @ a @ one * (one @ b @ one) / ((n - 1) * (n - 2))
                - 2 / (n - 2) * one @ a @ b @ one) / (n * (n - 3))

    return hsic(k, l) / math.sqrt(hsic(k, k) * hsic(l, l))


# -- identities and invariances ------------------------------------------------------------------
def test_identical_layers_give_one():
    x = gaussian(20, 200)
    assert torch.allclose(cca(x, x).rho, torch.ones(20, dtype=torch.float64), atol=1e-10)
    for result in (svcca(x, x), pwcca(x, x)):
        assert result.similarity == pytest.approx(1, abs=1e-10)
    for debiased in (False, True):
        assert linear_cka(x, x, debiased=debiased) == pytest.approx(1, abs=1e-12)


def test_cca_is_invariant_to_invertible_maps_and_shifts_on_either_side():
    x, y = related()
    rho = cca(x, y).rho
    a, b = gaussian(12, 12, seed=7), gaussian(9, 9, seed=8)
    assert torch.allclose(cca(a @ x + 3.0, y).rho, rho, atol=1e-9)
    assert torch.allclose(cca(x, b @ y - 1.0).rho, rho, atol=1e-9)


def test_cka_is_invariant_to_orthogonal_maps_and_scaling_but_not_to_general_maps():
    x, y = related()
    q, _ = torch.linalg.qr(gaussian(12, 12, seed=7))
    mixing = gaussian(12, 12, seed=10)                                  # invertible, not orthogonal
    for debiased in (False, True):
        base = linear_cka(x, y, debiased=debiased)
        assert linear_cka(3.7 * q @ x, y, debiased=debiased) == pytest.approx(base, abs=1e-12)
        assert linear_cka(x, 0.01 * y + 5.0, debiased=debiased) == pytest.approx(base, abs=1e-12)
        assert abs(linear_cka(mixing @ x, y, debiased=debiased) - base) > 0.05


# -- agreement with the numpy implementation -----------------------------------------------------
@pytest.mark.parametrize("p, q", [(12, 9), (9, 12)])
def test_agrees_with_independent_numpy_implementation(p, q):
    x, y = related(p, q, n=150, seed=p)
    xn, yn = x.numpy(), y.numpy()
    assert np.abs(cca(x, y).rho.numpy() - np_cca(xn, yn)[0]).max() < 1e-8
    for keep, keep_by in ((0.99, "singular_values"), (0.9, "variance"), (0.7, "singular_values")):
        ours = svcca(x, y, keep=keep, keep_by=keep_by).similarity
        assert abs(ours - np_svcca(xn, yn, keep, keep_by)) < 1e-8
    assert abs(pwcca(x, y).similarity - np_pwcca(xn, yn)) < 1e-8
    for debiased in (False, True):
        assert abs(linear_cka(x, y, debiased=debiased) - np_cka(xn, yn, debiased)) < 1e-8


def test_pwcca_with_a_wider_second_layer_uses_the_narrower_one():
    x, y = related(6, 14)
    assert pwcca(x, y).similarity == pytest.approx(pwcca(y, x).similarity, abs=1e-12)
    assert pwcca(x, y, side="x").weights.shape == (6,)
    assert pwcca(x, y, side="y").similarity != pytest.approx(pwcca(x, y).similarity, abs=1e-6)


def test_rank_deficient_layers_drop_dead_and_duplicate_neurons():
    x, y = related()
    padded = torch.cat([x, torch.zeros(3, x.shape[1], dtype=torch.float64), 2 * x[:2]])
    result = cca(padded, y)
    assert result.dims == (12, 9)
    assert torch.allclose(result.rho, cca(x, y).rho, atol=1e-9)


def test_summaries_plain_mean_pwcca_weights_and_googles_truncated_mean():
    rho = torch.tensor([0.9, 0.5, 0.1, 0.0], dtype=torch.float64)
    assert CCAResult(rho, (4, 4)).similarity == pytest.approx(0.375)
    # cumulative sums before each index: 0, 0.9, 1.4, 1.5 of 1.5 -> 98% is first reached at 3
    assert CCAResult(rho, (4, 4)).truncated_mean() == pytest.approx(1.5 / 3)
    weights = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
    assert CCAResult(rho, (4, 4), weights).similarity == pytest.approx(0.7)


# -- independent Gaussian activations ------------------------------------------------------------
@pytest.mark.parametrize("p, q", [(40, 40), (20, 60)])
def test_mean_squared_canonical_correlation_of_independent_gaussians(p, q):
    """Centred, x and y span independent uniformly random p- and q-dimensional subspaces of
    R^m, m = n - 1, so E[sum rho^2] = E tr(Px Py) = p q / m exactly, and E[mean rho^2] over the
    min(p, q) correlations = max(p, q) / m (Wachter's limit when p, q << m). sum rho^2 is
    about chi^2_{pq} / m, so one trial has sd ~ sqrt(2 p q) / (m min(p, q)); we average T
    trials and allow 5 standard errors (here ~5% of the expectation)."""
    n, trials = 2000, 10
    values = [float((cca(gaussian(p, n, seed=2 * t), gaussian(q, n, seed=2 * t + 1)).rho ** 2)
                    .mean()) for t in range(trials)]
    m = n - 1
    sd = math.sqrt(2 * p * q) / (m * min(p, q))
    assert abs(np.mean(values) - max(p, q) / m) < 5 * sd / math.sqrt(trials)


def test_linear_cka_of_independent_gaussians():
    """Centred x (p, n) and y (q, n) are Gaussian with m = n - 1 degrees of freedom: E||Sxy||^2
    ∝ p q m and E||Sxx||^2 ∝ p m (m + p + 1) (Wishart), so biased CKA ≈ sqrt(pq / ((n+p)(n+q)))
    (= p / (n + p) for p = q; the ratio of expectations is off by < 0.1% at these sizes in 300
    simulated trials). Given x, ||Sxy||^2 has relative sd sqrt(2 tr(Sxx^2) / q) / tr(Sxx)
    ≈ sqrt(2 (n + p) / (p q n)), the dominant fluctuation; the debiased HSIC has expectation 0,
    so debiased CKA ≈ 0 with about the same sd. 20 trials, 4 standard errors."""
    p = q = 64
    n, trials = 256, 20
    pairs = [(gaussian(p, n, seed=2 * t), gaussian(q, n, seed=2 * t + 1)) for t in range(trials)]
    expected = math.sqrt(p * q / ((n + p) * (n + q)))
    tolerance = 4 * expected * math.sqrt(2 * (n + p) / (p * q * n)) / math.sqrt(trials)
    biased = np.mean([linear_cka(x, y) for x, y in pairs])
    debiased = np.mean([linear_cka(x, y, debiased=True) for x, y in pairs])
    assert abs(biased - expected) < tolerance
    assert abs(debiased) < tolerance


# -- guards --------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: cca(gaussian(50, 40), gaussian(5, 40)), "cca: x has 50 neurons but 40 datapoints"),
    (lambda: svcca(gaussian(5, 40), gaussian(40, 40)), "svcca: y has 40 neurons"),
    (lambda: pwcca(gaussian(5, 40), gaussian(5, 30)), "x and y must share their datapoints"),
    (lambda: cca(gaussian(2, 5, 6), gaussian(5, 30)), "x must be 2-D"),
    (lambda: cca(torch.ones(3, 40), gaussian(5, 40)), "x is constant"),
    (lambda: cca(gaussian(3, 40), torch.full((2, 40), math.nan)), "y has NaN"),
    (lambda: linear_cka(gaussian(5, 3), gaussian(5, 3), debiased=True),
     "debiased=True needs at least 4 datapoints"),
    (lambda: linear_cka(gaussian(5, 30), torch.zeros(4, 30)), "y has no variance"),
    (lambda: svcca(gaussian(5, 40), gaussian(5, 40), keep=0), "keep=0"),
    (lambda: svcca(gaussian(5, 40), gaussian(5, 40), keep_by="squares"), "keep_by='squares'"),
    (lambda: pwcca(gaussian(5, 40), gaussian(5, 40), side="left"), "side='left'"),
    (lambda: CCAResult(torch.ones(2), (2, 2)).truncated_mean(1.5), "threshold=1.5"),
])
def test_errors_are_one_line_and_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_cka_takes_more_neurons_than_datapoints():
    x = gaussian(50, 20)
    assert linear_cka(x, x[:30]) == pytest.approx(np_cka(x.numpy(), x[:30].numpy(), False),
                                                  abs=1e-10)


# -- activation capture --------------------------------------------------------------------------
@pytest.fixture
def conv_model():
    return make_model("conv2", width=0.125, batchnorm=True)


def test_capture_matches_a_plain_forward_for_both_conv_modes(conv_model, synthetic):
    x = synthetic.test_x[:30]
    conv_model.eval()
    with torch.no_grad():
        conv_out = conv_model.features[:3](x)                          # B x 8 x 8 x 8
        bn_out = conv_model.features[:2](x)
        fc_out = conv_model.fc(conv_model.flatten(conv_model.features(x)))
    average = capture_activations(conv_model, x, ["features.2", "fc"], batch_size=7,
                                  conv="average", dtype=torch.float64)
    assert torch.allclose(average["features.2"], conv_out.mean((2, 3)).T.double(), atol=1e-6)
    assert torch.allclose(average["fc"], fc_out.T.double(), atol=1e-6)
    positions = capture_activations(conv_model, x, ["features.1"], batch_size=7,
                                    conv="positions", max_positions=10, seed=3)["features.1"]
    again = capture_activations(conv_model, x, ["features.1"], batch_size=30,
                                conv="positions", max_positions=10, seed=3)["features.1"]
    assert positions.shape == (8, 30 * 10) and positions.dtype == torch.float32
    assert torch.equal(positions, again)
    picked = positions.reshape(8, 30, 10)                               # C x inputs x positions
    flat = bn_out.flatten(2)                                            # B x C x 64
    columns = [int((flat[0] == picked[:, 0, j:j + 1]).all(0).nonzero()[0]) for j in range(10)]
    assert columns == sorted(columns)
    assert torch.equal(picked, flat[:, :, columns].permute(1, 0, 2))
    everything = capture_activations(conv_model, x[:4], ["features.2"], conv="positions")
    assert everything["features.2"].shape == (8, 4 * 64)


def test_capture_restores_modes_and_removes_hooks_even_on_error(conv_model, synthetic):
    conv_model.train()
    conv_model.fc.eval()
    running = conv_model.features[1].running_mean.clone()
    capture_activations(conv_model, synthetic.test_x[:10], ["fc.0"])
    assert torch.equal(conv_model.features[1].running_mean, running)
    with pytest.raises(ValueError, match="conv: layer 'features.0' has spatial output"):
        capture_activations(conv_model, synthetic.test_x[:10], ["features.0"])
    assert conv_model.training and conv_model.features.training and not conv_model.fc.training
    assert not any(m._forward_hooks for m in conv_model.modules())


@pytest.mark.parametrize("kwargs, match", [
    ({"layers": ["nope"]}, "layers: no module named 'nope'"),
    ({"layers": ["fc", "fc"]}, "layers: 'fc' is listed twice"),
    ({"layers": ["fc"], "conv": "pool"}, "conv='pool'"),
    ({"layers": ["fc"], "max_positions": 0}, "max_positions=0"),
    ({"layers": ["fc"], "batch_size": 0}, "batch_size=0"),
])
def test_capture_errors(conv_model, synthetic, kwargs, match):
    with pytest.raises(ValueError, match=match):
        capture_activations(conv_model, synthetic.test_x[:4], **kwargs)


def test_capture_rejects_a_module_called_twice():
    relu = nn.ReLU()
    model = nn.Sequential(nn.Linear(3, 4), relu, nn.Linear(4, 4), relu)
    with pytest.raises(ValueError, match="layers: module '1' runs more than once"):
        capture_activations(model, torch.randn(5, 3), ["1"])

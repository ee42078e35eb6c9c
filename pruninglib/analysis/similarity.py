"""Representation similarity of layer activations: CCA, SVCCA, PWCCA, linear CKA, and capture.

Layout everywhere: an activation matrix is **(neurons, datapoints)**, as in google/svcca (anatome
and the CKA papers use the transpose). Two matrices compared must share their datapoints (the
same inputs, in the same order); their neuron counts may differ.

All similarity computations run in float64 torch on the inputs' device (CPU or CUDA), on the
centred covariance blocks Sxx (n1 x n1), Sxy (n1 x n2), Syy (n2 x n2) instead of the tall
activations: one pass of matrix products over the datapoints, then eigh/SVD of small matrices.

* CCA: canonical correlations rho_i = singular values of Sxx^-1/2 Sxy Syy^-1/2, in [0, 1].
* SVCCA (Raghu et al. 2017): CCA of each side's leading SVD directions.
* PWCCA (Morcos et al. 2018): rho weighted by how much of a layer each canonical variable
  accounts for.
* Linear CKA (Kornblith et al. 2019), biased or debiased (Song et al. 2012; Nguyen et al. 2020).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

__all__ = ["RTOL", "CCAResult", "capture_activations", "cca", "linear_cka", "pwcca", "svcca"]

RTOL = 1e-10
"""Default rank tolerance: eigen-directions of a covariance block with eigenvalue <= RTOL x its
largest are dropped (dead or duplicated neurons). On the singular values of the centred
activations this is a ratio of 1e-5; eigenvalues of a float64 covariance carry errors of about
n x 1e-16 x the largest, so smaller directions would be whitened mostly from rounding."""


@dataclass(frozen=True)
class CCAResult:
    """Canonical correlations of x (n1, datapoints) and y (n2, datapoints).

    rho: (k,) float64, descending, clipped to [0, 1], k = min(dims).
    dims: directions CCA used on each side: the rank above the tolerance (SVCCA: of the kept
        SVD directions).
    weights: (k,) PWCCA projection weights (non-negative, sum 1); None for CCA and SVCCA.
    """

    rho: torch.Tensor
    dims: tuple[int, int]
    weights: torch.Tensor | None = None

    @property
    def similarity(self) -> float:
        """PWCCA: sum(weights * rho); CCA and SVCCA: the plain mean of all rho."""
        if self.weights is not None:
            return float((self.weights * self.rho).sum())
        return float(self.rho.mean())

    def truncated_mean(self, threshold: float = 0.98) -> float:
        """google/svcca's ``"mean"``: the mean of rho[:i] for the first i with
        sum(rho[:i]) >= threshold * sum(rho) (all of rho if none). It drops the trailing
        coefficients; :attr:`similarity` does not."""
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold={threshold} is not allowed: must be in (0, 1]")
        before = torch.cat([self.rho.new_zeros(1), self.rho.cumsum(0)[:-1]])
        hits = (before >= threshold * self.rho.sum()).nonzero()
        stop = int(hits[0]) if len(hits) else len(self.rho)
        return float(self.rho[:stop].mean())


# -- checks and covariance blocks ----------------------------------------------------------------
def _pair(x, y, fn: str) -> tuple[torch.Tensor, torch.Tensor]:
    """x, y as float64 (neurons, datapoints) tensors on one device, or a one-line ValueError."""
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    for name, t in (("x", x), ("y", y)):
        if t.dim() != 2:
            raise ValueError(f"{fn}: {name} must be 2-D (neurons, datapoints), got shape "
                             f"{tuple(t.shape)}")
        if t.shape[1] < 2:
            raise ValueError(f"{fn}: {name} has {t.shape[1]} datapoints (columns); at least 2 "
                             f"are needed")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{fn}: x and y must share their datapoints (columns), got "
                         f"{x.shape[1]} and {y.shape[1]}; layout is (neurons, datapoints)")
    if x.device != y.device:
        raise ValueError(f"{fn}: x is on {x.device} but y on {y.device}")
    return x.to(torch.float64), y.to(torch.float64)


def _check_tall(x: torch.Tensor, y: torch.Tensor, fn: str) -> None:
    """CCA needs fewer neurons than datapoints on each side (google/svcca asserts the same):
    otherwise one side spans every centred direction and all correlations are 1."""
    for name, t in (("x", x), ("y", y)):
        if t.shape[0] >= t.shape[1]:
            raise ValueError(f"{fn}: {name} has {t.shape[0]} neurons but {t.shape[1]} "
                             f"datapoints; CCA needs fewer neurons than datapoints (layout is "
                             f"(neurons, datapoints): transpose, or use more inputs)")


def _centre(t: torch.Tensor) -> torch.Tensor:
    """Each neuron (row) minus its mean over the datapoints."""
    return t - t.mean(1, keepdim=True)


def _covariances(xc: torch.Tensor, yc: torch.Tensor, fn: str):
    """Sxx, Sxy, Syy of centred (neurons, datapoints) matrices, divided by datapoints - 1.

    A NaN or infinity in a neuron's activations makes its variance non-finite, so the
    diagonals are checked instead of the (much larger) activations."""
    scale = 1.0 / (xc.shape[1] - 1)
    sxx, syy = (xc @ xc.T) * scale, (yc @ yc.T) * scale
    for name, s in (("x", sxx), ("y", syy)):
        if not torch.isfinite(s.diagonal()).all():
            raise ValueError(f"{fn}: {name} has NaN or infinite values (or overflows float64)")
    return sxx, (xc @ yc.T) * scale, syy


def _eigh_desc(s: torch.Tensor, name: str, fn: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (n,) descending, clamped at 0, and eigenvectors (n, n) of covariance s."""
    values, vectors = torch.linalg.eigh(s)
    values, vectors = values.flip(0).clamp_min(0), vectors.flip(1)
    if values[0] <= 0:
        raise ValueError(f"{fn}: {name} is constant over the datapoints (zero variance)")
    return values, vectors


def _canonical(sxx, sxy, syy, rtol: float, fn: str, loadings: bool = False):
    """CCA from covariance blocks: (rho (k,), (kx, ky), (lx (n1, k), ly (n2, k)) or None).

    Whitening Wx = Vx Lx^-1/2 from eigh Sxx = Vx Lx Vx', keeping the kx eigenvalues
    > rtol x the largest; rho = singular values u_i, v_i of Wx' Sxy Wy, clipped to [0, 1].
    lx[:, i] = Sxx a_i with a_i = Wx u_i: the covariances of the unit-variance canonical
    variable a_i' x with each neuron of x (ly likewise with Wy v_i).
    """
    whiteners = []
    for name, s in (("x", sxx), ("y", syy)):
        values, vectors = _eigh_desc(s, name, fn)
        kept = values > rtol * values[0]
        whiteners.append((values[kept].sqrt(), vectors[:, kept]))
    (root_x, vx), (root_y, vy) = whiteners
    core = (vx / root_x).T @ sxy @ (vy / root_y)
    dims = (len(root_x), len(root_y))
    if not loadings:
        return torch.linalg.svdvals(core).clamp(0, 1), dims, None
    u, rho, vh = torch.linalg.svd(core, full_matrices=False)
    return rho.clamp(0, 1), dims, ((vx * root_x) @ u, (vy * root_y) @ vh.T)


# -- CCA family ----------------------------------------------------------------------------------
def cca(x, y, *, rtol: float = RTOL) -> CCAResult:
    """Canonical correlations of x (n1, datapoints) and y (n2, datapoints).

    Covariances are centred (ddof 1); directions of Sxx or Syy with eigenvalue <= rtol x the
    largest are dropped (see :data:`RTOL`), so rank-deficient layers are handled. Needs
    n1, n2 < datapoints. Invariant to invertible linear maps and shifts of either side.
    """
    x, y = _pair(x, y, "cca")
    _check_tall(x, y, "cca")
    rho, dims, _ = _canonical(*_covariances(_centre(x), _centre(y), "cca"), rtol, "cca")
    return CCAResult(rho, dims)


def svcca(x, y, *, keep: float = 0.99,
          keep_by: Literal["singular_values", "variance"] = "singular_values",
          rtol: float = RTOL) -> CCAResult:
    """SVCCA of x (n1, datapoints) and y (n2, datapoints): CCA of each side's leading SVD
    directions (Raghu et al. 2017); the summary is ``.similarity``, the plain mean of rho.

    Each side keeps its top k directions of the centred activations, k the smallest with
    cumulative fraction >= ``keep`` of the total, counting singular values s_i
    (``keep_by="singular_values"``, as the google/svcca tutorial and anatome do; anatome keeps
    only those strictly below, one fewer) or their squares, the variance (``"variance"``, the
    paper's wording "99% of variance"). Computed from eigh
    of Sxx (s_i^2 = (datapoints - 1) x eigenvalue), not an SVD of the activations.
    The reduced activations s_i v_i' of the reference give the same CCA.
    """
    if not 0 < keep <= 1:
        raise ValueError(f"svcca: keep={keep} is not allowed: must be in (0, 1]")
    if keep_by not in ("singular_values", "variance"):
        raise ValueError(f"svcca: keep_by={keep_by!r} is not allowed: 'singular_values' or "
                         f"'variance'")
    x, y = _pair(x, y, "svcca")
    _check_tall(x, y, "svcca")
    sxx, sxy, syy = _covariances(_centre(x), _centre(y), "svcca")
    reduced = []
    for name, s in (("x", sxx), ("y", syy)):
        values, vectors = _eigh_desc(s, name, "svcca")
        mass = values.sqrt() if keep_by == "singular_values" else values
        k = min(len(values), 1 + int((mass.cumsum(0) / mass.sum() < keep).sum()))
        reduced.append((values[:k], vectors[:, :k]))
    (ex, ux), (ey, uy) = reduced
    rho, dims, _ = _canonical(torch.diag(ex), ux.T @ sxy @ uy, torch.diag(ey), rtol, "svcca")
    return CCAResult(rho, dims)


def pwcca(x, y, *, side: Literal["smaller", "x", "y"] = "smaller",
          rtol: float = RTOL) -> CCAResult:
    """Projection-weighted CCA of x (n1, datapoints) and y (n2, datapoints), Morcos et al. 2018;
    the summary is ``.similarity`` = sum_i weights_i rho_i.

    weights_i ∝ sum_j |<h_i, z_j>|, h_i the i-th canonical variable (unit norm) and z_j the
    j-th centred neuron of one layer: ``side="smaller"`` (default) uses the layer with fewer
    neurons (x on a tie), as google/svcca does; "x" or "y" force a side. Correct for either
    side wider (google/svcca indexes acts1 on the y side: IndexError when n2 > n1, PR #9).
    The canonical variables are whitened, h_i ∝ a_i' (z - mean) with a_i = Sxx^-1/2 u_i as in
    the paper; google/svcca orthonormalises u_i' z (no Sxx^-1/2), which differs unless Sxx ∝ I.
    """
    if side not in ("smaller", "x", "y"):
        raise ValueError(f"pwcca: side={side!r} is not allowed: 'smaller', 'x' or 'y'")
    x, y = _pair(x, y, "pwcca")
    _check_tall(x, y, "pwcca")
    blocks = _covariances(_centre(x), _centre(y), "pwcca")
    rho, dims, (lx, ly) = _canonical(*blocks, rtol, "pwcca", loadings=True)
    use_x = side == "x" or (side == "smaller" and x.shape[0] <= y.shape[0])
    weights = (lx if use_x else ly).abs().sum(0)
    return CCAResult(rho, dims, weights / weights.sum())


# -- CKA -----------------------------------------------------------------------------------------
def _unbiased_hsic(cross: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, n: int):
    """Unbiased linear HSIC (Song et al. 2012; Nguyen et al. 2020, eq. 3) x n(n-3)/(n-1)^2
    from centred features, where K1 = 0 and the Gram matrices never appear: cross =
    ||Sxy||_F^2, dx (n,) = each datapoint's squared centred norm over n - 1 (diag K)."""
    return cross - n / (n - 2) * (dx @ dy) + dx.sum() * dy.sum() / ((n - 1) * (n - 2))


def linear_cka(x, y, *, debiased: bool = False) -> float:
    """Linear CKA of x (n1, datapoints) and y (n2, datapoints), in [0, 1] (biased).

    Biased (Kornblith et al. 2019): ||Sxy||_F^2 / (||Sxx||_F ||Syy||_F) on centred
    activations, i.e. ||Y'X||^2 / (||X'X|| ||Y'Y||) for (datapoints, neurons) features, with
    no datapoints x datapoints Gram matrix. ``debiased``: the same ratio of unbiased HSIC
    estimates (Song et al. 2012, as in Nguyen et al. 2020 and torch_cka, but over the whole
    dataset rather than averaged over minibatches); needs >= 4 datapoints and can be slightly
    negative. Invariant to orthogonal maps and isotropic scaling, not to general linear maps.
    Any neuron count works, including more neurons than datapoints.
    """
    x, y = _pair(x, y, "linear_cka")
    n = x.shape[1]
    if debiased and n < 4:
        raise ValueError(f"linear_cka: debiased=True needs at least 4 datapoints (columns), "
                         f"got {n}; the unbiased HSIC divides by n(n-3)")
    xc, yc = _centre(x), _centre(y)
    sxx, sxy, syy = _covariances(xc, yc, "linear_cka")
    hsic = {"x": sxx.square().sum(), "y": syy.square().sum(), "xy": sxy.square().sum()}
    if debiased:
        dx, dy = xc.square().sum(0) / (n - 1), yc.square().sum(0) / (n - 1)
        hsic = {"x": _unbiased_hsic(hsic["x"], dx, dx, n),
                "y": _unbiased_hsic(hsic["y"], dy, dy, n),
                "xy": _unbiased_hsic(hsic["xy"], dx, dy, n)}
    for name in ("x", "y"):
        if hsic[name] <= 0:
            raise ValueError(f"linear_cka: {name} has no variance left (HSIC({name}, {name}) = "
                             f"{float(hsic[name]):.3g}): constant over the datapoints"
                             + (", or too few datapoints for the debiased estimate"
                                if debiased else ""))
    return float(hsic["xy"] / (hsic["x"] * hsic["y"]).sqrt())


# -- activation capture --------------------------------------------------------------------------
def _columns(output: torch.Tensor, name: str, conv: str | None,
             positions: torch.Tensor | None) -> torch.Tensor:
    """A batch of one module's outputs (B, C[, *spatial]) as (C, B) or (C, B * positions)."""
    if output.dim() == 2:
        return output.T
    if output.dim() < 2:
        raise ValueError(f"layers: {name!r} outputs shape {tuple(output.shape)}; need (B, C) or "
                         f"(B, C, *spatial)")
    if conv is None:
        raise ValueError(f"conv: layer {name!r} has spatial output {tuple(output.shape)}; pass "
                         f"conv='average' or conv='positions'")
    flat = output.flatten(2)                                            # B x C x S
    if conv == "average":
        return flat.mean(2).T
    if positions is not None:
        flat = flat[:, :, positions.to(flat.device)]
    return flat.permute(1, 0, 2).reshape(flat.shape[1], -1)            # C x (B * P), input-major


def _positions(count: int, max_positions: int | None, seed: int) -> torch.Tensor | None:
    """Sorted indices of max_positions of count spatial positions from a generator seeded with
    ``seed`` (None = all): the same for every input and every model with that spatial size."""
    if max_positions is None or max_positions >= count:
        return None
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(count, generator=g)[:max_positions].sort().values


@torch.no_grad()
def capture_activations(model: nn.Module, x: torch.Tensor, layers: Sequence[str], *,
                        batch_size: int = 256,
                        conv: Literal["average", "positions"] | None = None,
                        max_positions: int | None = None, seed: int = 0,
                        dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """Outputs of the named modules on inputs x (N, ...), as name -> (neurons, datapoints).

    layers: names from ``model.named_modules()`` (e.g. ``features.2``, ``fc.0``). The model
    runs in eval mode under no_grad, ``batch_size`` inputs at a time, moved to the device of
    its parameters; results live there, preallocated after the first batch (memory
    sum(neurons x datapoints) x dtype size; float32 halves it, the similarity functions
    convert to float64). Outputs (B, C): C neurons, N datapoints. Outputs (B, C, *spatial)
    (conv layers) need ``conv``, there is no default:

    * ``"average"``: the spatial mean of each channel -> (C, N);
    * ``"positions"``: every (input, position) pair is a datapoint -> (C, N * P), input-major
      (google/svcca tutorial 002). P = all positions, or ``max_positions`` of them drawn once
      with ``seed``: the same positions for every input, and for every model with the same
      spatial size, so the captures of two models on the same x stay paired.

    Each submodule's train/eval flag is restored and the hooks removed, even on error.
    """
    if conv not in (None, "average", "positions"):
        raise ValueError(f"conv={conv!r} is not allowed: 'average', 'positions' or None")
    if max_positions is not None and max_positions < 1:
        raise ValueError(f"max_positions={max_positions} is not allowed: at least 1, or None")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} is not allowed: at least 1")
    if len(x) == 0:
        raise ValueError("x has no inputs: need shape (N, ...) with N >= 1")
    modules = dict(model.named_modules())
    for i, name in enumerate(layers):
        if name in layers[:i]:
            raise ValueError(f"layers: {name!r} is listed twice")
        if name not in modules:
            names = ", ".join(list(modules)[1:6])
            raise ValueError(f"layers: no module named {name!r} in the model (names as in "
                             f"model.named_modules(), e.g. {names})")
    param = next(model.parameters(), None)
    device = x.device if param is None else param.device
    n = len(x)
    out: dict[str, torch.Tensor] = {}
    picks: dict[str, torch.Tensor | None] = {}
    batch = {"start": 0, "seen": set()}

    def hook_for(name: str):
        def hook(module, inputs, output):
            if name in batch["seen"]:
                raise ValueError(f"layers: module {name!r} runs more than once per forward")
            batch["seen"].add(name)
            if not isinstance(output, torch.Tensor):
                raise ValueError(f"layers: {name!r} outputs a {type(output).__name__}, not a "
                                 f"tensor")
            if name not in picks and output.dim() > 2 and conv == "positions":
                picks[name] = _positions(output[0, 0].numel(), max_positions, seed)
            block = _columns(output, name, conv, picks.get(name))
            per_input = block.shape[1] // len(output)
            if name not in out:
                out[name] = torch.empty((block.shape[0], n * per_input), dtype=dtype,
                                        device=block.device)
            start = batch["start"] * per_input
            out[name][:, start:start + block.shape[1]] = block
        return hook

    modes = {module: module.training for module in model.modules()}
    handles = [modules[name].register_forward_hook(hook_for(name)) for name in layers]
    try:
        model.eval()
        for start in range(0, n, batch_size):
            batch["start"], batch["seen"] = start, set()
            model(x[start:start + batch_size].to(device))
            missing = set(layers) - batch["seen"]
            if missing:
                raise ValueError(f"layers: module {sorted(missing)[0]!r} is not called in the "
                                 f"forward pass")
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes.items():
            module.training = training
    return {name: out[name] for name in layers}

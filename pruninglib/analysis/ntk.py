"""Neural tangent kernels of randomly pruned networks: empirical (finite width, over the unpruned
parameters only) and analytic (infinite-width ReLU), for Yang & Wang (AISTATS 2023).

**Empirical NTK.** For outputs f_c(x) and parameters theta,
Theta[(x, c), (x', c')] = sum_theta df_c(x)/dtheta * df_c'(x')/dtheta = (J J^T), the sum over the
*unpruned* entries only. A pruned entry is a structural zero, not a trainable weight: the network
runs with effective weights w = s * m * theta (mask m in {0, 1}, per-tensor multiplier s, see
``scales``), so by the chain rule its Jacobian column is m * s * df/dw, exactly zero where m = 0.
Rows are ordered (input, output) with the output index fastest. Float64 throughout.

**Parameterisation.** :class:`NTKMLP` is the network the theory is about (Jacot et al. 2018;
Arora et al. 2019), bias-free, ReLU, NTK parameterisation: trainable W^l ~ N(0, 1) and

    h^0 = x (flattened, dimension n_0 = d),   z^l = (sigma_w / sqrt(n_{l-1})) W^l h^{l-1},
    h^l = relu(z^l)  (l = 1..L hidden layers),   f = z^{L+1}  (readout, sigma_w included).

The library's ``mlp`` model (standard parameterisation, W = (sigma_w / sqrt(n_{l-1})) V with
trainable W) computes the same function, but its NTK is not a multiple of this one: by the chain
rule dW = (sigma_w / sqrt(n_{l-1})) dV, so Theta_SP = sum_l (n_{l-1} / sigma_w^2) Theta_l, where
Theta_l is layer l's term here (``by_parameter=True``); the weights differ per layer (n_0 = d is
not a hidden width), so use :class:`NTKMLP` for comparisons with the limit.

**Limit** (:func:`relu_ntk_limit`, widths n_1..n_L -> infinity). With Sigma^1 = sigma_w^2 x.x'/d,
for l = 1..L: Sigma^{l+1} = sigma_w^2 E[relu(u) relu(u')], Sigma_dot^{l+1} = sigma_w^2 E[1{u>0}
1{u'>0}], (u, u') ~ N(0, Sigma^l) (arc-cosine kernels of degree 1 and 0; Cho & Saul 2009), and
Theta^1 = Sigma^1, Theta^{l+1} = Theta^l Sigma_dot^{l+1} + Sigma^{l+1}; Theta = Theta^{L+1} for each
output (the C outputs are independent: Theta_full = Theta (x) I_C). Unrolled,
Theta = sum_{l=1}^{L+1} Sigma^l prod_{k>l} Sigma_dot^k: the l-th term is layer l's weights.

**Random pruning: the scale factor (derivation).** Keep each weight of layer l independently with
probability q_l (mask m^l, W^l -> m^l * W^l). Three things change in the l-th term:

1. forward: each masked layer k multiplies the variance of its pre-activations by q_k (sum over
   q_k n_{k-1} surviving inputs of the same 1/n_{k-1} normalisation), and ReLU is positively
   homogeneous (E[relu(u) relu(u')] is linear in the covariance's scale), so the layer-l input
   kernel is prod_{k<l} q_k times the dense one;
2. backward: Sigma_dot^k = sigma_w^2 * q_k * E[1 1] -- the indicator expectation is scale-free,
   but the backward pass through W^k carries the weights' variance, which is q_k sigma_w^2: a
   factor q_k per layer k > l. (Reading Sigma_dot as "scale-free" drops this factor.);
3. the gradient itself: only the surviving q_l n_l n_{l-1} entries of W^l enter the sum, a
   factor q_l.

Every term gets prod_{k<l} q_k * q_l * prod_{k>l} q_k = prod_k q_k, the same for all l, so

    Theta_pruned -> (prod_{k=1}^{L+1} q_k) * Theta_dense  =  q^{L+1} for a common q,

q to the power of the number of *masked weight matrices* (readout included if it is pruned; an
unpruned readout gives q^L). CLAIMS.md's q^L is therefore right when L counts the masked matrices
(the L hidden layers and the readout are L + 1 of them), but its reasoning -- NNGP covariances
scaled by q, Sigma_dot scale-free -- would give the non-uniform factors q^l (not a scalar); the
backward and parameter-count factors are what make the factor one scalar.

Rescaling the surviving weights by 1/sqrt(q_l) can mean two things (``rescale`` below):

* ``"multiplier"``: the layer's constant becomes sigma_w / sqrt(q_l n_{l-1}) (the NTK normalisation
  by the *expected kept fan-in*; trainable weights stay N(0, 1); pass ``scales=``
  :func:`rescale_factors`). Every factor q_k above meets a 1/q_k, and the gradient picks up
  1/sqrt(q_l)^2 = 1/q_l: Theta -> Theta_dense exactly (Yang & Wang's N2).
* ``"values"``: the stored weights are multiplied by 1/sqrt(q_l) and the kernel is taken with
  respect to these values (what one does to a standard-parameterisation net). Forward and
  backward are restored but the parameter count is not: term l keeps q_l, Theta -> sum_l q_l
  Theta_l, i.e. q * Theta_dense for a common q -- the rescaling removes q^{L+1} but not q.

For a bias-free ReLU net the multiplier variant is exact at every width: rescaling layer l's
weights by c_l multiplies every term by prod_k c_k^2 (homogeneity), so Theta_multiplier =
Theta_unrescaled / prod_k q_k for the same weights and mask (q_k the realised densities), and the
rescaled kernel's error to the limit is the unrescaled one's error to prod_k q_k Theta_inf.

**Input layer caveat.** The first layer's fan-in is the input dimension d, which does not grow:
unit i of a masked first layer sees the covariance S_i = sigma_w^2 sum_j m_ij x_j x'_j / d, random
with relative spread ~ 1/sqrt(q d), and the next layer averages relu-kernels of S_i, which are
not linear in S_i. The infinite-width limit of the pruned network is therefore E_m[...] over
first-layer masks, not exactly prod q_k * Theta_dense; :func:`relu_ntk_limit` with
``input_masks=R`` computes that limit (the first layer's kernels averaged over R Bernoulli mask
rows). The difference is in the kernel's shape, not its scale (fit_scale stays within 1 %), and
shrinks as q d grows: relative Frobenius difference from prod q_k * Theta_dense on 32 inputs,
depth 3, q = 0.5 / 0.2 / 0.1 / 0.05: 0.001 / 0.001 / 0.002 / 0.006 on Fashion-MNIST (d = 784),
0.005 / 0.018 / 0.034 / 0.049 on MNIST-1D (d = 40) -- an error floor for the latter.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from .. import seeds
from ..masks import Mask, prunable_parameters

__all__ = ["INIT_PURPOSE", "MASK_PURPOSE", "NTKMLP", "RESCALE", "SQRT2", "bernoulli_mask",
           "compare_pruned_ntk", "empirical_ntk", "fit_scale", "predicted_scale",
           "relative_error", "relu_ntk_limit", "rescale_factors"]

SQRT2 = math.sqrt(2.0)
"""The ReLU Edge-of-Chaos / He weight scale: sigma_w^2 E[relu(z)^2] = 1 for z ~ N(0, 1)."""

RESCALE = ("none", "multiplier", "values")
"""How surviving weights are rescaled after pruning (module docstring)."""

DTYPE = torch.float64
CHUNK_ELEMENTS = 2 ** 23
"""Float64 elements (64 MiB) in one work array of the masked kernel (chunks of input pairs)."""

INIT_PURPOSE, MASK_PURPOSE = "ntk-init", "ntk-mask"
"""Purposes of the random streams of :func:`compare_pruned_ntk` (:mod:`pruninglib.seeds`): the
weights and the mask of replicate ``seed`` come from ``generator(seed, purpose)``, so no stream
of one replicate is a stream of another (``seed + 1`` would be the next replicate's weights)."""


# --------------------------------------------------------------------------- the network

class NTKMLP(nn.Module):
    """Bias-free ReLU MLP in NTK parameterisation (module docstring), float64.

    widths: (d, n_1, ..., n_L, C): input dimension, L >= 0 hidden widths, output count.
    Weights W^l ~ N(0, 1) (from ``generator``), stored in bias-free ``nn.Linear`` layers
    ``hidden.<i>.weight`` and ``classifier.weight``, so masks of :mod:`pruninglib.masks` apply;
    each layer's output is multiplied by the constant ``multipliers[l] = sigma_w / sqrt(fan_in)``.
    Inputs (N, *shape) are flattened to (N, d); output (N, C).
    """

    def __init__(self, widths: Sequence[int], sigma_w: float = SQRT2, *,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"widths={widths!r} is not allowed: (d, n_1, ..., n_L, C), "
                             f"at least 2 positive integers")
        if not sigma_w > 0:
            raise ValueError(f"sigma_w={sigma_w!r} is not allowed: > 0")
        self.widths, self.sigma_w = widths, float(sigma_w)
        self.hidden = nn.ModuleList(nn.Linear(a, b, bias=False, dtype=DTYPE)
                                    for a, b in itertools.pairwise(widths[:-1]))
        self.classifier = nn.Linear(widths[-2], widths[-1], bias=False, dtype=DTYPE)
        self.multipliers = tuple(self.sigma_w / math.sqrt(n) for n in widths[:-1])
        self.reset_parameters(generator)

    @property
    def depth(self) -> int:
        """Number of hidden layers L (the network has L + 1 weight matrices)."""
        return len(self.widths) - 2

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Redraw every weight from N(0, 1)."""
        for layer in (*self.hidden, self.classifier):
            layer.weight.normal_(0.0, 1.0, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for layer, c in zip(self.hidden, self.multipliers):
            h = torch.relu(c * layer(h))
        return self.multipliers[-1] * self.classifier(h)

    def extra_repr(self) -> str:
        return f"widths={self.widths}, sigma_w={self.sigma_w:.6g}"


# --------------------------------------------------------------------------- masks

def bernoulli_mask(model: nn.Module, keep: float | Sequence[float],
                   generator: torch.Generator | None = None,
                   include_classifier: bool = True) -> Mask:
    """Random mask: each prunable weight kept independently with probability q (Bernoulli).

    keep: q in (0, 1], or one q per prunable layer (input to output). Unlike
    ``pruners.prune(method='random')`` the kept count is random (Binomial), as in the theory;
    a layer may lose all its weights when q * numel is small.
    """
    params = prunable_parameters(model, include_classifier)
    qs = _per_layer(keep, len(params), "keep")
    return {name: torch.rand(p.shape, generator=generator, dtype=DTYPE) < q
            for (name, p), q in zip(params.items(), qs)}


def rescale_factors(mask: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """1 / sqrt(q_l) per masked tensor, q_l its realised density (kept / numel).

    Pass as ``scales=`` to :func:`empirical_ntk` for the ``"multiplier"`` rescaling, or multiply
    the weights by them (``params=``) for the ``"values"`` one. A fully pruned tensor gets 0.
    """
    out = {}
    for name, m in mask.items():
        q = float(m.sum()) / m.numel()
        out[name] = 1.0 / math.sqrt(q) if q > 0 else 0.0
    return out


def _per_layer(value, n: int, what: str) -> tuple[float, ...]:
    values = (value,) * n if isinstance(value, (int, float)) else tuple(value)
    if len(values) != n or not all(0 < float(v) <= 1 for v in values):
        raise ValueError(f"{what}={value!r} is not allowed: a probability in (0, 1] or {n} of "
                         f"them (one per masked layer)")
    return tuple(float(v) for v in values)


# --------------------------------------------------------------------------- empirical NTK

def empirical_ntk(model: nn.Module, x: torch.Tensor, mask: Mapping[str, torch.Tensor] | None = None,
                  *, params: Mapping[str, torch.Tensor] | None = None,
                  scales: Mapping[str, float] | None = None, output: int | str | None = None,
                  method: str = "auto", by_parameter: bool = False,
                  chunk_elements: int = CHUNK_ELEMENTS):
    """Empirical NTK J J^T of ``model`` on inputs x over its unpruned parameter entries, float64.

    model: applied to a batch, (N, *shape) -> (N, C) or (N,); in eval mode if it has BatchNorm
        or dropout. Its parameters are not modified.
    x: (N, *shape) inputs.
    mask: dict name -> bool tensor (True = kept) for some parameters; the others are fully kept.
        The stored values of pruned entries are irrelevant (the forward uses m * theta).
    params: values to use instead of the model's (e.g. weights rescaled by 1/sqrt(q)), by name.
    scales: constant multiplier s per parameter: effective weight s * m * theta, derivative
        with respect to theta (the ``"multiplier"`` rescaling; :func:`rescale_factors`).
    output: None -> (N*C, N*C), rows (input, output) with the output fastest; an int c ->
        (N, N) for output c; ``"trace"`` -> (N, N) summed over the C outputs' diagonal blocks.
    method: ``"jacobian"`` materialises J per parameter tensor with ``torch.func.jacrev``
        (any model; memory N*C*numel float64 for the largest tensor); ``"linear"`` uses
        the outer-product structure of nn.Linear layers (every parameter belongs to a Linear
        applied once per forward to (batch, features); each input processed alone, so no
        train-mode BatchNorm): df/dW_ij = g_i a_j with the layer input a and g = df/d(layer
        output) from one ``vmap(jacrev)`` over inputs, and the masked term
        sum_ij m_ij g_i g'_i a_j a'_j as (g * g')^T M (a * a') for the N(N+1)/2 input pairs --
        no Jacobian is formed, memory is bounded by ``chunk_elements``. ``"auto"``: linear
        when eligible, else jacobian.
    by_parameter: return {parameter name: its term} (each shaped as ``output`` asks) instead
        of their sum.
    """
    if method not in ("auto", "linear", "jacobian"):
        raise ValueError(f"method={method!r} is not allowed: auto, linear or jacobian")
    mask, scales = dict(mask or {}), dict(scales or {})
    values = {n: p.detach() for n, p in model.named_parameters()}
    unknown = [n for n in (*mask, *scales, *(params or {})) if n not in values]
    if unknown:
        raise KeyError(f"mask/scales/params name parameters the model does not have: "
                       f"{unknown[:3]}")
    values.update(params or {})
    values = {n: v.detach().to(DTYPE) for n, v in values.items()}
    factors = {n: _factor(values[n], mask.get(n), scales.get(n, 1.0)) for n in values}
    buffers = {n: (b.to(DTYPE) if b.is_floating_point() else b)
               for n, b in model.named_buffers()}
    x = x.detach().to(DTYPE)
    linears = _linear_layers(model, values, buffers, x) if method != "jacobian" else None
    if method == "linear" and linears is None:
        raise ValueError("method='linear' needs every parameter in an nn.Linear applied once "
                         "to (batch, features); use method='jacobian'")
    if linears is not None:
        terms = _linear_terms(model, x, values, factors, buffers, linears, chunk_elements)
    else:
        terms = _jacobian_terms(model, x, values, factors, buffers)
    if by_parameter:
        return {n: _select(t, x.shape[0], output) for n, t in terms.items()}
    return _select(sum(terms.values()), x.shape[0], output)


def _factor(value: torch.Tensor, mask: torch.Tensor | None, scale: float) -> torch.Tensor | float:
    """s * m as a float64 tensor (or the plain float s when nothing is masked)."""
    if mask is None:
        return float(scale)
    if mask.shape != value.shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} differs from its parameter's "
                         f"{tuple(value.shape)}")
    return mask.to(value.device, DTYPE) * float(scale)


def _select(theta: torch.Tensor, n: int, output: int | str | None) -> torch.Tensor:
    if output is None:
        return theta
    c = theta.shape[0] // n
    blocks = theta.reshape(n, c, n, c)
    if output == "trace":
        return blocks.diagonal(dim1=1, dim2=3).sum(-1)
    if isinstance(output, int) and not isinstance(output, bool) and -c <= output < c:
        return blocks[:, output, :, output]
    raise ValueError(f"output={output!r} is not allowed: None, 'trace' or an output index "
                     f"in [0, {c})")


def _effective(values, factors) -> dict[str, torch.Tensor]:
    return {n: v * factors[n] for n, v in values.items()}


def _jacobian_terms(model, x, values, factors, buffers) -> dict[str, torch.Tensor]:
    """J_p J_p^T per parameter tensor p, J_p = d f / d theta_p by jacrev (one tensor at a time)."""
    base = {**buffers, **_effective(values, factors)}
    n = x.shape[0]

    def f(theta, name):
        return functional_call(model, {**base, name: theta * factors[name]}, (x,)).reshape(n, -1)

    terms = {}
    for name, value in values.items():
        jac = jacrev(f)(value, name).reshape(-1, value.numel())  # (N*C, numel)
        terms[name] = jac @ jac.T
    return terms


def _linear_layers(model, values, buffers, x) -> dict[str, nn.Linear] | None:
    """{module name: Linear} if every parameter belongs to a Linear applied exactly once per
    forward to a 2-D input; else None."""
    linears = {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    owned = {f"{n}.{kind}" for n, m in linears.items()
             for kind in ("weight", "bias") if getattr(m, kind) is not None}
    if not linears or set(values) != owned:
        return None
    calls: dict[str, list[int]] = {n: [] for n in linears}
    handles = [m.register_forward_hook(
        lambda mod, args, out, n=n: calls[n].append(args[0].dim())) for n, m in linears.items()]
    try:
        with torch.no_grad():
            functional_call(model, {**buffers, **values}, (x[:1],))
    finally:
        for h in handles:
            h.remove()
    return linears if all(c == [2] for c in calls.values()) else None


def _linear_factors(model, x, effective, buffers, linears):
    """Per Linear: G (N, C, out) = d f_c(x) / d(layer output at x), A (N, in) = layer input."""
    probes = {n: torch.zeros(1, m.out_features, dtype=DTYPE) for n, m in linears.items()}
    state = {**buffers, **effective}

    def per_input(probe, xi):
        inputs = {}

        def hook(name):
            def add_probe(module, args, out):
                inputs[name] = args[0]
                return out + probe[name]
            return add_probe

        handles = [m.register_forward_hook(hook(n)) for n, m in linears.items()]
        try:
            out = functional_call(model, state, (xi.unsqueeze(0),))
        finally:
            for h in handles:
                h.remove()
        return out.reshape(-1), inputs

    grads, inputs = vmap(jacrev(per_input, has_aux=True), in_dims=(None, 0))(probes, x)
    return ({n: g.squeeze(2) for n, g in grads.items()},   # (N, C, 1, out) -> (N, C, out)
            {n: a.squeeze(1) for n, a in inputs.items()})  # (N, 1, in) -> (N, in)


def _linear_terms(model, x, values, factors, buffers, linears, chunk_elements):
    grads, inputs = _linear_factors(model, x, _effective(values, factors), buffers, linears)
    n = x.shape[0]
    terms = {}
    for name, module in linears.items():
        g, a = grads[name], inputs[name]
        c = g.shape[1]
        gf = g.reshape(n * c, -1)
        wname = f"{name}.weight"
        fw = factors[wname]
        if isinstance(fw, float):  # unmasked: sum_ij g_i g'_i a_j a'_j = (g.g')(a.a')
            gram = (a @ a.T).repeat_interleave(c, 0).repeat_interleave(c, 1)
            terms[wname] = fw ** 2 * (gf @ gf.T) * gram
        else:
            terms[wname] = _masked_linear_term(g, a, fw ** 2, chunk_elements)
        if module.bias is not None:
            fb = factors[f"{name}.bias"]
            terms[f"{name}.bias"] = (gf * fb ** 2) @ gf.T
    return terms


def _masked_linear_term(g, a, weight2, chunk_elements):
    """Theta[(x,c),(y,d)] = sum_ij W2_ij g[x,c,i] g[y,d,i] a[x,j] a[y,j] for W2 = (s m)^2 (out, in),
    by input pairs x <= y: v = W2 (a_x * a_y), block = g_x diag(v) g_y^T."""
    n, c, _ = g.shape
    iu, ju = torch.triu_indices(n, n)
    theta = torch.zeros(n, c, n, c, dtype=DTYPE)
    step = max(1, chunk_elements // max(weight2.shape))
    for lo in range(0, iu.numel(), step):
        i, j = iu[lo:lo + step], ju[lo:lo + step]
        v = (a[i] * a[j]) @ weight2.T  # (pairs, out)
        block = torch.einsum("pci,pi,pdi->pcd", g[i], v, g[j])
        theta[i, :, j, :] = block
        theta[j, :, i, :] = block.transpose(1, 2)
    return theta.reshape(n * c, n * c)


# --------------------------------------------------------------------------- the limit

def relu_ntk_limit(x: torch.Tensor, depth: int, sigma_w: float = SQRT2, *,
                   keep: float | Sequence[float] | None = None, rescale: str = "none",
                   input_masks: int | None = None, generator: torch.Generator | None = None,
                   nngp: bool = False):
    """Infinite-width NTK of :class:`NTKMLP` with ``depth`` hidden layers, per output: (N, N).

    x: (N, *shape) inputs (flattened to (N, d)); float64 result.
    keep: None (dense) or the keep probability q_l of each of the depth + 1 weight matrices
        (one float for all). The recursion is run with the pruned variances (module
        docstring: forward and backward factors q_k r_k, gradient factor q_l d_l), not by
        multiplying the dense kernel, so tests can check the closed form prod q_k.
    rescale: ``"none"`` (r = d = 1), ``"multiplier"`` (r = d = 1/q) or ``"values"``
        (r = 1/q, d = 1): see :data:`RESCALE`.
    input_masks: if given (R), the first layer's kernels are averaged over R random Bernoulli
        (q_1) mask rows, giving the limit when the hidden widths grow but d stays fixed (module
        docstring, "Input layer caveat"); None uses the d -> infinity value (q_1 x.x'/d).
    nngp: also return the output NNGP kernel Sigma^{L+1}: (Theta, Sigma).
    """
    if rescale not in RESCALE:
        raise ValueError(f"rescale={rescale!r} is not allowed: one of {', '.join(RESCALE)}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth={depth!r} is not allowed: an integer >= 0")
    qs = (1.0,) * (depth + 1) if keep is None else _per_layer(keep, depth + 1, "keep")
    r = tuple(1.0 if rescale == "none" else 1.0 / q for q in qs)   # weight-variance factor
    dfac = tuple(ri if rescale == "multiplier" else 1.0 for ri in r)  # gradient factor
    s2 = sigma_w ** 2
    x = x.detach().to(DTYPE).flatten(1)
    gram = x @ x.T / x.shape[1]                        # layer-1 input kernel / sigma_w^2
    sigma = qs[0] * r[0] * s2 * gram                   # Sigma^1 (pruned)
    theta = qs[0] * dfac[0] * s2 * gram                # Theta^1
    for layer in range(1, depth + 1):
        a = qs[layer] * r[layer] * s2
        if layer == 1 and input_masks and qs[0] < 1:
            # unit i's gradient kernel and its derivative kernel share the mask row m_i:
            # average their product, not the product of averages
            k1, theta_k0 = _masked_input_kernels(x, qs[0], r[0] * s2, dfac[0] * s2,
                                                 input_masks, generator)
            theta = a * theta_k0 + qs[layer] * dfac[layer] * s2 * k1
        else:
            k1, k0 = _arccos_kernels(sigma)
            theta = theta * (a * k0) + qs[layer] * dfac[layer] * s2 * k1
        sigma = a * k1
    return (theta, sigma) if nngp else theta


def _arccos_kernels(cov: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """E[relu(u) relu(u')] and E[1{u>0} 1{u'>0}] for (u, u') ~ N(0, cov) (Cho & Saul 2009)."""
    return _arccos_kernels_batched(cov)


def _masked_input_kernels(x, q, variance, grad_variance, rows, generator):
    """First-layer averages over R mask rows m ~ Bernoulli(q)^d (unit i sees only its kept
    inputs): E[k1(S_m)] and E[T_m k0(S_m)], with the unit's forward covariance
    S_m = variance * (x * m) x^T / d and gradient kernel T_m = grad_variance * (x * m) x^T / d."""
    n, d = x.shape
    k1 = torch.zeros(n, n, dtype=DTYPE)
    theta_k0 = torch.zeros(n, n, dtype=DTYPE)
    step = max(1, CHUNK_ELEMENTS // (n * max(n, d)))
    for lo in range(0, rows, step):
        m = (torch.rand(min(step, rows - lo), d, generator=generator, dtype=DTYPE) < q).to(DTYPE)
        gram = torch.einsum("xj,rj,yj->rxy", x, m, x) / d
        a, b = _arccos_kernels_batched(variance * gram)
        k1 += a.sum(0)
        theta_k0 += (grad_variance * gram * b).sum(0)
    return k1 / rows, theta_k0 / rows


def _arccos_kernels_batched(cov: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_arccos_kernels` over leading batch dimensions of (..., N, N) covariances."""
    norms = cov.diagonal(dim1=-2, dim2=-1).clamp_min(0).sqrt()
    outer = norms[..., :, None] * norms[..., None, :]
    rho = torch.where(outer > 0, cov / outer.clamp_min(1e-300), torch.zeros_like(cov))
    # arccos(1 - eps) ~ sqrt(2 eps): a rounding error in rho = 1 would cost 1e-8 in the angle
    rho.diagonal(dim1=-2, dim2=-1).copy_(norms > 0)
    angle = torch.arccos(rho.clamp(-1.0, 1.0))
    return (outer * (torch.sin(angle) + (math.pi - angle) * torch.cos(angle)) / (2 * math.pi),
            (math.pi - angle) / (2 * math.pi))


def predicted_scale(keep: float | Sequence[float], rescale: str = "none") -> float:
    """The limit's factor Theta_pruned / Theta_dense for keep probabilities q_l (one per masked
    weight matrix; a float means a single matrix -- pass a sequence for several).

    none: prod q_l; multiplier: 1; values: q when all q_l are equal (otherwise the limit is
    sum_l q_l Theta_l, not a multiple of Theta_dense: ValueError).
    """
    qs = (float(keep),) if isinstance(keep, (int, float)) else tuple(map(float, keep))
    if rescale == "none":
        return math.prod(qs)
    if rescale == "multiplier":
        return 1.0
    if rescale == "values":
        if len(set(qs)) == 1:
            return qs[0]
        raise ValueError(f"keep={keep!r} with rescale='values' is not a multiple of the dense "
                         f"kernel: use relu_ntk_limit(..., keep=..., rescale='values')")
    raise ValueError(f"rescale={rescale!r} is not allowed: one of {', '.join(RESCALE)}")


# --------------------------------------------------------------------------- comparisons

def fit_scale(theta: torch.Tensor, reference: torch.Tensor) -> float:
    """Least-squares a minimising ||theta - a reference||_F: <theta, ref>_F / ||ref||_F^2."""
    theta, reference = theta.to(DTYPE), reference.to(DTYPE)
    return float((theta * reference).sum() / (reference * reference).sum())


def relative_error(theta: torch.Tensor, reference: torch.Tensor) -> float:
    """||theta - reference||_F / ||reference||_F."""
    theta, reference = theta.to(DTYPE), reference.to(DTYPE)
    return float(torch.linalg.norm(theta - reference) / torch.linalg.norm(reference))


def compare_pruned_ntk(x: torch.Tensor, width: int, depth: int, keep: float, seed: int, *,
                       sigma_w: float = SQRT2, limit: torch.Tensor | None = None,
                       include_classifier: bool = True) -> dict:
    """One (width, q, seed) cell of the study: a scalar-output NTKMLP (d, width x depth, 1)
    with weights from ``generator(seed, INIT_PURPOSE)``, a Bernoulli(q) mask from
    ``generator(seed, MASK_PURPOSE)`` (:mod:`pruninglib.seeds`: independent streams, none shared
    with another seed), its dense, pruned and pruned + rescaled (multiplier) empirical NTKs
    compared with the dense limit.

    Returns a flat dict: width, depth, keep, seed, density (realised), predicted (prod of the
    realised layer densities), scale (fit_scale(pruned, limit)), scale_ratio (scale /
    predicted), relerr_dense, relerr_pruned (pruned / predicted vs limit), relerr_rescaled
    (rescaled vs limit), scale_rescaled. ``limit`` defaults to relu_ntk_limit(x, depth, sigma_w).
    """
    x = x.detach().to(DTYPE).flatten(1)
    if limit is None:
        limit = relu_ntk_limit(x, depth, sigma_w)
    model = NTKMLP((x.shape[1], *(width,) * depth, 1), sigma_w,
                   generator=seeds.generator(seed, INIT_PURPOSE))
    mask = bernoulli_mask(model, keep, seeds.generator(seed, MASK_PURPOSE),
                          include_classifier)
    dense = empirical_ntk(model, x, output=0)
    pruned = empirical_ntk(model, x, mask, output=0)
    rescaled = empirical_ntk(model, x, mask, scales=rescale_factors(mask), output=0)
    kept = sum(int(m.sum()) for m in mask.values())
    predicted = math.prod(float(m.sum()) / m.numel() for m in mask.values())
    scale = fit_scale(pruned, limit)
    return {"width": width, "depth": depth, "keep": keep, "seed": seed,
            "density": kept / sum(m.numel() for m in mask.values()),
            "predicted": predicted, "scale": scale, "scale_ratio": scale / predicted,
            "relerr_dense": relative_error(dense, limit),
            "relerr_pruned": relative_error(pruned / predicted, limit),
            "relerr_rescaled": relative_error(rescaled, limit),
            "scale_rescaled": fit_scale(rescaled, limit)}

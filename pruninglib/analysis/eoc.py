"""Mean-field signal propagation in deep random MLPs: the variance and correlation maps, the
Edge of Chaos (EOC), phases and depth scales (Poole et al. 2016; Schoenholz et al. 2017;
Hayou et al. 2019, 2021), and their finite-width measurement.

Network (as :func:`pruninglib.models.initialize` draws it): h^{l+1} = W^{l+1} phi(h^l) + b^{l+1},
W_ij ~ N(0, sigma_w^2 / N_l), b_i ~ N(0, sigma_b^2). At infinite width the pre-activations of
two inputs a, b are jointly Gaussian, with (per-unit) covariance q_ab^l, and z ~ N(0, 1):

* variance map     q^{l+1} = V(q^l) = sigma_b^2 + sigma_w^2 E_z[phi(sqrt(q^l) z)^2]
* fixed point      q* = V(q*): the limit of q^l from q^1 = q0 (q0 = 1 unless given)
* covariance map   q_ab^{l+1} = sigma_b^2 + sigma_w^2 E[phi(u_a) phi(u_b)],
                   (u_a, u_b) ~ N(0, [[q_aa, q_ab], [q_ab, q_bb]])
* correlation map  c^{l+1} = C(c^l) = (sigma_b^2 + sigma_w^2 E[phi(u_1) phi(u_2)]) / q*,
                   u_1, u_2 ~ N(0, q*) with correlation c
* its slope        C'(c) = sigma_w^2 E[phi'(u_1) phi'(u_2)] (Gaussian integration by parts), and
                   chi = C'(1) = sigma_w^2 E_z[phi'(sqrt(q*) z)^2]
* depth scale      xi_c = -1 / ln C'(c*), c* the stable fixed point of C: c* = 1 and
                   C'(c*) = chi when chi < 1; c* < 1 when chi > 1; xi_c = inf on the EOC.

Phases: ordered (chi < 1: c^l -> 1, inputs become indistinguishable, gradients vanish), EOC
(chi = 1), chaotic (chi > 1: c^l -> c* < 1, gradients explode). Following Hayou et al. the EOC
also needs a finite q*: a point where q^l diverges (q* = inf) is counted as chaotic.

Quadrature (all expectations over z ~ N(0, 1)): E[f(sqrt(q) z)] is split at z = 0, where
every activation here has its kink (relu family, elu, selu) or its one feature of width
1/sqrt(q) (tanh, gelu, silu), and each half is integrated by 100-point Gauss-Legendre on
[0, 12] times the density (each piece is analytic; the dropped tails weigh P(|z| > 12) < 1e-32).
Against adaptive quadrature (``tests/test_eoc.py``) it is exact to 1e-10 relative for
q <= 100 (1e-5 at q = 1000). Plain Gauss-Hermite is not: 200 probabilists' nodes are exact to
1e-15 on tanh'^2 at q = 1 but err by 2e-8 at q = 3, 2e-4 at q = 10 and 3e-2 at q = 100 (the
feature narrows between the nodes), and only converge algebraically across a kink (100 nodes
err by 3e-3 on E[elu'(z)^2]). Positively homogeneous activations (relu, leaky_relu, linear;
phi(x) = s+ x for x > 0, s- x for x < 0) are in closed form: E[phi(sqrt(q) z)^2] = q m,
E[phi'^2] = m, m = (s+^2 + s-^2) / 2 (ReLU: q/2 and 1/2), so chi = sigma_w^2 m whatever q*.

Two-input expectations condition on the first: u_2 = sqrt(q_bb) (c z_1 + sqrt(1 - c^2) z_2),
the inner expectation over z_2 split where u_2 = 0 for each outer node z_1.
"""
from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from numpy.polynomial.legendre import leggauss
from scipy.optimize import brentq
from scipy.special import expit, ndtr
from torch import nn
from torch.autograd import forward_ad

Array = np.ndarray

GL_POINTS = 100
"""Gauss-Legendre nodes on each side of the split."""
Z_MAX = 12.0
"""Half-width of the integrated z-range (in standard deviations)."""
Q_MIN, Q_MAX = 1e-30, 1e12
"""Fixed-point search range: below Q_MIN q* is reported as 0, beyond Q_MAX as inf."""
EDGE_POINTS = 200
"""Grid points scanned for chi > 1 just below the sigma_w where q* becomes inf."""
CRITICAL_TOL = 1e-12
"""|sigma_w^2 m - 1| below this counts as critical for homogeneous activations (so that
sigma_w = math.sqrt(2) is ReLU's EOC despite rounding)."""

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_LEAKY_SLOPE = 0.01  # torch's defaults, as pruninglib.models.layers.ACTIVATION_LAYERS uses


@dataclass(frozen=True)
class Activation:
    """phi and phi' on numpy arrays (the torch layers' default constants).

    slopes: (s-, s+), the limits of phi'(x) as x -> -inf and +inf (they give chi when
    q* = inf). homogeneous: phi(t x) = t phi(x) for t > 0, i.e. phi(x) = s+ x (x > 0),
    s- x (x < 0).
    """

    phi: Callable[[Array], Array]
    dphi: Callable[[Array], Array]
    slopes: tuple[float, float] = (1.0, 1.0)
    homogeneous: bool = False

    @property
    def tail_moment(self) -> float:
        """m = (s-^2 + s+^2) / 2 = lim_{q -> inf} E[phi'(sqrt(q) z)^2] = lim E[phi^2] / q."""
        return (self.slopes[0] ** 2 + self.slopes[1] ** 2) / 2


def _neg_exp(x: Array) -> Array:
    """e^x - 1 for x <= 0 (0 elsewhere), without overflow."""
    return np.expm1(np.minimum(x, 0.0))


def _leaky(slope: float) -> Activation:
    """x for x > 0, slope * x below (phi'(0) = slope, as torch's gradient)."""
    return Activation(lambda x: np.where(x > 0, x, slope * x),
                      lambda x: np.where(x > 0, 1.0, slope), slopes=(slope, 1.0),
                      homogeneous=True)


ACTIVATIONS: dict[str, Activation] = {
    "relu": _leaky(0.0),
    "leaky_relu": _leaky(_LEAKY_SLOPE),
    "linear": Activation(lambda x: x, np.ones_like, homogeneous=True),
    "tanh": Activation(np.tanh, lambda x: 1.0 / np.cosh(np.minimum(np.abs(x), 300.0)) ** 2,
                       slopes=(0.0, 0.0)),
    "elu": Activation(lambda x: np.where(x > 0, x, _neg_exp(x)),
                      lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0))),
                      slopes=(0.0, 1.0)),
    "selu": Activation(lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * _neg_exp(x)),
                       lambda x: _SELU_SCALE * np.where(x > 0, 1.0,
                                                        _SELU_ALPHA * np.exp(np.minimum(x, 0.0))),
                       slopes=(0.0, _SELU_SCALE)),
    # exact (erf) GELU, torch's default: x Phi(x); phi' = Phi(x) + x pdf(x)
    "gelu": Activation(lambda x: x * ndtr(x),
                       lambda x: ndtr(x) + x * np.exp(-np.minimum(x * x, 1e4) / 2)
                       / math.sqrt(2 * math.pi), slopes=(0.0, 1.0)),
    # SiLU = swish: x sigmoid(x); phi' = sigmoid(x) (1 + x (1 - sigmoid(x)))
    "silu": Activation(lambda x: x * expit(x), lambda x: expit(x) * (1 + x * expit(-x)),
                       slopes=(0.0, 1.0)),
}
"""Name (as ``pruninglib.config.ACTIVATIONS``) -> :class:`Activation`."""

REFERENCE_EOC: dict[str, tuple[float, float]] = {"tanh": (0.2, 1.2981), "elu": (0.2, 1.22459)}
"""(sigma_b, sigma_w) of the reference code (sAviOr287/imagenet_ICLR, EOC_weights/EOC_bias);
its ReLU point is sigma_w^2 = 2, sigma_b^2 = 1e-16, i.e. the exact EOC (0, sqrt 2) up to a bias
that adds 1e-16 to q per layer."""


def _activation(name: str) -> Activation:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r} is not allowed: one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


_GL_T, _GL_W = leggauss(GL_POINTS)


def _split_rule(z0: Array) -> tuple[Array, Array]:
    """Nodes and weights, shape (*z0.shape, 2 GL_POINTS), of E over z ~ N(0, 1) split at z0:
    Gauss-Legendre on [-Z_MAX, a] and [a, Z_MAX], a = clip(z0, -Z_MAX, Z_MAX)."""
    a = np.clip(z0, -Z_MAX, Z_MAX)[..., None]
    lo, hi = (a + Z_MAX) / 2, (Z_MAX - a) / 2  # half-lengths of the two pieces
    z = np.concatenate([a - lo + lo * _GL_T, a + hi + hi * _GL_T], axis=-1)
    w = np.concatenate([lo * _GL_W, hi * _GL_W], axis=-1)
    return z, w * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)


_Z, _W = _split_rule(np.zeros(()))  # E over z ~ N(0, 1) split at 0, shape (2 GL_POINTS,)


def _scale(q: float) -> float:
    """sqrt(q), at least 1e-150, so that q = 0 gives the limit q -> 0+ (one-sided phi'(0))."""
    return max(math.sqrt(q), 1e-150)


def second_moments(activation: str, q: float) -> tuple[float, float]:
    """(E[phi(sqrt(q) z)^2], E[phi'(sqrt(q) z)^2]), z ~ N(0, 1), for a variance q >= 0."""
    act = _activation(activation)
    if act.homogeneous:
        return q * act.tail_moment, act.tail_moment
    x = _scale(q) * _Z
    return float(_W @ act.phi(x) ** 2), float(_W @ act.dphi(x) ** 2)


def variance_map(activation: str, sigma_b: float, sigma_w: float, q: float) -> float:
    """V(q) = sigma_b^2 + sigma_w^2 E[phi(sqrt(q) z)^2]: next layer's pre-activation variance."""
    return sigma_b ** 2 + sigma_w ** 2 * second_moments(activation, q)[0]


def q_star(activation: str, sigma_b: float, sigma_w: float, q0: float = 1.0) -> float:
    """Fixed point q* = lim q^l of the variance map from q^1 = q0 > 0 (inf if q^l diverges).

    V is increasing for these activations, so the iterates move monotonically from q0 to the
    first fixed point in the direction of V(q0) - q0: it is bracketed by doubling (halving) q
    and found by brentq to machine precision (tested against plain iteration); no fixed point
    below Q_MAX gives inf, none above Q_MIN gives 0. q* can depend on q0: GELU and SiLU with
    little bias have a stable small q* and, past an unstable fixed point, divergence.
    Homogeneous activations in closed form, k = sigma_w^2 m: q* = sigma_b^2 / (1 - k) if k < 1;
    if k = 1 (the EOC) any q is a fixed point when sigma_b = 0 (convention: q* = q0), else
    q^l grows by sigma_b^2 a layer (inf); k > 1 gives inf.
    """
    if not q0 > 0:
        raise ValueError(f"q0={q0!r} is not allowed: a variance > 0")
    act = _activation(activation)
    if act.homogeneous:
        k = sigma_w ** 2 * act.tail_moment
        if abs(k - 1) <= CRITICAL_TOL:
            return q0 if sigma_b == 0 else math.inf
        return sigma_b ** 2 / (1 - k) if k < 1 else math.inf

    def gap(q: float) -> float:
        return variance_map(activation, sigma_b, sigma_w, q) - q

    lo = hi = q0
    if gap(q0) > 0:
        while gap(hi) > 0:
            lo, hi = hi, 2 * hi
            if hi > Q_MAX:
                return math.inf
    else:
        while gap(lo) < 0:
            lo, hi = lo / 2, lo
            if lo < Q_MIN:
                return 0.0
    return brentq(gap, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps) if lo < hi else q0


def chi(activation: str, sigma_b: float, sigma_w: float) -> float:
    """chi = sigma_w^2 E[phi'(sqrt(q*) z)^2], the slope of the correlation map at c = 1.

    chi < 1 ordered, chi = 1 EOC, chi > 1 chaotic. Where q* = inf, its limit sigma_w^2 m.
    """
    return _chi_at(activation, sigma_w, q_star(activation, sigma_b, sigma_w))


def _chi_at(activation: str, sigma_w: float, q: float) -> float:
    """sigma_w^2 E[phi'(sqrt(q) z)^2]; its limit sigma_w^2 m when q = inf."""
    if math.isinf(q):
        return sigma_w ** 2 * _activation(activation).tail_moment
    return sigma_w ** 2 * second_moments(activation, q)[1]


def _phase_of(q: float, value: float, tol: float) -> str:
    if math.isinf(q):
        return "chaotic"
    return "ordered" if value < 1 - tol else "chaotic" if value > 1 + tol else "eoc"


def phase(activation: str, sigma_b: float, sigma_w: float, tol: float = 1e-6) -> str:
    """'ordered' (chi < 1 - tol), 'eoc' (|chi - 1| <= tol) or 'chaotic' (chi > 1 + tol, or
    q* = inf: the variance diverges, which needs chi >= 1)."""
    q = q_star(activation, sigma_b, sigma_w)
    return _phase_of(q, _chi_at(activation, sigma_w, q), tol)


def phase_diagram(activation: str, sigma_bs: Sequence[float], sigma_ws: Sequence[float],
                  tol: float = 1e-6) -> pd.DataFrame:
    """q*, chi and phase on the grid sigma_bs x sigma_ws: one row per point, columns
    sigma_b, sigma_w, q_star, chi, phase (sigma_w varying fastest)."""
    rows = []
    for sigma_b in sigma_bs:
        for sigma_w in sigma_ws:
            q = q_star(activation, sigma_b, sigma_w)
            value = _chi_at(activation, sigma_w, q)
            rows.append({"sigma_b": float(sigma_b), "sigma_w": float(sigma_w), "q_star": q,
                         "chi": value, "phase": _phase_of(q, value, tol)})
    return pd.DataFrame(rows)


def eoc_sigma_w(activation: str, sigma_b: float) -> float:
    """sigma_w with chi(sigma_b, sigma_w) = 1 and q* finite: the EOC point at this bias.

    Homogeneous activations: sigma_w = 1 / sqrt(m) (ReLU: exactly math.sqrt(2)), only for
    sigma_b = 0; with a bias q* = inf there, so there is no EOC point (ValueError). Others: the
    first sign change of chi - 1 on a geometric grid of sigma_w from 0.05 (ratio 1.05, up to 20),
    refined by brentq (xtol 1e-15). Where q* becomes inf between two grid points, the edge of
    the finite-q* range is located by bisection and the range below it scanned on EDGE_POINTS
    equispaced points (for GELU / SiLU the EOC lies just below that edge, at large q*, and chi
    is not monotone there). ValueError if chi stays below 1 while q* is finite (e.g. GELU and
    SiLU at sigma_b = 0.2). At sigma_b = 0 the others give the degenerate point q* = 0,
    sigma_w^2 (phi'(0-)^2 + phi'(0+)^2) / 2 = 1 (tanh, ELU: 1; to ~1e-8 only, chi being flat).
    """
    act = _activation(activation)
    if act.homogeneous:
        if sigma_b != 0:
            raise ValueError(f"no EOC point for {activation!r} at sigma_b={sigma_b!r}: with a "
                             f"bias q* = inf at chi = 1; its EOC is "
                             f"(0, {1 / math.sqrt(act.tail_moment):.6g})")
        return math.sqrt(1 / act.tail_moment)

    def gap(sigma_w: float) -> float:
        return chi(activation, sigma_b, sigma_w) - 1

    def diverges(sigma_w: float) -> bool:
        return math.isinf(q_star(activation, sigma_b, sigma_w))

    lo = 0.05
    while lo < 20:
        hi = lo * 1.05
        if diverges(hi):  # bisect to the last finite-q* sigma_w, then scan (lo, there] finely
            finite, infinite = lo, hi
            while infinite - finite > 1e-13 * hi:
                mid = (finite + infinite) / 2
                finite, infinite = (finite, mid) if diverges(mid) else (mid, infinite)
            for hi in np.linspace(lo, finite, EDGE_POINTS)[1:]:
                if gap(hi) > 0:
                    return brentq(gap, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)
                lo = hi
            break
        if gap(hi) > 0:
            return brentq(gap, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)
        lo = hi
    raise ValueError(f"no EOC point for {activation!r} at sigma_b={sigma_b!r}: chi < 1 up to "
                     f"sigma_w={lo:.6g}, beyond which q* = inf or the search ends")


def eoc_curve(activation: str, sigma_bs: Sequence[float]) -> Array:
    """EOC sigma_w for each sigma_b, shape (len(sigma_bs),); NaN where there is none."""
    out = np.full(len(sigma_bs), np.nan)
    for i, sigma_b in enumerate(sigma_bs):
        try:
            out[i] = eoc_sigma_w(activation, sigma_b)
        except ValueError:
            pass
    return out


def _pair_mean(f: Callable[[Array], Array], g: Callable[[Array], Array],
               q1: float, q2: float, c: float) -> float:
    """E[f(u_1) g(u_2)], (u_1, u_2) ~ N(0, [[q1, r], [r, q2]]), r = c sqrt(q1 q2), |c| <= 1.

    u_1 = sqrt(q1) z_1, u_2 = sqrt(q2) (c z_1 + s z_2), s = sqrt(1 - c^2): outer rule over z_1,
    inner rule over z_2 split at u_2 = 0, i.e. z_2 = -c z_1 / s (any split when s = 0).
    """
    c = min(max(c, -1.0), 1.0)
    mean, std = _scale(q2) * c * _Z, _scale(q2) * math.sqrt(1 - c * c)
    z2, w2 = _split_rule(-mean / std if std > 0 else np.zeros_like(mean))
    inner = (w2 * g(mean[:, None] + std * z2)).sum(axis=-1)
    return float(_W @ (f(_scale(q1) * _Z) * inner))


def covariance_map(activation: str, sigma_b: float, sigma_w: float,
                   q1: float, q2: float, c: float) -> tuple[float, float, float]:
    """One layer of two inputs' pre-activation statistics: (q1, q2, c) -> (q1', q2', c'),
    q_ab' = sigma_b^2 + sigma_w^2 E[phi(u_a) phi(u_b)] and c' = q12' / sqrt(q1' q2')."""
    act = _activation(activation)
    new1, new2 = (variance_map(activation, sigma_b, sigma_w, q) for q in (q1, q2))
    new12 = sigma_b ** 2 + sigma_w ** 2 * _pair_mean(act.phi, act.phi, q1, q2, c)
    return new1, new2, new12 / math.sqrt(new1 * new2)


def correlation_map(activation: str, sigma_b: float, sigma_w: float, c: float) -> float:
    """C(c) = (sigma_b^2 + sigma_w^2 E[phi(u_1) phi(u_2)]) / q* at the fixed point q* (finite,
    > 0); C(1) = 1."""
    act, q = _activation(activation), _finite_q_star(activation, sigma_b, sigma_w)
    return (sigma_b ** 2 + sigma_w ** 2 * _pair_mean(act.phi, act.phi, q, q, c)) / q


def correlation_slope(activation: str, sigma_b: float, sigma_w: float, c: float) -> float:
    """C'(c) = sigma_w^2 E[phi'(u_1) phi'(u_2)] at q*; C'(1) = chi."""
    act, q = _activation(activation), _finite_q_star(activation, sigma_b, sigma_w)
    return sigma_w ** 2 * _pair_mean(act.dphi, act.dphi, q, q, c)


def _finite_q_star(activation: str, sigma_b: float, sigma_w: float) -> float:
    q = q_star(activation, sigma_b, sigma_w)
    if not 0 < q < math.inf:
        raise ValueError(f"the correlation map needs 0 < q* < inf; q* = {q} for {activation!r} "
                         f"at sigma_b={sigma_b!r}, sigma_w={sigma_w!r}")
    return q


def correlation_fixed_point(activation: str, sigma_b: float, sigma_w: float,
                            tol: float = 1e-6) -> float:
    """Stable fixed point c* of the correlation map: 1 unless chaotic (chi > 1 + tol); then the
    unique root of C(c) = c in [0, 1) (C is convex on [0, 1] with C(0) >= 0, C(1) = 1)."""
    if phase(activation, sigma_b, sigma_w, tol) != "chaotic":
        return 1.0

    def gap(c: float) -> float:
        return correlation_map(activation, sigma_b, sigma_w, c) - c

    if gap(0.0) <= 0:
        return 0.0
    for delta in 10.0 ** -np.arange(1, 9):
        if gap(1 - delta) < 0:
            return brentq(gap, 0.0, 1 - delta, xtol=1e-14)
    raise ValueError(f"no c* < 1 - 1e-8 for {activation!r} at ({sigma_b!r}, {sigma_w!r})")


def depth_scale(activation: str, sigma_b: float, sigma_w: float, tol: float = 1e-6) -> float:
    """xi_c = -1 / ln C'(c*) (layers): |c^l - c*| ~ exp(-l / xi_c). inf on the EOC
    (|chi - 1| <= tol); ordered: -1 / ln chi."""
    kind = phase(activation, sigma_b, sigma_w, tol)
    if kind == "eoc":
        return math.inf
    if kind == "ordered":
        return -1 / math.log(chi(activation, sigma_b, sigma_w))
    c = correlation_fixed_point(activation, sigma_b, sigma_w, tol)
    return -1 / math.log(correlation_slope(activation, sigma_b, sigma_w, c))


def summary(activation: str, sigma_b: float, sigma_w: float, tol: float = 1e-6) -> dict:
    """One initialisation in numbers: sigma_b, sigma_w, q_star, chi, phase and depth_scale
    (layers; inf on the EOC, NaN where q* = inf and the correlation map is undefined)."""
    q = q_star(activation, sigma_b, sigma_w)
    value = _chi_at(activation, sigma_w, q)
    try:
        xi = depth_scale(activation, sigma_b, sigma_w, tol)
    except ValueError:
        xi = math.nan
    return {"sigma_b": sigma_b, "sigma_w": sigma_w, "q_star": q, "chi": value,
            "phase": _phase_of(q, value, tol), "depth_scale": xi}


def reference_comparison() -> pd.DataFrame:
    """The reference code's EOC points against ours, one row per activation of REFERENCE_EOC:
    sigma_b, sigma_w_reference, chi_reference, q_star_reference, sigma_w_eoc (chi = 1 at
    sigma_b), q_star_eoc."""
    rows = []
    for activation, (sigma_b, sigma_w) in REFERENCE_EOC.items():
        ours = eoc_sigma_w(activation, sigma_b)
        rows.append({"activation": activation, "sigma_b": sigma_b,
                     "sigma_w_reference": sigma_w,
                     "chi_reference": chi(activation, sigma_b, sigma_w),
                     "q_star_reference": q_star(activation, sigma_b, sigma_w),
                     "sigma_w_eoc": ours, "q_star_eoc": q_star(activation, sigma_b, ours)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Propagation:
    """Pre-activation statistics of input pairs, layer by layer: q1, q2 (per-unit second
    moments of the two inputs' pre-activations) and c (their correlation), arrays of the same
    shape ((depth,) for theory, (B, depth) for measurements)."""

    q1: Array
    q2: Array
    c: Array

    def frame(self) -> pd.DataFrame:
        """Tidy rows: layer (1-based), q1, q2, c; plus pair (0-based) for measurements."""
        depth = self.c.shape[-1]
        columns = {"layer": np.tile(np.arange(1, depth + 1), self.c.size // depth)}
        if self.c.ndim == 2:
            columns = {"pair": np.repeat(np.arange(self.c.shape[0]), depth), **columns}
        columns.update(q1=self.q1.ravel(), q2=self.q2.ravel(), c=self.c.ravel())
        return pd.DataFrame(columns)


def mean_field_propagation(activation: str, sigma_b: float, sigma_w: float,
                           q1: float, q2: float, c: float, depth: int) -> Propagation:
    """Iterate :func:`covariance_map` from layer-1 values (q1, q2, c) to layer ``depth``.

    For inputs x_a, x_b of dimension n: q_ab^1 = sigma_b^2 + sigma_w^2 x_a . x_b / n.
    """
    layers = [(q1, q2, c)]
    for _ in range(depth - 1):
        layers.append(covariance_map(activation, sigma_b, sigma_w, *layers[-1]))
    return Propagation(*(np.array(column) for column in zip(*layers, strict=True)))


@torch.no_grad()
def _preactivations(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Float64 outputs of the nn.Linear layers of ``model.features`` (the hidden
    pre-activations h^1..h^L of a plain ``mlp``), each (B, N_l)."""
    if not hasattr(model, "features"):
        raise ValueError("expected a pruninglib 'mlp' model (with a 'features' stage)")
    work = copy.deepcopy(model).double().eval()
    out: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, h: out.append(h))
             for m in work.features.modules() if isinstance(m, nn.Linear)]
    work(x.double())
    for hook in hooks:
        hook.remove()
    return out


def propagate_correlations(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor) -> Propagation:
    """Measured counterpart of :func:`mean_field_propagation` on a random MLP (float64 copy).

    x1, x2: (B, *input_shape). Per pair b and hidden layer l: q_a = mean_i h_{a,i}^2,
    c = mean_i h_{1,i} h_{2,i} / sqrt(q_1 q_2); arrays (B, L). Finite width N adds fluctuations
    of relative size ~ sqrt(2 / N). Inputs with |x|^2 / n = (q* - sigma_b^2) / sigma_w^2 start
    at q^1 = q*.
    """
    h = _preactivations(model, torch.cat([x1, x2]))
    batch = x1.shape[0]
    q1 = torch.stack([(v[:batch] ** 2).mean(1) for v in h], 1)
    q2 = torch.stack([(v[batch:] ** 2).mean(1) for v in h], 1)
    q12 = torch.stack([(v[:batch] * v[batch:]).mean(1) for v in h], 1)
    return Propagation(q1.numpy(), q2.numpy(), (q12 / (q1 * q2).sqrt()).numpy())


def input_pair(batch: int, dim: int, q1: float, c1: float, sigma_b: float, sigma_w: float,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs x1, x2, each (batch, dim) float64, whose first-layer pre-activations have
    per-unit variance q1 and correlation c1 (in expectation over the weights).

    q_ab^1 = sigma_b^2 + sigma_w^2 x_a . x_b / dim, so every row has |x|^2 / dim =
    (q1 - sigma_b^2) / sigma_w^2 and x1 . x2 / dim = (c1 q1 - sigma_b^2) / sigma_w^2 exactly
    (Gram-Schmidt on Gaussian draws from ``generator``). Needs q1 > sigma_b^2, dim >= 2 and
    |c1 q1 - sigma_b^2| <= q1 - sigma_b^2.
    """
    norm2 = (q1 - sigma_b ** 2) / sigma_w ** 2
    rho = (c1 * q1 - sigma_b ** 2) / (q1 - sigma_b ** 2)  # cosine between x1 and x2
    if not (norm2 > 0 and dim >= 2 and abs(rho) <= 1 + 1e-12):
        raise ValueError(f"no inputs give q1={q1!r}, c1={c1!r} at sigma_b={sigma_b!r}, "
                         f"sigma_w={sigma_w!r} in dim={dim!r}")
    rho = min(max(rho, -1.0), 1.0)  # |rho| = 1 up to rounding: opposite or equal inputs
    u = torch.randn(batch, dim, generator=generator, dtype=torch.float64)
    v = torch.randn(batch, dim, generator=generator, dtype=torch.float64)
    u = u / u.norm(dim=1, keepdim=True)
    v = v - (v * u).sum(1, keepdim=True) * u
    v = v / v.norm(dim=1, keepdim=True)
    scale = math.sqrt(norm2 * dim)
    return scale * u, scale * (rho * u + math.sqrt(1 - rho ** 2) * v)


def measure_chi(model: nn.Module, x: torch.Tensor,
                generator: torch.Generator | None = None) -> Array:
    """Layer-to-layer growth of an infinitesimal input perturbation, shape (L - 1,).

    x: (B, *input_shape); the tangent xi ~ N(0, I) (from ``generator``) is pushed through the
    linearised network in float64 (forward-mode AD, module by module, renormalised after each
    Linear so that it neither under- nor overflows at any depth). Entry l is
    sum_b |dh^{l+1}_b|^2 / sum_b |dh^l_b|^2 over the hidden pre-activations h^l of a plain
    ``mlp`` (pruned or not): it tends to chi once q^l = q* (scale x as for
    :func:`propagate_correlations`) and the width N is large (relative noise ~ sqrt(2 / (N B))
    per layer).
    """
    if not hasattr(model, "features"):
        raise ValueError("expected a pruninglib 'mlp' model (with a 'features' stage)")
    work = copy.deepcopy(model).double().eval()
    h = work.flatten(x.double()) if hasattr(work, "flatten") else x.double()
    dh = torch.randn(h.shape, generator=generator, dtype=torch.float64)
    growth = []
    with torch.no_grad(), forward_ad.dual_level(), warnings.catch_warnings():
        # torch loads its forward-mode decompositions once through deprecated torch.jit.script
        warnings.filterwarnings("ignore", message=".*torch.jit.script", category=FutureWarning)
        for module in work.features:
            h, dh = forward_ad.unpack_dual(module(forward_ad.make_dual(h, dh)))
            if isinstance(module, nn.Linear):
                size = (dh ** 2).sum()
                growth.append(size)
                dh = dh / size.sqrt()
    return torch.stack(growth[1:]).numpy()  # growth[0] is relative to the input tangent


def measured_chi(model: nn.Module, x: torch.Tensor, skip: int = 5,
                 generator: torch.Generator | None = None) -> float:
    """chi of a (pruned) MLP at its own fixed point: the geometric mean of
    :func:`measure_chi` over hidden layers skip + 1 .. L, once the first ``skip`` layers have
    brought q^l to the network's q* (which pruning changes). A dense wide net gives
    :func:`chi` of its (sigma_b, sigma_w); pruning lowers it, and the rescaling trick
    (:func:`pruninglib.pruners.rescale_fan_in`) restores each unit's incoming norm."""
    ratios = measure_chi(model, x, generator)[skip:]
    if len(ratios) == 0:
        raise ValueError(f"skip={skip} leaves no hidden layer to measure")
    return float(np.exp(np.log(ratios).mean()))

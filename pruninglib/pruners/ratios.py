"""Layer-wise density allocations for random masks: uniform, ERK and Su et al.'s smart ratio.

Each function maps layer shapes (input to output) and a global density d to per-layer
densities in [0, 1] whose weighted mean is d; :func:`exact_counts` then turns densities into
integer kept counts that sum to exactly round(d * N).
"""
from __future__ import annotations

import math


def _capped_proportional(raw: list[float], sizes: list[int], budget: float,
                         fixed: dict[int, float] | None = None) -> list[float]:
    """Densities min(1, eps * raw_l) with eps chosen so that sum(density_l * size_l) = budget.

    Layers in ``fixed`` get their given density. A layer whose density would exceed 1 is made
    dense and the rest re-solved (the iterative fix of RigL's ERK).
    """
    fixed = dict(fixed or {})
    while True:
        free = [i for i in range(len(raw)) if i not in fixed]
        left = budget - sum(fixed[i] * sizes[i] for i in fixed)
        denominator = sum(raw[i] * sizes[i] for i in free)
        if not free or denominator == 0:
            break
        eps = left / denominator
        over = [i for i in free if eps * raw[i] > 1]
        if not over:
            break
        fixed[max(over, key=lambda i: raw[i])] = 1.0
    return [fixed[i] if i in fixed else eps * raw[i] for i in range(len(raw))]


def uniform_densities(shapes: list[tuple[int, ...]], density: float) -> list[float]:
    """Every layer at the global density."""
    return [density] * len(shapes)


def erk_densities(shapes: list[tuple[int, ...]], density: float) -> list[float]:
    """Erdos-Renyi-Kernel: density_l proportional to sum(shape_l) / prod(shape_l).

    For a conv weight (c_out, c_in, kh, kw) that is (c_out + c_in + kh + kw) / (c_out c_in kh kw);
    for a linear weight (n_out + n_in) / (n_out n_in) (Evci et al. 2020).
    """
    sizes = [math.prod(s) for s in shapes]
    raw = [sum(s) / math.prod(s) for s in shapes]
    return _capped_proportional(raw, sizes, density * sum(sizes))


def smart_ratio_densities(shapes: list[tuple[int, ...]], density: float,
                          classifier_density: float = 0.3) -> list[float]:
    """Su et al. (2020) "smart ratio": layer l of L (l = 1 at the input) gets a keep ratio
    proportional to k**2 + k with k = L - l + 1, so early layers keep more; the last (classifier)
    layer keeps ``classifier_density`` (their default 0.3) when that uses at most half the budget,
    else it follows the same formula. (Their VGG-only extra division by l**2 is not applied.)
    """
    sizes = [math.prod(s) for s in shapes]
    n_layers = len(shapes)
    raw = [(n_layers - i) ** 2 + (n_layers - i) for i in range(n_layers)]
    budget = density * sum(sizes)
    fixed = {}
    if n_layers > 1 and classifier_density * sizes[-1] <= budget / 2:
        fixed[n_layers - 1] = classifier_density
    return _capped_proportional(raw, sizes, budget, fixed)


LAYER_RATIOS = {"uniform": uniform_densities, "erk": erk_densities,
                "smart_ratio": smart_ratio_densities}


def exact_counts(densities: list[float], sizes: list[int], total_keep: int) -> list[int]:
    """Integer kept counts near ``density_l * size_l`` summing to exactly ``total_keep``.

    Largest-remainder rounding, never above a layer's size; ties go to earlier layers.
    """
    ideal = [min(d, 1.0) * n for d, n in zip(densities, sizes)]
    counts = [min(math.floor(v), n) for v, n in zip(ideal, sizes)]
    order = sorted(range(len(sizes)), key=lambda i: (-(ideal[i] - counts[i]), i))
    missing = total_keep - sum(counts)
    while missing > 0:
        progressed = False
        for i in order:
            if missing and counts[i] < sizes[i]:
                counts[i] += 1
                missing -= 1
                progressed = True
        if not progressed:
            break
    for i in reversed(order):  # too many (only from rounding of dense layers): take back
        while missing < 0 and counts[i] > 0:
            counts[i] -= 1
            missing += 1
    return counts

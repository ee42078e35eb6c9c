"""Turning scores into masks with an exact kept count and deterministic ties.

The SynFlow reference keeps ``score > kthvalue``: ties at the threshold are all pruned, the kept
count drifts, and its exact-count check then aborts the run. Here the count is exact: weights
strictly above the threshold are kept, and the remaining places go to the tied weights in
canonical order (layers input to output, then flat index). Only still-kept weights compete, so
an iterated pruner never revives a pruned weight, and each round selects among the survivors
only (the reference runs a k-th value over all N scores every round).
"""
from __future__ import annotations

from collections.abc import Mapping

import torch

from ..masks import Mask


def _check_finite(scores: Mapping[str, torch.Tensor], method: str) -> None:
    for name, s in scores.items():
        if not torch.isfinite(s).all():
            raise FloatingPointError(
                f"{method} scores of {name} are not finite (nan/inf): the scoring overflowed")


def _top_k_flat(values: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean vector keeping exactly the k largest of a 1-D tensor; ties go to lower indices."""
    n = values.numel()
    keep = torch.zeros(n, dtype=torch.bool, device=values.device)
    if k <= 0:
        return keep
    if k >= n:
        return ~keep
    threshold = torch.kthvalue(values, n - k + 1).values  # the k-th largest value
    keep = values > threshold
    missing = k - int(keep.sum())
    if missing > 0:
        tied = torch.nonzero(values == threshold).flatten()[:missing]
        keep[tied] = True
    return keep


def select_global(scores: Mapping[str, torch.Tensor], alive: Mapping[str, torch.Tensor],
                  keep: int, method: str = "scores") -> Mask:
    """Keep the ``keep`` highest-scoring still-alive weights over all layers together.

    scores, alive: dicts name -> tensor of the parameter's shape (float scores, bool mask).
    """
    _check_finite(scores, method)
    names = list(alive)
    flat_scores = torch.cat([scores[n].reshape(-1)[alive[n].reshape(-1)].double()
                             for n in names])
    chosen = _top_k_flat(flat_scores, keep)
    out, start = {}, 0
    for n in names:
        m = alive[n].reshape(-1).clone()
        idx = torch.nonzero(m).flatten()
        m[idx] = chosen[start:start + idx.numel()]
        start += idx.numel()
        out[n] = m.reshape(alive[n].shape)
    return out


def select_per_layer(scores: Mapping[str, torch.Tensor], alive: Mapping[str, torch.Tensor],
                     keep: Mapping[str, int], method: str = "scores") -> Mask:
    """Keep ``keep[name]`` highest-scoring alive weights inside each layer separately."""
    _check_finite(scores, method)
    out = {}
    for n, a in alive.items():
        flat_alive = a.reshape(-1)
        idx = torch.nonzero(flat_alive).flatten()
        chosen = _top_k_flat(scores[n].reshape(-1)[idx].double(), keep[n])
        m = torch.zeros_like(flat_alive)
        m[idx[chosen]] = True
        out[n] = m.reshape(a.shape)
    return out


def schedule_densities(density: float, rounds: int, schedule: str) -> list[float]:
    """Target density after each of ``rounds`` pruning rounds (the last one is ``density``).

    exponential: d**(k/n) (SynFlow's default); linear: 1 - (1-d) k/n.
    """
    ks = range(1, rounds + 1)
    if schedule == "exponential":
        return [density ** (k / rounds) for k in ks]
    if schedule == "linear":
        return [1 - (1 - density) * k / rounds for k in ks]
    raise ValueError(f"schedule={schedule!r} is not allowed: exponential or linear")


def kept_count(density: float, total: int) -> int:
    """Number of weights kept at ``density`` of ``total`` (rounded to nearest, at least 1)."""
    return max(1, round(density * total))

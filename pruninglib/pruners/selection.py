"""Turning scores into masks with an exact kept count and deterministic ties.

The SynFlow reference keeps ``score > kthvalue``: ties at the threshold are all pruned, the kept
count drifts, and its exact-count check then aborts the run. Here the count is exact: weights
strictly above the threshold are kept, and the remaining places go to the tied weights in
canonical order (layers input to output, then flat index). Only still-kept weights compete, so
an iterated pruner never revives a pruned weight, and each round selects among the survivors
only (the reference runs a k-th value over all N scores every round).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from ..masks import Mask


def _check_finite(values: torch.Tensor, method: str, where: str) -> None:
    if not bool(torch.isfinite(values).all()):
        raise FloatingPointError(
            f"{method} scores of {where} are not finite (nan/inf): the scoring overflowed")


def _kth_largest(values: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th largest entry of a 1-D tensor (1 <= k <= n). On the CPU numpy's introselect
    (``np.partition``) is several times faster than ``torch.kthvalue``."""
    n = values.numel()
    if values.device.type == "cpu":
        return torch.as_tensor(np.partition(values.numpy(), n - k)[n - k])
    return torch.kthvalue(values, n - k + 1).values


def _top_k_flat(values: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean vector keeping exactly the k largest of a 1-D tensor; ties go to lower indices."""
    n = values.numel()
    keep = torch.zeros(n, dtype=torch.bool, device=values.device)
    if k <= 0:
        return keep
    if k >= n:
        return ~keep
    threshold = _kth_largest(values, k).to(values.device)
    keep = values > threshold
    missing = k - int(keep.sum())
    if missing > 0:
        tied = torch.nonzero(values == threshold).flatten()[:missing]
        keep[tied] = True
    return keep


class AliveWeights:
    """The surviving weights of each layer as flat index tensors, narrowed round by round.

    Holding indices (not masks) makes a pruning round cost O(alive) gathers and one k-th value
    over the alive scores, plus an O(N) fill when a mask is asked for.
    """

    def __init__(self, alive: Mapping[str, torch.Tensor]):
        self.shapes = {n: a.shape for n, a in alive.items()}
        self.index = {n: torch.nonzero(a.reshape(-1)).flatten() for n, a in alive.items()}

    def mask(self) -> Mask:
        """The current survivors as a mask (dict name -> bool tensor)."""
        out = {}
        for n, i in self.index.items():
            m = torch.zeros(math.prod(self.shapes[n]), dtype=torch.bool, device=i.device)
            out[n] = m.index_fill_(0, i, True).reshape(self.shapes[n])
        return out

    def _values(self, scores, name: str, method: str) -> torch.Tensor:
        values = scores[name].reshape(-1)[self.index[name]]
        _check_finite(values, method, name)
        return values

    def keep_global(self, scores: Mapping[str, torch.Tensor], keep: int,
                    method: str = "scores") -> None:
        """Keep the ``keep`` highest-scoring survivors over all layers together."""
        values = [self._values(scores, n, method) for n in self.index]
        chosen = torch.split(_top_k_flat(torch.cat(values), keep), [len(v) for v in values])
        self.index = {n: i[c] for (n, i), c in zip(self.index.items(), chosen)}

    def keep_per_layer(self, scores: Mapping[str, torch.Tensor], keep: Mapping[str, int],
                       method: str = "scores") -> None:
        """Keep ``keep[name]`` highest-scoring survivors inside each layer separately."""
        self.index = {n: i[_top_k_flat(self._values(scores, n, method), keep[n])]
                      for n, i in self.index.items()}


def select_global(scores: Mapping[str, torch.Tensor], alive: Mapping[str, torch.Tensor],
                  keep: int, method: str = "scores") -> Mask:
    """Mask keeping the ``keep`` highest-scoring alive weights over all layers together.

    scores, alive: dicts name -> tensor of the parameter's shape (float scores, bool mask).
    """
    weights = AliveWeights(alive)
    weights.keep_global(scores, keep, method)
    return weights.mask()


def select_per_layer(scores: Mapping[str, torch.Tensor], alive: Mapping[str, torch.Tensor],
                     keep: Mapping[str, int], method: str = "scores") -> Mask:
    """Mask keeping ``keep[name]`` highest-scoring alive weights inside each layer."""
    weights = AliveWeights(alive)
    weights.keep_per_layer(scores, keep, method)
    return weights.mask()


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

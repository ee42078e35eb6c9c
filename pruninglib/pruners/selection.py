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
    """Raise FloatingPointError unless every value is finite (one summation pass when all are:
    a finite sum implies finite terms; only a non-finite sum is looked at element-wise)."""
    if values.numel() and bool(torch.isfinite(values.sum())):
        return
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
    if values.device.type == "cpu":
        return torch.from_numpy(_top_k_numpy(values.numpy(), k))
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


def _top_k_numpy(values: np.ndarray, k: int, scratch: np.ndarray | None = None
                 ) -> np.ndarray:
    """:func:`_top_k_flat` on a numpy vector (numpy's comparisons, counts and nonzero are
    several times faster than torch's on the CPU). ``scratch``: a buffer at least as long as
    ``values`` (same dtype) to partition in place instead of allocating a copy."""
    n = len(values)
    if k <= 0:
        return np.zeros(n, dtype=bool)
    if k >= n:
        return np.ones(n, dtype=bool)
    if scratch is not None and scratch.dtype == values.dtype and len(scratch) >= n:
        work = scratch[:n]
        np.copyto(work, values)
        work.partition(n - k)
    else:
        work = np.partition(values, n - k)
    threshold = work[n - k]
    keep = values > threshold
    missing = k - int(np.count_nonzero(keep))
    if missing > 0:
        keep[np.flatnonzero(values == threshold)[:missing]] = True
    return keep


class AliveWeights:
    """The surviving weights of each layer as flat index arrays, narrowed round by round.

    Holding indices (not masks) makes a pruning round cost O(alive) gathers and one k-th value
    over the alive scores only, plus an O(N) fill when a mask is asked for. On the CPU the
    indices are numpy arrays, the survivors' scores are gathered into one buffer that is reused
    (and partitioned in a second one) from round to round, and :meth:`mask` refills the same
    mask tensors in place, so a round allocates nothing of size N.
    """

    def __init__(self, alive: Mapping[str, torch.Tensor]):
        self.shapes = {n: a.shape for n, a in alive.items()}
        self.cpu = all(a.device.type == "cpu" for a in alive.values())
        self.index = {n: torch.nonzero(a.reshape(-1)).flatten() for n, a in alive.items()}
        if self.cpu:
            self.index = {n: i.numpy() for n, i in self.index.items()}
        self._masks: dict[str, torch.Tensor] | None = None
        self._buffers: dict = {}

    def mask(self) -> Mask:
        """The current survivors as a mask (dict name -> bool tensor). On the CPU the same
        tensors are refilled by every call: copy them to keep one round's mask."""
        if not self.cpu:
            out = {}
            for n, i in self.index.items():
                m = torch.zeros(math.prod(self.shapes[n]), dtype=torch.bool, device=i.device)
                out[n] = m.index_fill_(0, i, True).reshape(self.shapes[n])
            return out
        if self._masks is None:
            self._masks = {n: torch.zeros(shape, dtype=torch.bool)
                           for n, shape in self.shapes.items()}
        for n, i in self.index.items():
            flat = self._masks[n].view(-1)
            flat.zero_()
            flat.index_fill_(0, torch.from_numpy(i), True)
        return dict(self._masks)

    def _buffer(self, name: str, size: int, dtype: torch.dtype) -> torch.Tensor:
        """A reused 1-D buffer of at least ``size`` elements (survivors only shrink)."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.dtype != dtype or len(buffer) < size:
            buffer = torch.empty(size, dtype=dtype)
            self._buffers[name] = buffer
        return buffer[:size]

    def _gather(self, scores: Mapping[str, torch.Tensor], names, method: str
                ) -> torch.Tensor:
        """The survivors' scores of layers ``names``, concatenated in canonical order (the
        dtype ``torch.cat`` would give), in a reused buffer on the CPU."""
        sizes = [len(self.index[n]) for n in names]
        dtype = scores[names[0]].dtype
        for n in names[1:]:
            dtype = torch.promote_types(dtype, scores[n].dtype)
        values = self._buffer("values", sum(sizes), dtype)
        start = 0
        for n, size in zip(names, sizes):
            flat = scores[n].reshape(-1)
            out = values[start:start + size]
            index = torch.from_numpy(self.index[n])
            if flat.dtype == dtype and flat.device.type == "cpu":
                torch.index_select(flat, 0, index, out=out)
            else:
                out.copy_(flat.cpu()[index])
            start += size
        if not (values.numel() and bool(torch.isfinite(values.sum()))):
            start = 0
            for n, size in zip(names, sizes):
                _check_finite(values[start:start + size], method, n)
                start += size
        return values

    def _top_k(self, values: torch.Tensor, keep: int) -> np.ndarray:
        scratch = self._buffer("scratch", len(values), values.dtype)
        return _top_k_numpy(values.numpy(), keep, scratch.numpy())

    def _values(self, scores, name: str, method: str) -> torch.Tensor:
        values = scores[name].reshape(-1)[self.index[name]]
        _check_finite(values, method, name)
        return values

    def keep_global(self, scores: Mapping[str, torch.Tensor], keep: int,
                    method: str = "scores") -> None:
        """Keep the ``keep`` highest-scoring survivors over all layers together."""
        if not self.cpu:
            values = [self._values(scores, n, method) for n in self.index]
            chosen = torch.split(_top_k_flat(torch.cat(values), keep), [len(v) for v in values])
            self.index = {n: i[c] for (n, i), c in zip(self.index.items(), chosen)}
            return
        names = list(self.index)
        chosen = self._top_k(self._gather(scores, names, method), keep)
        start = 0
        for n in names:
            size = len(self.index[n])
            self.index[n] = self.index[n].take(np.flatnonzero(chosen[start:start + size]))
            start += size

    def keep_per_layer(self, scores: Mapping[str, torch.Tensor], keep: Mapping[str, int],
                       method: str = "scores") -> None:
        """Keep ``keep[name]`` highest-scoring survivors inside each layer separately."""
        if not self.cpu:
            self.index = {n: i[_top_k_flat(self._values(scores, n, method), keep[n])]
                          for n, i in self.index.items()}
            return
        for n in list(self.index):
            chosen = self._top_k(self._gather(scores, [n], method), keep[n])
            self.index[n] = self.index[n].take(np.flatnonzero(chosen))


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

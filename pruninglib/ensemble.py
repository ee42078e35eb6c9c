"""Training many networks of one architecture at once, as one batched ("stacked") model.

:func:`train_ensemble` trains M networks that share architecture, data, TrainSpec and so the
number of steps, each with its own initial weights, mask, batch order (its own generator,
including augmentation) and optimiser state. Their parameters and buffers are stacked along a
new leading dimension and one forward pass evaluates all of them: small linear layers as one
batched matrix product (their stacked weights kept transposed, (M, in, out), so that neither
pass copies a transpose) and the layers after them as one call on all members' activations;
convolutions, BatchNorm, large linear layers and the layers after them member by member with
the members' own slices of the stacked weights and running statistics (on the CPU one grouped
convolution is slower than M small ones, and passes over stacked activations larger than the
cache cost more than the calls they save). A
network with a layer this does not know falls back to ``torch.func.functional_call`` under
``torch.vmap``. The loss is the sum of the members' mean losses, so each member's gradient is
that of its own loss; the optimiser (torch's SGD or Adam, elementwise) and the schedule act on
the stacked tensors exactly as they do on one member's, and masks are applied to the stacked
weights and gradients as :func:`train` does.

A member's numbers equal the same network trained alone by :func:`pruninglib.train.train`
up to float32 rounding (batched kernels sum in another order), not bit for bit: that is why
ensembles are opt-in wherever results are stored. Networks with dropout (a global random
stream that vmap cannot split per member as :func:`train` draws it) are refused.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .data import Dataset, batches, num_batches
from .masks import Mask
from .models.layers import Residual
from .train import autocast, make_optimizer, make_scheduler

__all__ = ["train_ensemble", "can_stack", "EnsembleError"]


class EnsembleError(ValueError):
    """These networks cannot be trained as one ensemble (the message says why)."""


def can_stack(models: Sequence[nn.Module]) -> str | None:
    """None if ``models`` can be trained together by :func:`train_ensemble`, else the reason."""
    if not models:
        return "no networks"
    first = models[0]
    layout = [(n, t.shape, t.dtype, t.device) for n, t in
              list(first.named_parameters()) + list(first.named_buffers())]
    for m in models[1:]:
        if type(m) is not type(first):
            return "the networks are of different types"
        other = [(n, t.shape, t.dtype, t.device) for n, t in
                 list(m.named_parameters()) + list(m.named_buffers())]
        if other != layout:
            return "the networks' parameters or buffers differ in name, shape, dtype or device"
    for module in first.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd) and module.p > 0:
            return "the network has dropout (its random stream cannot be split per member)"
    return None


BATCHED_LINEAR_BYTES = 1 << 20
"""Linear layers whose M stacked weights take at most this many bytes run as one batched
product; larger ones run member by member: on the CPU, passes over stacked tensors larger than
the cache cost more than the calls they save (measured: LeNet-300-100's 784 x 300 layer,
15 members, is slower batched)."""

_POINTWISE = (nn.ReLU, nn.Tanh, nn.ELU, nn.SELU, nn.GELU, nn.SiLU, nn.LeakyReLU, nn.Identity,
              nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d, nn.AdaptiveAvgPool1d,
              nn.AdaptiveAvgPool2d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d,
              nn.Dropout)
"""Parameter-free layers that act on each sample alone: applied once to all members'
activations, (M, B, ...) seen as (M * B, ...)."""


def _groupable(model: nn.Module) -> bool:
    """Whether the grouped forward of :class:`_Stack` knows every layer of ``model``."""
    if not isinstance(model, nn.Sequential):
        return False
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            if m.padding_mode != "zeros":
                return False
        elif type(m) is Residual or isinstance(
                m, (nn.Sequential, nn.Linear, nn.modules.batchnorm._BatchNorm, nn.Flatten)):
            continue
        elif not isinstance(m, _POINTWISE) or any(True for _ in m.parameters(recurse=False)):
            return False
    return True


class _Stack:
    """The parameters and buffers of M networks of one architecture, stacked along a new first
    dimension, and the forward pass of all M at once (see the module's docstring)."""

    def __init__(self, models: Sequence[nn.Module]):
        self.size = len(models)
        first = models[0]
        self.grouped = _groupable(first)
        self.transposed: set[str] = set()  # stacked linear weights held as (M, in, out)
        if self.grouped:
            linear = {f"{n}.weight" if n else "weight" for n, m in first.named_modules()
                      if isinstance(m, nn.Linear)
                      and self.size * m.weight.numel() * m.weight.element_size()
                      <= BATCHED_LINEAR_BYTES}
            self.params = {}
            for n, _ in first.named_parameters():
                tensors = [dict(m.named_parameters())[n].detach() for m in models]
                if n in linear:
                    tensors = [t.t() for t in tensors]
                    self.transposed.add(n)
                self.params[n] = torch.stack(tensors).contiguous().requires_grad_()
            self.buffers = {n: torch.stack([dict(m.named_buffers())[n] for m in models])
                            for n, _ in first.named_buffers()}
        else:
            self.params, self.buffers = torch.func.stack_module_state(models)
        self.module = copy.deepcopy(first).to("meta")  # the layout only, never its tensors

        def one(p, b, x):
            return torch.func.functional_call(self.module, (p, b), (x,))
        self._vmapped = torch.vmap(one, in_dims=(0, 0, 0))
        self._vmapped_shared = torch.vmap(one, in_dims=(0, 0, None))

    def train(self, mode: bool = True) -> None:
        self.module.train(mode)

    def __call__(self, x: torch.Tensor, shared: bool = False) -> torch.Tensor:
        """Logits (M, B, classes) of inputs (M, B, ...), or of one batch (B, ...) given to
        every member (``shared``)."""
        if not self.grouped:
            return (self._vmapped_shared if shared else self._vmapped)(
                self.params, self.buffers, x)
        out = self._run(self.module, [x] * self.size if shared else x, "")
        return torch.stack(out) if isinstance(out, list) else out

    def layout(self, name: str, tensor: torch.Tensor) -> torch.Tensor:
        """A member's tensor for parameter ``name`` in its stacked layout."""
        return tensor.t() if name in self.transposed else tensor

    # Activations travel either stacked, one (M, B, ...) tensor (into and out of linear layers,
    # which run as one batched product), or as a list of the M members' (B, ...) tensors
    # (through convolutions and BatchNorm, which run member by member, and the layers after
    # them, so that each member's activations are used while they are still in the cache).
    def _members(self, x) -> list[torch.Tensor]:
        return x if isinstance(x, list) else list(x.unbind(0))

    def _stacked(self, x) -> torch.Tensor:
        return torch.stack(x) if isinstance(x, list) else x

    def _slices(self, name: str) -> list[torch.Tensor | None]:
        tensor = self.params.get(name, self.buffers.get(name))
        return [None] * self.size if tensor is None else list(tensor.unbind(0))

    def _run(self, module: nn.Module, x, prefix: str):
        if isinstance(module, nn.Sequential):
            for name, child in module.named_children():
                x = self._run(child, x, f"{prefix}{name}.")
            return x
        if type(module) is Residual:  # post(shortcut(x) + scale * branch(x)), in that order
            branch = self._run(module.branch, x, prefix + "branch.")
            branch = ([module.scale * t for t in branch] if isinstance(branch, list)
                      else module.scale * branch)
            shortcut = self._run(module.shortcut, x, prefix + "shortcut.")
            if isinstance(branch, list) or isinstance(shortcut, list):
                total = [s + t for s, t in zip(self._members(shortcut),
                                               self._members(branch))]
            else:
                total = shortcut + branch
            return self._run(module.post, total, prefix + "post.")
        if isinstance(module, nn.Linear):
            if prefix + "weight" not in self.transposed:  # a large layer: member by member
                return [F.linear(xi, w, b) for xi, w, b in zip(
                    self._members(x), self._slices(prefix + "weight"),
                    self._slices(prefix + "bias"))]
            x = self._stacked(x)
            weight, bias = self.params[prefix + "weight"], self.params.get(prefix + "bias")
            if bias is None:
                return torch.bmm(x, weight)
            return torch.baddbmm(bias.unsqueeze(1), x, weight)
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            conv = F.conv1d if isinstance(module, nn.Conv1d) else F.conv2d
            return [conv(xi, w, b, module.stride, module.padding, module.dilation,
                         module.groups)
                    for xi, w, b in zip(self._members(x), self._slices(prefix + "weight"),
                                        self._slices(prefix + "bias"))]
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            return self._batchnorm(module, self._members(x), prefix)
        if isinstance(module, nn.Flatten):
            if isinstance(x, list):
                return [module(t) for t in x]
            start = module.start_dim + 1 if module.start_dim >= 0 else module.start_dim
            end = module.end_dim + 1 if module.end_dim >= 0 else module.end_dim
            return x.flatten(start, end)
        if isinstance(x, list):
            return [module(t) for t in x]
        return module(x.flatten(0, 1)).unflatten(0, (self.size, -1))

    def _batchnorm(self, module, x: list[torch.Tensor], prefix: str) -> list[torch.Tensor]:
        """nn.BatchNorm's forward, member by member, on the stacked statistics."""
        factor = 0.0 if module.momentum is None else module.momentum
        if module.training and module.track_running_stats:
            tracked = self.buffers[prefix + "num_batches_tracked"]
            tracked.add_(1)
            if module.momentum is None:
                factor = 1.0 / float(tracked[0])
        means, variances = self._slices(prefix + "running_mean"), self._slices(
            prefix + "running_var")
        training = module.training or (means[0] is None and variances[0] is None)
        if module.training and not module.track_running_stats:
            means = variances = [None] * self.size
        return [F.batch_norm(t, mean, var, w, b, training, factor, module.eps)
                for t, mean, var, w, b in zip(x, means, variances,
                                              self._slices(prefix + "weight"),
                                              self._slices(prefix + "bias"))]

    @torch.no_grad()
    def unstack(self, models: Sequence[nn.Module]) -> None:
        """Copy member i's slice of the stacked tensors back into ``models[i]``."""
        for i, model in enumerate(models):
            named = dict(model.named_parameters())
            named.update(dict(model.named_buffers()))
            for n, t in list(self.params.items()) + list(self.buffers.items()):
                named[n].copy_(self.layout(n, t[i]))

    def stacked_masks(self, masks: Sequence[Mask | None]) -> dict[str, torch.Tensor]:
        """name -> stacked float mask in the stacked layout, for every weight some member
        masks (members without a mask for it get ones)."""
        names: list[str] = []
        for mask in masks:
            for n in mask or {}:
                if n not in names:
                    names.append(n)
        out = {}
        for n in names:
            p = self.params[n]
            ones = torch.ones_like(p[0])
            out[n] = torch.stack([
                (self.layout(n, mask[n].to(p.device, p.dtype))
                 if mask is not None and n in mask else ones) for mask in masks])
        return out


def train_ensemble(models: Sequence[nn.Module], data: Dataset, spec, *,
                   generators: Sequence[torch.Generator],
                   masks: Sequence[Mask | None] | None = None, augment: bool = False,
                   progress: bool = True, desc: str = "ensemble",
                   on_step: Callable[[list[float]], None] | None = None
                   ) -> list[list[dict]]:
    """Train ``models`` (M networks of one architecture) in place together for
    ``spec.epochs`` (a TrainSpec); return one history per member, as :func:`train` returns.

    generators: one per member, its batch order (and augmentation) stream, used exactly as
    :func:`train` uses its ``generator``. masks: one per member (or None): pruned weights are
    zeroed before training and their gradients before every step, which keeps them exactly
    zero (see :func:`train`). on_step: called after every step with the members' losses.

    Each history's ``seconds`` is the member's share of the ensemble's wall time (the epoch's
    time divided by M), so that summing over runs still gives the time spent.
    """
    models = list(models)
    reason = can_stack(models)
    if reason is not None:
        raise EnsembleError(f"cannot train these {len(models)} networks together: {reason}")
    if getattr(spec, "channels_last", False):
        raise EnsembleError("ensembles train in the default memory layout: "
                            "train.channels_last must be False")
    size = len(models)
    masks = list(masks) if masks is not None else [None] * size
    if len(generators) != size or len(masks) != size:
        raise EnsembleError("one generator and one mask (or None) per network are needed")
    device = next(models[0].parameters()).device

    stack = _Stack(models)
    params = stack.params
    stacked_masks = stack.stacked_masks(masks)
    with torch.no_grad():
        for n, m in stacked_masks.items():
            params[n].mul_(m)

    optimizer = make_optimizer(params.values(), spec)
    steps = num_batches(len(data.train_x), spec.batch_size, drop_last=False)
    scheduler = make_scheduler(optimizer, spec, steps)
    masked = [(params[n], m) for n, m in stacked_masks.items()]

    histories: list[list[dict]] = [[] for _ in range(size)]
    bar = tqdm(total=spec.epochs * steps, desc=desc, disable=not progress, mininterval=2.0,
               unit="step", leave=False)
    for epoch in range(1, spec.epochs + 1):
        start = time.perf_counter()
        stack.train()
        loss_sum = torch.zeros(size, dtype=torch.float64)
        correct = torch.zeros(size, dtype=torch.long)
        seen = 0
        streams = [batches(data.train_x, data.train_y, spec.batch_size, generator=g,
                           shuffle=True, augment=augment) for g in generators]
        for pairs in zip(*streams):
            xb = torch.stack([x for x, _ in pairs])
            yb = torch.stack([y for _, y in pairs])
            with autocast(spec.bf16, device):
                logits = stack(xb)
            per_sample = F.cross_entropy(logits.float().flatten(0, 1), yb.flatten(),
                                         label_smoothing=spec.label_smoothing,
                                         reduction="none")
            losses = per_sample.view(size, -1).mean(1)
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            with torch.no_grad():
                for p, m in masked:
                    p.grad.mul_(m)
            optimizer.step()  # pruned weights stay ±0, as in train()
            scheduler.step()
            detached = losses.detach()
            loss_sum += detached.double().cpu() * yb.shape[1]
            correct += (logits.detach().argmax(-1) == yb).sum(1).cpu()
            seen += yb.shape[1]
            if on_step is not None:
                on_step(detached.tolist())
            bar.update(1)
        test_loss, test_acc = _evaluate(stack, data, spec.bf16)
        seconds = (time.perf_counter() - start) / size
        lr = optimizer.param_groups[0]["lr"]
        for i in range(size):
            histories[i].append({"epoch": epoch, "lr": lr,
                                 "train_loss": float(loss_sum[i]) / seen,
                                 "train_accuracy": int(correct[i]) / seen,
                                 "test_loss": test_loss[i], "test_accuracy": test_acc[i],
                                 "seconds": seconds})
    bar.close()
    stack.unstack(models)
    return histories


@torch.no_grad()
def _evaluate(stack: _Stack, data: Dataset, bf16: bool, batch_size: int = 1000
              ) -> tuple[list[float], list[float]]:
    """Every member's (mean cross-entropy, accuracy) on the test set, eval mode."""
    stack.train(False)
    size = stack.size
    x, y = data.test_x, data.test_y
    loss = torch.zeros(size, dtype=torch.float64)
    correct = torch.zeros(size, dtype=torch.long)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        with autocast(bf16, xb.device):
            logits = stack(xb, shared=True)
        per_sample = F.cross_entropy(logits.float().flatten(0, 1), yb.repeat(size),
                                     reduction="none").view(size, -1)
        loss += per_sample.sum(1).double().cpu()
        correct += (logits.argmax(-1) == yb).sum(1).cpu()
    stack.train(True)
    return (loss / len(x)).tolist(), (correct.double() / len(x)).tolist()

"""Training and evaluation of (masked) networks on in-memory tensors.

Deterministic on the CPU for a given seed and thread count: batch order comes from a seeded
generator, and no DataLoader workers are used (COMPUTE.md: in-memory indexing is ~3x faster on
small images). Progress is a plain ``tqdm`` bar (renders in the executed book).
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .data import Dataset, batches, num_batches
from .masks import apply_mask


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> cuda if available else cpu; asking for cuda without a GPU is an error."""
    from .config import ConfigError

    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={device!r} is not allowed: no CUDA GPU is visible here; "
                          f"use 'cpu' or 'auto'")
    if device != "cpu" and not device.startswith("cuda"):
        raise ConfigError(f"device={device!r} is not allowed: 'auto', 'cpu' or 'cuda[:N]'")
    return torch.device(device)


def make_optimizer(model, spec) -> torch.optim.Optimizer:
    """SGD (momentum, nesterov) or Adam over all parameters of ``model`` (a module, or the
    tensors themselves, e.g. an ensemble's stacked ones), from a TrainSpec."""
    params = list(model.parameters()) if isinstance(model, nn.Module) else list(model)
    if spec.optimizer == "sgd":
        return torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum,
                               nesterov=spec.nesterov, weight_decay=spec.weight_decay)
    return torch.optim.Adam(params, lr=spec.lr, weight_decay=spec.weight_decay)


def make_scheduler(optimizer: torch.optim.Optimizer, spec, steps_per_epoch: int):
    """Per-step LR schedule: constant, cosine to 0, or step decay by ``gamma`` at milestones."""
    total = max(1, spec.epochs * steps_per_epoch)
    if spec.schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
    if spec.schedule == "step":
        steps = [round(m * total) for m in spec.milestones]
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, steps, gamma=spec.gamma)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def autocast(enabled: bool, device: torch.device):
    """bfloat16 autocast on ``device`` when ``enabled``, else a context that does nothing."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def memory_format(channels_last: bool, x: torch.Tensor) -> torch.Tensor:
    """``x`` in channels-last layout when ``channels_last`` and it is 4-D (N, C, H, W), else
    ``x`` itself."""
    if channels_last and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000,
             bf16: bool = False, channels_last: bool = False) -> tuple[float, float]:
    """(mean cross-entropy in nats, accuracy in [0, 1]) of ``model`` on (x, y), eval mode;
    ``channels_last``: inputs in that layout (for a model converted to it)."""
    was_training = model.training
    model.eval()
    loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        xb = memory_format(channels_last, xb)
        with autocast(bf16, xb.device):
            logits = model(xb)
        loss += F.cross_entropy(logits.float(), yb, reduction="sum").item()
        correct += (logits.argmax(1) == yb).sum().item()
    model.train(was_training)
    return loss / len(x), correct / len(x)


@torch.no_grad()
def _mask_step(masked: list[tuple[torch.Tensor, torch.Tensor]], grads: bool) -> None:
    """Zero the pruned gradients (``grads``) or weights in place: the same products as
    :func:`~pruninglib.masks.mask_gradients` / :func:`~pruninglib.masks.apply_mask`. A weight
    whose gradient is zeroed stays ±0 through SGD (momentum, nesterov, weight decay) and Adam,
    the same signed zero that multiplying it by the mask again would give."""
    for p, m in masked:
        target = p.grad if grads else p
        if target is not None:
            target.mul_(m)


def train(model: nn.Module, data: Dataset, spec, *, generator: torch.Generator,
          mask: Mapping[str, torch.Tensor] | None = None, augment: bool = False,
          progress: bool = True, desc: str = "train", resume: Mapping | None = None,
          on_epoch: Callable[[dict], None] | None = None,
          before_epoch: Callable[[int], None] | None = None,
          before_step: Callable[[int, int, int], None] | None = None,
          on_step: Callable[[float], None] | None = None) -> list[dict]:
    """Train ``model`` in place for ``spec.epochs`` (a TrainSpec); return one dict per epoch.

    Each dict: epoch, lr (at the epoch's end), train_loss (mean over batches, nats),
    train_accuracy (on the fly, in train mode), test_loss, test_accuracy, seconds (wall time of
    the epoch, evaluation included). With ``mask``, pruned weights are zeroed before training
    and their gradients before every step, so they stay exactly zero under momentum and weight
    decay: SGD and Adam move a weight whose gradient, value and optimiser state are zero by
    exactly zero, so re-zeroing the weights after each step (which an earlier version did)
    would change no bit and is skipped.

    on_epoch: called after every epoch with a dict: epoch (done so far), history (list so far),
    optimizer and scheduler (the live objects), e.g. to save a checkpoint.
    before_epoch: called with the epoch number (1-based) before that epoch's first step, e.g.
    to set a schedule of the model's own (:class:`pruninglib.tost.Ghosts`); it must depend on
    the epoch number only, so that a resumed run sees the same schedule.
    before_step: called before every training step with (epoch, step, steps): the epoch
    (1-based), the step's index in it (0-based) and the steps per epoch, e.g. to anneal a
    schedule step by step (:meth:`pruninglib.tricks.Ghosts.set_step`); the same rule holds.
    resume: continue an interrupted training from such a point: a dict with epoch, history,
    optimizer and scheduler (their ``state_dict()``s); the caller restores the model's weights
    and ``generator``'s state to that point. The result is identical to an uninterrupted run.
    on_step: called after every optimiser step with the batch's loss (a float).

    With ``spec.channels_last`` the model trains in channels-last layout and is returned in
    the default layout (same values).
    """
    device = next(model.parameters()).device
    channels_last = getattr(spec, "channels_last", False)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, spec)
    steps = num_batches(len(data.train_x), spec.batch_size, drop_last=False)
    scheduler = make_scheduler(optimizer, spec, steps)
    masked = []
    if mask is not None:
        apply_mask(model, mask)
        # the masks as (parameter, float mask) once, not converted again at every step
        named = dict(model.named_parameters())
        masked = [(named[n], m.to(named[n].device, named[n].dtype)) for n, m in mask.items()]
    history, first = [], 1
    if resume is not None:
        optimizer.load_state_dict(resume["optimizer"])
        scheduler.load_state_dict(resume["scheduler"])
        history, first = [dict(h) for h in resume["history"]], int(resume["epoch"]) + 1
    bar = tqdm(total=spec.epochs * steps, initial=(first - 1) * steps, desc=desc,
               disable=not progress, mininterval=2.0, unit="step", leave=False)
    for epoch in range(first, spec.epochs + 1):
        start = time.perf_counter()
        if before_epoch is not None:
            before_epoch(epoch)
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for step, (xb, yb) in enumerate(batches(data.train_x, data.train_y, spec.batch_size,
                                                generator=generator, shuffle=True,
                                                augment=augment)):
            if before_step is not None:
                before_step(epoch, step, steps)
            xb = memory_format(channels_last, xb)
            with autocast(spec.bf16, device):
                logits = model(xb)
            loss = F.cross_entropy(logits.float(), yb, label_smoothing=spec.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if masked:
                _mask_step(masked, grads=True)
            optimizer.step()  # moves a weight with zero gradient and state by exactly 0
            scheduler.step()
            value = loss.item()
            loss_sum += value * len(yb)
            if on_step is not None:
                on_step(value)
            correct += (logits.argmax(1) == yb).sum().item()
            seen += len(yb)
            bar.update(1)
        test_loss, test_acc = evaluate(model, data.test_x, data.test_y, bf16=spec.bf16,
                                       channels_last=channels_last)
        history.append({"epoch": epoch, "lr": optimizer.param_groups[0]["lr"],
                        "train_loss": loss_sum / seen, "train_accuracy": correct / seen,
                        "test_loss": test_loss, "test_accuracy": test_acc,
                        "seconds": time.perf_counter() - start})
        bar.set_postfix(test_acc=f"{test_acc:.3f}")
        if on_epoch is not None:
            on_epoch({"epoch": epoch, "history": history, "optimizer": optimizer,
                      "scheduler": scheduler})
    bar.close()
    if channels_last:
        model.to(memory_format=torch.contiguous_format)
    return history

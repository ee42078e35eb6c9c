"""ToST (Jaiswal et al. 2022): training tricks for a pruned network whose mask stays fixed.

The tricks of a :class:`~pruninglib.config.ToSTSpec`, applied by
:func:`pruninglib.experiments.run` between pruning and training:

* **ghost neurons** (:class:`GhostActivation`): every ``nn.ReLU`` of the model is replaced by a
  smooth activation (SiLU = Swish, or Mish) for the first ``ghost_activation_epochs`` epochs,
  then by ReLU again. The released code (``soft_activation/``) never switches back: it trains
  the whole run with the smooth activation (``ghost_activation_epochs=None`` here).
* **ghost skips** (:class:`GhostSkip`): a 1x1 conv (+ BatchNorm when the unit has one) in
  parallel with every conv unit (kernel > 1) but the first, added as
  ``unit(x) + alpha * BN(conv1x1(x))`` as in ``skip_connection/models/resnet_modified2.py``
  (1x1 weights initialised to the constant 1e-4). In a fully-connected net the 1x1 conv is a
  full linear map (out x in) beside every linear unit but the first and the classifier, our
  extension of the trick to residual MLPs. alpha falls linearly from 1 to 0 over
  ``ghost_skip_epochs`` epochs, a little at every training step (:func:`ghost_alpha`; the
  schedule is not in the released code, whose alpha stays 1); with alpha = 0 the branch is
  not computed, and :meth:`Ghosts.remove`
  deletes it, so the evaluated net is the plain sparse net. Ghost parameters are never
  pruned. With BatchNorm the constant init does not make the branch small (BatchNorm
  normalises it): alpha does.
* **GradInit-style layer scales** (:func:`gradinit`): one learned scale per weight tensor of
  the masked net, as ToST's ``LRsI/`` uses GradInit (Zhu et al. 2021).
* label smoothing and fan-in rescaling are ``TrainSpec.label_smoothing`` and
  ``PruneSpec(rescale="fan_in")``; :func:`label_smoothing_for` converts ToST's smoothing to
  torch's convention.

The schedules are functions of the training position only (the epoch, and the step within
it: :class:`Ghosts` is driven by ``train(..., before_epoch=ghosts.set_epoch,
before_step=ghosts.set_step)``), so a run resumed from a checkpoint sees the same schedule.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from .config import ConfigError, ToSTSpec

SMOOTH_ACTIVATIONS: dict[str, type[nn.Module]] = {"silu": nn.SiLU, "mish": nn.Mish}
"""``ToSTSpec.ghost_activation`` -> the smooth activation used while the ghosts are on."""

GHOST_INIT = 1e-4
"""Constant initial value of every ghost 1x1 weight (the released code's)."""

_CONVS = (nn.Conv1d, nn.Conv2d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
_LAYERS = (nn.Linear, *_CONVS)


# -- schedules ----------------------------------------------------------------------------
def smooth_active(spec: ToSTSpec, epoch: int) -> bool:
    """Whether epoch ``epoch`` (1-based) trains with the smooth activation."""
    if spec.ghost_activation == "none":
        return False
    return spec.ghost_activation_epochs is None or epoch <= spec.ghost_activation_epochs


def ghost_alpha(spec: ToSTSpec, epoch: int, step: int = 0, steps: int = 1) -> float:
    """Scale of the ghost skips at step ``step`` (0-based) of ``steps`` in epoch ``epoch``
    (1-based): 1 - t / K at training position t = epoch - 1 + step / steps (in epochs) while
    epoch <= K = ``ghost_skip_epochs``, so alpha falls linearly, step by step, from 1 at the
    first step to 1 / (K steps) at the last step of epoch K; 0 afterwards and when K = 0.
    With the default step 0 it is the value at an epoch's first step."""
    k = spec.ghost_skip_epochs
    if not 0 <= step < steps:
        raise ValueError(f"step={step!r} is not allowed: 0 <= step < steps = {steps}")
    return 1.0 - (epoch - 1 + step / steps) / k if 0 < k and epoch <= k else 0.0


def label_smoothing_for(alpha: float, num_classes: int) -> float:
    """torch's ``label_smoothing`` that gives ToST's smoothed targets.

    ToST's code puts 1 - alpha on the true class and alpha / (C - 1) on each other class;
    torch's smoothing eps puts 1 - eps + eps / C and eps / C, equal for eps = alpha C / (C - 1)
    (0.111 for alpha = 0.1, C = 10).
    """
    return alpha * num_classes / (num_classes - 1)


# -- modules ------------------------------------------------------------------------------
class GhostActivation(nn.Module):
    """ReLU's stand-in: the smooth activation while ``smooth`` is True, ReLU after."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.fn = SMOOTH_ACTIVATIONS[kind]()
        self.smooth = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) if self.smooth else F.relu(x)

    def extra_repr(self) -> str:
        return f"{self.kind if self.smooth else 'relu'}"


class GhostSkip(nn.Module):
    """alpha * norm(conv1x1(x)), added to the output of one unit (a conv or linear layer, then
    BatchNorm if there is one) whose input is x: (B, C_in, *S) -> (B, C_out, *S') with the
    conv's stride, or (B, n_in) -> (B, n_out) by a linear map for a linear unit.

    Installed with forward hooks (:meth:`remember` on the unit's layer, :meth:`add` on its last
    module); while ``alpha`` is 0 the hooks do nothing and the branch is not computed.
    """

    def __init__(self, layer: nn.Module, batchnorm: bool) -> None:
        super().__init__()
        if isinstance(layer, nn.Linear):
            self.conv = nn.Linear(layer.in_features, layer.out_features, bias=False)
            norm, n_out = nn.BatchNorm1d, layer.out_features
        else:
            dim = 1 if isinstance(layer, nn.Conv1d) else 2
            self.conv = _CONVS[dim - 1](layer.in_channels, layer.out_channels, 1,
                                        stride=layer.stride, bias=False)
            norm, n_out = _NORMS[dim - 1], layer.out_channels
        nn.init.constant_(self.conv.weight, GHOST_INIT)
        self.norm = norm(n_out) if batchnorm else nn.Identity()
        self.to(layer.weight.device)
        self.train(layer.training)
        self.alpha = 0.0
        self._x: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))

    def remember(self, module: nn.Module, args: tuple) -> None:
        if self.alpha:
            self._x = args[0]

    def add(self, module: nn.Module, args: tuple, output: torch.Tensor):
        if not self.alpha:
            return None
        x, self._x = self._x, None
        return output + self.alpha * self(x)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:.4g}"


def _relu_sites(model: nn.Module) -> list[tuple[nn.Module, str]]:
    return [(parent, name) for parent in model.modules()
            for name, child in parent.named_children() if type(child) is nn.ReLU]


def _ghost_units(model: nn.Module) -> list[tuple[nn.Module, nn.Module]]:
    """(layer, last module of its unit) for every conv with kernel > 1 and every linear layer
    but the model's first conv / linear layer and its classifier; the unit's last module is
    the BatchNorm right after the layer, else the layer."""
    layers = [m for m in model.modules() if isinstance(m, _LAYERS)]
    skip = {id(layers[0]), id(getattr(model, "classifier", None))} if layers else set()
    units = []
    for parent in model.modules():
        children = list(parent.children())
        for index, child in enumerate(children):
            if not isinstance(child, _LAYERS) or id(child) in skip or (
                    isinstance(child, _CONVS) and max(child.kernel_size) == 1):
                continue
            after = children[index + 1] if index + 1 < len(children) else None
            units.append((child, after if isinstance(after, _NORMS) else child))
    return units


class Ghosts:
    """The ghost neurons and ghost skips of ``spec``, installed on ``model`` in place.

    :meth:`set_epoch` puts the model in a given epoch's state (activation, alpha at its
    first step), :meth:`set_step` sets alpha for one training step;
    :meth:`remove` leaves the plain network: ReLU back (or the smooth activation if it never
    switched), ghost skips and their hooks gone. Installs nothing when both tricks are off.
    Raises ConfigError if the model has no ReLU (ghost neurons) or no eligible conv unit
    (ghost skips). Modules are visited in ``model.modules()`` order, so a model must register
    its layers in forward order (every model of :mod:`pruninglib.models` does).
    """

    def __init__(self, model: nn.Module, spec: ToSTSpec) -> None:
        self.spec = spec
        self.activations: list[tuple[nn.Module, str, GhostActivation]] = []
        self.skips: list[tuple[nn.Module, GhostSkip]] = []
        self._handles = []
        if spec.ghost_activation != "none":
            sites = _relu_sites(model)
            if not sites:
                raise ConfigError(f"tost.ghost_activation={spec.ghost_activation!r} is not "
                                  f"allowed: 'none' for a model without nn.ReLU layers")
            for parent, name in sites:
                ghost = GhostActivation(spec.ghost_activation)
                setattr(parent, name, ghost)
                self.activations.append((parent, name, ghost))
        if spec.ghost_skip_epochs:
            units = _ghost_units(model)
            if not units:
                raise ConfigError(f"tost.ghost_skip_epochs={spec.ghost_skip_epochs!r} is not "
                                  f"allowed: 0 for a model without a conv (kernel > 1) or "
                                  f"linear layer between its first layer and its classifier")
            for layer, last in units:
                ghost = GhostSkip(layer, batchnorm=last is not layer)
                layer.add_module("ghost_skip", ghost)
                self._handles += [layer.register_forward_pre_hook(ghost.remember),
                                  last.register_forward_hook(ghost.add)]
                self.skips.append((layer, ghost))
        self.set_epoch(1)

    def set_epoch(self, epoch: int) -> None:
        """State of epoch ``epoch`` (1-based): :func:`smooth_active`, and :func:`ghost_alpha`
        at its first step."""
        smooth = smooth_active(self.spec, epoch)
        for _, _, ghost in self.activations:
            ghost.smooth = smooth
        self.set_step(epoch, 0, 1)

    def set_step(self, epoch: int, step: int, steps: int) -> None:
        """alpha of step ``step`` (0-based) of ``steps`` in epoch ``epoch`` (1-based), as
        :func:`ghost_alpha` gives it (the activation switches per epoch only)."""
        alpha = ghost_alpha(self.spec, epoch, step, steps)
        for _, ghost in self.skips:
            ghost.alpha = alpha

    def remove(self) -> None:
        """Restore the plain network (idempotent)."""
        for parent, name, ghost in self.activations:
            setattr(parent, name, SMOOTH_ACTIVATIONS[ghost.kind]() if ghost.smooth
                    else nn.ReLU())
        for handle in self._handles:
            handle.remove()
        for layer, _ in self.skips:
            del layer.ghost_skip
        self.activations, self.skips, self._handles = [], [], []


# -- GradInit -----------------------------------------------------------------------------
GRADINIT = {"eta": 0.1, "gamma": 1.0, "lr": 1e-2, "min_scale": 0.01, "clip": 1.0}
"""GradInit's hyperparameters, ToST's recommended flags (``--gradinit-alg sgd --gradinit-eta
0.1 --gradinit-gamma 1 --gradinit-normalize-grad --gradinit-lr 1e-2 --gradinit-min-scale 0.01
--gradinit-grad-clip 1``)."""

_SCALED = (nn.Linear, *_CONVS, *_NORMS)


def gradinit(model: nn.Module, mask: Mapping[str, torch.Tensor], x: torch.Tensor,
             y: torch.Tensor, *, steps: int, batch_size: int,
             generator: torch.Generator) -> dict[str, float]:
    """Learn one scale s_l per weight tensor (conv, linear, BatchNorm gamma) of the masked
    ``model`` by GradInit's SGD variant, multiply the weights by it in place, return {name: s}.

    Step: on batches A, B, C of ``batch_size`` images drawn from (x, y) with ``generator``,
    g = grad of the loss on A+B at theta = s * theta_0 (pruned entries of g zeroed, so the mask
    holds); if |g| > gamma, take an Adam step on s that lowers |g|; else one that lowers
    L(theta - eta g / |g|) / eta on A+C. s is clipped to >= min_scale (:data:`GRADINIT`).
    BatchNorm uses batch statistics; running statistics are left as they were. Pruned weights
    stay exactly zero. Unlike ToST's ``LRsI/train_ticket.py``, which runs GradInit on the net
    before multiplying in the mask, we scale the masked net (the trick's intent).
    """
    hp = GRADINIT
    params = dict(model.named_parameters())
    scaled = [n for n in (f"{prefix}.weight" if prefix else "weight"
                          for prefix, module in model.named_modules()
                          if isinstance(module, _SCALED)) if n in params]
    theta0 = {n: p.detach().clone().requires_grad_(n not in scaled) for n, p in params.items()}
    keep = {n: mask[n].to(p.dtype) for n, p in params.items() if n in mask}
    scales = torch.ones(len(scaled), device=x.device, requires_grad=True)
    optimizer = torch.optim.Adam([scales], lr=hp["lr"])
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    was_training = model.training
    model.train()

    def loss_at(theta: dict, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(torch.func.functional_call(model, theta, (xb,)), yb)

    for _ in range(steps):
        a, b, c = torch.randint(len(x), (3, batch_size), generator=generator).to(x.device)
        theta = dict(theta0)
        for i, n in enumerate(scaled):
            theta[n] = scales[i] * theta0[n]
        ab = torch.cat([a, b])
        grads = torch.autograd.grad(loss_at(theta, x[ab], y[ab]), list(theta.values()),
                                    create_graph=True)
        grads = [g * keep[n] if n in keep else g for n, g in zip(theta, grads)]
        norm = torch.sqrt(sum((g * g).sum() for g in grads)).clamp_min(1e-12)
        if norm.item() > hp["gamma"]:
            objective = norm
        else:
            moved = {n: t - hp["eta"] * g / norm for (n, t), g in zip(theta.items(), grads)}
            ac = torch.cat([a, c])
            objective = loss_at(moved, x[ac], y[ac]) / hp["eta"]
        optimizer.zero_grad()
        objective.backward()
        torch.nn.utils.clip_grad_norm_([scales], hp["clip"])
        optimizer.step()
        with torch.no_grad():
            scales.clamp_(min=hp["min_scale"])

    with torch.no_grad():
        for i, n in enumerate(scaled):
            params[n].mul_(scales[i])
        for n, b in model.named_buffers():
            b.copy_(buffers[n])
    model.train(was_training)
    return {n: float(s) for n, s in zip(scaled, scales.detach().cpu())}

"""Experiment specifications: frozen, validated dataclasses with a canonical JSON form and hash.

A :class:`RunSpec` bundles everything that changes a result (data, model, pruning, training,
seed). Its hash names the directory the result is stored in, so the spec *is* the cache key.
Anything that does not change the numbers (device, results directory, progress bars) is an
argument of :func:`pruninglib.experiments.run`, not a field here.

Conventions used everywhere in the study:

* **density** d = kept fraction of the prunable weights, in (0, 1];
* **sparsity** = 1 - d;
* **compression ratio** rho = 1 / d (the SynFlow paper plots rho = 10**alpha).

Every constructor validates its fields and raises :class:`ConfigError` with one line that
names the field, the bad value and what is allowed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any


# The names :mod:`pruninglib.data` and :mod:`pruninglib.models` register (a test keeps them
# equal), so that specs validate without importing torch-heavy modules.
DATASET_NAMES = ("fashion_mnist", "mnist", "mnist1d", "cifar10", "cifar100", "synthetic")
SEQUENCE_DATASETS = ("mnist1d",)  # 1-D inputs: no image augmentation
MODEL_NAMES = ("lenet_300_100", "mlp", "resmlp", "conv2", "conv4", "conv6", "vgg11", "vgg16",
               "vgg19", "resnet20", "resnet32", "resnet56", "resnet110", "cnn1d")


class ConfigError(ValueError):
    """A spec field has a value that is not allowed (the message names field, value, allowed)."""


def plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (``np.int64(3)`` -> 3); lists and tuples
    element by element; anything else unchanged."""
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(
            value, "ndim", 1) == 0:
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def _plain_fields(spec) -> None:
    """Replace numpy scalars in the fields of a frozen dataclass by Python numbers."""
    for f in fields(spec):
        value = getattr(spec, f.name)
        converted = plain(value)
        if converted is not value:
            object.__setattr__(spec, f.name, converted)


def fail(owner: str, name: str, value: Any, allowed: str) -> None:
    raise ConfigError(f"{owner}.{name}={value!r} is not allowed: {allowed}")


def check_choice(owner: str, name: str, value: Any, choices) -> None:
    choices = sorted(choices)
    if value not in choices:
        fail(owner, name, value, "one of " + ", ".join(map(str, choices)))


def check_number(owner: str, name: str, value: Any, *, low=None, high=None,
                  low_open=False, high_open=False, integer=False) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or (
            not integer and not math.isfinite(value)):
        fail(owner, name, value, "an integer" if integer else "a finite number")
    lo_ok = low is None or (value > low if low_open else value >= low)
    hi_ok = high is None or (value < high if high_open else value <= high)
    if not (lo_ok and hi_ok):
        lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
        fail(owner, name, value, " and ".join(s for s in (lo, hi) if s))


def check_bool(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, bool):
        fail(owner, name, value, "True or False")


@dataclass(frozen=True)
class DataSpec:
    """Which dataset and which part of it.

    name: a key of ``pruninglib.data.DATASETS`` (fashion_mnist, mnist, mnist1d, cifar10,
        cifar100, synthetic).
    train_subset / test_subset: number of images kept (None = all), drawn once with
        ``subset_seed`` so that every run seed sees the same images.
    augment: random crop (padding 4) and horizontal flip on image batches (CIFAR recipe).
    """

    name: str = "fashion_mnist"
    train_subset: int | None = None
    test_subset: int | None = None
    subset_seed: int = 0
    augment: bool = False

    def __post_init__(self) -> None:
        _plain_fields(self)
        check_choice("data", "name", self.name, DATASET_NAMES)
        for name in ("train_subset", "test_subset"):
            value = getattr(self, name)
            if value is not None:
                check_number("data", name, value, low=1, integer=True)
        check_number("data", "subset_seed", self.subset_seed, low=0, integer=True)
        check_bool("data", "augment", self.augment)
        if self.augment and self.name in SEQUENCE_DATASETS:
            fail("data", "augment", self.augment,
                 f"False for {self.name!r} (crop and flip need images)")


ACTIVATIONS = ("relu", "tanh", "elu", "selu", "gelu", "silu", "leaky_relu", "linear")


@dataclass(frozen=True)
class ModelSpec:
    """Which network and how it is initialised.

    name: a key of ``pruninglib.models.MODELS``.
    width: multiplier on every hidden width / channel count (1.0 = the published size).
    hidden: hidden-layer widths of the ``mlp`` model, input to output (ignored elsewhere: must
        stay empty).
    activation: nonlinearity of ``mlp`` / ``resmlp`` (the CNNs use ReLU).
    sigma_w, sigma_b: if given, weights ~ N(0, sigma_w**2 / fan_in) and biases ~ N(0, sigma_b**2)
        (mean-field / Edge-of-Chaos parameterisation); if None, Kaiming-normal weights
        (fan_in, ReLU gain, i.e. sigma_w = sqrt 2) and zero biases, as the SynFlow code does.
    bias: whether conv / linear layers have biases.
    batchnorm: None = the architecture's default (VGG and ResNet have it, MLPs and Conv-N not).
    stable: ResNets only: scale each residual branch by 1/sqrt(L), L = number of blocks
        (Hayou et al.'s Stable ResNet).
    """

    name: str = "lenet_300_100"
    width: float = 1.0
    hidden: tuple[int, ...] = ()
    activation: str = "relu"
    sigma_w: float | None = None
    sigma_b: float | None = None
    bias: bool = True
    batchnorm: bool | None = None
    stable: bool = False

    def __post_init__(self) -> None:
        _plain_fields(self)
        check_choice("model", "name", self.name, MODEL_NAMES)
        check_number("model", "width", self.width, low=0, low_open=True)
        hidden = tuple(self.hidden)
        object.__setattr__(self, "hidden", hidden)
        if self.name in ("mlp", "resmlp"):
            if not hidden or any(isinstance(h, bool) or not isinstance(h, int) or h < 1
                                 for h in hidden):
                fail("model", "hidden", self.hidden,
                      f"a non-empty tuple of positive integers for model {self.name!r}")
        elif hidden:
            fail("model", "hidden", self.hidden, "empty unless model.name is 'mlp' or 'resmlp'")
        check_choice("model", "activation", self.activation, ACTIVATIONS)
        for name in ("sigma_w", "sigma_b"):
            if getattr(self, name) is not None:
                check_number("model", name, getattr(self, name), low=0)
        check_bool("model", "bias", self.bias)
        if self.batchnorm is not None:
            check_bool("model", "batchnorm", self.batchnorm)
        check_bool("model", "stable", self.stable)
        if self.stable and not (self.name.startswith("resnet") or self.name == "resmlp"):
            fail("model", "stable", self.stable, "True only for resnet* and resmlp models")


PRUNE_METHODS = ("dense", "random", "magnitude", "snip", "grasp", "synflow",
                 "uniform", "erk", "smart_ratio", "imp")
"""dense: no pruning. random: N(0,1) scores, global threshold (SynFlow code's Rand).
magnitude / snip / grasp / synflow: scores at initialisation (see ``pruners.scores``).
uniform / erk / smart_ratio: random masks with prescribed layer densities.
imp: iterative magnitude pruning after training with rewinding to initialisation."""

SCOPES = ("global", "layerwise")
SCHEDULES = ("exponential", "linear")
BN_MODES = ("eval", "train", "none")
RESCALE = ("none", "fan_in")
SYNFLOW_PRECISIONS = ("float64", "float32")


@dataclass(frozen=True)
class PruneSpec:
    """How the mask is found.

    method: one of ``PRUNE_METHODS``.
    density: kept fraction of prunable weights, in (0, 1]; 1.0 with method 'dense'.
    scope: 'global' ranks all prunable weights together; 'layerwise' keeps ``density`` of
        every layer.
    iterations: scoring rounds (None = the method's default: 100 for synflow, 1 otherwise;
        for 'imp' the number of train-prune-rewind rounds, default 5).
    schedule: density after round k of n: 'exponential' d**(k/n), 'linear' 1-(1-d)k/n.
    samples_per_class: class-balanced images used by SNIP and GraSP scores.
    bn_mode: BatchNorm mode while scoring ('eval' as the SynFlow code, 'train' as GraSP's;
        'none' scores a copy without BatchNorm, as Hayou et al.'s code does for SBP-SR, and the
        mask is then trained with the BatchNorm layers in place).
    include_classifier: whether the last linear layer is prunable.
    grasp_temperature: softmax temperature T of GraSP (200 in both reference codes).
    shuffle: re-draw the kept positions uniformly at random inside each layer (same count).
    reinit: re-sample the surviving weights from the initialisation distribution.
    invert: keep the lowest-scoring weights instead of the highest.
    rescale: 'fan_in' restores each unit's incoming squared norm to its dense value after
        pruning (Hayou et al.'s rescaling trick, paper's intent); 'none' keeps weights as they are.
    synflow_precision: 'float64' (default; every stored SynFlow mask used it) or 'float32'
        (about 2x faster on the CPU, without overflow; masks may differ in near-tied scores).
        Left out of the run's key at its default, so earlier keys do not change.
    """

    method: str = "dense"
    density: float = 1.0
    scope: str = "global"
    iterations: int | None = None
    schedule: str = "exponential"
    samples_per_class: int = 10
    bn_mode: str = "eval"
    include_classifier: bool = True
    grasp_temperature: float = 200.0
    shuffle: bool = False
    reinit: bool = False
    invert: bool = False
    rescale: str = "none"
    synflow_precision: str = "float64"

    def __post_init__(self) -> None:
        _plain_fields(self)
        check_choice("prune", "method", self.method, PRUNE_METHODS)
        check_number("prune", "density", self.density, low=0, high=1, low_open=True)
        if self.method == "dense" and self.density != 1.0:
            fail("prune", "density", self.density, "1.0 when prune.method is 'dense'")
        if self.method != "dense" and self.density == 1.0 and (self.shuffle or self.invert):
            fail("prune", "density", self.density, "< 1 when shuffle or invert is asked for")
        check_choice("prune", "scope", self.scope, SCOPES)
        if self.iterations is not None:
            check_number("prune", "iterations", self.iterations, low=1, integer=True)
        check_choice("prune", "schedule", self.schedule, SCHEDULES)
        check_number("prune", "samples_per_class", self.samples_per_class, low=1, integer=True)
        check_choice("prune", "bn_mode", self.bn_mode, BN_MODES)
        check_bool("prune", "include_classifier", self.include_classifier)
        check_number("prune", "grasp_temperature", self.grasp_temperature, low=0,
                      low_open=True)
        for name in ("shuffle", "reinit", "invert"):
            check_bool("prune", name, getattr(self, name))
        check_choice("prune", "rescale", self.rescale, RESCALE)
        check_choice("prune", "synflow_precision", self.synflow_precision, SYNFLOW_PRECISIONS)

    @classmethod
    def from_compression(cls, method: str, compression: float, **kwargs) -> "PruneSpec":
        """Spec at compression ratio rho = 1/density (rho >= 1)."""
        check_number("prune", "compression", compression, low=1)
        return cls(method=method, density=1.0 / compression, **kwargs)

    @property
    def rounds(self) -> int:
        """Pruning rounds actually run: ``iterations``, or the method's default (100 for
        synflow, 5 for imp, 1 otherwise). ``iterations`` stays None in the spec so that changing
        ``method`` in a sweep also changes the default."""
        if self.iterations is not None:
            return self.iterations
        return {"synflow": 100, "imp": 5}.get(self.method, 1)

    @property
    def compression(self) -> float:
        """Compression ratio rho = 1 / density."""
        return 1.0 / self.density


OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("constant", "cosine", "step")


@dataclass(frozen=True)
class TrainSpec:
    """How the (pruned) network is trained.

    epochs: passes over the training set (0 = evaluate at initialisation only).
    lr: initial learning rate; schedule 'cosine' anneals to 0 per step, 'step' multiplies by
        ``gamma`` at each fraction of training in ``milestones``.
    weight_decay: L2 coefficient (coupled, as torch SGD/Adam do).
    label_smoothing: cross-entropy label smoothing in [0, 1).
    bf16: bfloat16 autocast for the forward pass (changes numerics, so it is part of the spec;
        whether it is faster depends on the CPU and the network: on this study's 2-core CPU it
        is slower for Conv-4 and ResNet-20, see ``benchmarks/README.md``).
    channels_last: convolutional networks and their 4-D inputs in channels-last memory format
        while training (float32 convolutions ~10-20 % faster on the CPU; another summation
        order, so part of the spec). No effect on networks without 4-D activations.
    """

    epochs: int = 3
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "cosine"
    milestones: tuple[float, ...] = (0.5, 0.75)
    gamma: float = 0.1
    label_smoothing: float = 0.0
    bf16: bool = False
    channels_last: bool = False

    def __post_init__(self) -> None:
        _plain_fields(self)
        check_number("train", "epochs", self.epochs, low=0, integer=True)
        check_number("train", "batch_size", self.batch_size, low=1, integer=True)
        check_choice("train", "optimizer", self.optimizer, OPTIMIZERS)
        check_number("train", "lr", self.lr, low=0, low_open=True)
        check_number("train", "momentum", self.momentum, low=0, high=1, high_open=True)
        check_bool("train", "nesterov", self.nesterov)
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            fail("train", "nesterov", self.nesterov, "True only with sgd and momentum > 0")
        check_number("train", "weight_decay", self.weight_decay, low=0)
        check_choice("train", "schedule", self.schedule, LR_SCHEDULES)
        milestones = tuple(self.milestones)
        object.__setattr__(self, "milestones", milestones)
        if any(isinstance(m, bool) or not isinstance(m, (int, float)) or not 0 < m < 1
               for m in milestones) or list(milestones) != sorted(milestones):
            fail("train", "milestones", self.milestones,
                  "increasing fractions of training strictly between 0 and 1")
        check_number("train", "gamma", self.gamma, low=0, high=1, low_open=True)
        check_number("train", "label_smoothing", self.label_smoothing, low=0, high=1,
                      high_open=True)
        check_bool("train", "bf16", self.bf16)
        check_bool("train", "channels_last", self.channels_last)


GHOST_ACTIVATIONS = ("none", "silu", "mish")


@dataclass(frozen=True)
class ToSTSpec:
    """Sparse-training tricks of Jaiswal et al. 2022 (ToST) for a pruned network whose mask
    stays fixed; applied by :mod:`pruninglib.tost` between pruning and training. Every field's
    default is off. (ToST's other two tricks are existing fields: ``train.label_smoothing``
    and ``prune.rescale='fan_in'``.)

    ghost_activation: 'silu' (Swish) or 'mish' replaces every ReLU for the first epochs
        ("ghost neurons"); 'none' = off.
    ghost_activation_epochs: epochs 1..k train with the smooth activation and ReLU is back
        from epoch k + 1 (1 <= k < train.epochs); None = the whole run, as the released code
        does (it never switches back, so the evaluated net has the smooth activation).
    ghost_skip_epochs: K >= 1 adds ghost skips (a 1x1 conv + BatchNorm in parallel with every
        conv unit but the first; a linear map beside every linear unit but the first and the
        classifier) scaled by alpha = 1 - t / K, t = the training position in epochs (it
        falls at every step), and removed from epoch K + 1 on (K < train.epochs), so the
        evaluated net is the plain sparse net; 0 = off.
    gradinit_steps: steps of a GradInit-style search for one scale per weight tensor of the
        pruned net before training (Zhu et al. 2021, as ToST's LRsI uses it); 0 = off.
    """

    ghost_activation: str = "none"
    ghost_activation_epochs: int | None = None
    ghost_skip_epochs: int = 0
    gradinit_steps: int = 0

    def __post_init__(self) -> None:
        _plain_fields(self)
        check_choice("tost", "ghost_activation", self.ghost_activation, GHOST_ACTIVATIONS)
        if self.ghost_activation_epochs is not None:
            check_number("tost", "ghost_activation_epochs", self.ghost_activation_epochs,
                          low=1, integer=True)
            if self.ghost_activation == "none":
                fail("tost", "ghost_activation_epochs", self.ghost_activation_epochs,
                      "None when tost.ghost_activation is 'none'")
        check_number("tost", "ghost_skip_epochs", self.ghost_skip_epochs, low=0, integer=True)
        check_number("tost", "gradinit_steps", self.gradinit_steps, low=0, integer=True)


_SECTIONS = (("data", DataSpec), ("model", ModelSpec), ("prune", PruneSpec),
             ("train", TrainSpec), ("tost", ToSTSpec))

LATER_FIELDS = (("prune", "synflow_precision"), ("train", "channels_last"))
"""(section, field) added after results were cached: left out of a spec's canonical JSON
while at its default, so the keys of every spec that does not use them stay as they were."""


def section_dict(section) -> dict:
    """A spec section (DataSpec, ModelSpec, PruneSpec, TrainSpec or ToSTSpec) as a plain dict,
    without the fields of :data:`LATER_FIELDS` that hold their defaults: what every hashed
    spec that embeds a section uses, so that adding a field changes no stored key."""
    d = dataclasses.asdict(section)
    kind = {cls: name for name, cls in _SECTIONS}.get(type(section))
    defaults = {f.name: f.default for f in fields(section)}
    for name in (later for owner, later in LATER_FIELDS if owner == kind):
        if d[name] == defaults[name]:
            del d[name]
    return d


@dataclass(frozen=True)
class RunSpec:
    """One experiment: prune ``model`` at initialisation on ``data`` and train it.

    tost: training tricks for the pruned net (all off by default). A section at its default
        is left out of the canonical form (:meth:`to_json`, :meth:`to_dict`), so every spec
        that does not use it keeps the hash it had before the section existed.
    seed: seeds initialisation, pruning randomness and batch order.
    """

    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    prune: PruneSpec = field(default_factory=PruneSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    seed: int = 0
    tost: ToSTSpec = field(default_factory=ToSTSpec)

    def __post_init__(self) -> None:
        _plain_fields(self)
        for name, kind in _SECTIONS:
            if not isinstance(getattr(self, name), kind):
                fail("run", name, getattr(self, name), f"a {kind.__name__}")
        check_number("run", "seed", self.seed, low=0, integer=True)
        if self.prune.method == "imp" and self.train.epochs == 0:
            fail("train", "epochs", 0, ">= 1 when prune.method is 'imp' (it trains to prune)")
        epochs = self.train.epochs
        for name in ("ghost_activation_epochs", "ghost_skip_epochs"):
            value = getattr(self.tost, name)
            if value and value >= epochs:
                fail("tost", name, value, f"< train.epochs = {epochs} (a later epoch must "
                                           f"train without the ghosts)")

    # -- canonical form ---------------------------------------------------------------
    def to_dict(self, full: bool = False) -> dict:
        """Nested plain-Python dict (tuples become lists): the canonical form, or with
        ``full`` every section, ``tost`` included even at its default."""
        if full:
            return json.loads(json.dumps(dataclasses.asdict(self)))
        return json.loads(self.to_json())

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no whitespace; equal specs give equal strings.

        The ``tost`` section is left out while it equals ``ToSTSpec()``, and every field of
        :data:`LATER_FIELDS` while it holds its default (what was added after results were
        cached does not change the hash of specs that do not use it)."""
        d = {name: section_dict(getattr(self, name)) for name, _ in _SECTIONS}
        d["seed"] = self.seed
        if self.tost == ToSTSpec():
            del d["tost"]
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    def key(self) -> str:
        """Stable 16-hex-digit hash of the canonical JSON (the run's cache key)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, d: dict) -> "RunSpec":
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`; a missing
        section takes its defaults."""
        parts = {}
        for name, kind in _SECTIONS:
            sub = dict(d.get(name, {}))
            known = {f.name for f in fields(kind)}
            unknown = set(sub) - known
            if unknown:
                fail(name, sorted(unknown)[0], sub[sorted(unknown)[0]],
                      "a field of " + kind.__name__ + ": " + ", ".join(sorted(known)))
            for tuple_field in ("hidden", "milestones"):
                if tuple_field in sub:
                    sub[tuple_field] = tuple(sub[tuple_field])
            parts[name] = kind(**sub)
        extra = set(d) - {"data", "model", "prune", "train", "tost", "seed"}
        if extra:
            fail("run", sorted(extra)[0], d[sorted(extra)[0]],
                  "a field of RunSpec: data, model, prune, train, tost, seed")
        return cls(seed=d.get("seed", 0), **parts)

    def replace(self, **changes) -> "RunSpec":
        """Copy with changes given as dotted paths, e.g. ``replace(**{"prune.density": 0.1})``
        or with ``__`` for dots: ``replace(prune__density=0.1, seed=2)``."""
        d = self.to_dict(full=True)
        for path, value in changes.items():
            keys = path.replace("__", ".").split(".")
            target = d
            for k in keys[:-1]:
                if k not in target or not isinstance(target[k], dict):
                    fail("run", path, value, "a dotted path like 'prune.density' or 'seed'")
                target = target[k]
            if keys[-1] not in target:
                fail("run", path, value,
                      f"a field of {keys[0]}: " + ", ".join(sorted(target)))
            if isinstance(target[keys[-1]], dict):
                fail("run", path, value, f"a field inside the section, e.g. "
                                         f"{path}.{sorted(target[keys[-1]])[0]}")
            target[keys[-1]] = list(value) if isinstance(value, tuple) else value
        return RunSpec.from_dict(d)

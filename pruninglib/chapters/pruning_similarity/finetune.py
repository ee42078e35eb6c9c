"""Runs derived from a stored trained run: pruning *after* training, and its masks retrained.

Blakeney et al. (2020) compare three sparse networks derived from one trained dense network:

* :class:`FinetuneSpec`: magnitude pruning of the **trained** weights, iterated along a path of
  densities, with the mask fixed and the network fine-tuned after every step (Han et al.
  2015). The pruners of :mod:`pruninglib.pruners` score networks at initialisation, and
  ``prune.method="imp"`` rewinds to it; neither starts from trained weights.
* :class:`ScratchSpec` with ``variant="reinit"``: that mask, weights re-drawn from the
  initialisation distribution, trained from scratch ("post-pruning re-initialisation");
* :class:`ScratchSpec` with ``variant="random"``: the same number of kept weights in every
  layer at uniformly random positions, trained from scratch ("random sparse initialisation");
* :class:`ScratchSpec` with ``variant="uniform"``: as many kept weights in all as that mask,
  every layer at the same density, at uniformly random positions, trained from scratch (a
  random mask that owes nothing to pruning, not even its layer sizes).

Every spec is a cached task (:func:`task_of`): a :class:`~pruninglib.config.RunSpec` is a
training run stored with its weights (:func:`pruninglib.runs.experiments.run_task`); a derived
spec is kind ``derived`` (``<results>/derived/``), with its weights, under the hash of
``{"kind": "finetune" | "scratch", "spec": spec.to_dict()}`` (the keys of the results folders
built before the cached-task path). A derived spec embeds its parent's, so the key changes with
anything upstream; its compute function (:func:`compute_derived`) loads the parent through the
cache and computes it first if it is not stored. :func:`run_all` computes many specs on an
executor, parents before children. :func:`load_trained` rebuilds the trained network and its
mask of any spec (:mod:`pruninglib.runs.networks`), e.g. to capture activations.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
import torch
from torch import nn

from ... import seeds
from ...config import (
    SCOPES,
    ConfigError,
    RunSpec,
    TrainSpec,
    check_choice,
    check_number,
    fail,
    section_dict,
)
from ...data import DATASETS
from ...masks import Mask, apply_mask, count, layer_densities
from ...pruners import magnitude_round
from ...pruners.selection import kept_count, select_per_layer
from ...runs import experiments
from ...runs.cache import Context, Output, Task, cached, store_for
from ...runs.executors import execute
from ...runs.networks import network_from_tensors, network_tensors, seeded_network
from ...seeds import derive_seed
from ...train import resolve_device, train

__all__ = [
    "DERIVED_KIND",
    "VARIANTS",
    "DerivedResult",
    "FinetuneSpec",
    "ScratchSpec",
    "Spec",
    "compute_derived",
    "depth",
    "describe",
    "finetune_path",
    "load_trained",
    "random_mask",
    "run",
    "run_all",
    "spec_from_tagged",
    "tagged",
    "task_of",
    "to_frame",
]

DERIVED_KIND = "derived"
"""The store part of fine-tuning paths and from-scratch runs: ``<results>/derived/``."""

VARIANTS = ("reinit", "random", "uniform")
"""ScratchSpec variants: 'reinit' keeps the source mask, 'random' re-draws each layer's kept
positions uniformly at random with the same count, 'uniform' keeps the source's overall
density in every layer, at uniformly random positions."""


def _check_type(owner: str, name: str, value, kinds, allowed: str) -> None:
    if not isinstance(value, kinds):
        fail(owner, name, value, allowed)


def _train_spec(d: dict) -> TrainSpec:
    """A TrainSpec from its JSON dict (lists back to tuples)."""
    return TrainSpec(**{**d, "milestones": tuple(d.get("milestones", (0.5, 0.75)))})


def _train_dict(train_spec: TrainSpec) -> dict:
    return json.loads(json.dumps(section_dict(train_spec)))


@dataclass(frozen=True)
class FinetuneSpec:
    """Magnitude pruning of the trained ``parent``, step by step along ``densities``.

    parent: the trained run (its final weights and mask are the starting point).
    densities: strictly decreasing kept fractions of the prunable weights, each in (0, 1) and
        below the parent's density; step k prunes the smallest-magnitude surviving weights
        (exact count, ``scope`` 'global' over all layers or 'layerwise') down to
        ``densities[k]`` and then fine-tunes. The result is the network at ``densities[-1]``.
    train: the fine-tuning recipe of every step (0 epochs: prune only).
    seed: batch order of the fine-tuning.
    """

    parent: RunSpec
    densities: tuple[float, ...]
    train: TrainSpec = field(default_factory=lambda: TrainSpec(epochs=1, lr=0.01))
    scope: str = "global"
    seed: int = 0

    def __post_init__(self) -> None:
        _check_type("finetune", "parent", self.parent, RunSpec, "a RunSpec")
        _check_type("finetune", "train", self.train, TrainSpec, "a TrainSpec")
        densities = tuple(self.densities)
        object.__setattr__(self, "densities", densities)
        top = self.parent.prune.density
        if not densities or any(isinstance(d, bool) or not isinstance(d, (int, float))
                                or not 0 < d < top for d in densities) \
                or any(a <= b for a, b in itertools.pairwise(densities)):
            fail("finetune", "densities", self.densities,
                 f"a non-empty, strictly decreasing tuple of densities in (0, {top:g}) "
                 f"(below the parent's density)")
        check_choice("finetune", "scope", self.scope, SCOPES)
        check_number("finetune", "seed", self.seed, low=0, integer=True)

    @property
    def density(self) -> float:
        return self.densities[-1]

    @property
    def model(self):
        return self.parent.model

    @property
    def data(self):
        return self.parent.data

    @property
    def previous(self) -> FinetuneSpec | RunSpec:
        """The spec this one starts from: the path one step shorter, or the parent."""
        if len(self.densities) == 1:
            return self.parent
        return dataclasses.replace(self, densities=self.densities[:-1])

    def to_dict(self) -> dict:
        return {"parent": self.parent.to_dict(), "densities": list(self.densities),
                "train": _train_dict(self.train), "scope": self.scope, "seed": self.seed}

    @classmethod
    def from_dict(cls, d: dict) -> FinetuneSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(RunSpec.from_dict(d["parent"]), tuple(d["densities"]),
                   _train_spec(d["train"]), d["scope"], d["seed"])

    def key(self) -> str:
        """16-hex hash of the canonical JSON (parent spec included): the task's key."""
        return task_of(self).key()


@dataclass(frozen=True)
class ScratchSpec:
    """The mask of a stored run trained from a fresh initialisation.

    source: the run whose final mask is used (a FinetuneSpec or a pruned RunSpec).
    variant: 'reinit' (that mask), 'random' (per layer, the same kept count at uniformly
        random positions) or 'uniform' (the same kept count in all, every layer at the same
        density, at uniformly random positions).
    train: the training recipe (Blakeney et al. retrain with the dense network's).
    seed: the fresh weights (the model's initialisation, drawn with a seed of their own, so
        seed 0 does not repeat the parent's initial weights), the random mask, the batch order.
        The variants of one seed start from the same dense weights.
    """

    source: FinetuneSpec | RunSpec
    variant: str
    train: TrainSpec
    seed: int = 0

    def __post_init__(self) -> None:
        _check_type("scratch", "source", self.source, (FinetuneSpec, RunSpec),
                    "a FinetuneSpec or RunSpec")
        check_choice("scratch", "variant", self.variant, VARIANTS)
        _check_type("scratch", "train", self.train, TrainSpec, "a TrainSpec")
        check_number("scratch", "seed", self.seed, low=0, integer=True)

    @property
    def density(self) -> float:
        if isinstance(self.source, RunSpec):
            return self.source.prune.density
        return self.source.density

    @property
    def model(self):
        return self.source.model

    @property
    def data(self):
        return self.source.data

    def to_dict(self) -> dict:
        d = {"source": tagged(self.source), "variant": self.variant,
             "train": _train_dict(self.train), "seed": self.seed}
        if self.variant in ("random", "uniform"):
            # masks drawn layer by layer, input to output: a key of their own (before, the
            # draws followed a stored file's name order, which varied between processes)
            d["draw_order"] = "layers"
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ScratchSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(spec_from_tagged(d["source"]), d["variant"], _train_spec(d["train"]),
                   d["seed"])

    def key(self) -> str:
        return task_of(self).key()


Spec = RunSpec | FinetuneSpec | ScratchSpec
_KINDS = {RunSpec: "run", FinetuneSpec: "finetune", ScratchSpec: "scratch"}


def tagged(spec: Spec) -> dict:
    """``{"kind": "run" | "finetune" | "scratch", "spec": spec.to_dict()}``: a spec as JSON."""
    kind = _KINDS.get(type(spec))
    if kind is None:
        raise ConfigError(f"spec={spec!r} is not allowed: a RunSpec, FinetuneSpec or "
                          f"ScratchSpec")
    return {"kind": kind, "spec": spec.to_dict()}


def spec_from_tagged(d: dict) -> Spec:
    """Inverse of :func:`tagged`."""
    readers = {"run": RunSpec.from_dict, "finetune": FinetuneSpec.from_dict,
               "scratch": ScratchSpec.from_dict}
    if d.get("kind") not in readers:
        raise ConfigError(f"spec kind={d.get('kind')!r} is not allowed: "
                          + ", ".join(readers))
    return readers[d["kind"]](d["spec"])


def task_of(spec: Spec) -> Task:
    """The cached task of ``spec``, stored with its weights: a training run (kind ``run``)
    for a RunSpec, else kind ``derived`` keyed by :func:`tagged`."""
    if isinstance(spec, RunSpec):
        return experiments.run_task(spec, save_weights=True)
    return Task.make(DERIVED_KIND, tagged(spec), compute_derived, weights=True)


def depth(spec: Spec) -> int:
    """How many computed specs lie under ``spec``: 0 for a RunSpec, one more per fine-tuning
    step or from-scratch run (a spec is computed after everything of smaller depth)."""
    if isinstance(spec, RunSpec):
        return 0
    if isinstance(spec, FinetuneSpec):
        return depth(spec.parent) + len(spec.densities)
    return depth(spec.source) + 1


def finetune_path(parent: RunSpec, densities: Iterable[float], **fields) -> list[FinetuneSpec]:
    """One FinetuneSpec per step of the path: [densities[:1], densities[:2], ...], so the
    network at every density of one pruning trajectory is stored (``fields``: train, scope,
    seed)."""
    densities = tuple(densities)
    return [FinetuneSpec(parent, densities[:k], **fields) for k in range(1, len(densities) + 1)]


@dataclass
class DerivedResult:
    """Outcome of a derived run; same fields as :class:`pruninglib.runs.experiments.Result`.

    metrics: test_accuracy, test_loss (nats), train_accuracy, train_loss (last epoch; NaN
        with 0 epochs), density and compression (direct), prunable_weights, prune_seconds,
        train_seconds.
    layers: one dict per prunable layer: name, shape, numel, kept, density.
    """

    spec: FinetuneSpec | ScratchSpec
    key: str
    metrics: dict
    history: list[dict]
    layers: list[dict]
    env: dict


def _result(spec: Spec, payload: dict):
    if isinstance(spec, RunSpec):
        return experiments.Result.from_dict(payload)
    return DerivedResult(spec, payload["key"], payload["metrics"], payload["history"],
                         payload["layers"], payload["env"])


def run(spec: Spec, *, results_dir=None, device="auto", progress: bool = True, data_root=None):
    """The result of ``spec``, computed (with its weights) unless stored: a
    :class:`~pruninglib.runs.experiments.Result` for a RunSpec, else a :class:`DerivedResult`."""
    payload = cached(task_of(spec), results_dir=results_dir, device=device, progress=progress,
                     data_root=data_root)
    return _result(spec, payload)


def run_all(specs: Iterable[Spec], *, executor=None, progress: bool = True, **options) -> list:
    """The result of every spec (in order), computed on ``executor`` (None/'inline',
    'pool[:N]', 'submitit[:...]', 'ray[:...]') unless stored: specs of one :func:`depth` at a
    time, so a parent is stored before the runs derived from it start. ``options``:
    results_dir, device, data_root."""
    specs = list(specs)
    payloads: dict[str, dict] = {}
    for level in sorted({depth(spec) for spec in specs}):
        tasks = [task_of(spec) for spec in specs if depth(spec) == level]
        for task, payload in zip(tasks, execute(tasks, executor=executor, progress=progress,
                                                **options)):
            payloads[task.key()] = payload
    return [_result(spec, payloads[task_of(spec).key()]) for spec in specs]


def load_trained(spec: Spec, *, results_dir=None, device="cpu", progress: bool = False,
                 data_root=None) -> tuple[nn.Module, Mask]:
    """The trained network of ``spec`` (computed first if not stored, see :func:`run`) in
    eval mode on ``device``, and its mask (dict name -> bool tensor, input to output; all
    True if dense)."""
    task = task_of(spec)
    cached(task, results_dir=results_dir, device=device, progress=progress,
           data_root=data_root)
    tensors = store_for(task.kind, results_dir).load_weights(task.key())
    info = DATASETS[spec.data.name]
    model = seeded_network(spec.model, info.input_shape, info.num_classes, 0)
    stored = network_from_tensors(model, tensors)  # in the file's order, which varies
    dev = resolve_device(device)
    mask = {n: stored[n].to(dev) for n, _ in model.named_parameters() if n in stored}
    return model.to(dev).eval(), mask


def compute_derived(task_spec: dict, context: Context) -> Output:
    """Compute function of a derived spec (:func:`task_of`): prune the previous network of
    the path and fine-tune it, or train a mask from fresh weights. The spec it starts from
    is loaded through the cache (computed first if not stored)."""
    spec = spec_from_tagged(task_spec)
    dev = resolve_device(context.device)
    options = {"results_dir": context.results_dir, "device": dev,
               "progress": context.progress, "data_root": context.data_root}
    if isinstance(spec, FinetuneSpec):
        model, mask = load_trained(spec.previous, **options)
        start = time.perf_counter()
        mask = magnitude_round(model, mask, spec.density, spec.scope)
        purpose = f"finetune-{len(spec.densities)}"
        desc = f"finetune d={spec.density:.3g} seed {spec.seed}"
    else:
        _, source = load_trained(spec.source, **options)
        start = time.perf_counter()
        info = DATASETS[spec.data.name]
        model = seeded_network(spec.model, info.input_shape, info.num_classes,
                               derive_seed(spec.seed, "scratch-init"), dev)
        mask = source if spec.variant == "reinit" else {
            n: m.to(dev) for n, m in random_mask(source, spec.variant, spec.seed).items()}
        purpose = "scratch-batches"
        desc = f"{spec.variant} d={spec.density:.3g} seed {spec.seed}"
    prune_seconds = time.perf_counter() - start
    apply_mask(model, mask)
    data = experiments.dataset_for(spec, dev, context.data_root)
    start = time.perf_counter()
    history = train(model, data, spec.train, mask=mask, augment=spec.data.augment,
                    generator=seeds.generator(spec.seed, purpose), progress=context.progress,
                    desc=desc)
    train_seconds = time.perf_counter() - start
    metrics = {**experiments.final_metrics(model, mask, data, history),
               "prune_seconds": prune_seconds, "train_seconds": train_seconds}
    payload = {"kind": type(spec).__name__, "spec": spec.to_dict(), "metrics": metrics,
               "history": history, "layers": layer_densities(mask),
               "env": experiments.environment(dev)}
    return Output(payload, network_tensors(model, mask))


def random_mask(mask: Mask, variant: str, seed: int) -> Mask:
    """A random mask with the kept counts of ``mask``: per layer (``variant`` 'random') or in
    all, every layer at ``mask``'s overall density (``variant`` 'uniform'; each layer keeps
    :func:`~pruninglib.pruners.selection.kept_count` of its weights), at uniformly random
    positions: one draw per layer, in the order of ``mask`` (input to output), from
    ``seeds.generator(seed, "scratch-mask")`` ('random') or ``"scratch-mask-uniform"``."""
    if variant == "random":
        keep = {n: int(m.sum()) for n, m in mask.items()}
        purpose = "scratch-mask"
    elif variant == "uniform":
        kept, total = count(mask)
        keep = {n: kept_count(kept / total, m.numel()) for n, m in mask.items()}
        purpose = "scratch-mask-uniform"
    else:
        raise ValueError(f"variant={variant!r} is not allowed: random or uniform")
    generator = seeds.generator(seed, purpose)
    scores = {n: torch.rand(m.shape, generator=generator) for n, m in mask.items()}
    alive = {n: torch.ones(m.shape, dtype=torch.bool) for n, m in mask.items()}
    return select_per_layer(scores, alive, keep, "random")


def describe(spec: Spec) -> dict:
    """Identifying columns: model.name, model.width, variant (dense, magnitude = pruned after
    training and fine-tuned, reinit, random, uniform, or the RunSpec's pruning method),
    density (asked for), seed, and the fine-tuning recipe of a pruned network:
    finetune_epochs (per pruning step) and finetune_lr (0 and 0.0 for any other network)."""
    base = {"model.name": spec.model.name, "model.width": spec.model.width}
    tuning = {"finetune_epochs": 0, "finetune_lr": 0.0}
    if isinstance(spec, RunSpec):
        variant = "dense" if spec.prune.method == "dense" else spec.prune.method
        return {**base, "variant": variant, "density": spec.prune.density, "seed": spec.seed,
                **tuning}
    if isinstance(spec, FinetuneSpec):
        tuning = {"finetune_epochs": spec.train.epochs, "finetune_lr": spec.train.lr}
    variant = "magnitude" if isinstance(spec, FinetuneSpec) else spec.variant
    return {**base, "variant": variant, "density": spec.density, "seed": spec.seed, **tuning}


def to_frame(results: Iterable) -> pd.DataFrame:
    """One row per result (RunSpec Results and DerivedResults alike): key, :func:`describe`'s
    columns and every metric, the metric ``density`` (achieved: kept / prunable weights)
    renamed achieved_density."""
    return pd.DataFrame([
        {"key": r.key, **describe(r.spec),
         **{("achieved_density" if k == "density" else k): v for k, v in r.metrics.items()}}
        for r in results])


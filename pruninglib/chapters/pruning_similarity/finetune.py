"""Runs derived from a stored trained run: pruning *after* training, and its masks retrained.

Blakeney et al. (2020) compare three sparse networks derived from one trained dense network:

* :class:`FinetuneSpec`: magnitude pruning of the **trained** weights, iterated along a path of
  densities, with the mask fixed and the network fine-tuned after every step (Han et al.
  2015). The pruners of :mod:`pruninglib.pruners` score networks at initialisation, and
  ``prune.method="imp"`` rewinds to it; neither starts from trained weights.
* :class:`ScratchSpec` with ``variant="reinit"``: that mask, weights re-drawn from the
  initialisation distribution, trained from scratch ("post-pruning re-initialisation");
* :class:`ScratchSpec` with ``variant="random"``: the same number of kept weights in every
  layer at uniformly random positions, trained from scratch ("random sparse initialisation").

:func:`run` computes any of these specs (and a plain :class:`~pruninglib.config.RunSpec`)
once: results and weights live in ``<results_dir>/derived/`` under the spec's hash, and a
spec embeds its parent's, so the key changes with anything upstream. A missing parent is
computed first (with its weights). :func:`load_trained` rebuilds the trained network and its
mask from any stored spec, e.g. to capture activations. One process computes a derived run
(no claims as in :func:`pruninglib.experiments.run`): two workers on the same spec would both
compute it, and the second atomic write would win.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from ...runs import experiments
from ...analysis.drift import drift_frame
from ...config import (SCOPES, ConfigError, DataSpec, RunSpec, TrainSpec, check_choice,
                     check_number, fail)
from ...data import DATASETS, load_data
from ...masks import Mask, apply_mask, count, layer_densities
from ...models import build_model
from ...pruners import magnitude_round
from ...pruners.selection import select_per_layer
from ...runs.store import ResultStore
from ... import seeds
from ...seeds import derive_seed
from ...train import evaluate, resolve_device, train

__all__ = ["VARIANTS", "DerivedResult", "FinetuneSpec", "ScratchSpec", "describe",
           "finetune_path", "load_trained", "run", "run_all", "to_frame"]

VARIANTS = ("reinit", "random")
"""ScratchSpec variants: 'reinit' keeps the source mask, 'random' re-draws each layer's kept
positions uniformly at random with the same count."""


def _digest(kind: str, spec_dict: dict) -> str:
    text = json.dumps({"kind": kind, "spec": spec_dict}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_type(owner: str, name: str, value, kinds, allowed: str) -> None:
    if not isinstance(value, kinds):
        fail(owner, name, value, allowed)


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
                "train": json.loads(json.dumps(dataclasses.asdict(self.train))),
                "scope": self.scope, "seed": self.seed}

    def key(self) -> str:
        """16-hex hash of the canonical JSON (parent spec included)."""
        return _digest("finetune", self.to_dict())


@dataclass(frozen=True)
class ScratchSpec:
    """The mask of a stored run trained from a fresh initialisation.

    source: the run whose final mask is used (a FinetuneSpec or a pruned RunSpec).
    variant: 'reinit' (that mask) or 'random' (per layer, the same kept count at uniformly
        random positions).
    train: the training recipe (Blakeney et al. retrain with the dense network's).
    seed: the fresh weights (the model's initialisation, drawn with a seed of their own, so
        seed 0 does not repeat the parent's initial weights), the random mask, the batch order.
        The two variants of one seed start from the same dense weights.
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
        kind = "finetune" if isinstance(self.source, FinetuneSpec) else "run"
        return {"source": {"kind": kind, "spec": self.source.to_dict()},
                "variant": self.variant,
                "train": json.loads(json.dumps(dataclasses.asdict(self.train))),
                "seed": self.seed}

    def key(self) -> str:
        return _digest("scratch", self.to_dict())


Spec = RunSpec | FinetuneSpec | ScratchSpec


def finetune_path(parent: RunSpec, densities: Iterable[float], **fields) -> list[FinetuneSpec]:
    """One FinetuneSpec per step of the path: [densities[:1], densities[:2], ...], so the
    network at every density of one pruning trajectory is stored (``fields``: train, scope,
    seed)."""
    densities = tuple(densities)
    return [FinetuneSpec(parent, densities[:k], **fields) for k in range(1, len(densities) + 1)]


@dataclass
class DerivedResult:
    """Outcome of a derived run; same fields as :class:`pruninglib.experiments.Result`.

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


def _store(results_dir) -> ResultStore:
    return ResultStore(ResultStore(results_dir).root / "derived")


def _input(spec: Spec) -> tuple[tuple[int, ...], int]:
    info = DATASETS[spec.data.name]
    return info.input_shape, info.num_classes


def _fresh_model(spec: Spec, seed: int) -> nn.Module:
    """``spec.model`` initialised from ``seed``, leaving the global torch RNG untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(spec.model, *_input(spec))


def load_trained(spec: Spec, *, results_dir=None, device="cpu", progress: bool = False,
                 data_root=None) -> tuple[nn.Module, Mask]:
    """The trained network of ``spec`` (computed first if not stored, see :func:`run`) in
    eval mode on ``device``, and its mask (dict name -> bool tensor; all True if dense)."""
    run(spec, results_dir=results_dir, device=device, progress=progress, data_root=data_root)
    if isinstance(spec, RunSpec):
        tensors = ResultStore(results_dir).load_weights(spec.key())
    else:
        tensors = _store(results_dir).load_weights(spec.key())
    dev = resolve_device(device)
    model = _fresh_model(spec, 0)
    model.load_state_dict({k[len("param/"):]: v for k, v in tensors.items()
                           if k.startswith("param/")})
    mask = {k[len("mask/"):]: v.bool().to(dev) for k, v in tensors.items()
            if k.startswith("mask/")}
    return model.to(dev).eval(), mask


def run(spec: Spec, *, results_dir=None, device="auto", progress: bool = True, data_root=None):
    """The result of ``spec``, computed (with its weights) unless stored.

    A RunSpec goes to :func:`pruninglib.experiments.run` (``save_weights=True``) and returns
    its Result; a FinetuneSpec or ScratchSpec returns a :class:`DerivedResult`.
    """
    if isinstance(spec, RunSpec):
        return experiments.run(spec, results_dir=results_dir, device=device, progress=progress,
                               save_weights=True, data_root=data_root)
    if not isinstance(spec, (FinetuneSpec, ScratchSpec)):
        raise ConfigError(f"spec={spec!r} is not allowed: a RunSpec, FinetuneSpec or "
                          f"ScratchSpec")
    store = _store(results_dir)
    key = spec.key()
    payload = store.load(key)
    if payload is not None and (store.directory(key) / "weights.safetensors").is_file():
        return DerivedResult(spec, key, payload["metrics"], payload["history"],
                             payload["layers"], payload["env"])
    dev = resolve_device(device)
    options = {"results_dir": results_dir, "device": dev, "progress": progress,
               "data_root": data_root}
    if isinstance(spec, FinetuneSpec):
        model, mask = load_trained(spec.previous, **options)
        start = time.perf_counter()
        mask = magnitude_round(model, mask, spec.density, spec.scope)
        purpose = f"finetune-{len(spec.densities)}"
        desc = f"finetune d={spec.density:.3g} seed {spec.seed}"
    else:
        _, source = load_trained(spec.source, **options)
        start = time.perf_counter()
        model = _fresh_model(spec, derive_seed(spec.seed, "scratch-init")).to(dev)
        mask = source if spec.variant == "reinit" else {
            n: m.to(dev) for n, m in _random_like(source, spec.seed).items()}
        purpose = "scratch-batches"
        desc = f"{spec.variant} d={spec.density:.3g} seed {spec.seed}"
    prune_seconds = time.perf_counter() - start
    apply_mask(model, mask)
    data = experiments.dataset_for(spec, dev, data_root)
    start = time.perf_counter()
    history = train(model, data, spec.train, mask=mask, augment=spec.data.augment,
                    generator=seeds.generator(spec.seed, purpose), progress=progress,
                    desc=desc)
    train_seconds = time.perf_counter() - start
    if history:
        last = history[-1]
    else:
        loss, acc = evaluate(model, data.test_x, data.test_y)
        last = {"test_loss": loss, "test_accuracy": acc, "train_loss": float("nan"),
                "train_accuracy": float("nan")}
    kept, total = count(mask)
    metrics = {**{k: last[k] for k in ("test_accuracy", "test_loss", "train_accuracy",
                                       "train_loss")},
               "density": kept / total, "compression": total / kept,
               "prunable_weights": total, "prune_seconds": prune_seconds,
               "train_seconds": train_seconds}
    result = DerivedResult(spec, key, metrics, history, layer_densities(mask),
                           experiments.environment(dev))
    weights = {**{f"param/{n}": p for n, p in model.state_dict().items()},
               **{f"mask/{n}": m for n, m in mask.items()}}
    store.save(key, {"kind": type(spec).__name__, "spec": spec.to_dict(), "key": key,
                     "metrics": metrics, "history": history, "layers": result.layers,
                     "env": result.env}, weights)
    return result


def _random_like(mask: Mask, seed: int) -> Mask:
    """Per layer, as many kept weights as ``mask`` at uniformly random positions."""
    generator = seeds.generator(seed, "scratch-mask")
    scores = {n: torch.rand(m.shape, generator=generator) for n, m in mask.items()}
    alive = {n: torch.ones(m.shape, dtype=torch.bool) for n, m in mask.items()}
    keep = {n: int(m.sum()) for n, m in mask.items()}
    return select_per_layer(scores, alive, keep, "random")


def run_all(specs: Iterable[Spec], *, progress: bool = True, **options) -> list:
    """:func:`run` of every spec in order, with one overall progress bar (stored ones load
    at once); ``options`` as :func:`run`."""
    specs = list(specs)
    results = []
    for spec in tqdm(specs, desc="runs", disable=not progress, mininterval=2.0):
        results.append(run(spec, progress=False, **options))
    return results


def describe(spec: Spec) -> dict:
    """Identifying columns: model, width, variant, density, seed (and the fine-tuning path's
    seed for scratch runs of a fine-tuned mask)."""
    base = {"model.name": spec.model.name, "model.width": spec.model.width}
    if isinstance(spec, RunSpec):
        variant = "dense" if spec.prune.method == "dense" else spec.prune.method
        return {**base, "variant": variant, "density": spec.prune.density, "seed": spec.seed}
    if isinstance(spec, FinetuneSpec):
        return {**base, "variant": "magnitude", "density": spec.density, "seed": spec.seed}
    return {**base, "variant": spec.variant, "density": spec.density, "seed": spec.seed}


def drift_of(reference: Spec, specs: Sequence[Spec], data: DataSpec, *,
             measures: Sequence[str] = ("svcca", "pwcca", "cka"), conv: str = "average",
             results_dir=None, device="cpu", data_root=None) -> pd.DataFrame:
    """:func:`pruninglib.analysis.drift.drift_frame` of the trained network of every spec
    against that of ``reference``, on the test images of ``data``, with :func:`describe`'s
    identifying columns. Each spec's rows are stored in ``<results_dir>/derived/drift/``
    under a hash of (reference, spec, data, measures, conv) and loaded next time; networks
    are trained first where they are not stored (:func:`load_trained`)."""
    store = ResultStore(_store(results_dir).root / "drift")
    keys = [_digest("drift", {"reference": reference.key(), "network": spec.key(),
                              "data": dataclasses.asdict(data), "measures": list(measures),
                              "conv": conv}) for spec in specs]
    stored = [store.load(key) for key in keys]
    missing = [i for i, payload in enumerate(stored) if payload is None]
    if missing:
        options = {"results_dir": results_dir, "device": device, "data_root": data_root}
        images = load_data(data, root=data_root).test_x
        networks = (({**describe(specs[i]), "_spec": i}, load_trained(specs[i], **options)[0])
                    for i in missing)
        frame = drift_frame(load_trained(reference, **options)[0], networks, images,
                            measures=measures, conv=conv)
        for i, rows in frame.groupby("_spec", sort=False):
            stored[i] = {"rows": rows.drop(columns="_spec").to_dict("records")}
            store.save(keys[i], {"reference": reference.to_dict(),
                                 "network": specs[i].to_dict(), **stored[i]})
    return pd.DataFrame([row for payload in stored for row in payload["rows"]])


def to_frame(results: Iterable) -> pd.DataFrame:
    """One row per result (RunSpec Results and DerivedResults alike): key, model.name,
    model.width, variant (dense, magnitude = pruned after training and fine-tuned, reinit,
    random, or the RunSpec's pruning method), density (asked for), seed and every metric,
    the metric ``density`` (achieved: kept / prunable weights) renamed achieved_density."""
    return pd.DataFrame([
        {"key": r.key, **describe(r.spec),
         **{("achieved_density" if k == "density" else k): v for k, v in r.metrics.items()}}
        for r in results])

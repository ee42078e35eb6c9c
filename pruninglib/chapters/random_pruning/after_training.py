"""Blakeney et al.'s comparison: magnitude pruning of the *trained* network against random
sparse networks trained from scratch, at the same density (cached tasks, kind
``after_training``).

The protocol, per seed s and density d:

1. the dense network of seed s is trained with the chapter's recipe (a dense
   :class:`~pruninglib.config.RunSpec`, stored with its weights);
2. **magnitude after training** (variant ``"finetune"``): its trained weights pruned by
   magnitude in one shot, globally over every prunable layer, to d
   (:func:`pruninglib.pruners.magnitude_round`), then fine-tuned with the mask fixed for the
   same budget as every from-scratch run (the recipe of step 1: same epochs, learning rate,
   cosine schedule and batch size). It has had the dense training before, on top;
3. **random, its layer counts** (``"random"``): as many kept weights in every layer as the
   mask of (2), at uniformly random positions, trained from the dense run's initial weights;
4. **its mask re-initialised** (``"reinit"``): the mask of (2) on fresh weights (the
   ``"reinit"`` stream of seed s, as ``PruneSpec(reinit=True)`` draws them), trained from
   scratch.

A random mask with *uniform* counts (every layer at d) is the chapter's parity run
``prune.method="uniform"``: the same initial weights and recipe. Every training of seed s,
fine-tuning included, takes its batches from the run's ``"batches"`` stream, so the variants
of a seed differ only in their mask and starting weights; the random positions of (3) come
from the ``"after-training-random"`` stream. Seeds are the replicates: each has its own
trained dense network.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import pandas as pd
import torch

from ... import seeds
from ...config import ConfigError, RunSpec
from ...masks import (
    Mask,
    apply_mask,
    full_mask,
    layer_densities,
    shuffle_within_layers,
)
from ...pruners import magnitude_round
from ...runs import experiments
from ...runs.cache import Context, Output, Task, cached, store_for
from ...runs.executors import execute
from ...runs.networks import initial_network, network_from_tensors, seeded_network
from ...train import resolve_device, train
from .parity import differences

KIND = "after_training"
"""Store part of these runs: ``<results>/after_training/``."""
_FORMAT = 1  # bump when a payload changes
LABELS = {"finetune": "magnitude after training",
          "random": "random, its layer counts",
          "reinit": "its mask re-initialised"}
"""Variant -> the ``variant`` label of :func:`to_frame` rows (see the module docstring)."""
MAGNITUDE = LABELS["finetune"]
UNIFORM = "uniform"
"""The parity study's random mask with every layer at the density (its ``variant``)."""
COMPARED = (UNIFORM, LABELS["random"], LABELS["reinit"])
"""The networks trained from scratch that are compared with :data:`MAGNITUDE`."""
SCOPE = "global"
"""Magnitude pruning ranks the weights of all prunable layers together (one threshold)."""


def task(parent: RunSpec, density: float, variant: str) -> Task:
    """The cached task of one variant (:data:`LABELS`) at ``density`` derived from the
    trained dense run ``parent``."""
    if parent.prune.method != "dense":
        raise ConfigError(f"parent prune.method={parent.prune.method!r} is not allowed: "
                          f"'dense' (magnitude pruning starts from the trained dense network)")
    if variant not in LABELS:
        raise ConfigError(f"variant={variant!r} is not allowed: " + ", ".join(LABELS))
    if isinstance(density, bool) or not 0 < float(density) < 1:
        raise ConfigError(f"density={density!r} is not allowed: a number in (0, 1)")
    spec = {"format": _FORMAT, "parent": parent.to_dict(), "density": float(density),
            "variant": variant, "scope": SCOPE}
    return Task.make(KIND, spec, compute)


def tasks(parents: Sequence[RunSpec], densities: Sequence[float]) -> list[Task]:
    """Every variant of every parent at every density (parent, then density, then variant)."""
    return [task(p, d, v) for p in parents for d in densities for v in LABELS]


def trained_network(parent: RunSpec, *, results_dir=None, device="cpu", data_root=None,
                    progress: bool = False) -> torch.nn.Module:
    """The trained dense network of ``parent`` on ``device`` (trained and stored with its
    weights first if it is not)."""
    run = experiments.run_task(parent, save_weights=True)
    cached(run, results_dir=results_dir, device=device, progress=progress,
           data_root=data_root)
    data = experiments.dataset_for(parent, resolve_device(device), data_root)
    model = initial_network(parent.model, data.input_shape, data.num_classes, parent.seed,
                            resolve_device(device))
    network_from_tensors(model, store_for("run", results_dir).load_weights(run.key()))
    return model


def start(spec: dict, trained: torch.nn.Module, input_shape, num_classes: int, device
          ) -> tuple[torch.nn.Module, Mask]:
    """(network, mask) a variant trains from: the magnitude mask of the trained network at
    ``spec['density']``, on the trained weights (finetune), moved to random positions with
    the same layer counts on the initial weights (random), or on re-drawn weights
    (reinit)."""
    parent = RunSpec.from_dict(spec["parent"])
    alive = full_mask(trained, parent.prune.include_classifier)
    mask = {n: m.cpu() for n, m in magnitude_round(trained, alive, spec["density"],
                                                    spec["scope"]).items()}
    if spec["variant"] == "finetune":
        model = trained
    elif spec["variant"] == "random":
        mask = shuffle_within_layers(mask, seeds.generator(parent.seed,
                                                           "after-training-random"))
        model = initial_network(parent.model, input_shape, num_classes, parent.seed, device)
    else:
        model = seeded_network(parent.model, input_shape, num_classes,
                               seeds.derive_seed(parent.seed, "reinit"), device)
    return model, mask


def compute(spec: dict, context: Context) -> Output:
    """Compute function of :func:`task`: derive the network and mask, train, evaluate."""
    parent = RunSpec.from_dict(spec["parent"])
    dev = resolve_device(context.device)
    trained = trained_network(parent, results_dir=context.results_dir, device=dev,
                              data_root=context.data_root, progress=context.progress)
    data = experiments.dataset_for(parent, dev, context.data_root)
    model, mask = start(spec, trained, data.input_shape, data.num_classes, dev)
    mask = {n: m.to(dev) for n, m in mask.items()}
    apply_mask(model, mask)
    began = time.perf_counter()
    history = train(model, data, parent.train, mask=mask, augment=parent.data.augment,
                    generator=seeds.generator(parent.seed, "batches"),
                    progress=context.progress,
                    desc=f"{spec['variant']} d={spec['density']:.3g} seed {parent.seed}")
    seconds = time.perf_counter() - began
    metrics = {**experiments.final_metrics(model, mask, data, history),
               "train_seconds": seconds}
    return Output({"spec": spec, "metrics": metrics, "history": history,
                   "layers": layer_densities({n: m.cpu() for n, m in mask.items()}),
                   "env": experiments.environment(dev)})


def to_frame(payloads: Iterable[dict]) -> pd.DataFrame:
    """One row per payload: variant (its :data:`LABELS` label), kind ``"after training"``,
    prune.density (asked for), seed, the metrics (density = achieved) and the kept fraction
    of every layer (``layer_<i>``, input to output)."""
    rows = []
    for p in payloads:
        spec = p["spec"]
        rows.append({"variant": LABELS[spec["variant"]], "kind": "after training",
                     "prune.density": spec["density"], "seed": spec["parent"]["seed"],
                     **p["metrics"],
                     **{f"layer_{i}": layer["density"] for i, layer in enumerate(p["layers"])}})
    return pd.DataFrame(rows)


def after_training_runs(parents: Sequence[RunSpec], densities: Sequence[float], *,
                        executor=None, results_dir=None, device="auto", data_root=None,
                        progress: bool = True) -> pd.DataFrame:
    """Train (or load) the dense ``parents`` with their weights, then every variant of
    :func:`tasks` on ``executor``; :func:`to_frame` of the results."""
    options = {"results_dir": results_dir, "device": device, "data_root": data_root,
               "progress": progress}
    experiments.run_all(parents, executor=executor, save_weights=True, **options)
    return to_frame(execute(tasks(parents, densities), executor=executor, **options))


def with_uniform(runs: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The :func:`to_frame` rows ``after`` and the :data:`UNIFORM` rows of the parity runs
    ``runs`` at the same densities, one frame (columns of both)."""
    uniform = runs[(runs["variant"] == UNIFORM)
                   & runs["prune.density"].isin(after["prune.density"].unique())]
    return pd.concat([after, uniform], ignore_index=True)


def against_magnitude(compared: pd.DataFrame) -> pd.DataFrame:
    """Per density and seed, each of :data:`COMPARED` − :data:`MAGNITUDE` test accuracy
    (pp) in a :func:`with_uniform` frame (columns of :func:`.parity.paired_differences`)."""
    return differences(compared, [(v, MAGNITUDE) for v in COMPARED])

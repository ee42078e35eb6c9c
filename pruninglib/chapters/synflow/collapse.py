"""Layer collapse without training: prune-only sweeps over methods and compression ratios.

Pruning at initialisation is cheap next to training, so the layer-collapse experiment of
Tanaka et al. (2020, Fig. 1) needs no training: build the network, find each method's mask at
every compression rho = 10**alpha up to the maximal compression rho_max = N / L, and record
how much of every prunable layer is left, *directly* (kept weights) and *effectively* (kept
weights on some input-output path, :func:`pruninglib.analysis.connectivity.effective_mask`).
:func:`collapse_sweep` returns this as a tidy frame (one row per method, compression, seed
and layer), each point cached in the run store; :func:`collapse_summary` turns it into
critical compressions.

Methods are named by labels: a pruning method, optionally with its number of scoring rounds
after an ``@`` (``"snip@100"`` is iterative SNIP with 100 rounds on the exponential schedule,
``"synflow@1"`` single-shot SynFlow); a bare name uses the method's default (100 rounds for
SynFlow, 1 otherwise).

Seeds follow :func:`pruninglib.runs.experiments.run` (weights from ``derive_seed(seed, "init")``,
the class-balanced scoring batch and random scores from ``derive_seed(seed, "prune")``), so a
point of the sweep at the data's own input shape has exactly the mask of the training run with
the same seed. A network at another input shape than the data's (the CIFAR-shaped VGGs scored
with Fashion-MNIST) gets its scoring batch through :func:`fit_to_shape`; only SNIP and GraSP
look at it.

The remaining helpers measure what the SynFlow chapter's claims are about: which layer a
method empties first (:func:`collapse_order`), how far below rho_max it collapses
(:func:`decades_below_max`) and the collapse point of trained runs such as IMP
(:func:`critical_by`).
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ...analysis.connectivity import (
    critical_compression,
    effective_mask,
    max_compression,
)
from ...config import ConfigError, DataSpec, ModelSpec, PruneSpec, section_dict
from ...data import DATASETS, class_balanced_batch, load_data_once
from ...masks import Mask, full_mask
from ...models import build_model
from ...pruners import ScoringContext, prune
from ...runs.cache import Context, Output, Task
from ...runs.executors import execute
from ...runs.networks import initial_network
from ...seeds import derive_seed
from ...train import resolve_device

_FORMAT = 1  # bump when the stored payload of a point changes


def method_spec(label: str) -> PruneSpec:
    """The PruneSpec a method label names (density 1; the sweep sets it per point).

    ``"snip"`` -> SNIP with its default rounds; ``"snip@100"`` -> 100 rounds. Raises
    :class:`~pruninglib.config.ConfigError` for an unknown method or a bad round count.
    """
    name, _, rounds = label.partition("@")
    if rounds and not rounds.isdigit():
        raise ConfigError(f"method label {label!r} is not allowed: a method name, optionally "
                          f"followed by @ and a number of rounds, e.g. 'snip@100'")
    if name in ("dense", "imp"):
        raise ConfigError(f"method label {label!r} is not allowed: a pruning-at-init method "
                          f"(random, magnitude, snip, grasp, synflow, uniform, erk, smart_ratio)")
    return PruneSpec(method=name, iterations=int(rounds) if rounds else None)


def fit_to_shape(x: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """Images (B, C, H, W) as (B, *shape): a single channel is repeated over the target's
    channels, and the image is zero-padded, centred, to the target's height and width (an
    odd margin puts the extra pixel after). On standardised data zero is the mean pixel, the
    convention of the VGG models' own padding stage.

    Raises ValueError if the channels differ and are not 1, or the target is smaller.
    """
    c, h, w = (int(s) for s in shape)
    if x.dim() != 4:
        raise ValueError(f"fit_to_shape needs image batches (B, C, H, W), got {tuple(x.shape)}")
    if x.shape[1] not in (1, c) or x.shape[2] > h or x.shape[3] > w:
        raise ValueError(f"cannot fit images of shape {tuple(x.shape[1:])} to {tuple(shape)}: "
                         f"channels must be 1 or {c}, height and width at most {h} x {w}")
    x = x.expand(-1, c, -1, -1)
    dh, dw = h - x.shape[2], w - x.shape[3]
    return nn.functional.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))


def compression_grid(rho_max: float, alpha_step: float) -> list[float]:
    """Compressions 10**(k * alpha_step), k = 1, 2, ..., below ``rho_max``, then ``rho_max``
    itself (one weight per layer: no method can go further without collapse)."""
    if not alpha_step > 0:
        raise ValueError(f"alpha_step={alpha_step!r} is not allowed: > 0")
    grid, k = [], 1
    while 10 ** (k * alpha_step) < rho_max * (1 - 1e-9):
        grid.append(10 ** (k * alpha_step))
        k += 1
    return grid + [float(rho_max)]


def layer_rows(model: nn.Module, mask: Mask, input_shape: Sequence[int]) -> list[dict]:
    """One dict per masked layer, input to output: layer (parameter name), numel, kept,
    effective_kept (kept weights on an input-output path)."""
    effective = effective_mask(model, mask, tuple(input_shape))
    return [{"layer": name, "numel": m.numel(), "kept": int(m.sum()),
             "effective_kept": int(effective[name].sum())} for name, m in mask.items()]


def model_max_compression(model: ModelSpec, input_shape: Sequence[int],
                          num_classes: int) -> float:
    """rho_max = N / L of the network ``model`` names (all prunable weights, classifier
    included)."""
    return max_compression(full_mask(build_model(model, tuple(input_shape), num_classes)))


def point_task(model: ModelSpec, prune_spec: PruneSpec, data: DataSpec, input_shape,
               num_classes: int, seed: int) -> Task:
    """The cached task of one prune-only point (kind ``collapse``)."""
    spec = {"kind": "prune_only", "format": _FORMAT, "model": section_dict(model),
            "prune": section_dict(prune_spec), "data": section_dict(data),
            "input_shape": list(input_shape), "num_classes": num_classes, "seed": seed}
    return Task.make("collapse", spec, compute_point)


def compute_point(spec: dict, context: Context) -> Output:
    """Compute function of :func:`point_task`: the layer rows of one mask, found as
    :func:`pruninglib.runs.experiments.run` finds it, and the pruning time (s)."""
    model_spec = ModelSpec(**spec["model"])
    prune_spec = PruneSpec(**spec["prune"])
    data = DataSpec(**spec["data"])
    input_shape = tuple(spec["input_shape"])
    dev = resolve_device(context.device)
    dataset = load_data_once(data, root=context.data_root, device=dev)
    model = initial_network(model_spec, input_shape, dataset.num_classes, spec["seed"], dev)
    ctx = scoring_context(dataset, prune_spec.samples_per_class, spec["seed"], input_shape)
    start = time.perf_counter()
    mask = prune(model, prune_spec, ctx)
    seconds = time.perf_counter() - start
    return Output({"spec": spec, "layers": layer_rows(model, mask, input_shape),
                   "seconds": seconds})


def sweep_points(model: ModelSpec, methods: Sequence[str], seeds: Sequence[int], *,
                 data: DataSpec, input_shape: Sequence[int] | None = None,
                 alpha_step: float = 0.5, compressions: Sequence[float] | None = None
                 ) -> tuple[list[tuple], list[Task], float]:
    """The points of :func:`collapse_sweep` (same arguments) without computing them:
    (points, tasks, rho_max), one (label, seed, PruneSpec, compression) point and one
    cached task (:func:`point_task`) per method label, seed and compression."""
    info = DATASETS[data.name]
    input_shape = tuple(info.input_shape if input_shape is None else input_shape)
    num_classes = info.num_classes
    rho_max = model_max_compression(model, input_shape, num_classes)
    if compressions is None:
        compressions = compression_grid(rho_max, alpha_step)
    specs = {label: method_spec(label) for label in methods}
    points = [(label, seed, dataclasses.replace(specs[label], density=1.0 / rho), rho)
              for label in methods for seed in seeds for rho in compressions]
    tasks = [point_task(model, prune_spec, data, input_shape, num_classes, seed)
             for _, seed, prune_spec, _ in points]
    return points, tasks, rho_max


def collapse_sweep(model: ModelSpec, methods: Sequence[str], seeds: Sequence[int], *,
                   data: DataSpec, input_shape: Sequence[int] | None = None,
                   alpha_step: float = 0.5, compressions: Sequence[float] | None = None,
                   results_dir=None, data_root=None, device="auto", executor=None,
                   progress: bool = True) -> pd.DataFrame:
    """Prune ``model`` at initialisation with every method label, compression and seed;
    no training. Every point is a cached task (kind ``collapse``, :func:`sweep_points`),
    computed on ``executor`` (None/'inline', 'pool[:N]', 'submitit[:...]', 'ray[:...]').

    data: the dataset of the scoring batch and of the number of classes.
    input_shape: the network's input shape (default: the data's); images are fitted to it
        with :func:`fit_to_shape`.
    compressions: ratios rho >= 1 (default: :func:`compression_grid` with ``alpha_step`` up
        to rho_max).

    Returns one row per (method, compression, seed, layer): model.name, model.width, method
    (the label), prune.method, rounds, compression, alpha = log10(compression), seed,
    layer_index, layer, numel, kept, density (kept / numel), effective_kept,
    effective_density, rho_max (N / L of the network), prune_seconds.
    """
    points, tasks, rho_max = sweep_points(model, methods, seeds, data=data,
                                          input_shape=input_shape, alpha_step=alpha_step,
                                          compressions=compressions)
    payloads = execute(tasks, executor=executor, progress=progress, results_dir=results_dir,
                       data_root=data_root, device=device)
    rows = []
    for (label, seed, prune_spec, rho), payload in zip(points, payloads):
        ident = {"model.name": model.name, "model.width": model.width, "method": label,
                 "prune.method": prune_spec.method, "rounds": prune_spec.rounds,
                 "compression": float(rho), "alpha": math.log10(rho), "seed": seed}
        for index, layer in enumerate(payload["layers"]):
            rows.append({**ident, "layer_index": index, **layer,
                         "density": layer["kept"] / layer["numel"],
                         "effective_density": layer["effective_kept"] / layer["numel"],
                         "rho_max": rho_max, "prune_seconds": payload["seconds"]})
    return pd.DataFrame(rows)


def scoring_context(dataset, per_class: int, seed: int, input_shape: Sequence[int]
                    ) -> ScoringContext:
    """The pruning context of run ``seed``: a class-balanced batch of ``per_class`` training
    images per class of ``dataset`` (a :class:`pruninglib.data.Dataset`), fitted to
    ``input_shape`` (:func:`fit_to_shape`), and the generator that drew it, which goes on to
    draw random scores (as :func:`pruninglib.runs.experiments.run` does)."""
    generator = torch.Generator().manual_seed(derive_seed(seed, "prune"))
    x, y = class_balanced_batch(dataset.train_x, dataset.train_y, per_class, generator)
    if tuple(x.shape[1:]) != tuple(input_shape):
        x = fit_to_shape(x, input_shape)
    return ScoringContext(input_shape=tuple(input_shape), x=x, y=y, generator=generator)


def collapse_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Critical compressions per (model.name, model.width, method, seed) of a
    :func:`collapse_sweep` frame.

    Columns: n_weights N, n_layers L, rho_max = N / L; rho_cr, the largest tested compression
    before some layer keeps no weight (the paper's layer collapse; 1, i.e. no pruning, if the
    smallest tested one collapses already); rho_cr_effective, the same with no *effective*
    weight (a layer cut off from the input or the output counts as collapsed);
    rho_disconnected, the largest before no input-output path is left at all (differs from
    rho_cr_effective only where skip connections bypass a collapsed layer); rho_collapse, the
    smallest tested compression at which some layer keeps no weight (rho_max if none does:
    beyond rho_max every method must collapse); the alpha = log10 of the five;
    first_collapsed, the numbers (from 1 at the input) of the
    layers with no kept weight at the first compression where one appears, joined by ", "
    (empty if none), and whether they include the largest / smallest layer
    (first_is_largest, first_is_smallest; None if no collapse).
    """
    keys = ["model.name", "model.width", "method", "seed"]
    out = []
    for ident, group in frame.groupby(keys, sort=False):
        layers = group.drop_duplicates("layer_index").sort_values("layer_index")
        per_rho = group.groupby("compression")
        direct = per_rho["kept"].min() == 0
        effective = per_rho["effective_kept"].min() == 0
        disconnected = per_rho["effective_kept"].sum() == 0
        rhos = [1.0] + list(direct.index)  # rho = 1 prunes nothing: never a collapse
        row = dict(zip(keys, ident))
        row.update(n_weights=int(layers["numel"].sum()), n_layers=len(layers),
                   rho_max=float(group["rho_max"].iloc[0]),
                   rho_cr=critical_compression(rhos, [False] + list(direct)),
                   rho_cr_effective=critical_compression(rhos, [False] + list(effective)),
                   rho_disconnected=critical_compression(rhos, [False] + list(disconnected)),
                   rho_collapse=float(direct[direct].index.min()) if direct.any()
                   else float(group["rho_max"].iloc[0]))
        for name in ("rho_max", "rho_cr", "rho_cr_effective", "rho_disconnected",
                     "rho_collapse"):
            row["alpha" + name[3:]] = math.log10(row[name])
        first, largest, smallest = "", None, None
        if direct.any():
            at = group[group["compression"] == direct[direct].index.min()]
            empty = at[at["kept"] == 0]
            first = ", ".join(str(i + 1) for i in empty["layer_index"])
            largest = bool((empty["numel"] == layers["numel"].max()).any())
            smallest = bool((empty["numel"] == layers["numel"].min()).any())
        row.update(first_collapsed=first, first_is_largest=largest,
                   first_is_smallest=smallest)
        out.append(row)
    return pd.DataFrame(out)


def heatmap_table(frame: pd.DataFrame, method: str, value: str = "effective_density",
                  ) -> pd.DataFrame:
    """Layers x compressions table of ``value`` (mean over seeds) for one method label of a
    :func:`collapse_sweep` frame (one model): rows layer_index (input to output), columns
    compression (ascending)."""
    part = frame[frame["method"] == method]
    return part.pivot_table(index="layer_index", columns="compression", values=value,
                            aggfunc="mean").sort_index().sort_index(axis=1)


def collapse_fraction(frame: pd.DataFrame, value: str = "kept") -> pd.DataFrame:
    """Fraction of seeds in which a layer has no ``value`` ('kept' or 'effective_kept') left,
    per model, method, compression and layer (the crosses of the heat maps)."""
    keys = ["model.name", "model.width", "method", "compression", "layer_index"]
    return (frame.assign(empty=frame[value] == 0).groupby(keys)["empty"].mean()
            .rename("collapsed_fraction").reset_index())


def decades_below_max(summary: pd.DataFrame, methods: Sequence[str], *, model: str,
                      column: str = "alpha_cr") -> pd.Series:
    """Per seed, the smallest alpha_max - ``column`` (decades of compression between a
    method's critical compression and rho_max) over ``methods`` of ``model`` in a
    :func:`collapse_summary` frame; 0 when none collapses below rho_max. Empty if the model
    or methods were not run."""
    part = summary[(summary["model.name"] == model) & summary["method"].isin(list(methods))]
    return (part["alpha_max"] - part[column]).groupby(part["seed"]).min()


def critical_by(runs: pd.DataFrame, by: Sequence[str], *,
                flag: str = "collapsed_layers") -> pd.DataFrame:
    """Critical compression of trained runs: per group of ``by`` columns of an
    :func:`pruninglib.runs.experiments.sweep` frame, the largest compression before one with
    ``flag`` > 0 (default: a layer with no effective weight), as rho_cr and alpha_cr."""
    rows = []
    for ident, group in runs.groupby(list(by)):
        rho = critical_compression(list(1 / group["prune.density"]), list(group[flag] > 0))
        rows.append({**dict(zip(by, ident if isinstance(ident, tuple) else (ident,))),
                     "rho_cr": rho, "alpha_cr": math.log10(rho) if rho > 0 else math.nan})
    return pd.DataFrame(rows)


def cliff_points(runs: pd.DataFrame, *, value: str = "above_chance",
                 flag: str = "collapsed_layers") -> pd.DataFrame:
    """Where trained runs fall off the cliff: per (model.name, prune.method, seed) of a frame
    with an ``alpha`` column (ascending α is the training grid), alpha_cr (the last α before
    the first run with ``flag`` > 0), alpha_collapse (that first α), before and at (``value``
    at the two). All four are NaN where the network does not collapse on the grid or
    collapses at its first α already (no step before the collapse)."""
    rows = []
    for ident, group in runs.groupby(["model.name", "prune.method", "seed"], sort=False):
        group = group.sort_values("alpha")
        bad = (group[flag] > 0).to_numpy()
        row = dict(zip(["model.name", "prune.method", "seed"], ident))
        row.update(alpha_cr=math.nan, alpha_collapse=math.nan, before=math.nan, at=math.nan)
        if bad.any() and not bad[0]:
            k = int(bad.argmax())
            row.update(alpha_cr=float(group["alpha"].iloc[k - 1]),
                       alpha_collapse=float(group["alpha"].iloc[k]),
                       before=float(group[value].iloc[k - 1]),
                       at=float(group[value].iloc[k]))
        rows.append(row)
    return pd.DataFrame(rows)


def collapse_order(summary: pd.DataFrame, *, smallest: Sequence[str] = ("random",),
                   largest: Sequence[str] = ("magnitude", "snip", "grasp")) -> pd.DataFrame:
    """Rows of a :func:`collapse_summary` frame for the ``smallest`` and ``largest`` methods
    with as_predicted: whether the first layer emptied is the smallest layer (for
    ``smallest``) or the largest (for ``largest``), Tanaka et al.'s prediction; NaN where
    the method empties no layer on the grid."""
    part = summary[summary["method"].isin(list(smallest) + list(largest))].copy()
    flag = np.where(part["method"].isin(list(smallest)), part["first_is_smallest"],
                    part["first_is_largest"])
    part["as_predicted"] = pd.array([np.nan if f is None else float(f) for f in flag],
                                    dtype="float")
    return part

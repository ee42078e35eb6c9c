"""The SynFlow chapter's experiments, built from its parameters (``P``, the notebook's
:class:`pruninglib.book.parameters.Parameters`; any object with the same attributes).

Four studies, one function each, every point cached (training runs by their run key,
prune-only points as ``collapse`` tasks) and computed on ``P.executor``:

* :func:`conservation_study` — the conservation law at initialisation (no cache: seconds);
* :func:`collapse_study` — every method prunes every network up to rho_max, nothing trained;
* :func:`accuracy_study` — pruned at initialisation, then trained (and the dense runs);
* :func:`imp_study` — iterative magnitude pruning with several numbers of cycles.

:func:`plan` lists every cached task of the four, from the same grid functions.
"""
from __future__ import annotations

import math

import pandas as pd

from ...analysis import saliency
from ...book.plots import model_label
from ...config import DataSpec, ModelSpec, PruneSpec, RunSpec, TrainSpec
from ...data import DATASETS, load_data
from ...runs.cache import Task
from ...runs.experiments import grid_specs, run_task, sweep, sweep_results, to_frame
from .collapse import collapse_sweep, model_max_compression, sweep_points
from .conservation import Net, conservation_runs, is_residual

BASELINES = ("random", "magnitude", "snip", "grasp")
"""The methods that Tanaka et al. show collapsing (S1)."""
DATA_STATISTICS = "biases, BatchNorm with data statistics"
"""How the conservation study names its networks where the law can fail."""


def model_spec(P, name: str, width: float = 1.0) -> ModelSpec:
    """The network ``name`` at ``width``: "mlp" is the bias-free ReLU MLP with the very
    unequal hidden widths ``P.mlp_hidden``; every other name as published."""
    if name == "mlp":
        return ModelSpec("mlp", hidden=tuple(P.mlp_hidden), bias=False, width=width)
    return ModelSpec(name, width=width)


def input_shape(P, name: str) -> tuple[int, ...]:
    """Input shape of ``name`` where nothing is trained: the data's own for the MLPs, the
    paper's (``P.conv_shape``, CIFAR's 3×32×32) for conv nets."""
    if name in ("mlp", "lenet_300_100"):
        return tuple(DATASETS[P.dataset].input_shape)
    return tuple(P.conv_shape)


def chance(P) -> float:
    """Chance accuracy (a fraction) of the training data: 1 / classes."""
    return 1 / DATASETS[P.dataset].num_classes


def plain_models(P) -> list[str]:
    """The networks of the collapse study without skip connections."""
    return [m for m in P.collapse_models if not is_residual(m)]


def conservation_nets(P) -> list[Net]:
    """The networks of the conservation study (:class:`.conservation.Net`): the MLP (every
    objective, BatchNorm-free) and each of ``P.conservation_nets`` (name -> width), bias-free
    without BatchNorm, with BatchNorm in eval mode and in train mode (SNIP and SynFlow), and
    once more as a network where the law can fail: with biases and BatchNorm statistics from
    data (:func:`.conservation.with_data_statistics`), BatchNorm in eval mode."""
    nets = [Net("MLP", model_spec(P, "mlp"), input_shape(P, "mlp"), "eval",
                saliency.OBJECTIVES)]
    for name, width in P.conservation_nets.items():
        for bn, mode in ((False, "eval"), (True, "eval"), (True, "train")):
            text = f"{name_with_width(name, width)}, " + (
                f"BatchNorm, {mode} mode" if bn else "no BatchNorm")
            spec = ModelSpec(name, width=width, bias=False, batchnorm=bn)
            nets.append(Net(text, spec, tuple(P.conv_shape), mode, ("snip", "synflow")))
        nets.append(Net(f"{name_with_width(name, width)}, {DATA_STATISTICS}",
                        ModelSpec(name, width=width, bias=True, batchnorm=True),
                        tuple(P.conv_shape), "eval", ("snip", "synflow"), True))
    return nets


def name_with_width(name: str, width: float) -> str:
    """``VGG-11 ×0.25`` (the width only where it is not 1)."""
    return model_label(name) + (f" ×{width:g}" if width != 1 else "")


def conservation_study(P) -> tuple[pd.DataFrame, dict]:
    """:func:`.conservation.conservation_runs` of :func:`conservation_nets` over seeds
    0 .. ``P.seeds`` - 1, ``P.conservation_per_class`` scoring images per class."""
    dataset = load_data(DataSpec(P.dataset))
    return conservation_runs(conservation_nets(P), list(range(P.seeds)), dataset,
                             P.conservation_per_class)


def collapse_labels(P, name: str) -> list[str]:
    """Method labels pruning ``name``: ``P.collapse_methods``, and SNIP with 100 rounds on
    ``P.iterative_snip_models``."""
    labels = list(P.collapse_methods)
    if name in P.iterative_snip_models:
        labels.append("snip@100")
    return labels


def collapse_arguments(P) -> list[dict]:
    """Per network of ``P.collapse_models``, the arguments of
    :func:`.collapse.collapse_sweep` / :func:`.collapse.sweep_points`: the network at width
    ``P.collapse_widths``, :func:`collapse_labels`, seeds 0 .. ``P.collapse_seeds[name]`` - 1
    (default ``P.seeds``), the data, :func:`input_shape` and ``P.alpha_step``."""
    return [{"model": model_spec(P, name, P.collapse_widths.get(name, 1.0)),
             "methods": collapse_labels(P, name),
             "seeds": range(P.collapse_seeds.get(name, P.seeds)),
             "data": DataSpec(P.dataset), "input_shape": input_shape(P, name),
             "alpha_step": P.alpha_step} for name in P.collapse_models]


def collapse_study(P) -> pd.DataFrame:
    """Every network of ``P.collapse_models`` pruned by :func:`collapse_labels` at
    compressions 10^(k ``P.alpha_step``) up to rho_max (:func:`collapse_arguments`): the
    concatenated :func:`.collapse.collapse_sweep` frames (one row per method, compression,
    seed, layer)."""
    return pd.concat([collapse_sweep(**arguments, executor=P.executor, **_options(P))
                      for arguments in collapse_arguments(P)], ignore_index=True)


def kept_per_layer(P, name: str, alpha: float) -> float:
    """Weights per layer, on average, that trained network ``name`` (width
    ``P.train_widths``, the data's input shape) keeps at compression 10^``alpha``:
    N / (10^alpha L) = rho_max / 10^alpha."""
    info = DATASETS[P.dataset]
    spec = model_spec(P, name, P.train_widths.get(name, 1.0))
    return model_max_compression(spec, info.input_shape, info.num_classes) / 10.0 ** alpha


def train_spec(P) -> TrainSpec:
    """The training recipe of the accuracy study."""
    steps = ({"milestones": tuple(P.milestones), "gamma": P.gamma}
             if P.schedule == "step" else {})
    return TrainSpec(epochs=P.epochs, optimizer=P.optimizer, lr=P.lr,
                     batch_size=P.batch_size, weight_decay=P.weight_decay,
                     schedule=P.schedule, **steps)


def accuracy_grids(P) -> list[tuple[str, RunSpec, dict]]:
    """The training runs of :func:`accuracy_study` as (what, base, grid) for
    :func:`pruninglib.runs.experiments.grid_specs`: per network of ``P.train_models``, its
    dense runs ("dense": seeds 0 .. ``P.seeds`` - 1) and its pruned runs ("pruned": each of
    ``P.methods`` at each density 10^-alpha of ``P.alphas[name]``, every seed)."""
    grids, seeds = [], list(range(P.seeds))
    for name in P.train_models:
        data = DataSpec(P.dataset, train_subset=P.train_subset.get(name),
                        test_subset=P.test_subset.get(name), augment=P.augment)
        base = RunSpec(data=data, model=model_spec(P, name, P.train_widths.get(name, 1.0)),
                       train=train_spec(P))
        grids.append(("dense", base, {"seed": seeds}))
        grids.append(("pruned", base, {"prune.method": P.methods,
                                       "prune.density": [10.0 ** -a for a in P.alphas[name]],
                                       "seed": seeds}))
    return grids


def accuracy_study(P) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every network of ``P.train_models`` pruned by each of ``P.methods`` at compressions
    10^alpha (``P.alphas[name]``), trained, seeds 0 .. ``P.seeds`` - 1; and the same networks
    dense (:func:`accuracy_grids`). Returns (runs, dense),
    :func:`pruninglib.runs.experiments.to_frame` frames; runs has the extra columns alpha
    (log10 compression, 3 decimals), collapsed (a layer without effective weights), plain
    (no skip connections) and above_chance (test accuracy − :func:`chance`, a fraction)."""
    dense_frames, results = [], []
    for what, base, grid in accuracy_grids(P):
        if what == "dense":
            dense_frames.append(sweep(base, grid, executor=P.executor, **_options(P)))
        else:
            results += sweep_results(base, grid, executor=P.executor, **_options(P))
    return with_run_columns(to_frame(results), chance(P)), pd.concat(dense_frames,
                                                                      ignore_index=True)


def with_run_columns(runs: pd.DataFrame, chance_level: float) -> pd.DataFrame:
    """``runs`` (a :func:`~pruninglib.runs.experiments.to_frame` frame of pruned runs) with
    alpha = -log10(density) rounded to 3 decimals, collapsed (collapsed_layers > 0), plain
    (no skip connections) and above_chance = test_accuracy − ``chance_level``."""
    runs = runs.copy()
    runs["alpha"] = (-runs["prune.density"].map(math.log10)).round(3)
    runs["collapsed"] = runs["collapsed_layers"] > 0
    runs["plain"] = ~runs["model.name"].map(is_residual)
    runs["above_chance"] = runs["test_accuracy"] - chance_level
    return runs


def imp_grid(P) -> tuple[RunSpec, dict]:
    """The runs of :func:`imp_study` as (base, grid) for
    :func:`pruninglib.runs.experiments.grid_specs`."""
    data = DataSpec(P.dataset, train_subset=P.imp_train_subset, test_subset=P.imp_test_subset)
    base = RunSpec(data=data, model=model_spec(P, P.imp_model,
                                               P.train_widths.get(P.imp_model, 1.0)),
                   prune=PruneSpec("imp"), train=TrainSpec(epochs=P.imp_epochs, lr=P.imp_lr))
    return base, {"prune.iterations": P.imp_cycles,
                  "prune.density": [10.0 ** -a for a in P.imp_alphas],
                  "seed": list(range(P.imp_seeds))}


def imp_study(P) -> pd.DataFrame:
    """Iterative magnitude pruning of ``P.imp_model`` (width from ``P.train_widths``) with
    each of ``P.imp_cycles`` prune–train cycles to each compression 10^alpha
    (``P.imp_alphas``), SGD at ``P.imp_lr``, ``P.imp_epochs`` epochs per cycle, seeds
    0 .. ``P.imp_seeds`` - 1 (:func:`imp_grid`): a
    :func:`~pruninglib.runs.experiments.sweep` frame with the extra columns cycles, alpha
    (log10 compression, 3 decimals) and above_chance (test accuracy − :func:`chance`)."""
    imp = sweep(*imp_grid(P), executor=P.executor, **_options(P))
    return imp.assign(cycles=imp["prune.iterations"],
                      alpha=(-imp["prune.density"].map(math.log10)).round(3),
                      above_chance=imp["test_accuracy"] - chance(P))


def plan(P) -> list[Task]:
    """Every cached task the notebook computes with parameters ``P`` (the dry run of a
    profile), made by the functions its studies call: the prune-only points of
    :func:`collapse_arguments` (kind ``collapse``), then the training runs of
    :func:`accuracy_grids` and :func:`imp_grid` (kind ``run``). The conservation study
    caches nothing."""
    tasks = [task for arguments in collapse_arguments(P)
             for task in sweep_points(**arguments)[1]]
    grids = [(base, grid) for _, base, grid in accuracy_grids(P)] + [imp_grid(P)]
    return tasks + [run_task(spec) for base, grid in grids for spec in grid_specs(base, grid)]


def _options(P) -> dict:
    return {"results_dir": P.results_dir, "device": P.device, "progress": P.progress}

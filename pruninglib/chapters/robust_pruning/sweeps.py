"""The chapter's grids of runs: which networks are pruned, trained, and with what.

Three grids, each a list of :data:`Planned` runs (a :class:`~pruninglib.config.RunSpec` and
the tags that identify it in the chapter's frames), built from the chapter's parameters
``params`` (``notebooks/profiles.yml``, section ``robust_pruning``):

* :func:`prune_grid` — deep MLPs pruned at initialisation and not trained (``train.epochs =
  0``): depths ``depths`` and ``train_depth``, every phase, criteria ``methods`` (magnitude
  on the EOC init only: the three inits draw the same normalised weights, so magnitude gives
  them identical masks), densities ``densities``;
* :func:`train_grid` — the same MLPs of ``train_depth`` layers trained with ``training``:
  dense, pruned at ``train_densities``, and on the EOC also with the rescaling trick;
* :func:`residual_grid` — standard and Stable residual networks of ``residual_depths``,
  dense and SNIP-pruned with BatchNorm-free scores, plus the other ``residual_methods`` on
  the standard net at the largest depth.

:func:`run_planned` runs a grid in one call on any executor (``executor=``: inline,
``pool:N``, SLURM, Ray) and returns (runs, layers) frames with the tags as columns.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...config import DataSpec, ModelSpec, RunSpec, TrainSpec
from ...runs.experiments import grid_specs, layers_frame, run_all, to_frame
from .inits import PHASES, trained_points

Planned = tuple[RunSpec, dict]
"""One run of a grid and its tags (e.g. ``{"activation": "tanh", "phase": "eoc"}``)."""

RESIDUAL_FAMILIES = ("resmlp", "resnet")


def mlp_model(params, activation: str, phase: str, depth: int) -> ModelSpec:
    """The fully-connected net of ``depth`` hidden layers of ``width`` units, no BatchNorm,
    initialised at ``phase`` (:func:`.inits.init_points`)."""
    sigma_b, sigma_w = trained_points(params, activation)[phase]
    return ModelSpec("mlp", hidden=(params.width,) * depth, activation=activation,
                     sigma_w=sigma_w, sigma_b=sigma_b)


def methods_at(params, phase: str) -> list[str]:
    """The MLP criteria run at ``phase``: magnitude only on the EOC init."""
    return [m for m in params.methods if phase == "eoc" or m != "magnitude"]


def _planned(base: RunSpec, grid: dict, tags: dict) -> list[Planned]:
    return [(spec, dict(tags)) for spec in grid_specs(base, grid)]


def prune_grid(params) -> list[Planned]:
    """Every (activation, phase, depth, method, density, seed) pruned without training;
    tags: activation, phase."""
    at_init = TrainSpec(**{**params.training, "epochs": 0})
    seeds = list(range(params.seeds))
    depths = sorted(set(params.depths) | {params.train_depth})
    planned = []
    for activation in params.activations:
        for phase in PHASES:
            base = RunSpec(data=DataSpec(**params.data),
                           model=mlp_model(params, activation, phase, params.depths[0]),
                           train=at_init)
            grid = {"model.hidden": [(params.width,) * depth for depth in depths],
                    "prune.method": methods_at(params, phase),
                    "prune.density": params.densities, "seed": seeds}
            planned += _planned(base, grid, dict(activation=activation, phase=phase))
    return planned


def train_grid(params) -> list[Planned]:
    """Every trained MLP of ``train_depth`` layers: per (activation, phase) the dense nets,
    the pruned ones, and on the EOC random pruning at the lowest density and the pruned ones
    with the rescaling trick (the same-density controls of SNIP); tags:
    activation, phase. The phases are the three of the prune-only grid plus the
    near-critical ones (:func:`.inits.near_critical_points`), which are pruned at the lowest
    density only (where the pruning damage of H3e/H3f is measured)."""
    seeds = list(range(params.seeds))
    lowest = [min(params.train_densities)]
    planned = []
    for activation in params.activations:
        for phase in trained_points(params, activation):
            base = RunSpec(data=DataSpec(**params.data),
                           model=mlp_model(params, activation, phase, params.train_depth),
                           train=TrainSpec(**params.training))
            tags = dict(activation=activation, phase=phase)
            planned += _planned(base, {"seed": seeds}, tags)
            planned += _planned(base, {"prune.method": methods_at(params, phase),
                                       "prune.density": params.train_densities
                                       if phase in PHASES else lowest,
                                       "seed": seeds}, tags)
            if phase == "eoc":  # the same-density controls of SNIP
                planned += _planned(base, {"prune.method": ["random"], "prune.density": lowest,
                                           "seed": seeds}, tags)
                planned += _planned(base, {"prune.method": params.methods,
                                           "prune.density": params.train_densities,
                                           "prune.rescale": ["fan_in"], "seed": seeds}, tags)
    return planned


def residual_model(params, depth: int, stable: bool) -> ModelSpec:
    """A residual MLP of ``depth`` blocks of ``residual_width`` units with BatchNorm
    (``resmlp``), or ResNet-``depth`` of width multiplier ``residual_width`` (``resnet``);
    ``stable`` scales every residual branch by 1/sqrt(L)."""
    if params.residual_family == "resmlp":
        return ModelSpec("resmlp", hidden=(int(params.residual_width),) * depth,
                         stable=stable, batchnorm=True)
    if params.residual_family == "resnet":
        return ModelSpec(f"resnet{depth}", width=float(params.residual_width), stable=stable)
    raise ValueError(f"residual_family={params.residual_family!r} is not allowed: "
                     + ", ".join(RESIDUAL_FAMILIES))


def residual_blocks(params, depth: int) -> int:
    """Residual blocks L of a net of ``depth``: resmlp depth is L; ResNet-N has (N - 2) / 2."""
    return depth if params.residual_family == "resmlp" else (depth - 2) // 2


def residual_grid(params) -> list[Planned]:
    """Per depth, standard and Stable: dense, and SNIP with BatchNorm-free scores at every
    ``residual_densities``; at the largest depth the standard net also with every other of
    ``residual_methods``. Tags: depth, blocks, net ('standard' / 'Stable')."""
    seeds = list(range(params.seeds))
    deepest = max(params.residual_depths)
    planned = []
    for depth in params.residual_depths:
        for stable in (False, True):
            base = RunSpec(data=DataSpec(**params.residual_data),
                           model=residual_model(params, depth, stable),
                           train=TrainSpec(**params.residual_training))
            tags = dict(depth=depth, blocks=residual_blocks(params, depth),
                        net="Stable" if stable else "standard")
            methods = params.residual_methods if (depth == deepest and not stable) \
                else ["snip"]
            planned += _planned(base, {"seed": seeds}, tags)
            planned += _planned(base, {"prune.method": methods, "prune.bn_mode": ["none"],
                                       "prune.density": params.residual_densities,
                                       "seed": seeds}, tags)
    return planned


def run_planned(planned: Sequence[Planned], *, executor=None, results_dir=None,
                device="auto", progress: bool = False, ensemble: bool = False
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run (or load) every planned run in one call on ``executor`` (``ensemble``: missing runs
    that share network, data and schedule train together, see
    :func:`pruninglib.runs.experiments.run_all`) and return

    runs: :func:`pruninglib.runs.experiments.to_frame` rows with the tags as columns, plus
        ``depth`` (hidden layers) for MLPs where no tag gives it;
    layers: :func:`pruninglib.runs.experiments.layers_frame` rows with the run's tags,
        ``depth`` and ``prune.rescale``.
    """
    results = run_all([spec for spec, _ in planned], executor=executor, ensemble=ensemble,
                      results_dir=results_dir, device=device, progress=progress)
    tags = pd.DataFrame([t for _, t in planned])
    runs = pd.concat([to_frame(results), tags], axis=1)
    if "depth" not in runs:
        runs["depth"] = runs["model.hidden"].map(len)
    ident = ["key", "depth", "prune.rescale", *[c for c in tags if c != "depth"]]
    layers = layers_frame(results).merge(runs[ident].drop_duplicates("key"), on="key")
    return runs, layers

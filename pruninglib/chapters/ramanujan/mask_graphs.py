"""Ramanujan-graph metrics of the masks of finished runs, and of their layer-shuffled twins.

:func:`graph_layers` scores every masked layer of every run with
:func:`pruninglib.analysis.graphs.network_graph_metrics` (unweighted, as the reference); the
mask is the run's own, from :func:`pruninglib.experiments.mask_of` (the stored one, else
pruned again with the run's seeds, once: the mask is kept). :func:`graph_summary` reduces
the layers to one row per run with :func:`pruninglib.analysis.graphs.summarize`
(``imdb_mean``, ``delta_r_mean``, ``narc_mean``, ``perc_ram_by_delta_r``, ...).

With ``twins=True`` each mask is also scored after redrawing each layer's kept positions
uniformly at random inside the layer (:func:`pruninglib.masks.shuffle_within_layers`, seeded
by the run seed): this *layer-shuffled twin* keeps the layer-wise densities and nothing else,
so its metrics are what a metric can know from the layer-wise densities alone (the control
that Cunegatti et al. ask for).
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import torch

from ...runs.experiments import Result, mask_of
from ...seeds import derive_seed
from ...masks import shuffle_within_layers
from ...analysis.graphs import network_graph_metrics, summarize

ITERATIVE_SNIP = "iter_snip"
"""Variant name of SNIP run for more than one round (the reference's iterSNIP)."""

ID_COLUMNS = ("key", "model.name", "variant", "prune.density", "seed", "test_accuracy")
"""Run identifiers carried by every frame of this module."""


def method_variant(spec) -> str:
    """``prune.method``, or ``"iter_snip"`` for SNIP with more than one pruning round."""
    if spec.prune.method == "snip" and spec.prune.rounds > 1:
        return ITERATIVE_SNIP
    return spec.prune.method


def _identifiers(result: Result) -> dict:
    spec = result.spec
    return {"key": result.key, "model.name": spec.model.name, "variant": method_variant(spec),
            "prune.density": spec.prune.density, "seed": spec.seed,
            "test_accuracy": result.metrics["test_accuracy"]}


def graph_layers(results: Iterable[Result], *, results_dir=None, twins: bool = False,
                 method: str = "svd", device="cpu") -> pd.DataFrame:
    """One row per (run, masked layer): :data:`ID_COLUMNS`, ``shuffled`` (False),
    ``layer_index`` (0 = input side) and the columns of
    :func:`pruninglib.analysis.graphs.network_graph_metrics` (``layer``, ``kind``, degrees,
    ``status``, ``delta_r``, ``imdb``, ``narc``, ...).

    twins: also score each mask's layer-shuffled twin (rows with ``shuffled`` True, after the
        run's own rows; see the module docstring); the mask is found only once for both.
    results_dir / device: where :func:`pruninglib.experiments.mask_of` finds (or recomputes)
        each run's mask.
    method: eigenvalue route of :mod:`pruninglib.analysis.graphs` ("svd" or "eigsh").
    """
    frames = []
    for result in results:
        mask = mask_of(result.spec, results_dir=results_dir, device=device)
        variants = [(False, mask)]
        if twins:
            generator = torch.Generator().manual_seed(
                derive_seed(result.spec.seed, "graph-shuffle"))
            variants.append((True, shuffle_within_layers(mask, generator)))
        for shuffled, graph in variants:
            layers = network_graph_metrics(graph, method=method)
            layers.insert(0, "layer_index", range(len(layers)))
            for position, (name, value) in enumerate(
                    {**_identifiers(result), "shuffled": shuffled}.items()):
                layers.insert(position, name, value)
            frames.append(layers)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def graph_summary(layers: pd.DataFrame) -> pd.DataFrame:
    """One row per run (and ``shuffled`` value) of a :func:`graph_layers` frame: the
    identifiers and :func:`pruninglib.analysis.graphs.summarize` of its layers."""
    keys = [*ID_COLUMNS, "shuffled"]
    rows = [{**dict(zip(keys, values)), **summarize(group.reset_index(drop=True))}
            for values, group in layers.groupby(keys, sort=False, dropna=False)]
    return pd.DataFrame(rows)

"""Ramanujan-graph metrics of the masks of finished runs, and of their layer-shuffled twins.

:func:`graph_layers` scores every masked layer of every run with
:func:`pruninglib.analysis.graphs.network_graph_metrics` (unweighted, as the reference); the
mask is the run's own, from :func:`pruninglib.runs.experiments.mask_of` (the stored one, else
pruned again with the run's seeds, once: the mask is kept). Each run's scores are one cached
task (kind ``graphs``, :func:`graph_task`), so a rebuild loads them and a grid of them runs on
any executor. :func:`graph_summary` reduces the layers to one row per run with
:func:`pruninglib.analysis.graphs.summarize` (``imdb_mean``, ``delta_r_mean``, ``narc_mean``,
``perc_ram_by_delta_r``, ...).

With ``twins=True`` each mask is also scored after redrawing each layer's kept positions
uniformly at random inside the layer (:func:`pruninglib.masks.shuffle_within_layers`, seeded
by the run seed): this *layer-shuffled twin* keeps the layer-wise densities and nothing else,
so its metrics are what a metric can know from the layer-wise densities alone (the control
that Cunegatti et al. ask for).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import torch

from ...analysis.graphs import METHODS, network_graph_metrics, summarize
from ...config import RunSpec
from ...masks import shuffle_within_layers
from ...runs.cache import Context, Output, Task
from ...runs.executors import execute
from ...runs.experiments import Result, mask_of
from ...seeds import derive_seed

ITERATIVE_SNIP = "iter_snip"
"""Variant name of SNIP run for more than one round (the reference's iterSNIP)."""

ID_COLUMNS = ("key", "model.name", "variant", "prune.density", "seed", "test_accuracy")
"""Run identifiers carried by every frame of this module."""

CHAPTER_GRAPHS = {"twins": True, "method": "svd"}
"""How the chapter scores its masks (:func:`measure`): each with its layer-shuffled twin, by
the exact SVD route."""

_FORMAT = 1  # bump when the payload of a graph task changes: old entries are recomputed


def method_variant(spec: RunSpec) -> str:
    """``prune.method``, or ``"iter_snip"`` for SNIP with more than one pruning round."""
    if spec.prune.method == "snip" and spec.prune.rounds > 1:
        return ITERATIVE_SNIP
    return spec.prune.method


def graph_task(spec: RunSpec, *, twins: bool = False, method: str = "svd") -> Task:
    """The cached task (kind ``graphs``) of the graph metrics of ``spec``'s mask (and of its
    layer-shuffled twin with ``twins``), by eigenvalue route ``method`` ("svd" or "eigsh")."""
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not allowed: " + ", ".join(METHODS))
    return Task.make("graphs", {"format": _FORMAT, "run": spec.to_dict(),
                                "twins": bool(twins), "method": method}, compute_graphs)


def graph_tasks(specs: Iterable[RunSpec], *, twins: bool = False, method: str = "svd"
                ) -> list[Task]:
    """:func:`graph_task` of every run spec, in order."""
    return [graph_task(spec, twins=twins, method=method) for spec in specs]


def _table(frame: pd.DataFrame) -> dict:
    """A frame as JSON-able columns and rows (the store sorts dict keys, not list items)."""
    return {"columns": list(frame.columns), "rows": frame.to_numpy(dtype=object).tolist()}


def compute_graphs(spec: dict, context: Context) -> Output:
    """Compute function of :func:`graph_task`: the layer rows of the run's mask and, if asked,
    of its twin (``{"mask": table, "twin": table or None}``, tables as :func:`_table`)."""
    run = RunSpec.from_dict(spec["run"])
    mask = mask_of(run, results_dir=context.results_dir, device=context.device,
                   data_root=context.data_root)
    payload = {"mask": _table(network_graph_metrics(mask, method=spec["method"])),
               "twin": None}
    if spec["twins"]:
        generator = torch.Generator().manual_seed(derive_seed(run.seed, "graph-shuffle"))
        twin = shuffle_within_layers(mask, generator)
        payload["twin"] = _table(network_graph_metrics(twin, method=spec["method"]))
    return Output(payload)


def _identifiers(result: Result) -> dict:
    spec = result.spec
    return {"key": result.key, "model.name": spec.model.name, "variant": method_variant(spec),
            "prune.density": spec.prune.density, "seed": spec.seed,
            "test_accuracy": result.metrics["test_accuracy"]}


def _layers(table: dict, identifiers: dict) -> pd.DataFrame:
    layers = pd.DataFrame(table["rows"], columns=table["columns"]).infer_objects()
    layers.insert(0, "layer_index", range(len(layers)))
    for position, (name, value) in enumerate(identifiers.items()):
        layers.insert(position, name, value)
    return layers


def graph_layers(results: Iterable[Result], *, twins: bool = False, method: str = "svd",
                 executor=None, results_dir=None, device="cpu", data_root=None,
                 progress: bool = False) -> pd.DataFrame:
    """One row per (run, masked layer): :data:`ID_COLUMNS`, ``shuffled`` (False),
    ``layer_index`` (0 = input side) and the columns of
    :func:`pruninglib.analysis.graphs.network_graph_metrics` (``layer``, ``kind``, degrees,
    ``status``, ``delta_r``, ``imdb``, ``narc``, ...).

    twins: also score each mask's layer-shuffled twin (rows with ``shuffled`` True, after the
        run's own rows; see the module docstring).
    executor / results_dir / device / data_root / progress: as
        :func:`pruninglib.runs.executors.execute`; each run's scores are one cached task
        (:func:`graph_task`), its mask found by :func:`pruninglib.runs.experiments.mask_of`.
    method: eigenvalue route of :mod:`pruninglib.analysis.graphs` ("svd" or "eigsh").
    """
    results = list(results)
    tasks = graph_tasks([r.spec for r in results], twins=twins, method=method)
    payloads = execute(tasks, executor=executor, results_dir=results_dir, device=device,
                       data_root=data_root, progress=progress)
    frames = []
    for result, payload in zip(results, payloads):
        ids = _identifiers(result)
        frames.append(_layers(payload["mask"], {**ids, "shuffled": False}))
        if twins:
            frames.append(_layers(payload["twin"], {**ids, "shuffled": True}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def measure(results: Iterable[Result], params: Mapping) -> pd.DataFrame:
    """:func:`graph_layers` of the chapter's runs as :data:`CHAPTER_GRAPHS` says, on the
    parameters' ``executor``, ``results_dir``, ``device`` and ``progress``."""
    return graph_layers(results, **CHAPTER_GRAPHS, executor=params["executor"],
                        results_dir=params["results_dir"], device=params["device"],
                        progress=params["progress"])


def graph_summary(layers: pd.DataFrame) -> pd.DataFrame:
    """One row per run (and ``shuffled`` value) of a :func:`graph_layers` frame: the
    identifiers, :func:`pruninglib.analysis.graphs.summarize` of its layers and
    ``imdb_conv_mean``, the mean IMDB of its convolutional layers alone (NaN without any
    scored one: a network of linear layers)."""
    keys = [*ID_COLUMNS, "shuffled"]
    rows = []
    for values, group in layers.groupby(keys, sort=False, dropna=False):
        conv = pd.to_numeric(group.loc[group["kind"] == "conv", "imdb"], errors="coerce")
        rows.append({**dict(zip(keys, values)), **summarize(group.reset_index(drop=True)),
                     "imdb_conv_mean": float(conv.mean()) if conv.notna().any()
                     else float("nan")})
    return pd.DataFrame(rows)


def weight_shares(layers: pd.DataFrame) -> pd.DataFrame:
    """Per model and masked layer (of the first run of each model): ``layer``, ``kind``,
    ``dim_in`` × ``dim_out`` (the unrolled graph's sides) and ``share``, the layer's fraction
    of the model's prunable weights."""
    masks = layers[~layers["shuffled"].astype(bool)]
    first = masks.groupby("model.name", sort=False)["key"].first()
    rows = masks[masks["key"].isin(first)]
    sizes = rows["dim_in"] * rows["dim_out"]
    share = sizes / sizes.groupby(rows["model.name"]).transform("sum")
    return rows.assign(share=share)[["model.name", "layer_index", "layer", "kind", "dim_in",
                                     "dim_out", "share"]].reset_index(drop=True)

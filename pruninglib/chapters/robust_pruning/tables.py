"""The chapter's tables, shaped from the frames of :mod:`.sweeps` and :mod:`.rescaling`.

Runs frames have one row per run (``prune.method``, ``prune.density``, ``prune.rescale``,
``seed``, ``test_accuracy`` in [0, 1], ``collapsed_layers``, and the tags activation, phase,
depth / net); layers frames one row per (run, prunable layer) with ``layer_index`` (0 = the
input layer) and ``density``. Densities are kept fractions; sparsity (%) = 100 (1 - density).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ...book.claims import Estimate

MLP_KEYS = ["activation", "phase", "prune.method", "prune.rescale"]


def sparsity(density: float) -> str:
    """``90 % sparsity`` for density 0.1."""
    return f"{100 * (1 - density):g} % sparsity"


def select(frame: pd.DataFrame, where: Mapping) -> pd.DataFrame:
    """Rows of ``frame`` matching every ``column: value`` of ``where`` (floats with
    ``np.isclose``, anything else exactly)."""
    rows = frame
    for column, value in where.items():
        hit = np.isclose(rows[column], value) if isinstance(value, float) \
            else rows[column] == value
        rows = rows[hit]
    return rows


def mean_accuracy(frame: pd.DataFrame, where: Mapping) -> float:
    """Mean test accuracy (%) of the rows matching ``where`` (NaN if none)."""
    return float(select(frame, where)["test_accuracy"].mean() * 100)


def by_density(frame: pd.DataFrame, index: Sequence[str], value: str) -> pd.DataFrame:
    """Mean ``value`` over seeds, rows ``index``, one column per density (densest first)."""
    return (frame.pivot_table(index=list(index), columns="prune.density", values=value)
            .sort_index(axis=1, ascending=False))


def collapsed_layers(prune_runs: pd.DataFrame) -> pd.DataFrame:
    """Collapsed layers (mean over seeds) per activation, criterion, phase and depth; one
    column per density."""
    return by_density(prune_runs, ["activation", "prune.method", "phase", "depth"],
                      "collapsed_layers").round(1)


def plain_profiles(train_layers: pd.DataFrame, density: float) -> pd.DataFrame:
    """Layer rows of the trained MLPs at ``density`` without rescaling, except the random
    control (which keeps ``density`` of every layer by construction)."""
    rows = select(train_layers, {"prune.rescale": "none", "prune.density": float(density)})
    return rows[rows["prune.method"] != "random"]


def layer_spread(train_layers: pd.DataFrame, density: float, depth: int) -> pd.DataFrame:
    """Where SNIP puts the weights at ``density``: per (activation, phase), the density of
    the input layer and of the least and the densest hidden layer (means over seeds; hidden
    layers are indices 1 .. depth - 1, the last index ``depth`` is the classifier)."""
    snip = select(plain_profiles(train_layers, density), {"prune.method": "snip"})
    first = snip[snip["layer_index"] == 0].groupby(["activation", "phase"])["density"].mean()
    hidden = snip[(snip["layer_index"] > 0) & (snip["layer_index"] < depth)]
    spread = (hidden.groupby(["activation", "phase", "layer_index"])["density"].mean()
              .groupby(["activation", "phase"]).agg(["min", "max"]))
    spread.insert(0, "input layer", first)
    spread.columns = ["input layer", "least dense hidden layer", "densest hidden layer"]
    return spread


def with_dense_points(runs: pd.DataFrame, methods: Sequence[str],
                      column: str = "prune.method") -> pd.DataFrame:
    """The pruned rows of ``methods``, plus the dense rows repeated once per value in
    ``methods`` (written into ``column``): the unpruned network is the compression-1 point of
    every line."""
    dense = runs[runs["prune.method"] == "dense"]
    pruned = runs[runs["prune.method"].isin(methods)]
    return pd.concat([pruned] + [dense.assign(**{column: m}) for m in methods],
                     ignore_index=True)


def highest_trainable(runs: pd.DataFrame, threshold: float) -> pd.Series:
    """Highest sparsity (%) at which the mean test accuracy over seeds reaches ``threshold``
    (a fraction), per (activation, phase, method, rescale); NaN where no density does (not
    even the dense network when ``runs`` holds it, see :func:`with_dense_points`)."""
    mean = runs.groupby(MLP_KEYS + ["prune.density"])["test_accuracy"].mean().reset_index()
    ok = mean[mean["test_accuracy"] >= threshold]
    table = (100 * (1 - ok.groupby(MLP_KEYS)["prune.density"].min())).rename("sparsity (%)")
    return table.reindex(runs[MLP_KEYS].drop_duplicates().set_index(MLP_KEYS).index)


def trainable_table(train_runs: pd.DataFrame, methods: Sequence[str],
                    threshold: float) -> pd.DataFrame:
    """:func:`highest_trainable` over the dense and pruned MLPs, one column per method."""
    return highest_trainable(with_dense_points(train_runs, methods),
                             threshold).unstack("prune.method")


def chi_table(chis: pd.DataFrame) -> pd.DataFrame:
    """Measured chi (mean over seeds) per activation, criterion and rescaling; one column
    per density."""
    return by_density(chis, ["activation", "prune.method", "prune.rescale"], "chi").round(3)


def inputless_units(chis: pd.DataFrame, density: float) -> pd.Series:
    """Fraction of units with no incoming weight (mean over layers and seeds) at ``density``
    without rescaling, per (activation, method)."""
    rows = select(chis, {"prune.density": float(density), "prune.rescale": "none"})
    return rows.groupby(["activation", "prune.method"])["inputless"].mean()


def eoc_variants(train_runs: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """The EOC MLPs of ``methods`` (and dense) with a ``variant`` column ('<method> /
    <rescale>'); the dense rows are repeated into every variant (its compression-1 point)."""
    runs = train_runs[(train_runs["phase"] == "eoc")
                      & train_runs["prune.method"].isin(["dense", *methods])]
    variant = (runs["prune.method"] + " / " + runs["prune.rescale"]).where(
        runs["prune.method"] != "dense", "dense")
    runs = runs.assign(variant=variant)
    dense = runs[runs["variant"] == "dense"]
    return pd.concat([runs[runs["variant"] != "dense"]]
                     + [dense.assign(variant=v) for v in runs["variant"].unique()
                        if v != "dense"], ignore_index=True)


def residual_variants(res_runs: pd.DataFrame) -> pd.DataFrame:
    """``res_runs`` with ``variant`` = '<net> <method>' (e.g. 'Stable snip')."""
    return res_runs.assign(variant=res_runs["net"] + " " + res_runs["prune.method"])


def residual_panels(res_runs: pd.DataFrame, densities: Sequence[float]) -> pd.DataFrame:
    """Per density (column ``panel``, densest first): the SNIP rows at that density and all
    dense rows, with their ``variant``."""
    runs = residual_variants(res_runs)
    dense = runs[runs["prune.method"] == "dense"]
    return pd.concat([pd.concat([select(runs, {"prune.method": "snip",
                                               "prune.density": float(d)}), dense])
                      .assign(panel=d) for d in sorted(densities, reverse=True)],
                     ignore_index=True)


def residual_accuracy(res_runs: pd.DataFrame, depth: int) -> pd.DataFrame:
    """Test accuracy (%) of the pruned residual nets of ``depth``, per net and criterion;
    one column per density."""
    deep = res_runs[(res_runs["depth"] == depth) & (res_runs["prune.method"] != "dense")]
    return by_density(deep, ["net", "prune.method"], "test_accuracy").mul(100).round(1)


WIDTH_VARIANTS = {("dense", "none"): "dense", ("snip", "none"): "SNIP",
                  ("snip", "fan_in"): "SNIP + rescaling"}


def chi_by_width(widths: pd.DataFrame) -> pd.DataFrame:
    """Measured chi and the % of units left without input (mean over seeds) per variant
    (dense, SNIP, SNIP + rescaling) and width of :func:`.rescaling.width_study`'s frame:
    columns variant, width, chi, chi_half (95 % CI half-width over seeds; 0 for one seed),
    inputless_pct, seeds."""
    rows = []
    for (method, rescale, width), group in widths.groupby(
            ["prune.method", "prune.rescale", "width"], sort=True):
        est = Estimate.from_samples(group["chi"])
        rows.append({"variant": WIDTH_VARIANTS.get((method, rescale), f"{method}/{rescale}"),
                     "width": int(width), "chi": est.mean,
                     "chi_half": est.half_width if est.n > 1 else 0.0,
                     "inputless_pct": 100 * group["inputless"].mean(), "seeds": est.n})
    order = list(WIDTH_VARIANTS.values())
    return (pd.DataFrame(rows).assign(rank=lambda f: f["variant"].map(order.index))
            .sort_values(["rank", "width"]).drop(columns="rank").reset_index(drop=True))


def empty_layers(layers: pd.DataFrame) -> pd.DataFrame:
    """Per run of a layers frame: ``input_density`` (kept fraction of the input layer,
    layer_index 0) and ``empty_beyond_input`` (layers after it with no weight left); one row
    per run with its identifying columns."""
    ident = [c for c in ("key", "activation", "phase", "depth", "prune.method",
                         "prune.density", "prune.rescale", "seed") if c in layers]
    later = layers[layers["layer_index"] > 0]
    empty = (later["density"] == 0).groupby(later["key"]).sum().rename("empty_beyond_input")
    first = layers[layers["layer_index"] == 0].set_index("key")["density"].rename(
        "input_density")
    runs = layers[ident].drop_duplicates("key").set_index("key")
    return runs.join(first).join(empty).fillna({"empty_beyond_input": 0}).reset_index()


def fan_in_or_depth(layers: pd.DataFrame, activation: str) -> pd.DataFrame:
    """SNIP on the EOC, per depth (rows) and density (columns): the kept % of the input
    layer and the number of empty layers after it (means over seeds)."""
    runs = select(empty_layers(layers), {"activation": activation, "phase": "eoc",
                                         "prune.method": "snip"})
    runs = runs.assign(input_kept_pct=100 * runs["input_density"])
    table = runs.pivot_table(index="depth", columns="prune.density",
                             values=["input_kept_pct", "empty_beyond_input"])
    return table.sort_index(axis=1, level=1, ascending=False)

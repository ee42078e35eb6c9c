"""The numbers the chapter's verdict table judges: one :class:`~pruninglib.book.claims.Estimate`
per measured row of :data:`.claims.ROWS`, from the frames of :mod:`.sweeps` and
:mod:`.rescaling`.

Per-seed values, paired by seed where a row is a difference; "the best other" (init or
criterion) is chosen once by its mean over seeds, then paired by seed
(:func:`pruninglib.book.claims.best_other`). Accuracies in percentage points (pp), collapse
in layers, chi dimensionless.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...book import claims
from . import tables

SBP_SR = "SBP-SR"


def mlp_setting(params) -> str:
    """Where the MLP rows were measured, e.g. ``fashion_mnist, 1000 training images, 1
    epoch(s), 1 seed(s)``."""
    return (f"{params.data['name']}, {params.data['train_subset'] or 'all'} training images, "
            f"{params.training['epochs']} epoch(s), {params.seeds} seed(s)")


def residual_setting(params) -> str:
    """Where the residual rows were measured."""
    data = params.residual_data
    return (f"{params.residual_family}, {data['name']}, {data['train_subset'] or 'all'} "
            f"training images, {params.residual_training['epochs']} epoch(s), "
            f"{params.seeds} seed(s)")


def against_best_other(frame: pd.DataFrame, target: str, *, by: str, what: str,
                       setting: str) -> claims.Estimate:
    """Test accuracy of ``target`` minus the best other value of ``by`` (chosen by its mean
    over seeds, then paired by seed), in pp, with the number of ``what`` that entered."""
    comparison = claims.best_other(frame, "test_accuracy", target, by=by, scale=100)
    said = f"vs {comparison.competitor}, the best other by mean" \
        if comparison.competitor else ""
    return claims.Estimate.from_samples(comparison, unit="pp", what=what,
                                        setting="; ".join(s for s in (setting, said) if s))


def same_density_controls(runs: pd.DataFrame, *, activation: str, depth: int,
                          density: float) -> pd.DataFrame:
    """The EOC nets at ``density`` with a ``variant`` column: ``snip`` (plain), and the
    controls ``random`` and ``snip + rescaling``; one row per (variant, seed)."""
    part = tables.select(runs, {"activation": activation, "depth": depth, "phase": "eoc",
                                "prune.density": float(density)})
    variant = part["prune.method"].where(part["prune.rescale"] == "none",
                                         part["prune.method"] + " + rescaling")
    part = part.assign(variant=variant)
    return part[part["variant"].isin(["snip", "random", "snip + rescaling"])]


def pruning_damage(runs: pd.DataFrame, *, activation: str, depth: int, density: float,
                   trainable: float) -> pd.DataFrame:
    """Test accuracy of the SNIP-pruned net at ``density`` minus the dense net of the same
    init and seed (fractions), one row per (phase, seed): columns phase, seed, damage. An
    init whose dense net does not train (mean accuracy below ``trainable``) has NaN damage:
    it cannot lose what it never had, so it does not enter a comparison."""
    part = tables.select(runs, {"activation": activation, "depth": depth})
    dense = part[part["prune.method"] == "dense"].groupby(["phase", "seed"])["test_accuracy"]
    pruned = tables.select(part, {"prune.method": "snip", "prune.density": float(density)})
    frame = (pruned.groupby(["phase", "seed"])["test_accuracy"].mean()
             - dense.mean()).dropna().rename("damage").reset_index()
    trains = dense.mean().groupby("phase").mean() >= trainable
    frame.loc[~frame["phase"].map(trains).fillna(False).astype(bool), "damage"] = float("nan")
    return frame


def mlp_estimates(params, *, prune_layers: pd.DataFrame, train_runs: pd.DataFrame,
                  chis: pd.DataFrame, widths: pd.DataFrame) -> dict[str, claims.Estimate]:
    """H1a, H1a-depth (from the layers of the prune-only grid), H1b, H3a–H3c / H3e–H3f (per activation), H4a–H4c; H4b on the widest net of
    ``widths`` (:func:`.rescaling.width_study`)."""
    setting = mlp_setting(params)
    first, depth = params.activations[0], params.train_depth
    low = float(min(params.train_densities))
    plain = train_runs[train_runs["prune.rescale"] == "none"]

    def mlp(activation, phase, method="snip", density=low, **more) -> dict:
        where = {"activation": activation, "phase": phase, "depth": depth,
                 "prune.method": method, **more}
        return where if method == "dense" else {**where, "prune.density": density}

    acc = dict(scale=100, unit="pp", setting=setting)
    empty = tables.empty_layers(prune_layers)
    at_sparsest = {"activation": first, "phase": "eoc", "prune.method": "snip",
                   "prune.density": float(min(params.densities))}
    deepest, shallowest = max(params.depths), min(params.depths)
    controls = same_density_controls(train_runs, activation=first, depth=depth, density=low)
    out = {
        "H1a": claims.estimate(empty, "empty_beyond_input", unit="layers", setting=setting,
                               where={**at_sparsest, "depth": deepest}),
        "H1a-depth": claims.estimate(empty, "empty_beyond_input", unit="layers",
                                     setting=setting, where={**at_sparsest, "depth": deepest},
                                     minus={**at_sparsest, "depth": shallowest}),
        "H1b": against_best_other(controls, "snip", by="variant", setting=setting,
                                  what="criteria at the same density"),
    }
    for activation, letters in zip(params.activations, ("ab", "cd")):
        for letter, other in zip(letters, ("ordered", "chaotic")):
            out[f"H3{letter}"] = claims.estimate(
                plain, "collapsed_layers", unit="layers", setting=setting,
                where=mlp(activation, other), minus=mlp(activation, "eoc"))
    for activation, letter in zip(params.activations, "ef"):
        damage = pruning_damage(plain, activation=activation, depth=depth, density=low,
                                trainable=params.trainable_accuracy)
        comparison = claims.best_other(damage, "damage", "eoc", by="phase", scale=100)
        said = f"vs {comparison.competitor}, the best other by mean" \
            if comparison.competitor else "no other init whose dense net trains"
        out[f"H3{letter}"] = claims.Estimate.from_samples(
            comparison, unit="pp", what="inits whose dense net trains",
            setting=f"{setting}; {said}")
    chi_setting = f"{setting}; χ over {params.chi_inputs} test images"

    def chi_at(rescale: str) -> dict:
        return {"activation": first, "prune.method": "snip", "prune.density": low,
                "prune.rescale": rescale}

    out["H4a"] = claims.estimate(chis, "chi", setting=chi_setting, where=chi_at("none"))
    widest = int(widths["width"].max())
    out["H4b"] = claims.estimate(widths, "chi", setting=f"{chi_setting}; width {widest}",
                                 where={**chi_at("fan_in"), "width": widest})
    out["H4c"] = claims.estimate(train_runs, "test_accuracy", **acc,
                                 where=mlp(first, "eoc", **{"prune.rescale": "fan_in"}),
                                 minus=mlp(first, "eoc", **{"prune.rescale": "none"}))
    return out


def residual_estimates(params, res_runs: pd.DataFrame) -> dict[str, claims.Estimate]:
    """H5a (Stable − standard at the largest depth), H5b (its growth from the smallest
    depth), H6 (SBP-SR against the best other criterion on the standard net)."""
    setting = residual_setting(params)
    low = float(min(params.residual_densities))
    deepest, shallowest = max(params.residual_depths), min(params.residual_depths)

    def gap(depth: int) -> pd.Series:
        where = {"depth": depth, "prune.method": "snip", "prune.density": low}
        return claims.samples(res_runs, "test_accuracy", scale=100,
                              where={**where, "net": "Stable"},
                              minus={**where, "net": "standard"})

    growth = (gap(deepest) - gap(shallowest)).dropna() if shallowest != deepest else []
    deep = tables.select(res_runs, {"depth": deepest, "prune.density": low})
    entrants = pd.concat([
        tables.select(deep, {"net": "Stable", "prune.method": "snip"}).assign(variant=SBP_SR),
        deep[(deep["net"] == "standard") & deep["prune.method"].isin(params.residual_methods)]
        .assign(variant=lambda f: f["prune.method"])])
    return {
        "H5a": claims.Estimate.from_samples(gap(deepest), unit="pp", setting=setting),
        "H5b": claims.Estimate.from_samples(growth, unit="pp", setting=setting),
        "H6": against_best_other(entrants, SBP_SR, by="variant", what="criteria",
                                 setting=setting),
    }


def chapter_estimates(params, rows: Sequence[claims.Claim], *, prune_layers: pd.DataFrame,
                      train_runs: pd.DataFrame, chis: pd.DataFrame, widths: pd.DataFrame,
                      res_runs: pd.DataFrame) -> dict[str, claims.Estimate]:
    """The estimate of every row of ``rows`` (:func:`.claims.claims_for`) that is
    measured, keyed by claim id; rows of kind *not_measured* get none."""
    measured = {r.id for r in rows if r.kind != claims.NOT_MEASURED_KIND}
    found = {**mlp_estimates(params, prune_layers=prune_layers, train_runs=train_runs, chis=chis,
                             widths=widths),
             **residual_estimates(params, res_runs)}
    return {key: value for key, value in found.items() if key in measured}

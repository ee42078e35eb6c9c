"""The SynFlow chapter's measurements of its claims: one :class:`~pruninglib.book.claims.
Estimate` per row of :func:`.claims.declared`, from the frames of the four studies
(:mod:`.study`), and the summary of them in words.

Every estimate is over independent replicates (seeds: independently initialised, pruned and
trained networks). S7 compares SynFlow with the best *other* method chosen once by its mean
over seeds, then paired by seed (:func:`pruninglib.book.claims.best_other`).
"""
from __future__ import annotations

import math

import pandas as pd

from ...book import claims
from ...book.plots import model_label
from .claims import COLLAPSE_CLAIM_MODELS, cliff_models, declared, s7_alphas
from .collapse import cliff_points, collapse_order, critical_by, decades_below_max
from .study import BASELINES, plain_models

LOG_FLOOR = 1e-16
"""float64 rounding: an exact 0 error is reported as 1e-16 (log10 = −16)."""


def log_errors(rows: pd.DataFrame, column: str) -> pd.Series:
    """Per seed, log10 of the largest ``column`` of ``rows`` (floored at :data:`LOG_FLOOR`)."""
    return rows.groupby("seed")[column].max().clip(lower=LOG_FLOOR).map(math.log10)


def first_layer_agreement(summary: pd.DataFrame, plain: list[str], *,
                          setting: str = "") -> claims.Estimate:
    """S3-order: per seed, the fraction of (method, plain network) cases of
    :func:`.collapse.collapse_order` in which the first layer emptied is the predicted one;
    cases where the method empties no layer on the grid are undefined and counted
    (entered of all cases)."""
    order = collapse_order(summary[summary["model.name"].isin(plain)])
    values = order.groupby("seed")["as_predicted"].mean()
    return claims.Estimate.from_samples(values, setting=setting, what="cases",
                                        entered=int(order["as_predicted"].notna().sum()),
                                        total=len(order))


def worst_of(rows: pd.DataFrame, column: str) -> pd.Series:
    """Per seed, the largest ``column`` of ``rows`` (e.g. over SNIP and SynFlow)."""
    return rows.groupby("seed")[column].max()


def cliff(runs: pd.DataFrame, model: str, methods=BASELINES) -> pd.Series:
    """S1-cliff: per seed, the smallest over ``methods`` of accuracy − chance (pp) at the last
    α of ``model``'s training grid before the method's first collapsed layer
    (:func:`.collapse.cliff_points`); methods with no step before a collapse on the grid
    are left out (counted by :func:`cliff_entered`); NaN if none is left."""
    points = cliff_points(runs[(runs["model.name"] == model)
                               & runs["prune.method"].isin(list(methods))])
    if points.empty:
        return pd.Series(dtype=float)
    return points.groupby("seed")["before"].min() * 100


def cliff_entered(runs: pd.DataFrame, model: str, methods=BASELINES) -> tuple[int, int]:
    """(method × seed cases with a step before the collapse on the grid, all cases)."""
    points = cliff_points(runs[(runs["model.name"] == model)
                               & runs["prune.method"].isin(list(methods))])
    return int(points["before"].notna().sum()), len(points)


def imp_critical(imp: pd.DataFrame) -> pd.DataFrame:
    """α_cr (effective) of the IMP runs: seeds × numbers of cycles (NaN where the smallest
    compression of the grid collapses already)."""
    critical = critical_by(imp, ["prune.iterations", "seed"])
    return critical.pivot(index="seed", columns="prune.iterations", values="alpha_cr")


def imp_shift(imp: pd.DataFrame, fewest: int, most: int) -> pd.Series:
    """S4: per seed, α_cr (effective) with ``most`` cycles minus with ``fewest`` (NaN where
    either collapses at the grid's smallest compression already); empty if they are equal
    or not both run."""
    by_seed = imp_critical(imp)
    if most <= fewest or fewest not in by_seed or most not in by_seed:
        return pd.Series(dtype=float)
    return by_seed[most] - by_seed[fewest]


def lead(runs: pd.DataFrame, model: str, alpha: float) -> claims.Comparison:
    """S7: SynFlow − the best other method by mean over seeds, paired by seed, test accuracy
    in pp, network ``model`` at compression 10^``alpha``."""
    return claims.best_other(runs, "test_accuracy", "synflow", by="prune.method",
                             where={"model.name": model, "alpha": float(alpha)}, scale=100)


def settings(P) -> dict[str, str]:
    """Where each kind of estimate was measured (the ``setting`` of its verdict line)."""
    trained = {name: f"{P.dataset}, {P.train_subset.get(name) or 'all'} training images, "
                     f"{P.epochs} epochs, width ×{P.train_widths.get(name, 1.0):g}"
               for name in P.train_models}
    return {"init": f"{P.dataset} batch, {P.seeds} initializations",
            "pruning": f"pruning only, α grid step {P.alpha_step}",
            "imp": f"{P.dataset}, {P.imp_train_subset or 'all'} images, {P.imp_epochs} "
                   f"epochs per cycle", **{f"trained:{k}": v for k, v in trained.items()}}


def estimates(P, *, conservation: pd.DataFrame, summary: pd.DataFrame, runs: pd.DataFrame,
              imp: pd.DataFrame) -> dict[str, claims.Estimate]:
    """Claim id -> estimate for every row of :func:`.claims.declared` with parameters ``P``.

    conservation: :func:`.study.conservation_study`'s frame; summary:
    :func:`.collapse.collapse_summary` of the collapse study; runs: the pruned, trained runs
    of :func:`.study.accuracy_study`; imp: :func:`.study.imp_study`.
    """
    where = settings(P)
    sample = claims.Estimate.from_samples
    c = conservation
    mlp = c[c["model"] == "mlp"]
    exact = mlp[mlp["objective"].isin(["snip", "synflow"])]
    realistic = c["data_statistics"] if "data_statistics" in c else pd.Series(False, c.index)
    bn_eval = c[c["batchnorm"] & (c["bn_mode"] == "eval") & ~realistic]
    realistic = c[realistic]
    conv_vgg = next((m for m in P.conservation_nets if m.startswith("vgg")), None)
    conv_res = next((m for m in P.conservation_nets if m.startswith("resnet")), None)
    slope = {o: mlp[mlp["objective"] == o].set_index("seed")["size_slope"]
             for o in ("synflow", "snip")}
    first = P.train_models[0]
    shift = imp_shift(imp, min(P.imp_cycles), max(P.imp_cycles))  # NaN: collapsed at once
    results = {
        "S2": sample(log_errors(exact, "unit_error"), setting=where["init"]),
        "S2-conv": sample(log_errors(bn_eval[bn_eval["model"] == conv_vgg], "unit_error"),
                          setting=where["init"]),
        "S2-res": sample(log_errors(bn_eval[bn_eval["model"] == conv_res], "cut_error"),
                         setting=where["init"]),
        "S2-approx": sample(worst_of(realistic[realistic["model"] == conv_vgg],
                                     "unit_mismatch"), setting=where["init"]),
        "S2-approx-res": sample(worst_of(realistic[realistic["model"] == conv_res],
                                         "cut_error"), setting=where["init"]),
        "S3": sample(slope["synflow"], setting=where["init"]),
        "S3-SNIP": sample(slope["snip"], setting=where["init"]),
        "S3-order": first_layer_agreement(
            summary, plain_models(P),
            setting=f"{where['pruning']}; {', '.join(plain_models(P))}"),
        "S1-acc": claims.estimate(runs, "above_chance", where={"collapsed": True,
                                                               "plain": True},
                                  scale=100, unit="pp",
                                  setting="trained runs with a collapsed layer"),
        "S5-single": sample(decades_below_max(summary, ["synflow@1"], model="mlp"),
                            unit="decades", setting=where["pruning"]),
        "S4": sample(shift, unit="decades", setting=where["imp"], what="seeds",
                     entered=int(shift.notna().sum()), total=len(shift)),
        "S7-low": lead(runs, first, 1).estimate(unit="pp", setting=where[f"trained:{first}"]),
    }
    for name in COLLAPSE_CLAIM_MODELS:
        results[f"S1-{name}"] = sample(decades_below_max(summary, BASELINES, model=name),
                                       unit="decades", setting=where["pruning"])
        results[f"S6-{name}"] = sample(
            decades_below_max(summary, ["synflow"], model=name, column="alpha_collapse"),
            unit="decades", setting=where["pruning"])
    for name in cliff_models(P):
        entered, total = cliff_entered(runs, name)
        results[f"S1-cliff-{name}"] = sample(
            cliff(runs, name), unit="pp", what="method × seed cases", entered=entered,
            total=total, setting=where[f"trained:{name}"])
    for name in P.train_models:
        for alpha in s7_alphas(P, name):
            results[f"S7-{name}-{alpha:g}"] = lead(runs, name, alpha).estimate(
                unit="pp", setting=where[f"trained:{name}"])
    ids = {row.id for row in declared(P) if row.kind != "not_measured"}
    return {k: v for k, v in results.items() if k in ids}


def summary_markdown(P, results: dict[str, claims.Estimate]) -> str:
    """The chapter's findings in words, one bullet per group of claims, every number from
    ``results`` (:func:`estimates`)."""
    def say(claim_id: str, digits: int = 2) -> str:
        estimate = results.get(claim_id)
        return estimate.format(digits) if estimate and estimate.n else "—"

    collapse_models = [n for n in COLLAPSE_CLAIM_MODELS if f"S1-{n}" in results]
    high = [(n, a) for n in P.train_models for a in s7_alphas(P, n)
            if f"S7-{n}-{a:g}" in results]
    lines = [
        (f"- **Conservation (S2, S3).** On the bias-free MLP, SNIP's and SynFlow's saliency is "
         f"conserved through every unit: log10 of the worst relative error {say('S2', 1)}; "
         f"SynFlow's mean score per weight falls with layer size with slope {say('S3', 3)}, "
         f"SNIP's score (an absolute value) with slope {say('S3-SNIP')}. With biases and "
         f"BatchNorm statistics from data, a typical channel of the VGG is off by "
         f"{say('S2-approx', 3)} (S2-approx; median relative mismatch, the worse of SNIP and "
         f"SynFlow) and the ResNet's first and last layers by {say('S2-approx-res', 3)}."),
        "- **Collapse (S1, S6).** " + "; ".join(
            [f"{model_label(n)}: the four baselines empty a layer at least {say(f'S1-{n}')} "
             f"below ρ_max, SynFlow's first empty layer (ρ_max if none) is "
             f"{say(f'S6-{n}')} below it" for n in collapse_models]
            + [f"trained {model_label(n)}, one grid step before a baseline's first collapsed "
               f"layer, is at least {say(f'S1-cliff-{n}', 1)} above chance (S1-cliff)"
               for n in cliff_models(P) if f"S1-cliff-{n}" in results]) + ".",
        (f"- **Re-evaluation (S5).** With a single round, the same SynFlow score collapses "
         f"{say('S5-single')} below ρ_max on the MLP."),
        (f"- **Which layer first (S3).** The first layer emptied is the predicted one in a "
         f"fraction {say('S3-order')} of the cases."),
        (f"- **IMP (S4).** {max(P.imp_cycles)} instead of {min(P.imp_cycles)} cycles move "
         f"IMP's critical compression by {say('S4')}."),
        "- **Accuracy (S7).** " + "; ".join(
            f"{model_label(n)} at α = {a:g}: SynFlow − best other {say(f'S7-{n}-{a:g}', 1)}"
            for n, a in high) + ".",
    ]
    return "\n".join(lines)

"""The tour's claims, as data: a table of rows from the SynFlow paper whose texts name the
densities and models of the run (``{density}``, ``{rho}``, ``{model}``), filled in by
:func:`declared`, which also takes the paper's numbers and the calibration of every S7 row from
the authors' Fig. 6 data (:func:`pruninglib.book.reference.synflow_fig6`) at the compression
we test.

All rows are *claims* (an experiment could refute each); none is a check. S7a compares SynFlow
with the best other method (chosen once by its mean, then paired by seed), as the paper's
"competitive" does; the first version compared it with the unpruned network, a criterion the
authors' own data fail (:func:`former_s7a`).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from ...book import calibration, claims, plots, reference

SYNFLOW = "Tanaka et al. 2020 (SynFlow)"
FIG6 = "Fig. 6, authors' result files"
FIG6_PANEL = "cifar10_lottery_vgg16_bn"
"""The Fig. 6 panel whose numbers are quoted (every panel enters the calibration)."""
FIG6_SCALE = "VGG-16 · CIFAR-10 · 160 ep · 3 seeds"
FIG1_SCALE = "VGG-16 · CIFAR-100 · ρ = 1000 · 3 seeds"
ALPHA_TOLERANCE = 0.13
"""How far (in α = log10 ρ) the nearest Fig. 6 compression may be from ours to be quoted."""

COMPETITIVE = calibration.S7_LOW_REVISED
BEATS = claims.above(0.0, "pp", why="'beats': any margin beyond the seed spread")
DISPROPORTIONATE = claims.below(1.0, why="1 is the global share: below it, the layer is "
                                         "pruned harder than the network")

CLAIMS = [
    claims.Claim(
        id="S7a", paper=SYNFLOW,
        statement="At low compression, SynFlow is competitive with the other methods.",
        metric="SynFlow − the best other method (chosen by its mean, paired by seed), test "
               "accuracy at density {density:g} (ρ = {rho:g}), {model}",
        criterion=COMPETITIVE),
    claims.Claim(
        id="S7{letter}", paper=SYNFLOW,
        statement="At high compression, SynFlow beats random pruning.",
        metric="SynFlow − random test accuracy at density {density:g} (ρ = {rho:g}), {model}",
        criterion=BEATS),
    claims.Claim(
        id="S3", paper=SYNFLOW,
        statement="Single-shot gradient scores (SNIP) prune the largest layers "
                  "disproportionately.",
        paper_number=claims.PaperNumber(
            "largest layers keep 5–16 × 10⁻⁵ of their weights at global density 10⁻³",
            "VGG-16, CIFAR-100, ρ = 1000, SNIP and GraSP",
            "Fig. 1 data, authors' result files"),
        metric="density of the largest layer ÷ global density, SNIP at density {density:g}, "
               "{model}",
        criterion=DISPROPORTIONATE),
]
S7A, S7_MODEL, S3 = CLAIMS
FIG1_NOT_TYPED_IN = claims.Calibration(
    "n.a.", "the authors' Fig. 1 layer densities are not among the typed-in reference tables")


def fig6_alpha(density: float) -> float | None:
    """The Fig. 6 compression exponent α nearest to ours (log10 of 1/density), or None when
    none is within :data:`ALPHA_TOLERANCE`."""
    ours = math.log10(1.0 / density)
    alphas = reference.synflow_fig6()["alpha"].unique()
    nearest = float(min(alphas, key=lambda a: abs(a - ours)))
    return nearest if abs(nearest - ours) <= ALPHA_TOLERANCE else None


def fig6_number(density: float, against: str) -> claims.PaperNumber | None:
    """The paper's number in :data:`FIG6_PANEL` at the Fig. 6 compression nearest to
    ``density``: SynFlow's mean accuracy against ``against`` ("best_other": the best other
    method by mean, or a method name). None when Fig. 6 has no compression near ours."""
    alpha = fig6_alpha(density)
    if alpha is None:
        return None
    frame = reference.synflow_fig6()
    at = frame[(frame["panel"] == FIG6_PANEL) & ((frame["alpha"] - alpha).abs() < 1e-9)]
    accuracy = at.set_index("method")["accuracy"]
    other = accuracy.drop(index="synflow").idxmax() if against == "best_other" else against
    best = " (the best other)" if against == "best_other" else ""
    first = at.iloc[0]
    return claims.PaperNumber(
        f"SynFlow {accuracy['synflow']:.2f} % vs {plots.method_label(other)} "
        f"{accuracy[other]:.2f} %{best}",
        f"{first['network']}, {first['dataset']}, ρ = 10^{alpha:g} ≈ {10 ** alpha:.0f} "
        f"(ours: {1 / density:.0f}), mean of {first['seeds']} seeds", FIG6)


def fig6_calibration(density: float, criterion: claims.Criterion,
                     against: str) -> claims.Calibration:
    """``criterion`` on SynFlow − ``against`` in each of Fig. 6's 12 panels at the
    compression nearest to ``density``; "n.a." when Fig. 6 has none near ours."""
    alpha = fig6_alpha(density)
    if alpha is None:
        return claims.Calibration("n.a.", f"Fig. 6 has no compression near ρ = "
                                          f"{1 / density:.0f}")
    result = calibration.synflow_fig6(alpha, criterion, against=against)
    return dataclasses.replace(result, detail=f"{result.detail} at α = {alpha:g}")


def former_s7a(density: float) -> claims.Calibration:
    """The first version of S7a, "dense − SynFlow below 1 pp", on the authors' Fig. 6 data
    at ``density``'s compression (it fails there: SynFlow − dense above −1 pp)."""
    return fig6_calibration(density, claims.above(-1.0, "pp"), against="dense")


def our_scale(model: str, *, width: float = 1.0, dataset: str, train_subset: int | None,
              epochs: int, seeds: int) -> str:
    """Our setting in one short line: ``Conv-4×0.25 · fashion_mnist 5000 · 3 ep · 3 seeds``
    (the width multiplier shown when it is not 1)."""
    images = "all" if train_subset is None else f"{train_subset}"
    scaled = "" if width == 1.0 else f"×{width:g}"
    return (f"{plots.model_label(model)}{scaled} · {dataset} {images} · {epochs} ep · "
            f"{seeds} seed{'s' if seeds != 1 else ''}")


def declared(models: Sequence[str], densities: Sequence[float], *, dataset: str,
             train_subset: int | None, epochs: int, seeds: int,
             widths: Mapping[str, float] | None = None) -> list[claims.Claim]:
    """The tour's claims: S7a on the first model at the highest density; one S7 row per
    model (S7b, S7c, ...) at the lowest density; S3 on the first model at the lowest
    density; each with its texts, scale (``widths``: width multiplier per model, default 1),
    paper's number and calibration filled in."""
    if not models or not densities:
        raise ValueError(f"models={list(models)!r} and densities={list(densities)!r}: "
                         "at least one of each is needed")
    if len(models) > 6:
        raise ValueError(f"models={list(models)!r}: at most 6 (S7b to S7g)")
    high, low = max(densities), min(densities)
    size = dict(dataset=dataset, train_subset=train_subset, epochs=epochs, seeds=seeds)

    def filled(claim, density, model, paper, **fields):
        texts = {"density": density, "rho": 1 / density, "model": plots.model_label(model),
                 "letter": fields.pop("letter", "")}
        return dataclasses.replace(
            claim, id=claim.id.format(**texts), metric=claim.metric.format(**texts),
            scale=claims.Scale(paper=paper, ours=our_scale(
                model, width=(widths or {}).get(model, 1.0), **size)), **fields)

    first = models[0]
    rows = [filled(S7A, high, first, FIG6_SCALE, paper_number=fig6_number(high, "best_other"),
                   calibration=fig6_calibration(high, COMPETITIVE, "best_other"))]
    for letter, model in zip("bcdefg", models):
        rows.append(filled(S7_MODEL, low, model, FIG6_SCALE, letter=letter,
                           paper_number=fig6_number(low, "random"),
                           calibration=fig6_calibration(low, BEATS, "random")))
    rows.append(filled(S3, low, first, FIG1_SCALE, calibration=FIG1_NOT_TYPED_IN))
    return rows

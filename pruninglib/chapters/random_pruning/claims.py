"""The chapter's claims, as data: one template per row (or per family of rows, one per PaI
method) whose texts name the run's densities, methods and widths (``{moderate}``,
``{method}``, ...), filled in by :func:`declared`.

Kinds (:mod:`pruninglib.book.claims`):

* *claims* (an experiment could refute them): B2, B3a, B3b (Blakeney et al. 2020: random
  sparse networks against magnitude pruning of the *trained* network, :mod:`.after_training`),
  F1·, F2· (Frankle et al. 2021), SU· (Su et al. 2020), L1 (Liu et al. 2022), N2b and N3 (Yang
  & Wang 2023); B2-PaI is this book's own extension of B2 to pruning-at-initialisation masks
  (paper :data:`EXTENSION`, never counted as Blakeney et al.'s);
* *checks* (they hold by derivation, so they test our code, not the paper): N1, the scale
  q^(number of masked matrices), exact in the limit by ReLU homogeneity (its tolerance, 0.5,
  is half the distance to the other reading q^depth); N2a, the rescaled NTK's error falls
  with width, as any finite-width NTK's does (at about width^-1/2);
* *not measured*: N4, a property of the proof's bound.

N3 tests *consistency* with the paper's bound (a sufficient width linear in 1/q allows the
needed width to grow no faster than 1/q), not a rate equal to 1. No released numbers of these
authors are available to us, so no row is calibrated on them ("n.a.").
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ...book import claims, plots

BLAKENEY, FRANKLE = "Blakeney et al. 2020", "Frankle et al. 2021"
SU, LIU, YANG = "Su et al. 2020", "Liu et al. 2022", "Yang & Wang 2023"
EXTENSION = "This book, extending Blakeney et al. 2020"
"""Rows that are this book's own tests, not claims of a paper (never its reproductions)."""
PAPER_SCALE = {
    BLAKENEY: "ResNet, VGG, a ConvNet (abstract; data and sizes not retrieved)",
    FRANKLE: "ResNet-20, VGG-16 · CIFAR-10, and larger (not verified)",
    SU: "VGG-19, ResNet-32 · CIFAR · 160 ep",
    LIU: "wide ResNets · CIFAR, ImageNet",
    YANG: "fully-connected ReLU nets, widths → ∞ (theory)",
    EXTENSION: "as Blakeney et al.'s, whose comparison is magnitude pruning after training: "
               "PaI masks are not in the paper",
}
"""The papers' settings, as far as we read them (CLAIMS.md); one short line each."""

RANDOM_TOLERANCE = 2.0
"""pp: how far a random mask may fall behind a found one and still be "reasonably good"."""
CHECK_TOLERANCE = 1.0
"""pp: how far shuffling or re-initialising may lower accuracy and still be "the same"."""
SU_METHODS = ("snip", "grasp")
"""The PaI methods Su et al. compare their smart-ratio random masks with."""

REASONABLY_GOOD = claims.above(
    -RANDOM_TOLERANCE, "pp", why="our reading of 'reasonably good' / 'comparable': the "
                                 "abstract gives no number")
SAME_OR_HIGHER = claims.above(
    -CHECK_TOLERANCE, "pp",
    why=f"our tolerance for 'the same or higher': a loss up to {CHECK_TOLERANCE:g} pp")
MATCH_OR_BEAT = claims.above(
    -CHECK_TOLERANCE, "pp",
    why=f"our tolerance for 'match or beat': a loss up to {CHECK_TOLERANCE:g} pp")
GAP_SHRINKS = claims.below(0.0, "pp", why="'closer as wider': the gap must shrink")
ERROR_FALLS = claims.below(0.0, why="every finite-width NTK converges to its limit, at about "
                                    "width^−1/2")
SCALE_ONE = claims.within(1.0, 0.1, why="an assumed size of seed-level noise, not derived; the "
                                        "dense cells' measured seed spread is shown with the "
                                        "fits")
AT_MOST_LINEAR = claims.below(1.25, why="a sufficient width ∝ 1/q allows k ≤ 1; 0.25 for an "
                                        "exponent fitted on a finite grid")


def _claim(id, paper, statement, metric, criterion=None, **fields) -> claims.Claim:
    return claims.Claim(id=id, paper=paper, statement=statement, metric=metric,
                        criterion=criterion, **fields)


PARITY = [
    _claim("B2", BLAKENEY,
           "Networks trained from a random sparse initialisation reach reasonably good "
           "accuracy compared with engineered pruning methods (the paper's: magnitude "
           "pruning of the trained network, then retraining).",
           "uniform random (trained from scratch) − magnitude pruning of the trained dense "
           "network (fine-tuned {epochs} ep), test accuracy at density {moderate:g}, paired "
           "by seed, pp", REASONABLY_GOOD),
    _claim("B2-PaI", EXTENSION,
           "… and compared with pruning-at-initialisation methods: a uniform random mask "
           "is reasonably good against the best of them.",
           "uniform random − the best PaI method ({pai}; chosen once by its mean, paired by "
           "seed), test accuracy at density {moderate:g}, pp", REASONABLY_GOOD),
    _claim("B3a", BLAKENEY,
           "The structure found by pruning is not inherently important: a random mask with "
           "the pruned network's layer counts does as well.",
           "random mask with the magnitude mask's layer counts (from scratch) − magnitude "
           "pruning after training (fine-tuned), accuracy at density {moderate:g}, pp",
           REASONABLY_GOOD),
    _claim("B3b", BLAKENEY,
           "… and so does re-initialising the pruned network's weights.",
           "the magnitude mask on re-drawn weights (from scratch) − magnitude pruning "
           "after training (fine-tuned), accuracy at density {moderate:g}, pp",
           REASONABLY_GOOD),
]
PER_METHOD = {
    "F1": _claim("F1{letter}", FRANKLE,
                 "Shuffling the {method} mask within each layer does not lower accuracy (the "
                 "same or higher).",
                 "shuffled − found {method} accuracy, mean over all densities, pp",
                 SAME_OR_HIGHER),
    "F2": _claim("F2{letter}", FRANKLE,
                 "Re-initialising the weights under the {method} mask does not lower accuracy.",
                 "re-initialised − found {method} accuracy, mean over all densities, pp",
                 SAME_OR_HIGHER),
    "SU": _claim("SU{letter}", SU,
                 "Random masks with smart layer-wise ratios match or beat {method}.",
                 "smart-ratio random − {method} accuracy, mean over all densities, pp",
                 MATCH_OR_BEAT),
}
WIDTH = _claim("L1", LIU,
               "Random pruning gets closer to the dense network as the network gets wider.",
               "(dense − ERK random) accuracy gap at width ×{w_hi:g} minus the gap at "
               "×{w_lo:g}, density {width_density:g}, pp", GAP_SHRINKS)
EXPONENT_TOLERANCE = 0.5
"""Tolerance of N1's exponent: half the distance to the other reading, q^depth (hidden layers
only), so the check tells the two powers apart whatever the number of seeds or the width."""


def scale_check(masked: int) -> claims.Claim:
    """N1 for networks with ``masked`` masked weight matrices: the exponent of the fitted
    scale is ``masked`` (a check: exact in the limit)."""
    return _claim(
        "N1", YANG,
        "The NTK of a randomly pruned network converges to the dense NTK times an extra "
        "factor; our derivation: q to the number of masked matrices (q^{masked} here; "
        "q^{depth} if only the hidden layers counted).",
        "exponent k of the fit (fitted scale) = c·q^k over q at width {widest}",
        claims.within(masked, EXPONENT_TOLERANCE,
                      why=f"exact in the limit by ReLU homogeneity; {EXPONENT_TOLERANCE:g} "
                          f"is halfway to the other reading, q^{masked - 1}"),
        kind=claims.CHECK,
        reason="exact in the infinite-width limit by ReLU homogeneity (derived in "
               "pruninglib.analysis.ntk): it tests our code and derivation, not the paper")


NTK = [
    _claim("N2a", YANG,
           "After rescaling the surviving weights by 1/√q the pruned NTK converges to the "
           "dense NTK: its error falls as the width grows.",
           "slope of log(relative error of the rescaled NTK to Θ∞) against log(width), "
           "shared by all q", ERROR_FALLS, kind=claims.CHECK,
           reason="the rescaled limit is the dense one by the same derivation, and every "
                  "finite-width NTK approaches its limit"),
    _claim("N2b", YANG,
           "… and the factor is gone: the rescaled NTK has the dense kernel's scale.",
           "fitted scale of the rescaled NTK against Θ∞ at width {widest}, mean over "
           "q < 1", SCALE_ONE),
    _claim("N3", YANG,
           "The width needed to keep the NTK within ε of its limit grows at most linearly "
           "in 1/q (the paper's sufficient width is linear in 1/q).",
           "k in 'width needed ∝ q^(−k)': fit error = C·width^b·q^c over the grid, k = c/b",
           AT_MOST_LINEAR),
    _claim("N4", YANG,
           "With no pruning the width bound matches the known dense bounds up to log "
           "factors.", "none", kind=claims.NOT_MEASURED_KIND,
           reason="a property of the proof's bound, not a measured quantity"),
]


def parity_scale(params: Mapping) -> str:
    """Our training setting in one short line: ``LeNet-300-100 · fashion_mnist 2000 · 1 ep ·
    1 seed``."""
    images = params["train_subset"] or "all"
    seeds = params["seeds"]
    return (f"{plots.model_label(params['model'])} · {params['dataset']} {images} · "
            f"{params['epochs']} ep · {seeds} seed{'s' if seeds != 1 else ''}")


def ntk_scale(params: Mapping) -> str:
    """Our NTK setting in one short line: ``3-hidden-layer ReLU MLP, widths 64–256 · 16
    fashion_mnist inputs · 2 seeds``."""
    widths = params["ntk_widths"]
    return (f"{params['ntk_depth']}-hidden-layer ReLU MLP, widths {min(widths)}–"
            f"{max(widths)} · {params['ntk_inputs']} {params['dataset']} inputs · "
            f"{params['ntk_seeds']} seeds")


def declared(params: Mapping) -> list[claims.Claim]:
    """The chapter's rows for the resolved parameters ``params`` (a notebook's ``P``): texts
    filled in, the scale of every row set (the paper's setting / ours). F1 and F2 have one row
    per PaI method (F1a, F1b, ...), SU one per method of :data:`SU_METHODS` that is run."""
    for name in ("methods", "width_multipliers", "ntk_widths"):
        if not params[name]:
            raise ValueError(f"{name}={params[name]!r} is not allowed: at least one value")
    methods = list(params["methods"])
    multipliers = params["width_multipliers"]
    texts = {"pai": ", ".join(plots.method_label(m) for m in methods),
             "moderate": params["moderate_density"], "w_lo": min(multipliers),
             "w_hi": max(multipliers), "width_density": params["width_density"],
             "masked": params["ntk_depth"] + 1, "depth": params["ntk_depth"],
             "epochs": params["epochs"],
             "widest": max(params["ntk_widths"])}
    ours = {"parity": parity_scale(params), "ntk": ntk_scale(params)}

    def filled(claim, setting, **extra):
        values = {**texts, **extra}
        return dataclasses.replace(
            claim, id=claim.id.format(**values), statement=claim.statement.format(**values),
            metric=claim.metric.format(**values),
            scale=claims.Scale(paper=PAPER_SCALE[claim.paper], ours=ours[setting]))

    def family(prefix, family_methods):
        return [filled(PER_METHOD[prefix], "parity", letter=letter,
                       method=plots.method_label(m))
                for letter, m in zip("abcdefgh", family_methods)]

    rows = [filled(c, "parity") for c in PARITY]
    rows += family("F1", methods) + family("F2", methods)
    rows += family("SU", [m for m in SU_METHODS if m in methods])
    rows.append(filled(WIDTH, "parity"))
    rows += [filled(c, "ntk") for c in (scale_check(texts["masked"]), *NTK)]
    return rows


def ids(rows, prefix: str) -> list[str]:
    """The ids of ``rows`` that start with ``prefix`` ("F1" -> F1a, F1b, ...), in order."""
    return [c.id for c in rows if c.id.startswith(prefix)]

"""The SynFlow chapter's claims and checks, as data: module-level rows whose texts name the
chapter's settings (``{mlp}``, ``{step}``, ``{model}``, ...), filled in and expanded over the
networks and compressions of a run by :func:`declared`.

Kinds (see :mod:`pruninglib.book.claims`):

* *checks* — S2, S2-conv, S2-res and S3 are exact identities for bias-free ReLU networks with
  BatchNorm in eval mode at initialisation (Thm 1 and 2 and their consequence for the layer
  totals): they test our saliency code, not the paper. S1-acc holds by construction: a network
  with no input–output path outputs a constant, so its accuracy is chance.
* *claims that could fail where the identities stop* — S2-approx and S2-approx-res: with
  biases and BatchNorm statistics from data the paper says the law holds approximately; we
  measure how far off it is against a stated tolerance. S1-cliff: the drop to chance is a
  cliff at the collapse (well above chance one grid step before it).
* *not measured* — S5, Thm 3, is a sufficient condition ("if"); its empirical side for SynFlow,
  re-scored 100 times rather than after every weight, is S6.
* *claims* — the rest. S5-single (SynFlow with a single round collapses) follows from S3 for
  a conserved score that is not re-evaluated.

Criteria are calibrated on the authors' released numbers where they cover a row
(:mod:`.paper`: Fig. 1 for S1 and S6, the IMP files for S4, Fig. 6 for S7).
"""
from __future__ import annotations

import dataclasses

from ...book import claims
from ...book.calibration import S7_LOW_REVISED, S7_REVISED
from ...book.plots import model_label
from ...data import DATASETS
from . import paper
from .conservation import STATISTICS_PER_CLASS, is_residual
from .study import input_shape, kept_per_layer, name_with_width, plain_models

SYNFLOW = "Tanaka et al. 2020 (SynFlow)"
FIG1 = "Fig. 1 data, authors' result files"
FIG6 = "Fig. 6 data, authors' result files"
AT_INIT = "VGG-19 · ImageNet · at init"
FIG1_SCALE = "VGG-16 · CIFAR-100 · pruning only, α step 0.25 to ρ_max = 10^6.02"
IDENTITY = ("an identity for a bias-free ReLU network with BatchNorm in eval mode at "
            "initialisation: it tests our saliency code, not the paper")

GRID_STEP_WHY = "within one grid step of ρ_max, the grid's resolution"
DATA_LABELS = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10",
               "cifar100": "CIFAR-100"}

COLLAPSE_CLAIM_MODELS = ("mlp", "vgg16")
"""Networks of the collapse study that get their own S1 and S6 rows."""
FIG6_ANALOGUE = {"lenet_300_100": "VGG-16", "vgg16": "VGG-16", "vgg11": "VGG-11",
                 "resnet20": "ResNet-18"}
"""Our trained network -> the paper's closest CIFAR-10 network of Fig. 6."""
HIGH_ALPHAS = (2.0, 2.5, 3.0)
"""Compressions 10^alpha of the S7 rows (the paper's high-compression regime is ρ > 10^1.5)."""
MIN_KEPT_PER_LAYER = 100
"""An S7 cell keeps at least this many weights per layer on average, N / (ρ L): at least two
decades below ρ_max = N / L. The paper's α = 3 cells are 2.7 (ResNet-18) to 3 (VGG-16)
decades below theirs; a cell with a handful of weights per layer compares noise."""
CLIFF_MIN_ALPHAS = 3
"""A trained network gets an S1-cliff row when its grid has at least this many compressions."""
APPROX_TOLERANCE = 0.1
"""S2-approx: 'approximately' is a typical unit's (or cut's) inflow and outflow agreeing to
10 %."""

S7_HIGH = claims.above(0.0, "pp", why="'outperforms'; the authors' own data pass at α = 2.5 "
                                      "and 3 in every panel")
"""S7 at α ≥ 2.5: SynFlow above the best other method (by mean, paired by seed)."""
S7_AT_2 = (" At ρ = 100, as the authors' own data show it: no more than their seed spread "
           "behind (they have SynFlow behind the best other in 2 of 12 panels).")
"""What S7 says at α = 2, where the authors' own data fail "above 0"."""

FIXED = {
    "S2": claims.Claim(
        id="S2", paper=SYNFLOW, kind="check", reason=IDENTITY,
        statement="Synaptic saliency is conserved through every hidden unit: the sum over its "
                  "incoming weights equals the sum over its outgoing weights (Thm 1).",
        metric="log10 of the largest |in − out| per hidden layer, relative to the layer's "
               "largest flow (floored at 1e-16); SNIP (signed) and SynFlow saliency of the "
               "bias-free ReLU MLP at initialization, float64",
        criterion=claims.below(-9, why="float64 rounding is ~1e-15; six decades of margin"),
        paper_number=claims.PaperNumber("exact; points on the line y = x", "VGG-19, ImageNet",
                                        "Thm 1, Fig. 4a"),
        scale=claims.Scale(AT_INIT, "{mlp} · float64 · at init")),
    "S2-conv": claims.Claim(
        id="S2-conv", paper=SYNFLOW, kind="check", reason=IDENTITY,
        statement="With conv, pooling and BatchNorm layers in eval mode at initialisation "
                  "(a fixed linear map), Thm 1 holds per channel.",
        metric="the same log10 error, {conv_vgg} with BatchNorm in eval mode (as SNIP and "
               "SynFlow score), channels as units",
        criterion=claims.below(-6, why="float64 rounding through conv layers; an identity"),
        paper_number=claims.PaperNumber("holds empirically", "VGG-19 with BatchNorm, ImageNet",
                                        "Fig. 4a / 10A"),
        scale=claims.Scale(AT_INIT, "{conv_vgg} · 3×32×32 · float64 · at init")),
    "S2-approx": claims.Claim(
        id="S2-approx", paper=SYNFLOW,
        statement="With biases and BatchNorm that is not a plain rescaling (running "
                  "statistics from data), the conservation law still holds approximately, "
                  "per unit.",
        metric="median over hidden channels of |in − out| / max(|in|, |out|), {conv_vgg} "
               "with biases (PyTorch's default draw) and BatchNorm in eval mode with running "
               "statistics of {stats} training images; per seed the larger of SNIP's and "
               "SynFlow's",
        criterion=claims.below(APPROX_TOLERANCE,
                               why="'approximately': a typical channel's inflow and "
                                   "outflow agree to 10 %"),
        calibration=claims.Calibration(claims.NOT_APPLICABLE, "the released files hold no "
                                                              "scores"),
        paper_number=claims.PaperNumber("points near the line y = x", "VGG-19 with "
                                        "BatchNorm, ImageNet", "Fig. 4a / 10A"),
        scale=claims.Scale(AT_INIT, "{conv_vgg} · 3×32×32 · biases, data statistics · at "
                                    "init")),
    "S2-approx-res": claims.Claim(
        id="S2-approx-res", paper=SYNFLOW,
        statement="With skip connections, biases and BatchNorm statistics from data, the "
                  "first and the last layer still carry approximately the same total "
                  "saliency.",
        metric="relative difference of the totals of the first and the last layer, "
               "{conv_res} with biases and BatchNorm in eval mode with running statistics "
               "of {stats} training images; per seed the larger of SNIP's and SynFlow's",
        criterion=claims.below(APPROX_TOLERANCE,
                               why="'approximately': the two cuts agree to 10 %"),
        calibration=claims.Calibration(claims.NOT_APPLICABLE, "the released files hold no "
                                                              "scores"),
        paper_number=claims.PaperNumber("holds empirically for residual layers", "ResNets",
                                        "Sec. 4"),
        scale=claims.Scale("ResNets · at init", "{conv_res} · 3×32×32 · biases, data "
                                                "statistics · at init")),
    "S2-res": claims.Claim(
        id="S2-res", paper=SYNFLOW, kind="check", reason=IDENTITY,
        statement="With skip connections, every cut separating input from output carries the "
                  "same total saliency (Thm 2).",
        metric="log10 of the relative difference of the totals of the first and the last "
               "layer (both cuts; floored at 1e-16), {conv_res} with BatchNorm in eval mode, "
               "SNIP and SynFlow",
        criterion=claims.below(-6, why="float64 rounding through conv layers; an identity"),
        paper_number=claims.PaperNumber("holds empirically for residual layers", "ResNets",
                                        "Sec. 4"),
        scale=claims.Scale("ResNets · at init", "{conv_res} · 3×32×32 · float64 · at init")),
    "S3": claims.Claim(
        id="S3", paper=SYNFLOW, kind="check",
        reason="equal layer totals (Thm 2) make the mean score per weight total / size: "
               "slope −1 exactly on the bias-free MLP",
        statement="So every layer of a plain network has the same total score, and the mean "
                  "score per weight is ∝ 1 / (layer size).",
        metric="slope of log10 (mean SynFlow score per weight) on log10 (layer size), MLP",
        criterion=claims.within(-1.0, 0.05, why="an identity; 0.05 is far above rounding"),
        paper_number=claims.PaperNumber("mean score ∝ 1 / layer size", "VGG-19, ImageNet",
                                        "Fig. 4b / 10B"),
        scale=claims.Scale(AT_INIT, "{mlp} · float64 · at init")),
    "S3-SNIP": claims.Claim(
        id="S3-SNIP", paper=SYNFLOW,
        statement="Single-shot SNIP therefore scores the weights of large layers lower.",
        metric="the same slope for SNIP's score |θ ∂L/∂θ| (an absolute value: not covered by "
               "the exact law), MLP",
        criterion=claims.below(0.0, why="'lower' in larger layers: any negative slope"),
        calibration=claims.Calibration(claims.NOT_APPLICABLE, "the released files hold no "
                                                              "scores"),
        paper_number=claims.PaperNumber("largest layers keep 5–16 × 10⁻⁵ of their weights",
                                        "VGG-16, CIFAR-100, ρ = 10³, SNIP and GraSP", FIG1),
        scale=claims.Scale(AT_INIT, "{mlp} · {data} batch · at init")),
    "S3-order": claims.Claim(
        id="S3-order", paper=SYNFLOW,
        statement="Random pruning empties the smallest layer first; magnitude, SNIP and GraSP "
                  "the largest.",
        metric="fraction of the (method, plain network) cases of a seed in which the first "
               "layer emptied is the predicted one",
        criterion=claims.above(0.75, why="the predicted layer in most cases: one in four may "
                                         "differ"),
        calibration=claims.Calibration(claims.NOT_APPLICABLE, "Fig. 1's per-layer fractions "
                                                              "are not typed in"),
        paper_number=claims.PaperNumber(
            "random empties layer 0 (1,728 weights, the smallest); magnitude layers 11–16 "
            "(2.36 M weights each, the largest)", "VGG-16, CIFAR-100, ρ = 10³", FIG1),
        scale=claims.Scale(FIG1_SCALE, "{plain} · pruning only, α step {step}")),
    "S1-acc": claims.Claim(
        id="S1-acc", paper=SYNFLOW, kind="check",
        reason="by construction: a network with no input–output path outputs a constant, so "
               "it predicts one class",
        statement="A network with a collapsed layer does not train: its accuracy is chance.",
        metric="test accuracy − chance of trained plain networks with a layer left without "
               "effective weights (pp)",
        criterion=claims.below(2.0, "pp", why="a constant prediction on a class-balanced "
                                              "test subset"),
        paper_number=claims.PaperNumber("1.0 % (chance) wherever a layer is collapsed",
                                        "VGG-16, CIFAR-100, 160 epochs", FIG1),
        scale=claims.Scale("VGG-16 · CIFAR-100 · 160 ep", "{trained} · {epochs} ep")),
    "S5": claims.Claim(
        id="S5", paper=SYNFLOW, kind="not_measured",
        reason="a theorem (a sufficient condition); its empirical side for SynFlow, re-scored "
               "100 times rather than after every weight, is S6",
        statement="If a method with a global threshold gives positive scores that are "
                  "conserved layer-wise and re-evaluates them every time a weight is pruned, "
                  "it never collapses a layer when that can be avoided (Thm 3).",
        metric="none of its own (see S6)",
        scale=claims.Scale("a theorem", "—")),
    "S5-single": claims.Claim(
        id="S5-single", paper=SYNFLOW,
        statement="Not re-evaluated, a conserved score prunes the largest layers first (S3): "
                  "SynFlow with a single round collapses well below the maximal compression.",
        metric="α_max − α_cr of SynFlow with 1 round, MLP (decades)",
        criterion=claims.above(1.0, why="'well below': a decade of compression, as S1"),
        calibration=claims.Calibration(claims.NOT_APPLICABLE, "the authors did not run "
                                                              "single-round SynFlow"),
        scale=claims.Scale("not run by the authors", "{mlp_collapsed}")),
    "S4": claims.Claim(
        id="S4", paper=SYNFLOW,
        statement="Iterative magnitude pruning avoids collapse only with enough prune–train "
                  "cycles.",
        metric="α_cr (effective) with {imp_most} cycles − with {imp_fewest}, {imp_model} "
               "(decades)",
        criterion=claims.above(0.0, why="more cycles move the collapse later: any shift"),
        paper_number=claims.PaperNumber(
            "chance from α = {imp_paper}", "VGG-11, CIFAR-10, 50 epochs per cycle (which "
            "paper figure these files feed is unverified)", "Fig. 3 / 5a-like data, authors' "
            "files"),
        scale=claims.Scale("VGG-11 · CIFAR-10 · 50 ep per cycle · 1–5 cycles",
                           "{imp_model} · {data} {imp_subset} · {imp_epochs} ep per cycle")),
    "S7-low": claims.Claim(
        id="S7-low", paper=SYNFLOW,
        statement="At low compression SynFlow is competitive.",
        metric="SynFlow − the best other method (chosen by its mean over seeds, paired by "
               "seed) at α = 1, {first} (pp)",
        criterion=S7_LOW_REVISED,
        paper_number=claims.PaperNumber("{fig6_low}", "{first_network}, CIFAR-10, ρ = 10",
                                        FIG6),
        scale=claims.Scale("{first_network} · CIFAR-10 · 160 ep · 3 seeds",
                           "{first_trained}")),
}

PER_COLLAPSE_MODEL = {
    "S1": claims.Claim(
        id="S1-{model}", paper=SYNFLOW,
        statement="Random, magnitude, SNIP and GraSP with a global threshold empty a layer "
                  "well below the maximal compression.",
        metric="smallest α_max − α_cr over the four methods, {label} (decades)",
        criterion=claims.above(1.0, why="'well below': a decade of compression (the authors' "
                                        "own: ≥ 2.5)"),
        paper_number=claims.PaperNumber(
            "≥ 2.52 decades below ρ_max = 10^6.02 (first collapse at 10^3 for random and "
            "magnitude, 10^3.75 for SNIP and GraSP)", "VGG-16, CIFAR-100", FIG1),
        scale=claims.Scale(FIG1_SCALE, "{collapsed}")),
    "S6": claims.Claim(
        id="S6-{model}", paper=SYNFLOW,
        statement="SynFlow (100 rounds, exponential schedule, no data) reaches the maximal "
                  "compression without collapsing a layer.",
        metric="α_max − the first α at which SynFlow empties a layer (0 if none before "
               "ρ_max), {label} (decades)",
        criterion=claims.below(0.5, why=GRID_STEP_WHY),  # the grid step: set by declared()
        paper_number=claims.PaperNumber(
            "first empty layer at 10^6.00, 0.02 decades below ρ_max = 10^6.02",
            "VGG-16, CIFAR-100", FIG1),
        scale=claims.Scale(FIG1_SCALE, "{collapsed}")),
}

CLIFF = claims.Claim(
    id="S1-cliff-{model}", paper=SYNFLOW,
    statement="Accuracy drops to chance suddenly, at the collapse: one grid step before "
              "a method's first collapsed layer the trained network is still well above "
              "chance.",
    metric="smallest over random, magnitude, SNIP and GraSP of test accuracy − chance "
           "at the last α of the training grid before the method's first layer without "
           "effective weights (per seed), {label} (pp)",
    criterion=claims.above(10.0, "pp", why="'well above chance': ten points, far outside "
                                           "the 2 pp of a constant prediction (S1-acc)"),
    paper_number=claims.PaperNumber("{fig1_cliff}", "VGG-16, CIFAR-100, 160 epochs",
                                    FIG1),
    scale=claims.Scale("VGG-16 · CIFAR-100 · 160 ep · α step 0.25", "{trained_one}; "
                                                                    "α grid {grid}"))
"""S1-cliff of a trained network: accuracy just before the collapse is well above chance."""


PER_TRAINED_ALPHA = claims.Claim(
    id="S7-{model}-{alpha}", paper=SYNFLOW,
    statement="At high compression (ρ > 10^1.5) SynFlow has the best accuracy.",
    metric="SynFlow − the best other method (chosen by its mean over seeds, paired by seed) "
           "at α = {alpha}, {label} (pp)",
    criterion=S7_HIGH,
    paper_number=claims.PaperNumber("{fig6}", "{network}, CIFAR-10, ρ = 10^{alpha}", FIG6),
    scale=claims.Scale("{network} · CIFAR-10 · 160 ep · 3 seeds", "{trained_one}"))


def settings(P) -> dict[str, str]:
    """The texts the rows' placeholders name, from the chapter's parameters ``P``."""
    info = DATASETS[P.dataset]
    inputs = 1
    for size in info.input_shape:
        inputs *= size
    return {
        "mlp": "MLP " + "–".join(str(n) for n in (inputs, *P.mlp_hidden, info.num_classes))
               + " (bias-free)",
        "conv_vgg": _conservation_net(P, "vgg", "vgg11"),
        "conv_res": _conservation_net(P, "resnet", "resnet20"),
        "data": data_label(P.dataset), "step": f"{P.alpha_step:g}", "epochs": str(P.epochs),
        "plain": ", ".join(model_label(m) for m in plain_models(P)),
        "trained": ", ".join(model_label(m) for m in P.train_models),
        "first": model_label(P.train_models[0]),
        "first_trained": trained_scale(P, P.train_models[0]),
        "imp_model": model_label(P.imp_model),
        "imp_fewest": str(min(P.imp_cycles)), "imp_most": str(max(P.imp_cycles)),
        "imp_paper": paper.imp_first_chance_text(),
        "imp_subset": _images(P.imp_train_subset), "imp_epochs": str(P.imp_epochs),
        "first_network": FIG6_ANALOGUE.get(P.train_models[0], "VGG-16"),
        "fig6_low": paper.fig6_versus(FIG6_ANALOGUE.get(P.train_models[0], "VGG-16"), 1.0),
        "mlp_collapsed": collapse_scale(P, "mlp") if "mlp" in P.collapse_models else "—",
        "stats": str(STATISTICS_PER_CLASS * info.num_classes),
        "fig1_cliff": paper.fig1_cliff_text(),
    }


def collapse_scale(P, name: str) -> str:
    """Our scale of a prune-only network: ``VGG-16 ×0.25 · 3×32×32 · pruning only, α step
    0.5 · 3 seeds``."""
    seeds = P.collapse_seeds.get(name, P.seeds)
    shape = "×".join(str(n) for n in input_shape(P, name))
    return (f"{name_with_width(name, P.collapse_widths.get(name, 1.0))} · {shape} · pruning "
            f"only, α step {P.alpha_step:g} · {seeds} seed{'s' if seeds != 1 else ''}")


def data_label(name: str) -> str:
    """``Fashion-MNIST`` for ``fashion_mnist`` (other names as they are)."""
    return DATA_LABELS.get(name, name)


def trained_scale(P, name: str) -> str:
    """Our scale of a trained network: ``LeNet-300-100 · Fashion-MNIST 5k · 3 ep · 3 seeds``."""
    return (f"{name_with_width(name, P.train_widths.get(name, 1.0))} · "
            f"{data_label(P.dataset)} {_images(P.train_subset.get(name))} · {P.epochs} ep · "
            f"{P.seeds} seed{'s' if P.seeds != 1 else ''}")


def declared(P) -> list[claims.Claim]:
    """Every row the chapter tests with parameters ``P``, in the order of the verdict table:
    the fixed rows, S1 / S6 for each of :data:`COLLAPSE_CLAIM_MODELS` that is collapsed,
    S1-cliff for each of :func:`cliff_models`, S7 at each of :func:`s7_alphas`;
    placeholders filled, every criterion calibrated on the authors' numbers where they cover
    it."""
    names = settings(P)
    s1 = PER_COLLAPSE_MODEL["S1"]
    s6 = dataclasses.replace(PER_COLLAPSE_MODEL["S6"],
                             criterion=claims.below(P.alpha_step, why=GRID_STEP_WHY))
    s4 = FIXED["S4"]
    per_model = [m for m in COLLAPSE_CLAIM_MODELS if m in P.collapse_models]
    rows = [_fill(FIXED[i], names) for i in ("S2", "S2-conv", "S2-res", "S2-approx",
                                             "S2-approx-res", "S3", "S3-SNIP", "S3-order")]
    rows += [_fill(s1, names, model=m, label=model_label(m), collapsed=collapse_scale(P, m),
                   calibration=paper.calibrate_s1(s1.criterion)) for m in per_model]
    rows += [_fill(CLIFF, names, model=m, label=model_label(m), trained_one=trained_scale(P, m),
                   grid=", ".join(f"{a:g}" for a in P.alphas[m]),
                   calibration=paper.calibrate_cliff(CLIFF.criterion))
             for m in cliff_models(P)]
    rows += [_fill(FIXED[i], names) for i in ("S1-acc", "S5", "S5-single")]
    rows += [_fill(s6, names, model=m, label=model_label(m), collapsed=collapse_scale(P, m),
                   calibration=paper.calibrate_s6(s6.criterion)) for m in per_model]
    rows.append(_fill(s4, names, calibration=paper.calibrate_s4(
        s4.criterion, min(P.imp_cycles), max(P.imp_cycles))))
    rows.append(_fill(FIXED["S7-low"], names,
                      calibration=paper.calibrate_s7(1.0, S7_LOW_REVISED)))
    rows += [s7_row(P, name, alpha, names) for name in P.train_models
             for alpha in s7_alphas(P, name)]
    return rows


def cliff_models(P) -> list[str]:
    """The trained plain networks with an S1-cliff row: those trained at
    :data:`CLIFF_MIN_ALPHAS` compressions or more."""
    return [m for m in P.train_models
            if not is_residual(m) and len(P.alphas.get(m, [])) >= CLIFF_MIN_ALPHAS]


def s7_alphas(P, name: str) -> list[float]:
    """The α of :data:`HIGH_ALPHAS` at which trained network ``name`` has an S7 row: those
    of its grid (``P.alphas[name]``) at which it keeps at least :data:`MIN_KEPT_PER_LAYER`
    weights per layer on average (:func:`.study.kept_per_layer`)."""
    grid = [float(a) for a in P.alphas.get(name, [])]
    return [a for a in HIGH_ALPHAS if any(abs(a - g) < 1e-9 for g in grid)
            and kept_per_layer(P, name, a) >= MIN_KEPT_PER_LAYER]


def s7_row(P, name: str, alpha: float, names: dict[str, str]) -> claims.Claim:
    """The S7 row of trained network ``name`` at compression 10^``alpha``: criterion
    :data:`S7_HIGH` at α ≥ 2.5, the framework's revised :data:`~pruninglib.book.calibration.
    S7_REVISED` (no more than 1 pp behind) at α = 2, where the authors' own data fail
    "above 0" in 2 of 12 panels."""
    criterion = S7_HIGH if alpha >= 2.5 else S7_REVISED
    network = FIG6_ANALOGUE.get(name)
    statement = PER_TRAINED_ALPHA.statement + ("" if alpha >= 2.5 else S7_AT_2)
    row = dataclasses.replace(PER_TRAINED_ALPHA, criterion=criterion, statement=statement)
    if network is None:
        row = dataclasses.replace(row, paper_number=None, scale=claims.Scale(
            "the paper's Fig. 6 networks", "{trained_one}"))
    return _fill(row, names, calibration=paper.calibrate_s7(alpha, criterion),
                 model=name, alpha=f"{alpha:g}", label=model_label(name),
                 network=network or "", trained_one=trained_scale(P, name),
                 fig6=paper.fig6_versus(network, alpha) if network else "")


def _fill(row: claims.Claim, names: dict[str, str], *,
          calibration: claims.Calibration | None = None, **more: str) -> claims.Claim:
    """``row`` with its placeholders filled from ``names`` and ``more`` (and its
    calibration, if given)."""
    values = {**names, **more}

    def text(s: str) -> str:
        return s.format(**values)

    number, scale = row.paper_number, row.scale
    return dataclasses.replace(
        row, id=text(row.id), statement=text(row.statement), metric=text(row.metric),
        paper_number=dataclasses.replace(number, value=text(number.value),
                                         setting=text(number.setting)) if number else None,
        scale=claims.Scale(text(scale.paper), text(scale.ours)) if scale else None,
        calibration=calibration or row.calibration)


def _conservation_net(P, prefix: str, default: str) -> str:
    found = [(m, w) for m, w in P.conservation_nets.items() if m.startswith(prefix)]
    return name_with_width(*found[0]) if found else model_label(default)


def _images(subset) -> str:
    if subset is None:
        return "all"
    return f"{subset / 1000:g}k" if subset >= 1000 else str(subset)

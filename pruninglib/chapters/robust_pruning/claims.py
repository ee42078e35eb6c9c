"""The chapter's claims, checks and not-measured rows, as data (:data:`ROWS`).

Each row is a plain dict; :func:`claims_for` fills the ``{placeholders}`` of its texts
from the chapter's parameters (``{first}``: the first activation, ``{mlp}``: the trained
MLP, ``{low_train}`` / ``{high_train}``: the sparsest / densest trained density as
"90 % sparsity", ...) and returns :class:`pruninglib.book.claims.Claim` objects. Rows with
``activation: i`` exist only when ``params.activations`` has an i-th entry and are written for
that activation. Kinds (:data:`pruninglib.book.claims.KIND_MEANING`): *claim* (an experiment
could refute it), *check* (true by construction or by the derivation: tests our code) and
*not_measured* (with the reason).

The paper's tables were not retrieved (we read its abstract and its authors' code), so no
paper number is typed in, and no released data of the authors calibrates a criterion.
"""
from __future__ import annotations

from ...book import claims as book_claims
from ...book.claims import CHECK, CLAIM, NOT_MEASURED_KIND, Claim, PaperNumber, Scale
from .tables import sparsity

HAYOU = "Hayou et al. 2021"
NOT_RETRIEVED = "not retrieved"
PAPER_NUMBERS = {
    "ffnn": PaperNumber(NOT_RETRIEVED, "deep fully-connected nets, EOC vs other inits, "
                        "SNIP-type pruning", "paper body not read"),
    "resnet": PaperNumber(NOT_RETRIEVED, "ResNet-32/50/104 on CIFAR-10/100, SGD 0.1, 160 "
                          "epochs, 90–99.5 % sparsity (authors' configs)",
                          "tables not retrieved"),
}
PAPER_SCALES = {
    "ffnn": "deep FFNN / CNN (setting not retrieved)",
    "resnet": "ResNet-32/50/104 · CIFAR-10/100 · 160 ep",
    "theory": "mean-field theory of deep random networks",
}
POSITIVELY_HOMOGENEOUS = ("relu", "leaky_relu", "linear")

PHASE_ONLY = ("the derivation: off the EOC a gradient's squared norm changes by the factor "
              "χ ≠ 1 per layer, so SNIP's scores of whole layers differ by χ^L and a global "
              "threshold empties the smallest at any sparsity once χ^L is far from 1; it "
              "checks our phases and SNIP, not the paper")
SCALE_FREE = ("outside the theorem's scope: in the chaotic ReLU phase q* = ∞, and ReLU's "
              "positive homogeneity makes SNIP's ranking independent of the weight scale, "
              "so σ_w alone cannot unbalance the layers")

ROWS = [
    dict(id="H1a", kind=CLAIM, paper="ffnn", scale="prune",
         statement="Nothing prevents SNIP from pruning a whole layer of a deep network.",
         metric="empty layers other than the input layer, SNIP, {first} on the EOC, "
                "{deepest} layers, {sparsest}",
         criterion=("above", 0.0, "layers"),
         why="one empty layer disconnects the network; the wide input layer (784 weights a "
             "unit) empties by its fan-in alone, so it is not counted"),
    dict(id="H1a-depth", kind=CLAIM, paper="ffnn", scale="prune",
         statement="Nothing prevents SNIP from pruning a whole layer of a deep network.",
         metric="empty layers other than the input layer, {deepest} − {shallowest} layers "
                "(paired by seed), SNIP, {first} on the EOC, {sparsest}",
         criterion=("above", 0.0, "layers"),
         why="the paper ties the collapse to depth: more empty layers in the deeper net"),
    dict(id="H1b", kind=CLAIM, paper="ffnn", scale="train",
         statement="SNIP-pruned deep networks are hard to train.",
         metric="test accuracy, SNIP − the best same-density control (random pruning, SNIP + "
                "rescaling; chosen by mean, paired by seed), {first} on the EOC, {mlp}, "
                "{low_train}",
         criterion=("below", 0.0, "pp"),
         why="the sign: SNIP's mask, not the density alone, is what is hard to train"),
    dict(id="H2", kind=NOT_MEASURED_KIND, paper=None, scale="none", paper_scale="theory",
         statement="The paper analyses magnitude- and gradient-based pruning at "
                   "initialization theoretically.",
         metric="none",
         reason="a statement about the paper, not about networks; H3–H5 test its "
                "consequences"),
    dict(id="H3a", activation=0, phase="ordered", paper="ffnn", scale="train"),
    dict(id="H3b", activation=0, phase="chaotic", paper="ffnn", scale="train"),
    dict(id="H3c", activation=1, phase="ordered", paper="ffnn", scale="train"),
    dict(id="H3d", activation=1, phase="chaotic", paper="ffnn", scale="train"),
    dict(id="H3e", activation=0, kind=CLAIM, paper="ffnn", scale="train",
         statement="Only on the EOC does the SNIP-pruned deep network train.",
         metric="pruning damage (SNIP − dense, same init and seed), EOC − the best other "
                "init whose dense net trains (chosen by mean, paired by seed), "
                "{activation} {mlp}, {low_train}",
         criterion=("above", 0.0, "pp"),
         why="a difference in differences: the EOC loses less to pruning"),
    dict(id="H3f", activation=1, kind=CLAIM, paper="ffnn", scale="train",
         statement="Only on the EOC does the SNIP-pruned deep network train.",
         metric="pruning damage (SNIP − dense, same init and seed), EOC − the best other "
                "init whose dense net trains (chosen by mean, paired by seed), "
                "{activation} {mlp}, {low_train}",
         criterion=("above", 0.0, "pp"),
         why="a difference in differences: the EOC loses less to pruning"),
    dict(id="H4a", kind=CHECK, paper="ffnn", scale="init",
         statement="A pruned network is no longer on the EOC.",
         metric="measured χ of the SNIP-pruned {first} EOC net, {low_train}",
         criterion=("below", 1.0, ""), why="χ = 1 is the EOC; below it, the ordered phase",
         reason="the derivation: pruning removes part of every unit's incoming squared "
                "norm, which lowers its effective σ_w² and, by the variance map, puts the "
                "net on the ordered side of the EOC; it checks our measurement of χ"),
    dict(id="H4b", kind=CLAIM, paper="ffnn", scale="init_wide",
         statement="Rescaling the surviving weights puts it back on the EOC.",
         metric="measured χ after the rescaling trick, SNIP, {first} EOC MLP of {depth} "
                "layers and width {chi_width} (the widest measured: units left without any "
                "input, which no rescaling restores, are a finite-width effect), {low_train}",
         criterion=("within", 1.0, 0.1, ""),
         why="at χ = 0.9 / 1.1 a gradient's squared norm changes by ×{chi_low} / "
             "×{chi_high} over {depth} layers"),
    dict(id="H4c", kind=CLAIM, paper="ffnn", scale="train",
         statement="Rescaling improves the accuracy of deep pruned networks without "
                   "BatchNorm.",
         metric="test accuracy, rescaled − plain SNIP, {first} EOC {mlp}, {low_train}",
         criterion=("above", 0.0, "pp"), why="the sign is the claim"),
    dict(id="H5a", kind=CLAIM, paper="resnet", scale="residual",
         statement="Scaling residual branches by 1/√L makes SNIP work on deep ResNets.",
         metric="test accuracy, Stable − standard residual net, SNIP, depth {res_deepest}, "
                "{res_low}",
         criterion=("above", 0.0, "pp"), why="the sign is the claim"),
    dict(id="H5b", kind=CLAIM, paper="resnet", scale="residual",
         statement="… and its advantage grows with depth.",
         metric="(Stable − standard) at depth {res_deepest} minus at depth {res_shallowest}, "
                "SNIP, {res_low}",
         criterion=("above", 0.0, "pp"), why="the sign is the claim: growth with depth"),
    dict(id="H6", kind=CLAIM, paper="resnet", scale="residual",
         statement="SBP-SR matches or beats SNIP, GraSP and SynFlow at high sparsity.",
         metric="test accuracy, SBP-SR − the best other criterion on the standard net "
                "(chosen by mean, paired by seed), depth {res_deepest}, {res_low}",
         criterion=("above", -1.0, "pp"),
         why="'matches': at most 1 point behind, fixed in advance"),
]
"""The rows in the order of the table. Keys: id; kind; paper (key of :data:`PAPER_NUMBERS`
and of :data:`PAPER_SCALES`, unless ``paper_scale`` names another); scale (key of
:func:`our_scales`); statement, metric, why, reason (texts with placeholders); criterion
(``(kind, threshold[, tolerance], unit)``); activation (index into ``params.activations``).
H3a–H3d (collapse off the EOC, per activation and ``phase``) take their texts and kind from
:func:`collapse_row`."""


def collapse_row(row: dict, activation: str) -> dict:
    """H3a–H3d: more collapsed layers off the EOC than on it. A *check* (true by the
    derivation at depth), except for a positively homogeneous activation in the chaotic
    phase: *not measured*, outside the theorem's scope."""
    scale_free = activation in POSITIVELY_HOMOGENEOUS and row["phase"] == "chaotic"
    return {**row, "kind": NOT_MEASURED_KIND if scale_free else CHECK,
            "statement": "SNIP avoids layer collapse only on the Edge of Chaos.",
            "metric": "collapsed layers, {phase} − EOC init, SNIP, {activation} {mlp}, "
                      "{low_train}",
            "criterion": None if scale_free else ("above", 0.0, "layers"),
            "why": "any layer more than on the EOC",
            "reason": SCALE_FREE if scale_free else PHASE_ONLY}


DATA_NAMES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10",
              "cifar100": "CIFAR-100"}


def _data_text(data: dict) -> str:
    """``Fashion-MNIST 1k`` (training images) or ``CIFAR-10 all``."""
    subset = data.get("train_subset")
    count = "all" if not subset else f"{subset / 1000:g}k" if subset >= 1000 else str(subset)
    return f"{DATA_NAMES.get(data['name'], data['name'])} {count}"


def placeholders(params) -> dict:
    """The values of every ``{placeholder}`` of :data:`ROWS`, from the parameters."""
    depth = params.train_depth
    return dict(
        first=params.activations[0], deepest=max(params.depths),
        shallowest=min(params.depths),
        sparsest=sparsity(min(params.densities)),
        mlp=f"{depth}-layer MLP of width {params.width}",
        low_train=sparsity(min(params.train_densities)),
        high_train=sparsity(max(params.train_densities)),
        res_deepest=max(params.residual_depths), res_shallowest=min(params.residual_depths),
        res_low=sparsity(min(params.residual_densities)), depth=depth,
        chi_low=f"{0.9 ** depth:.2g}", chi_high=f"{1.1 ** depth:.3g}",
        chi_width=widest(params))


def widest(params) -> int:
    """The widest net whose chi is measured (``chi_widths``; ``width`` without it)."""
    return int(max(getattr(params, "chi_widths", None) or [params.width]))


def our_scales(params) -> dict[str, str]:
    """Our setting per kind of experiment: ``prune`` (pruned, not trained), ``init``
    (measured before training), ``train`` (trained MLPs), ``residual``, ``none``."""
    seeds = f"{params.seeds} seed{'s' if params.seeds != 1 else ''}"
    mlp = f"{'/'.join(params.activations)} MLP"
    data = _data_text(params.data)
    train = f"{mlp} {params.train_depth}×{params.width} · {data} · " \
            f"{params.training['epochs']} ep · {seeds}"
    return {
        "prune": f"{mlp} {max(params.depths)}×{params.width} · {data} · not trained · "
                 f"{seeds}",
        "init": f"{mlp} {params.train_depth}×{params.width} · {data} · at init · {seeds}",
        "init_wide": f"{params.activations[0]} MLP {params.train_depth}×{widest(params)} · "
                     f"{data} · at init · {seeds}",
        "train": train,
        "residual": f"{params.residual_family} depth {max(params.residual_depths)} × "
                    f"{params.residual_width} · {_data_text(params.residual_data)} · "
                    f"{params.residual_training['epochs']} ep · {seeds}",
        "none": "not measured",
    }


def _criterion(spec: tuple, why: str) -> book_claims.Criterion:
    kind, *args = spec
    make = {"above": book_claims.above, "below": book_claims.below,
            "within": book_claims.within}[kind]
    return make(*args, why=why)


def claims_for(params) -> list[Claim]:
    """The :data:`ROWS` that apply to ``params.activations``, as Claim objects."""
    values, scales = placeholders(params), our_scales(params)
    out = []
    for row in ROWS:
        index = row.get("activation")
        if index is not None and index >= len(params.activations):
            continue
        text = dict(values)
        if index is not None:
            text["activation"] = params.activations[index]
            if "phase" in row:
                row = collapse_row(row, text["activation"])
                text["phase"] = row["phase"]
        criterion = row.get("criterion")
        out.append(Claim(
            id=row["id"], paper=HAYOU, statement=row["statement"].format(**text),
            metric=row["metric"].format(**text), kind=row["kind"],
            reason=row.get("reason", ""),
            criterion=_criterion(criterion, row["why"].format(**text)) if criterion else None,
            paper_number=PAPER_NUMBERS.get(row["paper"]),
            scale=Scale(PAPER_SCALES[row.get("paper_scale", row["paper"])],
                        scales[row["scale"]])))
    return out

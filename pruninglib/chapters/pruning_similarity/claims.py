"""The chapter's claims and checks, as data: :data:`ROWS` holds one row per statement, with
its kind, criterion (and why that threshold) and a metric text with placeholders;
:func:`chapter_claims` renders them for every model of the chapter, :func:`b1b_claims` renders
B1b for every model, fine-tuning recipe and similarity measure.

The placeholders of a metric: ``{at}`` (the sparsity and density the claims are judged at),
``{densest}`` and ``{sparsest}`` (the ends of the model's pruning path). None of the rows has a
number of the paper (its tables and figures were not retrieved) or released data to calibrate
on, so every row shows "n.a." on the paper's own data.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...book.claims import CHECK, CLAIM, Claim, Criterion, Scale, above, below
from ...book.plots import model_label
from .figures import MEASURE_LABELS
from .study import Study

BLAKENEY, ANSUINI = "Blakeney et al. 2020", "Ansuini et al. 2020"
PAPER_SCALE = {
    BLAKENEY: "ResNet, VGG, ConvNet · CIFAR-10 (probably) · recipe not retrieved",
    ANSUINI: "CNNs pruned by IMP · data set not retrieved · CCA per layer",
}
"""The papers' settings as far as their abstracts say (CLAIMS.md)."""

TOLERANCE_WHY = "the paper's 'similar / comparable accuracy' read as a loss under 2 pp"


@dataclass(frozen=True)
class Row:
    """One statement of the chapter: id (without the model), paper, statement, metric text
    (with placeholders), criterion, kind ('claim' or 'check') and the reason of a check."""

    id: str
    paper: str
    statement: str
    metric: str
    criterion: Criterion
    kind: str = CLAIM
    reason: str = ""


B1B_WHY = ("'as different as an independently trained network': the dense-versus-dense "
           "control is the yardstick")
B1B_STATEMENT = ("Yet their layers differ from the original's as much as an independently "
                 "trained network's: pruning is not compression.")

ROWS = (
    Row("B1a", BLAKENEY, "Pruned and fine-tuned networks keep the accuracy of the original.",
        "reference − pruned + fine-tuned test accuracy at {at}",
        below(2.0, "pp", why=TOLERANCE_WHY)),
    Row("B1c", BLAKENEY, "The more weights are pruned, the less similar the layers.",
        "middle-layer SVCCA of the pruned + fine-tuned net at density {densest} minus at "
        "{sparsest}",
        above(0.0, why="any fall of the similarity along the path"), kind=CHECK,
        reason="nearly guaranteed along one pruning path: each sparser network is the denser "
               "one with more of the reference's weights removed"),
    Row("B2", BLAKENEY, "Random sparse networks trained from scratch reach accuracy "
                        "comparable to pruning.",
        "pruned + fine-tuned − random sparse (the pruned mask's count in every layer) test "
        "accuracy at {at}, equal training budgets",
        below(2.0, "pp", why=TOLERANCE_WHY)),
    Row("B2u", BLAKENEY, "Random sparse networks trained from scratch reach accuracy "
                         "comparable to pruning.",
        "pruned + fine-tuned − uniform random (every layer at the same density) test "
        "accuracy at {at}, equal training budgets",
        below(2.0, "pp", why=TOLERANCE_WHY)),
    Row("B3", BLAKENEY, "The mask found by pruning is not what matters: re-initialised, it "
                        "does as well.",
        "pruned + fine-tuned − re-initialised test accuracy at {at}, equal training budgets",
        below(2.0, "pp", why=TOLERANCE_WHY)),
    Row("A7", ANSUINI, "Pruned networks stay similar to the original in the first and last "
                       "layers, much less in between.",
        "SVCCA (mean of first and last layers minus the middle layers' mean) of the pruned + "
        "fine-tuned net minus that of the dense control, at {at}",
        above(0.0, why="the ends more similar than the middle, beyond what two independently "
                       "trained networks show; the paper gives no margin")),
)
"""The main table. B1b, judged per measure and fine-tuning recipe, is :func:`b1b_claims`."""


def claim_id(row_id: str, model: str) -> str:
    """``B1a · LeNet-300-100``: the id of a row for one model."""
    return f"{row_id} · {model_label(model)}"


def b1b_id(measure: str, arm: str, model: str) -> str:
    """``B1b · SVCCA · 5 ep · LeNet-300-100``: the id of B1b for one measure, fine-tuning
    recipe (its label) and model."""
    return f"B1b · {MEASURE_LABELS.get(measure, measure)} · {arm} · {model_label(model)}"


def _at(density: float) -> str:
    return f"{100 * (1 - density):g} % sparsity (density {density:g})"


def _scale(row_paper: str, study: Study) -> Scale:
    return Scale(paper=PAPER_SCALE[row_paper], ours=study.setting)


def chapter_claims(grid: Mapping[str, Study]) -> list[Claim]:
    """Every row of :data:`ROWS` for every model (row by row, then model by model), judged at
    each study's density of the claims."""
    claims = []
    for row in ROWS:
        for model, study in grid.items():
            metric = row.metric.format(at=_at(study.claim_density),
                                       densest=f"{max(study.densities):g}",
                                       sparsest=f"{min(study.densities):g}")
            claims.append(Claim(
                id=claim_id(row.id, model), paper=row.paper, statement=row.statement,
                metric=f"{metric}, {model_label(model)}", criterion=row.criterion,
                kind=row.kind, reason=row.reason, scale=_scale(row.paper, study)))
    return claims


def b1b_claims(grid: Mapping[str, Study], measures: Sequence[str]) -> list[Claim]:
    """B1b for every model, fine-tuning recipe of the study's arms and measure (model by
    model, recipe by recipe): the pruned network's middle-layer similarity to its reference
    minus the control's, below 0."""
    claims = []
    for model, study in grid.items():
        for arm in study.arms:
            recipe = ("the dense learning rate replayed in every step" if arm.rewound
                      else f"learning rate {arm.train.lr:g}")
            for measure in measures:
                label = MEASURE_LABELS.get(measure, measure)
                claims.append(Claim(
                    id=b1b_id(measure, arm.label, model), paper=BLAKENEY,
                    statement=B1B_STATEMENT,
                    metric=(f"middle-layer {label} to the reference, pruned + fine-tuned "
                            f"({arm.train.epochs} ep per pruning step, {recipe}) minus the "
                            f"dense control, at {_at(study.claim_density)}, "
                            f"{model_label(model)}"),
                    criterion=below(0.0, why=B1B_WHY), scale=_scale(BLAKENEY, study)))
    return claims

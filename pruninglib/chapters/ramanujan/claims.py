"""The chapter's claims table, as data: :data:`CLAIMS` holds one entry per claim (the paper,
the statement, our metric, the criterion and why, the kind), :func:`chapter_claims` expands it
into one :class:`~pruninglib.book.claims.Claim` per model with the scale of both settings, the
paper's number and the calibration, both computed from the authors' released table by the same
functions that measure ours (:func:`.verdicts.authors_values`).

:func:`calibration_table` shows the criteria on the authors' data, as first written and as
revised: R2 and R4 as first written fail there, so they were recast as comparisons within
each density (:mod:`.measures`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ...book import calibration, plots
from ...book.claims import (
    CHECK,
    CLAIM,
    Calibration,
    Claim,
    Criterion,
    PaperNumber,
    Scale,
    above,
    below,
    no_relationship,
)
from .correlations import AT_CHANCE, AUTHORS_MODELS
from .verdicts import DATASET_LABELS, TRAINED, authors_values, optimizer_label

HOANG = "Hoang et al. 2023 (Ramanujan lens)"
CUNEGATTI = "Cunegatti et al. 2024 (topology)"
AUTHORS_SETTING = "ResNet-34 and VGG-16, CIFAR-10, 6 methods, densities 0.01–0.4, 3 seeds"
SOURCE = "computed here from the authors' released summary table"
PAPER_SCALE = "ResNet-34, VGG-16 · CIFAR-10 · 250 ep · d = 0.4–0.01"
TRAINED_TEXT = f"; masks that train only (test accuracy > {AT_CHANCE:g})"


@dataclass(frozen=True)
class Entry:
    """One claim of the table, before it is expanded per model.

    claim: base id (a key of :data:`pruninglib.chapters.ramanujan.verdicts.METRICS`).
    metric: our measurement, with its unit. number: how the authors' value reads, with
    ``{}`` for the per-network values ("" = the paper gives none: Cunegatti et al.).
    reason: why a check is a check.
    """

    claim: str
    paper: str
    statement: str
    metric: str
    criterion: Criterion
    number: str = ""
    kind: str = CLAIM
    reason: str = ""


_R1 = ("The Ramanujan property of sparse layers has no significant relationship with how PaI "
       "methods rank at the same density.")
_R5 = ("With IMDB, the performance of PaI methods can be characterised: it ranks them as "
       "their accuracies do.")
_C1 = ("Ramanujan-type metrics on bipartite graphs predict accuracy only as well as the "
       "layer-wise density does.")
_RHO_DR = "median over densities of Spearman ρ(accuracy, whole-layer Δr) across the methods"
_RHO_IMDB = "median over densities of Spearman ρ(accuracy, IMDB) across the methods"
_ADVANTAGE = ("median over densities of ρ(accuracy, IMDB) − ρ(accuracy, IMDB of the "
              "layer-shuffled mask)")
_R1_CRITERION = no_relationship(0.3, why="|ρ| < 0.3 is a weak correlation by the usual "
                                         "convention")
_R5_CRITERION = above(0.6, why="ρ > 0.6 is a strong correlation by the usual convention")
_C1_CRITERION = below(0.2, why="less than exchanging two of 6 methods two places apart "
                               "(Δρ = 0.23)")

CLAIMS = (
    Entry("R1", HOANG, _R1, _RHO_DR, _R1_CRITERION, "median ρ = {}"),
    Entry("R1" + TRAINED, HOANG, _R1, _RHO_DR + TRAINED_TEXT, _R1_CRITERION, "median ρ = {}"),
    Entry("R2", HOANG,
          "Maximising the Ramanujan property can produce pseudo-random graphs with no "
          "structural meaning: a random-wired mask is more Ramanujan than the masks the "
          "methods find.",
          "median over densities of [largest whole-layer Δr of a random-wired mask (random, "
          "ERK) − median Δr of the found masks (SNIP, iterative SNIP, GraSP, SynFlow)]",
          above(0.0, why="the sign: random wiring above the typical found mask at the same "
                         "density"),
          "median margin = {}"),
    Entry("R3", HOANG,
          "The Ramanujan bound is too strict for highly sparse layers; IMDB relaxes it.",
          "fraction of layers Ramanujan by IMDB minus by whole-layer Δr at the lowest "
          "density, mean over methods",
          above(0.0, why="more layers pass the relaxed bound than the strict one"),
          "{}", kind=CHECK,
          reason="IMDB scores each group of equal-degree inputs against its own, looser "
                 "bound: the relaxation holds by construction"),
    Entry("R4", HOANG,
          "NaRC tells when a sparse layer has become naively random: at the same density, "
          "random masks sit nearer its 'random' boundary (0) than the masks the methods find.",
          "median over densities of [median |NaRC| of the found masks − |NaRC| of the "
          "random mask]",
          above(0.0, why="the sign: the random mask nearer the boundary than the typical "
                         "found mask at the same density"),
          "median margin = {}"),
    Entry("R5", HOANG, _R5, _RHO_IMDB, _R5_CRITERION, "median ρ = {}"),
    Entry("R5" + TRAINED, HOANG, _R5, _RHO_IMDB + TRAINED_TEXT, _R5_CRITERION,
          "median ρ = {}"),
    Entry("C1", CUNEGATTI, _C1, _ADVANTAGE, _C1_CRITERION),
    Entry("C1" + TRAINED, CUNEGATTI, _C1, _ADVANTAGE + TRAINED_TEXT, _C1_CRITERION),
)
"""Every claim of the chapter (and the R3 check), in table order."""


def _by_network(values: pd.DataFrame) -> pd.Series:
    """The authors' value per network label (ResNet-34, VGG-16)."""
    return values.set_index(values["model.name"].map(AUTHORS_MODELS))["value"]


def calibrate(entry: Entry, authors: Mapping[str, pd.DataFrame]) -> Calibration:
    """``entry``'s criterion applied to the authors' value of each network (pass if it holds
    on both); "n.a." where the authors' table cannot give the metric (C1: no shuffled
    masks)."""
    if entry.claim not in authors:
        return Calibration("n.a.", "the authors' table has no layer-shuffled masks")
    return calibration.calibrate(lambda f: _by_network(f).map(entry.criterion.holds),
                                 authors[entry.claim], unit="networks")


def paper_number(entry: Entry, authors: Mapping[str, pd.DataFrame]) -> PaperNumber | None:
    """The authors' value of ``entry``'s metric per network, or None (no number)."""
    if not entry.number or entry.claim not in authors:
        return None
    values = _by_network(authors[entry.claim])
    text = ", ".join(f"{v:+.2f}".replace("-", "−") + f" ({network})"
                     for network, v in values.items())
    return PaperNumber(entry.number.format(text), AUTHORS_SETTING, SOURCE)


def scale(params: Mapping, model: str) -> Scale:
    """The paper's setting and ours for ``model``: network, data, epochs and optimiser (bf16
    autocast where it is on), densities."""
    size = ("-".join(map(str, params["hidden"])) if model == "mlp"
            else f"×{params['widths'].get(model, 1.0):g}")
    data = DATASET_LABELS.get(params["dataset"], params["dataset"])
    images = params["train_subset"][model]
    data += f" {plots.short_count(images)}" if images else ""
    densities = params["densities"][model]
    bf16 = ", bf16" if params["bf16"].get(model, False) else ""
    return Scale(PAPER_SCALE, f"{plots.model_label(model)} {size} · {data} · "
                              f"{params['epochs'][model]} ep "
                              f"({optimizer_label(params, model)}{bf16}) · "
                              f"d = {max(densities):g}–{min(densities):g}")


def chapter_claims(params: Mapping, entries=CLAIMS) -> list[Claim]:
    """One :class:`Claim` per entry and model of ``params["models"]`` (id ``"R1 · MLP"``),
    with its scale, the authors' number and the calibration on their table."""
    authors = authors_values()
    out = []
    for model in params["models"]:
        for entry in entries:
            out.append(Claim(
                id=f"{entry.claim} · {plots.model_label(model)}", paper=entry.paper,
                statement=entry.statement, metric=f"{entry.metric}, {plots.model_label(model)}",
                criterion=entry.criterion, paper_number=paper_number(entry, authors),
                kind=entry.kind, reason=entry.reason, scale=scale(params, model),
                calibration=calibrate(entry, authors)))
    return out


def calibration_table() -> pd.DataFrame:
    """Each criterion on the authors' data, as first written (R1 one-sided, R2 "the top-Δr
    mask is random-wired at most densities", R4 "random masks' NaRC < 0") and as used here.
    Columns: claim, criterion, the paper's own data (pass / fail with counts)."""
    authors = authors_values()
    rows = [("R1 as first written", "median ρ(acc, Δr) < 0.3 (one-sided)",
             calibration.ramanujan_r1()),
            ("R2 as first written", "top-Δr mask random-wired at > half the densities",
             calibration.ramanujan_r2()),
            ("R4 as first written", "median NaRC of the random masks < 0",
             calibration.ramanujan_r4())]
    rows += [(f"{entry.claim} as used here", entry.criterion.described,
              calibrate(entry, authors)) for entry in CLAIMS]
    return pd.DataFrame([(claim, text, result.format()) for claim, text, result in rows],
                        columns=["claim", "criterion", "on the authors' data"])

"""The TPrune chapter's claims, as data: one table of rows whose metric texts name the
chapter's knobs (``{max_drop}``, ``{max_loss}``, ``{latency_batch}``), filled in by
:func:`declared`.

Kinds (see :mod:`pruninglib.book.claims`): P1 is *not measured* (a CPU is not a phone); the
other rows are *claims*. None is a check. The authors released no numbers we could calibrate
a criterion on, so every row's calibration is "n.a.". P3b and P4c are this book's own
questions (the paper gives no number for them), tested as claims because an experiment could
refute them. P2 compares stage 2 guided by stage 1 with the structured Hoyer-Square of
DeepHoyer, which penalises every row and every column (no guidance). P4 times the dense and
the pruned model through the same code path (:mod:`.paths`).
"""
from __future__ import annotations

import dataclasses

from ...book import claims

TPRUNE = "Mao et al. 2021 (TPrune)"
ABSTRACT = claims.PaperNumber("1.16×–1.92× faster at 0–8 % BLEU loss",
                              "Transformer NMT on mobile devices", "abstract")
BSSL_SOURCE = claims.PaperNumber("qualitative", "BSSL on a Transformer NMT model",
                                 "third-party summary of the paper, unverified")
PAPER_SCALE = "Transformer NMT (sizes not retrieved) · BLEU · phones"

CLAIMS = [
    claims.Claim(
        id="P1", paper=TPRUNE, kind="not_measured",
        statement="Line-wise pruning of every Transformer component, evaluated on real "
                  "mobile devices.",
        metric="deployment on phones",
        reason="no phone here: a CPU stands in for it (P4)"),
    claims.Claim(
        id="P2", paper=TPRUNE,
        statement="BSSL reveals how each component sparsifies; SHS, guided by it, gives the "
                  "final pruned model.",
        metric="most inner lines removed within a {max_drop:g}-point accuracy drop: "
               "Hoyer-Square along the directions BSSL found minus Hoyer-Square on every row "
               "and column, over the seeds whose strength grids bracket the budget (pp)",
        criterion=claims.above(0.0, "pp", why="guidance helps: any margin beyond the seed "
                                              "spread")),
    claims.Claim(
        id="P5a", paper=TPRUNE, paper_number=BSSL_SOURCE,
        statement="W_Q, W_K, W_V and W_FFN1 sparsify column-wise, W_O and W_FFN2 row-wise "
                  "(in y = xW terms: along the inner dimension of each block).",
        metric="BSSL: lines under the threshold in the paper's direction minus in the other "
               "direction, mean over the six matrix types and all blocks (pp)",
        criterion=claims.above(0.0, "pp", why="the summary names a direction, not a size")),
    claims.Claim(
        id="P5b", paper=TPRUNE, paper_number=BSSL_SOURCE,
        statement="W_Q, W_K and W_V get pruned to some extent; W_O, W_FFN1 and W_FFN2 "
                  "hardly get sparse.",
        metric="BSSL: lines under the threshold in the paper's direction, mean of "
               "Q, K, V minus mean of O, FFN1, FFN2 (pp)",
        criterion=claims.above(0.0, "pp", why="the summary gives an order, not a size")),
    claims.Claim(
        id="P3", paper=TPRUNE,
        statement="Structured Hoyer-Square reaches a higher line sparsity than group lasso "
                  "at the same accuracy cost.",
        metric="most inner lines removed within a {max_drop:g}-point accuracy drop: "
               "Hoyer-Square minus group lasso, both on the inner lines, over the seeds whose "
               "strength grids bracket the budget (pp)",
        criterion=claims.above(0.0, "pp", why="'higher': any margin beyond the seed spread")),
    claims.Claim(
        id="P3b", paper=TPRUNE,
        statement="Line pruning guided by the penalty beats pruning the lines of the dense "
                  "model by their magnitude (this book's control for P3).",
        metric="test accuracy after fine-tuning, Hoyer-Square minus line magnitude at the "
               "same lines removed, mean over strengths (pp)",
        criterion=claims.above(0.0, "pp", why="'beats': any margin beyond the seed spread")),
    claims.Claim(
        id="P4a", paper=TPRUNE, paper_number=ABSTRACT,
        statement="The pruned model runs faster than the original (batch size 1).",
        metric="CPU latency speed-up at batch 1 of the most-pruned guided Hoyer-Square "
               "model losing at most {max_loss:g} % of the dense accuracy, both models "
               "batched (pruned heads padded to equal widths) (×)",
        criterion=claims.above(1.0, "×", why="faster at all; the paper's range starts at "
                                             "1.16×")),
    claims.Claim(
        id="P4b", paper=TPRUNE, paper_number=ABSTRACT,
        statement="The pruned model runs faster than the original (typical batch).",
        metric="the same, at batch {latency_batch} (×)",
        criterion=claims.above(1.0, "×", why="faster at all; the paper's range starts at "
                                             "1.16×")),
    claims.Claim(
        id="P4c", paper=TPRUNE,
        statement="The speed-up tracks the reduction in operations (this book's question; "
                  "the paper gives no number).",
        metric="speed-up at batch {latency_batch} ÷ reduction of the operations the timed "
               "(padded) model executes",
        criterion=claims.within(1.0, 0.3, why="'tracks': within 30 % of the FLOP "
                                              "reduction")),
]


def declared(*, max_drop: float, max_loss: float, latency_batch: int,
             scale: str) -> list[claims.Claim]:
    """:data:`CLAIMS` with the knobs filled into their metric texts and the scale column
    (the paper's setting, :data:`PAPER_SCALE`, and ``scale``: ours)."""
    values = {"max_drop": max_drop, "max_loss": max_loss, "latency_batch": latency_batch}
    return [dataclasses.replace(c, metric=c.metric.format(**values),
                                scale=claims.Scale(paper=PAPER_SCALE, ours=scale))
            for c in CLAIMS]


def our_scale(*, dataset: str, train_subset: int | None, d_model: int, layers: int,
              heads: int, epochs: int, seeds: int) -> str:
    """Our setting in one short line: ``Transformer 2×64, 4 heads · fashion_mnist rows 8000 ·
    4 ep · CPU · 3 seeds``."""
    images = "all" if train_subset is None else f"{train_subset}"
    return (f"Transformer {layers}×{d_model}, {heads} heads · {dataset} rows {images} · "
            f"{epochs} ep · CPU · {seeds} seed{'s' if seeds != 1 else ''}")

"""Stage 1 (BSSL) read as guidance for stage 2, as the paper describes: which direction each
matrix type sparsifies in.

:func:`bssl_rows` summarises a model trained with group lasso on every row and column: per
(block, matrix, direction), the fraction of lines under the threshold (``sparse``) and the
mean relative line norm (``mean_relative``). :func:`guided_directions` turns one seed's rows
into the ``directions`` argument of :func:`pruninglib.pruners.structured.penalty`: each
matrix type is penalised along the direction in which more of its lines fell under the
threshold (mean over blocks), ties (e.g. none in either direction) going to the direction
with the smaller mean relative norm. Only lines along a block's inner dimension can be sliced
(:data:`pruninglib.pruners.structured.INNER`); a direction BSSL finds along the residual
stream is penalised all the same, as the guidance says, and simply leaves fewer lines to cut.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...models.transformer import MATRICES, TransformerClassifier
from ...pruners.structured import INNER, relative_line_norms

DIRECTIONS = ("out", "in")


def bssl_rows(model: TransformerClassifier, threshold: float) -> list[dict]:
    """One dict per (block, matrix, direction) of ``model``: block, matrix, direction, lines
    (count), sparse (fraction of lines whose norm is under ``threshold`` times the largest of
    that matrix and direction) and mean_relative (mean of those relative norms)."""
    return [{"block": r["block"], "matrix": r["matrix"], "direction": r["direction"],
             "lines": len(r["relative"]),
             "sparse": float((r["relative"] < threshold).float().mean()),
             "mean_relative": float(r["relative"].mean())}
            for r in relative_line_norms(model)]


def guided_directions(rows: Iterable[Mapping]) -> dict[str, tuple[str]]:
    """Matrix type -> (direction,): the direction with the larger mean ``sparse`` over blocks,
    ties broken by the smaller mean ``mean_relative`` (then 'out'). ``rows``: one seed's
    :func:`bssl_rows`; every matrix type of :data:`MATRICES` must appear in both directions."""
    sums: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        entry = sums.setdefault((r["matrix"], r["direction"]), [0.0, 0.0, 0])
        entry[0] += r["sparse"]
        entry[1] += r["mean_relative"]
        entry[2] += 1
    missing = [f"{m}/{d}" for m in MATRICES for d in DIRECTIONS if (m, d) not in sums]
    if missing:
        raise ValueError(f"BSSL rows lack {', '.join(missing)}: every matrix type in both "
                         f"directions is needed")
    def order(matrix: str, direction: str) -> tuple[float, float, int]:
        sparse, relative, n = sums[(matrix, direction)]
        return (-sparse / n, relative / n, DIRECTIONS.index(direction))

    return {m: (min(DIRECTIONS, key=lambda d, m=m: order(m, d)),) for m in MATRICES}


def agrees_with_inner(directions: Mapping[str, tuple[str]]) -> dict[str, bool]:
    """Matrix type -> whether the guided direction is its sliceable inner direction."""
    return {m: directions[m] == (INNER[m],) for m in MATRICES}

"""The numbers the TPrune chapter judges, and the tables it shows.

Inputs are the frames of :func:`~pruninglib.chapters.tprune.experiment.run`: ``runs`` (one row
per model and seed, with accuracy in [0, 1], lines_removed in [0, 1], accuracy_drop in
points, relative_drop in % of the dense accuracy, speed-ups and FLOP reduction) and ``bssl``
(one row per seed, block, matrix and direction, ``sparse`` in [0, 1]).
"""
from __future__ import annotations

import pandas as pd

from ...book import claims

# the direction BSSL finds each matrix sparsifying in, per the summary of the paper (P5a):
# W_Q, W_K, W_V, W_FFN1 column-wise (our output lines), W_O, W_FFN2 row-wise (input lines)
PAPER_DIRECTION = {"q": "out", "k": "out", "v": "out", "fc1": "out", "o": "in", "fc2": "in"}
ATTENTION_INPUTS = ("q", "k", "v")
DROPS = {"accuracy_drop": "points", "relative_drop": "% of the dense accuracy"}


def best_within(runs: pd.DataFrame, method: str, max_drop: float, *,
                drop: str = "accuracy_drop") -> pd.DataFrame:
    """Per seed, the ``method`` row with the most lines removed among those whose ``drop``
    (``accuracy_drop`` in points, or ``relative_drop`` in % of the dense accuracy) is at most
    ``max_drop``; where none qualifies, that seed's dense row (nothing removed, speed-up 1)
    stands in, relabelled ``method``. One row per seed, with ``ratio`` = speedup_batch ÷
    flop_reduction."""
    if drop not in DROPS:
        raise ValueError(f"drop={drop!r} is not allowed: " + ", ".join(DROPS))
    picked = []
    for seed, rows in runs.groupby("seed"):
        ok = rows[(rows["method"] == method) & (rows[drop] <= max_drop)]
        row = (ok.loc[ok["lines_removed"].idxmax()] if len(ok)
               else rows[rows["method"] == "dense"].iloc[0])
        picked.append(row.copy().rename(seed))
    frame = pd.DataFrame(picked).reset_index(drop=True)
    frame["method"] = method
    frame["ratio"] = frame["speedup_batch"] / frame["flop_reduction"]
    return frame


def direction_gap(bssl: pd.DataFrame) -> pd.Series:
    """P5a, per seed: the fraction of lines under the threshold along each matrix's paper
    direction (:data:`PAPER_DIRECTION`) minus along the other direction, mean over matrix
    types and blocks, in percentage points."""
    along = _along_paper(bssl)
    means = bssl.assign(along=along).groupby(["seed", "along"])["sparse"].mean().unstack()
    return ((means[True] - means[False]) * 100).rename("direction_gap")


def attention_gap(bssl: pd.DataFrame) -> pd.Series:
    """P5b, per seed: along the paper's directions, the mean fraction of lines under the
    threshold of W_Q, W_K, W_V minus that of W_O, W_FFN1, W_FFN2, in percentage points."""
    along = bssl[_along_paper(bssl)]
    inputs = along["matrix"].isin(ATTENTION_INPUTS)
    qkv = along[inputs].groupby("seed")["sparse"].mean()
    rest = along[~inputs].groupby("seed")["sparse"].mean()
    return ((qkv - rest) * 100).rename("attention_gap")


def _along_paper(bssl: pd.DataFrame) -> pd.Series:
    return pd.Series([PAPER_DIRECTION[m] == d for m, d in zip(bssl["matrix"],
                                                              bssl["direction"])],
                     index=bssl.index)


def frontier(runs: pd.DataFrame, max_drop: float) -> pd.DataFrame:
    """P3: :func:`best_within` ``max_drop`` points for Hoyer-Square and for group lasso."""
    return pd.concat([best_within(runs, m, max_drop) for m in ("hoyer_square", "group_lasso")],
                     ignore_index=True)


def fastest(runs: pd.DataFrame, max_loss: float) -> pd.DataFrame:
    """P4: per seed, the most-pruned Hoyer-Square model whose accuracy loss is at most
    ``max_loss`` % of its seed's dense accuracy (the paper's "0–8 % BLEU loss" is relative)."""
    return best_within(runs, "hoyer_square", max_loss, drop="relative_drop")


def results(runs: pd.DataFrame, bssl: pd.DataFrame, *, max_drop: float, max_loss: float,
            setting: str = "") -> dict[str, claims.Estimate]:
    """The estimate of every measured claim of :mod:`.claims`, keyed by claim id (P5a, P5b,
    P3, P3b, P4a, P4b, P4c), each over the seeds."""
    best, chosen = frontier(runs, max_drop), fastest(runs, max_loss)
    common = {"setting": setting}
    return {
        "P5a": claims.Estimate.from_samples(direction_gap(bssl), unit="pp", **common),
        "P5b": claims.Estimate.from_samples(attention_gap(bssl), unit="pp", **common),
        "P3": claims.estimate(best, "lines_removed", scale=100, unit="pp", **common,
                              where={"method": "hoyer_square"},
                              minus={"method": "group_lasso"}),
        "P3b": claims.estimate(runs, "accuracy", scale=100, unit="pp", **common,
                               where={"method": "hoyer_square"},
                               minus={"method": "magnitude"}),
        "P4a": claims.estimate(chosen, "speedup_1", unit="×", where={}, **common),
        "P4b": claims.estimate(chosen, "speedup_batch", unit="×", where={}, **common),
        "P4c": claims.estimate(chosen, "ratio", unit="", where={}, **common),
    }


def bssl_table(bssl: pd.DataFrame) -> pd.DataFrame:
    """Stage 1 as a table: per (block, matrix), the % of output and of input lines under the
    threshold, mean over seeds, one decimal."""
    table = bssl.pivot_table(index=["block", "matrix"], columns="direction", values="sparse")
    return (table.mul(100).round(1)
            .rename(columns={"out": "output lines (%)", "in": "input lines (%)"}))


MODEL_COLUMNS = ["lines_removed", "accuracy_sliced", "accuracy", "params", "flops",
                 "latency_1", "latency_batch", "speedup_1", "speedup_batch"]


def model_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Stage 2 as a table: per (method, strength), the mean over seeds of lines removed (%),
    accuracy right after slicing and after fine-tuning (%), parameters, FLOPs, latencies (ms)
    and speed-ups, two decimals."""
    table = runs.assign(accuracy=runs["accuracy"] * 100,
                        accuracy_sliced=runs["accuracy_sliced"] * 100,
                        lines_removed=runs["lines_removed"] * 100,
                        latency_1=runs["latency_1"] * 1e3,
                        latency_batch=runs["latency_batch"] * 1e3)
    return table.groupby(["method", "strength"])[MODEL_COLUMNS].mean().round(2)


def summary(runs: pd.DataFrame, *, max_drop: float, max_loss: float,
            latency_batch: int) -> str:
    """The chapter's summary in Markdown bullets, every number computed from ``runs``."""
    chosen, best = fastest(runs, max_loss), frontier(runs, max_drop)
    dense = runs[runs["method"] == "dense"]["accuracy"].mean() * 100
    removed = best.groupby("method")["lines_removed"].mean() * 100
    return (
        f"- The dense Transformer reaches {dense:.1f} % test accuracy. The most-pruned "
        f"Hoyer-Square model that loses at most {max_loss:g} % of it removes "
        f"{chosen.lines_removed.mean() * 100:.0f} % of the inner lines (mean over seeds), "
        f"cuts FLOPs by {chosen.flop_reduction.mean():.2f}× and runs "
        f"{chosen.speedup_1.mean():.2f}× faster at batch 1 and "
        f"{chosen.speedup_batch.mean():.2f}× at batch {latency_batch} on this CPU, for an "
        f"accuracy drop of {chosen.accuracy_drop.mean():.1f} points "
        f"({chosen.relative_drop.mean():.1f} % of the dense accuracy).\n"
        f"- Within a {max_drop:g}-point drop, Hoyer-Square removes "
        f"{removed.get('hoyer_square', 0):.0f} % of the lines and group lasso "
        f"{removed.get('group_lasso', 0):.0f} %.\n"
        f"- This chapter prunes during training and measures on a CPU, not a phone; the "
        f"translation task and its BLEU score are left out (see the top of the page).")

"""The numbers the TPrune chapter judges, and the tables it shows.

Inputs are the frames of :func:`~pruninglib.chapters.tprune.experiment.run`: ``runs`` (one row
per model and seed, with accuracy in [0, 1], lines_removed in [0, 1], accuracy_drop in
points, relative_drop in % of the dense accuracy, speed-ups on each code path and FLOP
reductions) and ``bssl`` (one row per seed, block, matrix and direction, ``sparse`` in
[0, 1]).

A comparison "within a budget" (P2, P3) takes, per seed, the most lines a method removes at
a strength of its grid whose accuracy drop is within the budget. It measures the method only
where the grid *brackets* the budget (:func:`bracketed`): some strength within it and some
beyond it; otherwise the grid, not the method, sets the number, and that seed does not enter.
"""
from __future__ import annotations

import pandas as pd

from ...book import claims
from ...pruners.structured import INNER
from .guidance import guided_directions

# the direction BSSL finds each matrix sparsifying in, per the summary of the paper (P5a):
# W_Q, W_K, W_V, W_FFN1 column-wise (our output lines), W_O, W_FFN2 row-wise (input lines)
PAPER_DIRECTION = {"q": "out", "k": "out", "v": "out", "fc1": "out", "o": "in", "fc2": "in"}
ATTENTION_INPUTS = ("q", "k", "v")
DROPS = {"accuracy_drop": "points", "relative_drop": "% of the dense accuracy"}
FINAL = "hoyer_guided"
"""TPrune's final model: structured Hoyer-Square along the directions BSSL found (P4)."""
P2_PAIR = ("hoyer_guided", "hoyer_both")
"""P2: Hoyer-Square guided by stage 1 against Hoyer-Square on every row and column."""
P3_PAIR = ("hoyer_square", "group_lasso")
"""P3: Hoyer-Square against group lasso, both on the inner lines."""


def best_within(runs: pd.DataFrame, method: str, max_drop: float, *,
                drop: str = "accuracy_drop") -> pd.DataFrame:
    """Per seed, the ``method`` row with the most lines removed among those whose ``drop``
    (``accuracy_drop`` in points, or ``relative_drop`` in % of the dense accuracy) is at most
    ``max_drop``; where none qualifies, that seed's dense row (nothing removed, speed-up 1)
    stands in, relabelled ``method``. One row per seed, with ``ratio`` =
    speedup_padded_batch ÷ flop_reduction_padded (like for like: time against the operations
    the timed models execute)."""
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
    frame["ratio"] = frame["speedup_padded_batch"] / frame["flop_reduction_padded"]
    return frame


def bracketed(runs: pd.DataFrame, methods, max_drop: float) -> pd.Series:
    """Per seed (a boolean Series): whether every method of ``methods`` has a strength whose
    accuracy drop is at most ``max_drop`` points and one whose drop is above it."""
    rows = runs[runs["method"].isin(list(methods))]
    per = rows.groupby(["seed", "method"])["accuracy_drop"].agg(["min", "max"])
    inside = (per["min"] <= max_drop) & (per["max"] > max_drop)
    seeds = sorted(runs["seed"].unique())
    return (inside.groupby(level="seed").all()
            & (rows.groupby("seed")["method"].nunique() == len(set(methods)))
            ).reindex(seeds, fill_value=False).rename("bracketed")


def bracket_table(runs: pd.DataFrame, methods, max_drop: float) -> pd.DataFrame:
    """Per (method, seed): the accuracy drop (points) at the weakest and at the strongest
    strength of the grid and whether they bracket ``max_drop`` (weakest within, strongest
    beyond)."""
    rows = runs[runs["method"].isin(list(methods))].sort_values("strength")
    grouped = rows.groupby(["method", "seed"])
    table = pd.DataFrame({
        "weakest strength": grouped["strength"].first(),
        "drop at weakest (points)": grouped["accuracy_drop"].first().round(2),
        "strongest strength": grouped["strength"].last(),
        "drop at strongest (points)": grouped["accuracy_drop"].last().round(2)})
    table["brackets the budget"] = ((grouped["accuracy_drop"].min() <= max_drop)
                                    & (grouped["accuracy_drop"].max() > max_drop))
    return table


def within_budget(runs: pd.DataFrame, pair, max_drop: float, *, setting: str = ""
                  ) -> claims.Estimate:
    """Lines removed within ``max_drop`` points (:func:`best_within`), ``pair[0]`` minus
    ``pair[1]`` in percentage points, over the seeds whose grids bracket the budget
    (:func:`bracketed`; counted as entered, at least :data:`claims.MIN_REPLICATES`
    needed)."""
    best = pd.concat([best_within(runs, m, max_drop) for m in pair], ignore_index=True)
    table = best.pivot_table(index="seed", columns="method", values="lines_removed")
    ok = bracketed(runs, pair, max_drop)
    values = (table[pair[0]] - table[pair[1]])[ok.reindex(table.index, fill_value=False)]
    return claims.Estimate.from_samples(
        values * 100, unit="pp", setting=setting, entered=int(ok.sum()), total=len(ok),
        minimum=claims.MIN_REPLICATES, what="seeds whose grids bracket the budget")


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


def frontier(runs: pd.DataFrame, max_drop: float,
             methods=("hoyer_square", "group_lasso", "hoyer_guided", "hoyer_both")
             ) -> pd.DataFrame:
    """:func:`best_within` ``max_drop`` points for each of ``methods`` present in ``runs``."""
    present = [m for m in methods if (runs["method"] == m).any()]
    return pd.concat([best_within(runs, m, max_drop) for m in present], ignore_index=True)


def fastest(runs: pd.DataFrame, max_loss: float) -> pd.DataFrame:
    """P4: per seed, the most-pruned :data:`FINAL` model (Hoyer-Square guided by BSSL) whose
    accuracy loss is at most ``max_loss`` % of its seed's dense accuracy (the paper's "0–8 %
    BLEU loss" is relative)."""
    return best_within(runs, FINAL, max_loss, drop="relative_drop")


def results(runs: pd.DataFrame, bssl: pd.DataFrame, *, max_drop: float, max_loss: float,
            setting: str = "") -> dict[str, claims.Estimate]:
    """The estimate of every measured claim of :mod:`.claims`, keyed by claim id (P2, P5a,
    P5b, P3, P3b, P4a, P4b, P4c), each over the seeds. P4 times the models like for like:
    both through the batched matmul, the pruned heads padded to equal widths."""
    chosen = fastest(runs, max_loss)
    common = {"setting": setting}
    return {
        "P2": within_budget(runs, P2_PAIR, max_drop, **common),
        "P5a": claims.Estimate.from_samples(direction_gap(bssl), unit="pp", **common),
        "P5b": claims.Estimate.from_samples(attention_gap(bssl), unit="pp", **common),
        "P3": within_budget(runs, P3_PAIR, max_drop, **common),
        "P3b": claims.estimate(runs, "accuracy", scale=100, unit="pp", **common,
                               where={"method": "hoyer_square"},
                               minus={"method": "magnitude"}),
        "P4a": claims.estimate(chosen, "speedup_padded_1", unit="×", where={}, **common),
        "P4b": claims.estimate(chosen, "speedup_padded_batch", unit="×", where={}, **common),
        "P4c": claims.estimate(chosen, "ratio", unit="", where={}, **common),
    }


def bssl_table(bssl: pd.DataFrame) -> pd.DataFrame:
    """Stage 1 as a table: per (block, matrix), the % of output and of input lines under the
    threshold, mean over seeds, one decimal."""
    table = bssl.pivot_table(index=["block", "matrix"], columns="direction", values="sparse")
    return (table.mul(100).round(1)
            .rename(columns={"out": "output lines (%)", "in": "input lines (%)"}))


def guidance_table(bssl: pd.DataFrame) -> pd.DataFrame:
    """Per matrix type, the direction stage 2 penalises when guided by each seed's BSSL
    (:func:`~.guidance.guided_directions`: 'output lines' or 'input lines'), one column per
    seed, and the inner (sliceable) direction beside them."""
    words = {"out": "output lines", "in": "input lines"}
    table = pd.DataFrame({
        f"seed {seed}": {m: words[d[0]] for m, d in guided_directions(
            rows.to_dict("records")).items()}
        for seed, rows in bssl.groupby("seed")})
    table["sliceable (inner)"] = [words[INNER[m]] for m in table.index]
    return table.rename(index=MATRIX_NAMES)


MATRIX_NAMES = {"q": "W_Q", "k": "W_K", "v": "W_V", "o": "W_O", "fc1": "W_FFN1",
                "fc2": "W_FFN2"}
MODEL_COLUMNS = {"lines_removed": "lines removed (%)", "accuracy_sliced": "sliced (%)",
                 "accuracy": "fine-tuned (%)", "flops": "FLOPs",
                 "speedup_padded_1": "batched ×, b=1", "speedup_padded_batch": "batched ×, b=B",
                 "speedup_per_head_1": "per-head ×, b=1",
                 "speedup_per_head_batch": "per-head ×, b=B"}


def model_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Stage 2 as a table: per (method, strength), the mean over seeds of lines removed (%),
    test accuracy right after slicing and after fine-tuning (%), FLOPs per sample and the
    like-for-like speed-ups against the dense model (batched path and per-head path, at
    batch 1 and at the typical batch B), two decimals."""
    table = runs.assign(accuracy=runs["accuracy"] * 100,
                        accuracy_sliced=runs["accuracy_sliced"] * 100,
                        lines_removed=runs["lines_removed"] * 100)
    return (table.groupby(["method", "strength"])[list(MODEL_COLUMNS)].mean().round(2)
            .rename(columns=MODEL_COLUMNS))


PATH_NAMES = {"as_run": "as sliced", "per_head": "per-head loop",
              "padded": "batched (heads padded)"}


def _latency_column(path: str, batch: str) -> str:
    return f"latency_{batch}" if path == "as_run" else f"latency_{path}_{batch}"


def path_frame(runs: pd.DataFrame, max_loss: float) -> pd.DataFrame:
    """Tidy: one row per (seed, model, path, batch) for the dense model, the one-line shape
    probe and the :func:`fastest` model: latency (ms), speed-up against the dense model on
    the same path (``same_path``) and against the dense model as it runs (batched,
    ``vs_batched_dense``). ``batch`` is '1' or 'batch' (the typical batch)."""
    chosen = fastest(runs, max_loss).assign(model="TPrune model (P4)")
    picked = pd.concat([runs[runs["method"] == "dense"].assign(model="dense"),
                        runs[runs["method"] == "one_line"].assign(model="one line removed"),
                        chosen], ignore_index=True)
    dense = runs[runs["method"] == "dense"].set_index("seed")
    rows = []
    for _, row in picked.iterrows():
        base = dense.loc[row["seed"]]
        for path in PATH_NAMES:
            for batch in ("1", "batch"):
                seconds = row[_latency_column(path, batch)]
                rows.append({"seed": row["seed"], "model": row["model"], "path": path,
                             "batch": batch, "latency_ms": seconds * 1e3,
                             "same_path": base[_latency_column(path, batch)] / seconds,
                             "vs_batched_dense": base[f"latency_{batch}"] / seconds})
    return pd.DataFrame(rows)


def path_table(runs: pd.DataFrame, max_loss: float, latency_batch: int) -> pd.DataFrame:
    """:func:`path_frame` as a table: per (model, path), mean over seeds of the latency (ms)
    and of both speed-ups, at batch 1 and at ``latency_batch``, two decimals."""
    frame = path_frame(runs, max_loss)
    table = frame.pivot_table(index=["model", "path"], columns="batch",
                              values=["latency_ms", "same_path", "vs_batched_dense"],
                              sort=False)
    names = {"latency_ms": "ms", "same_path": "× vs dense, same path",
             "vs_batched_dense": "× vs dense batched"}
    table.columns = [f"{names[v]}, b={1 if b == '1' else latency_batch}"
                     for v, b in table.columns]
    return table.rename(index=PATH_NAMES, level="path").round(2)


def summary(runs: pd.DataFrame, *, max_drop: float, max_loss: float,
            latency_batch: int) -> str:
    """The chapter's summary in Markdown bullets, every number computed from ``runs``."""
    chosen, best = fastest(runs, max_loss), frontier(runs, max_drop)
    dense = runs[runs["method"] == "dense"]
    removed = best.groupby("method")["lines_removed"].mean() * 100
    path_cost = (dense["latency_1"] / dense["latency_per_head_1"]).mean()
    seeds = runs["seed"].nunique()
    return (
        f"- The dense Transformer reaches {dense['accuracy'].mean() * 100:.1f} % test "
        f"accuracy. TPrune's model (Hoyer-Square along the directions BSSL found, the "
        f"most-pruned that loses at most {max_loss:g} % of that accuracy) removes "
        f"{chosen.lines_removed.mean() * 100:.0f} % of the inner lines (mean over seeds) "
        f"for an accuracy drop of {chosen.accuracy_drop.mean():.1f} points "
        f"({chosen.relative_drop.mean():.1f} % of the dense accuracy).\n"
        f"- Timed like for like (both batched, the pruned heads padded to equal widths), it "
        f"runs {chosen.speedup_padded_1.mean():.2f}× faster than the dense model at batch 1 "
        f"and {chosen.speedup_padded_batch.mean():.2f}× at batch {latency_batch} on this "
        f"CPU, for {chosen.flop_reduction_padded.mean():.2f}× fewer operations executed. "
        f"Through the per-head loop that unequal heads need, the dense model itself runs at "
        f"{path_cost:.2f}× its batched speed at batch 1: comparing a looped pruned model with "
        f"the batched dense one mixes that cost into the speed-up.\n"
        f"- Within a {max_drop:g}-point drop (means over all seeds), Hoyer-Square on the "
        f"inner lines removes {removed.get('hoyer_square', 0):.0f} % of the lines and group "
        f"lasso {removed.get('group_lasso', 0):.0f} %; guided by BSSL, Hoyer-Square removes "
        f"{removed.get('hoyer_guided', 0):.0f} %, and on every row and column "
        f"{removed.get('hoyer_both', 0):.0f} %. The strength grids bracket the budget in "
        f"{int(bracketed(runs, P3_PAIR, max_drop).sum())} of {seeds} seeds for P3 and "
        f"{int(bracketed(runs, P2_PAIR, max_drop).sum())} of {seeds} for P2; only those "
        f"enter the verdicts.\n"
        f"- This chapter prunes during training and measures on a CPU, not a phone; the "
        f"translation task and its BLEU score are left out (see the top of the page).")

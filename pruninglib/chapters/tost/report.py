"""The chapter's tables and its written findings, computed from the runs.

* :func:`gain_table`: mean gain per mask and protocol, one column per sparsity;
* :func:`baseline_table`: the default protocol's accuracy per mask and sparsity;
* :func:`findings`: the bullet points under the figures (the gain of 'all' at the highest
  sparsity, the protocols ranked by mean gain, 'all' against its best single trick paired by
  seed, runs at chance level);
* :func:`precondition`: the dense network against the default sparse one (the room a recipe
  has to help);
* :func:`downloads`: the tidy frames behind the figures and verdicts, for CSV download;
* :func:`glue_values`: the numbers the exercises' solutions quote;
* :func:`cost_note`: what the page trained and what it cost.
"""
from __future__ import annotations

import math

import pandas as pd

from ...book import claims
from ...book.plots import method_label
from .claims import mask_names
from .experiment import Design, ProtocolRuns, at_lowest, dense_gap
from .protocols import LABELS

CHANCE_MARGIN = 0.01
"""A run whose test accuracy is at most chance + 1 point counts as failed."""


def _sparsity(frame: pd.DataFrame) -> pd.Series:
    return (100 * (1 - frame["prune.density"])).round(2)


def _pct(densities) -> str:
    return ", ".join(f"{100 * (1 - d):g} %" for d in densities)


def gain_table(gain: pd.DataFrame) -> pd.DataFrame:
    """Mean gain over seeds (points, 2 decimals): rows (mask, protocol label), columns the
    sparsities in %."""
    table = gain.assign(sparsity=_sparsity, protocol=gain["protocol"].map(LABELS))
    return (table.pivot_table(index=["prune.method", "protocol"], columns="sparsity",
                              values="gain", sort=False)
            .round(2))


def baseline_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The default protocol's test accuracy (%, mean over seeds, 1 decimal): rows masks,
    columns sparsities in %."""
    default = runs[runs["protocol"] == "default"]
    return (default.assign(sparsity=_sparsity)
            .pivot_table(index="prune.method", columns="sparsity", values="test_accuracy")
            .mul(100).round(1))


def findings(design: Design, result: ProtocolRuns) -> str:
    """The findings under the figures, as Markdown bullet points (see the module doc)."""
    gain, runs = result.gains, result.runs
    lines = []
    if "all" in design.protocols:
        at_top = gain[(gain["prune.density"] == design.lowest) & (gain["protocol"] == "all")]
        per_mask = at_top.groupby("prune.method")["gain"].mean()
        lines.append(f"- At {_pct([design.lowest])} sparsity, all tricks together change "
                     "test accuracy by "
                     + ", ".join(f"{g:+.2f} pp ({method_label(m)})" for m, g in per_mask.items())
                     + " (mean over seeds).")
    very_high = gain[gain["prune.density"].isin(design.trick_very_high)
                     & gain["prune.method"].isin(design.single_trick_methods)]
    ranked = very_high.groupby("protocol")["gain"].mean().sort_values()
    if len(ranked):
        lines.append(f"- Averaged over the {mask_names(design.single_trick_methods)} masks at "
                     f"sparsities {_pct(design.trick_very_high)} (where every trick ran), the "
                     f"protocol with the highest mean gain is *{LABELS[ranked.index[-1]]}* "
                     f"({ranked.iloc[-1]:+.2f} pp) and the lowest *{LABELS[ranked.index[0]]}* "
                     f"({ranked.iloc[0]:+.2f} pp).")
    lines.append(_against_best_trick(design, very_high))
    lines.append(_failed_runs(design, runs))
    return "\n".join(line for line in lines if line)


def _against_best_trick(design: Design, very_high: pd.DataFrame) -> str:
    """'all' against the single trick with the best mean gain, paired by seed."""
    tricks = design.parts_of_all()
    if not tricks:
        return ""
    frame = very_high[very_high["protocol"].isin([*tricks, "all"])]
    comparison = claims.best_other(frame, "gain", "all", by="protocol")
    if comparison.competitor is None:
        return ""
    est = comparison.estimate(unit="pp")
    return (f"- All tricks together against the best of their parts alone "
            f"(*{LABELS[comparison.competitor]}*, chosen by its mean gain, then paired by "
            f"seed), {mask_names(design.single_trick_methods)} masks at sparsities "
            f"{_pct(design.trick_very_high)}: {est.format()}.")


def _failed_runs(design: Design, runs: pd.DataFrame) -> str:
    chance = 1 / design.num_classes
    failed = (runs[runs["test_accuracy"] <= chance + CHANCE_MARGIN]
              .groupby(["protocol", "prune.method"]).size())
    if not len(failed):
        return "- No run ended at chance level."
    return ("- Runs that ended at chance level (test accuracy ≤ "
            f"{100 * (chance + CHANCE_MARGIN):.0f} %): "
            + "; ".join(f"{n} with {LABELS[p]} ({method_label(m)} mask)"
                        for (p, m), n in failed.items()) + ".")


def cost_note(design: Design, result: ProtocolRuns, *, profile: str, wall_seconds: float,
              load: float, cpus: int) -> str:
    """What the page trained and its cost, in Markdown: recorded compute of every run (as
    stored with each result, cached or not) and the page's wall time, in minutes."""
    singles = design.components
    both = "default and all" if "all" in design.protocols else "default"
    grid = (f"{both}: {len(design.methods)} masks × {len(design.densities)} "
            f"sparsities × {design.seeds} seed(s)")
    if singles:
        grid += (f"; {len(singles)} single tricks: {len(design.single_trick_methods)} "
                 f"mask(s) × {len(design.single_trick_densities)} sparsit"
                 f"{'y' if len(design.single_trick_densities) == 1 else 'ies'} × "
                 f"{design.seeds} seed(s)")
    return (f"**Cost.** This page ran {result.count} trainings ({grid}; plus the dense "
            f"reference) in the `{profile}` profile; their recorded compute time "
            f"(pruning + GradInit + training, as stored with each result, cached or "
            f"not) is {result.compute_seconds() / 60:.1f} min, and executing this page took "
            f"{wall_seconds / 60:.1f} min of wall time "
            f"(runs already in the cache load instantly; the load average was "
            f"{load:.1f} on {cpus} CPUs when it finished; on a busy machine it takes "
            f"several times longer).")


def precondition(design: Design, result: ProtocolRuns) -> str:
    """One Markdown paragraph: the dense accuracy, the default protocol's accuracy per mask at
    the highest sparsity (means over seeds, %) and the gap, paired by seed (mean ± 95 % CI)."""
    runs = at_lowest(design, result.runs)
    default = runs[runs["protocol"] == "default"]
    per_mask = default.groupby("prune.method", sort=False)["test_accuracy"].mean()
    gap = claims.Estimate.from_samples(dense_gap(design, result)["gap"], unit="pp")
    return (f"**The precondition.** The dense network reaches "
            f"{100 * result.dense['test_accuracy'].mean():.1f} % test accuracy; with the "
            f"default protocol at {_pct([design.lowest])} sparsity the sparse networks reach "
            + ", ".join(f"{100 * a:.1f} % ({method_label(m)})" for m, a in per_mask.items())
            + f". The gap, dense minus the mean over masks, paired by seed, is "
            f"{gap.format()}: the room a training recipe has to help.")


TIDY_RUN_COLUMNS = ["protocol", "prune.method", "prune.density", "seed", "test_accuracy",
                    "test_loss", "train_accuracy", "train_loss", "density", "empty_layers",
                    "prune_seconds", "train_seconds"]
"""The columns of the runs offered for download (those the frame has)."""


def downloads(result: ProtocolRuns) -> dict[str, pd.DataFrame]:
    """The tidy frames the figures and verdicts are made from: "runs" (every pruned run, one
    row, :data:`TIDY_RUN_COLUMNS`), "dense" (the dense reference) and "gains" (paired gains
    in points, :func:`.experiment.gains`)."""
    def tidy(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[[c for c in TIDY_RUN_COLUMNS if c in frame.columns]].reset_index(
            drop=True)

    return {"runs": tidy(result.runs), "dense": tidy(result.dense.assign(protocol="dense")),
            "gains": result.gains}


def glue_values(design: Design, result: ProtocolRuns,
                estimates: dict[str, claims.Estimate]) -> dict[str, float]:
    """The numbers the exercises quote, by glue name (prefixed ``tost_``): the dense accuracy
    and the gap (%, pp), the gain of all at the highest sparsity (pp, mean over masks and
    seeds), T1's mean and 95 % half-width for the first mask, that half-width predicted for
    6 seeds with the same spread (t quantile and sqrt(n) rescaled), the seeds."""
    gain = result.gains
    top = at_lowest(design, gain)
    top = top[top["protocol"] == "all"]
    first = estimates[f"T1-{method_label(design.methods[0])}"]
    return {"tost_dense_acc": 100 * float(result.dense["test_accuracy"].mean()),
            "tost_gap": float(estimates["own-gap"].mean),
            "tost_all_gain_top": float(top["gain"].mean()) if len(top) else float("nan"),
            "tost_t1_mean": float(first.mean),
            "tost_t1_half": float(first.half_width),
            "tost_t1_half6": _half_width_at(first, 6),
            "tost_seeds": float(design.seeds)}


def _half_width_at(est: claims.Estimate, n: int) -> float:
    """``est``'s 95 % half-width rescaled to ``n`` replicates with the same spread (NaN
    without an interval)."""
    if est.n < 2:
        return float("nan")
    t = claims.t_quantile_975
    return float(est.half_width * (t(n - 1) / math.sqrt(n)) / (t(est.n - 1) / math.sqrt(est.n)))

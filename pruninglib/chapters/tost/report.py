"""The chapter's tables and its written findings, computed from the runs.

* :func:`gain_table`: mean gain per mask and protocol, one column per sparsity;
* :func:`baseline_table`: the default protocol's accuracy per mask and sparsity;
* :func:`findings`: the bullet points under the figures (the gain of 'all' at the highest
  sparsity, the protocols ranked by mean gain, 'all' against its best single trick paired by
  seed, runs at chance level);
* :func:`cost_note`: what the page trained and what it cost.
"""
from __future__ import annotations

import pandas as pd

from ...book import claims
from ...book.plots import method_label
from .experiment import Design, ProtocolRuns
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
    very_high = gain[gain["prune.density"].isin(design.very_high)]
    ranked = very_high.groupby("protocol")["gain"].mean().sort_values()
    if len(ranked):
        lines.append(f"- Averaged over masks and sparsities {_pct(design.very_high)}, the "
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
            f"seed), at sparsities {_pct(design.very_high)}: {est.format()}.")


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
    return (f"**Cost.** This page ran {result.count} trainings "
            f"({len(design.protocols)} protocols × {len(design.methods)} masks × "
            f"{len(design.densities)} sparsities × {design.seeds} seed(s), plus the dense "
            f"reference) in the `{profile}` profile; their recorded compute time "
            f"(pruning + GradInit + training, as stored with each result, cached or "
            f"not) is {result.compute_seconds() / 60:.1f} min, and executing this page took "
            f"{wall_seconds / 60:.1f} min of wall time "
            f"(runs already in the cache load instantly; the load average was "
            f"{load:.1f} on {cpus} CPUs when it finished). "
            f"The `cpu` profile is sized to take at most 15 minutes on two idle "
            f"cores; on a busy machine it takes several times longer.")

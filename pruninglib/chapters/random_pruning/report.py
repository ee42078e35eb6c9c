"""The chapter's sentences with numbers in them, written from this run's frames and estimates
(markdown strings the notebook displays): the sanity checks at the lowest density, where the
random masks fall behind the best found one, and the summary.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ...book import claims, plots
from .claims import RANDOM_TOLERANCE
from .parity import REINIT, SHUFFLED, highest_failing_density
from .verdicts import width_gap_change

label = plots.method_label


def lowest_density_lines(checks: pd.DataFrame, methods: Sequence[str]) -> str:
    """Per method, shuffled − found and re-initialised − found (pp, mean ± 95 % CI over
    seeds) at the lowest density of ``checks`` (:func:`.parity.sanity_checks`)."""
    lowest = checks["prune.density"].min()
    at = checks[checks["prune.density"] == lowest]

    def change(variant):
        values = at.loc[at["variant"] == variant, "difference"]
        return claims.Estimate.from_samples(values, unit="pp").format(1)

    return f"At the lowest density, {lowest:g}:\n\n" + "\n".join(
        f"- **{label(m)}**: shuffled {change(f'{m} {SHUFFLED}')}, "
        f"re-initialised {change(f'{m} {REINIT}')}." for m in methods)


def behind(fails: Mapping[str, float | None], variant: str,
           tolerance: float = RANDOM_TOLERANCE) -> str:
    """Where ``variant`` falls more than ``tolerance`` pp behind the best found mask, from
    :func:`.parity.highest_failing_density`."""
    density = fails.get(variant)
    if density is None:
        return f"within {tolerance:g} pp of the best found mask at every density"
    return (f"more than {tolerance:g} pp behind the best found mask at density {density:g} "
            f"(ρ = {1 / density:g}; the highest such density)")


def random_masks_lines(gap_summary: pd.DataFrame, check_summary: pd.DataFrame,
                       variants: Sequence[str], tolerance: float = RANDOM_TOLERANCE) -> str:
    """Where each random mask of ``variants`` falls behind the best PaI mask
    (``gap_summary``: :func:`.parity.summarise` of :func:`.parity.against_best`'s gaps), and
    the range of the mean shuffled − found changes (``check_summary``)."""
    fails = highest_failing_density(gap_summary, -tolerance)
    shuffled = check_summary[check_summary["variant"].str.endswith(SHUFFLED)]["mean"]
    return "Measured in this run:\n\n" + "\n".join(
        [f"- **{label(v)}** random: {behind(fails, v, tolerance)}." for v in variants]
        + [(f"- Shuffling a found mask changes its accuracy by {shuffled.min():+.1f} to "
            f"{shuffled.max():+.1f} pp (mean over seeds; range over methods and "
            f"densities).")])


def summary(params: Mapping, results: Mapping[str, claims.Estimate],
            gap_summary: pd.DataFrame, width_gaps: pd.DataFrame) -> str:
    """The chapter's summary bullets: B2/B3 (and B2-PaI), where random masks stop matching, width (L1 and
    the other masks' gap changes), and the NTK rows N1–N3, each number from ``results``
    (:func:`.verdicts.estimates`) or this run's frames."""
    def ours(claim_id, digits=2):
        return results[claim_id].format(digits)

    moderate, depth = params["moderate_density"], params["ntk_depth"]
    lo, hi = min(params["width_multipliers"]), max(params["width_multipliers"])
    fails = highest_failing_density(gap_summary, -RANDOM_TOLERANCE)
    where = " ".join(f"{label(v)}: {behind(fails, v)}." for v in params["ratios"])
    others = "; ".join(
        f"{label(v)}: {width_gap_change(width_gaps, v, params['width_multipliers']).format(1)}"
        for v in params["width_methods"] if v != "erk")
    widest = max(params["ntk_widths"])
    widths = (f"{ours('L1', 1)} from width ×{lo:g} to ×{hi:g} (L1)"
              + (f"; {others}." if others else "."))
    return "\n".join([
        (f"- **Random against magnitude pruning after training.** At density "
         f"{moderate:g}, against the trained network pruned by magnitude and fine-tuned, a "
         f"uniform random mask trained from scratch is {ours('B2', 1)} (B2), a random mask "
         f"with the pruned network's layer counts {ours('B3a', 1)} and its mask on re-drawn "
         f"weights {ours('B3b', 1)} (B3). Against the best PaI mask the uniform random "
         f"mask is {ours('B2-PaI', 1)} (B2-PaI)."),
        f"- **Where random stops matching.** {where}",
        (f"- **Width.** The dense − ERK gap at density {params['width_density']:g} changes "
         f"by {widths}"),
        (f"- **NTK scale (a check).** The unrescaled pruned NTK is the dense limit times q^k "
         f"with k = {ours('N1')}; {depth + 1} weight matrices are masked (N1). Counting only "
         f"the {depth} hidden layers, as 'q^L' is often read, misses the readout."),
        (f"- **Rescaling.** The rescaled NTK's error falls like width^b with b = "
         f"{ours('N2a')} (N2a, a check); its scale at width {widest} is {ours('N2b')} "
         f"(N2b)."),
        (f"- **Width needed against q.** The error behaves like width^b·q^c with c/b = "
         f"{ours('N3')}: the width needed grows like q^−(c/b). The paper's bound, a width "
         f"linear in 1/q, allows c/b ≤ 1 (N3)."),
    ])


GLUE_PREFIX = "random_pruning_"
"""Glue names are unique across the book: every one of this chapter starts with this."""


def predicted_half_width(estimate: claims.Estimate, seeds: int) -> float:
    """The 95 % CI half-width ``estimate`` would have with ``seeds`` seeds if the spread over
    seeds stayed the same: half-width × (t_{seeds-1} / √seeds) / (t_{n-1} / √n)."""
    n = estimate.n
    if n < 2 or seeds < 2:
        return float("inf")
    now = claims.t_quantile_975(n - 1) / n ** 0.5
    return estimate.half_width * claims.t_quantile_975(seeds - 1) / seeds ** 0.5 / now


def glue_values(params: Mapping, results: Mapping[str, claims.Estimate]) -> dict[str, float]:
    """The numbers the exercises' solutions quote, by glue name (:data:`GLUE_PREFIX` + what):
    the NTK grid (seeds, depth, masked matrices, widest width), N1's exponent with its
    half-width now and predicted at 10 seeds, and B2, B3a, B3b (pp) at the moderate
    density."""
    n1 = results["N1"]
    values = {"ntk_seeds": params["ntk_seeds"], "depth": params["ntk_depth"],
              "masked": params["ntk_depth"] + 1, "widest": max(params["ntk_widths"]),
              "n1_k": n1.mean, "n1_half": n1.half_width,
              "n1_half_10": predicted_half_width(n1, 10),
              "moderate": params["moderate_density"],
              **{claim.lower(): results[claim].mean for claim in ("B2", "B3a", "B3b")}}
    return {GLUE_PREFIX + name: value for name, value in values.items()}

"""Sentences of the chapter whose numbers are computed in the run (Markdown strings).

Every number in them comes from the frames passed in; none is typed in. Accuracies are
printed in %, densities as kept fractions, sparsity as 100 (1 - density) %.
"""
from __future__ import annotations

import math

import pandas as pd

from ...analysis import eoc
from ...book.plots import method_label
from . import tables
from .inits import PHASES
from .signal_propagation import largest_deviation
from .tables import sparsity

PHASE_NAMES = {"ordered": "ordered", "eoc": "Edge of Chaos", "chaotic": "chaotic"}
MNIST_INPUTS = 784  # the first layer's fan-in on (Fashion-)MNIST


def eoc_reference_note(reference: pd.DataFrame, train_depth: int, eoc_point: str) -> str:
    """Our EOC against the authors' code's hard-coded points (``reference``: the frame of
    :func:`pruninglib.analysis.eoc.reference_comparison`), and what their code does."""
    ref = reference.set_index("activation")
    tanh, elu = ref.loc["tanh"], ref.loc["elu"]
    code_init_chi = eoc.chi("tanh", 1e-8, math.sqrt(2.0))
    return (
        f"At the code's tanh point (σ_b, σ_w) = (0.2, {tanh.sigma_w_reference:g}) the slope "
        f"is χ = {tanh.chi_reference:.4f}: slightly ordered; χ = 1 needs "
        f"σ_w = {tanh.sigma_w_eoc:.6f} (ELU: {elu.sigma_w_eoc:.6f} instead of "
        f"{elu.sigma_w_reference:g}, where the code's point has χ = "
        f"{elu.chi_reference:.4f}). Over {train_depth} layers the difference compounds to a "
        f"factor χ^{train_depth} = {tanh.chi_reference ** train_depth:.2f} on a "
        f"gradient's squared norm, small next to the phases compared below. "
        f"**Our experiments use {'our' if eoc_point == 'ours' else 'the reference'} EOC "
        f"points** (parameter `eoc_point`). Two more things the code does, as we read it: its "
        f"`weights_init_EOC` calls `EOC_weights` without the `act` argument, whose default is "
        f"`'relu'`, so its 'EOC' runs use σ_w² = 2, σ_b² = 1e-16 whatever the activation (for "
        f"tanh that is the chaotic χ = {code_init_chi:.3f}); and its rescaling normalises by "
        f"σ_w⁴ (`sigma_w2 ** 2`) with σ_w² = 2 hard-coded. Our rescaling follows the paper's "
        f"intent instead: every unit's surviving incoming weights are multiplied by "
        f"ρ_i = ‖W_i‖ / ‖δ_i ⊙ W_i‖ (δ the mask), so their squared norm is back at its dense "
        f"value.")


def magnitude_input_note(train_layers: pd.DataFrame, density: float, width: int) -> str:
    """How much of the 784-input first layer magnitude pruning keeps at ``density``
    ("" when magnitude pruning was not run)."""
    first = tables.select(tables.plain_profiles(train_layers, density),
                          {"prune.method": "magnitude", "layer_index": 0})
    if first.empty:
        return ""
    return (f"Magnitude pruning keeps {100 * first['density'].mean():.2g} % of the input "
            f"layer at density {density:g}: with W ~ N(0, σ_w²/fan-in) the {MNIST_INPUTS} "
            f"inputs of that layer make its weights "
            f"{math.sqrt(MNIST_INPUTS / width):.1f} times smaller than those of the hidden "
            f"layers, so a global magnitude threshold empties it first, whatever the phase.")


def inputless_note(chis: pd.DataFrame, density: float) -> str:
    """Why rescaling may fall short: the units left with no incoming weight at ``density``."""
    empty = tables.inputless_units(chis, density)
    return (
        f"Why rescaling may fall short: at {sparsity(density)} the fraction of units left "
        f"without any incoming weight (mean over layers and seeds) is "
        + "; ".join(f"{100 * v:.0f} % for {method_label(m)} ({a})"
                    for (a, m), v in empty.items())
        + ". Rescaling cannot restore such a unit. It also multiplies the few weights left to "
        "the other units by large factors, and the measured χ is the growth rate of a "
        "perturbation through those uneven sparse matrices, which the per-unit norms alone "
        "do not fix.")


def _snip(density: float, rescale: str = "none") -> dict:
    return {"prune.method": "snip", "prune.density": float(density), "prune.rescale": rescale}


def summary(params, *, reference: pd.DataFrame, theory: pd.DataFrame,
            measured: pd.DataFrame, train_runs: pd.DataFrame, train_layers: pd.DataFrame,
            chis: pd.DataFrame, res_runs: pd.DataFrame) -> str:
    """The chapter's summary: one bullet per section, every number from the frames."""
    first = params.activations[0]
    low_train = min(params.train_densities)
    densities = sorted(params.train_densities, reverse=True)
    low_res, deepest = min(params.residual_densities), max(params.residual_depths)
    depth = params.train_depth
    tanh = reference.set_index("activation").loc["tanh"]
    plain = train_runs[train_runs["prune.rescale"] == "none"]

    def collapsed(activation: str, phase: str) -> float:
        rows = tables.select(plain, {"activation": activation, "phase": phase,
                                     **_snip(low_train)})
        return rows["collapsed_layers"].mean()

    def dense_accuracy(phase: str) -> float:
        return tables.mean_accuracy(plain, {"activation": first, "phase": phase,
                                            "prune.method": "dense"})

    def eoc_accuracy(density: float, rescale: str) -> float:
        return tables.mean_accuracy(train_runs, {"activation": first, "phase": "eoc",
                                                 **_snip(density, rescale)})

    def res(net: str, method: str, depth_: int, density: float | None) -> float:
        where = {"depth": depth_, "net": net, "prune.method": method}
        if density is not None:
            where["prune.density"] = float(density)
        return tables.mean_accuracy(res_runs, where)

    chi = {r: tables.select(chis, {"activation": first, "prune.method": "snip",
                                   "prune.density": float(low_train),
                                   "prune.rescale": r})["chi"].mean()
           for r in ("none", "fan_in")}
    gaps = {d: res("Stable", "snip", d, low_res) - res("standard", "snip", d, low_res)
            for d in params.residual_depths}
    dense_gaps = {d: res("Stable", "dense", d, None) - res("standard", "dense", d, None)
                  for d in params.residual_depths}
    magnitude_first = tables.select(tables.plain_profiles(train_layers, low_train),
                                    {"prune.method": "magnitude", "layer_index": 0})
    prop = params.propagation
    lines = [
        f"- **Theory.** The EOC of tanh at σ_b = 0.2 is σ_w = {tanh.sigma_w_eoc:.6f}; the "
        f"authors' 1.2981 has χ = {tanh.chi_reference:.4f}. On random networks of width "
        f"{prop['width']} the mean measured correlation stays within "
        f"{largest_deviation(theory, measured):.3f} of the mean-field recursion over "
        f"{prop['depth']} layers.",
        f"- **Where SNIP puts the weights.** At {sparsity(low_train)}, in {depth}-layer "
        f"{first} MLPs, SNIP leaves "
        + ", ".join(f"{collapsed(first, ph):.0f} of {depth + 1} layers collapsed in the "
                    f"{PHASE_NAMES[ph]} init" for ph in PHASES) + ".",
        f"- **Training.** Dense {first} networks of {depth} layers reach "
        + ", ".join(f"{dense_accuracy(ph):.1f} % ({PHASE_NAMES[ph]})" for ph in PHASES)
        + " test accuracy after the budget; SNIP-pruned on the EOC they reach "
        + ", ".join(f"{eoc_accuracy(d, 'none'):.1f} % at {sparsity(d)}" for d in densities)
        + ".",
        f"- **Rescaling.** Measured χ of the SNIP-pruned EOC {first} network at "
        f"{sparsity(low_train)}: {chi['none']:.3f} before and {chi['fan_in']:.3f} after "
        f"rescaling. With rescaling the SNIP-pruned EOC networks reach "
        + ", ".join(f"{eoc_accuracy(d, 'fan_in'):.1f} % at {sparsity(d)}" for d in densities)
        + ".",
        f"- **Stable ResNet.** Stable − standard accuracy with SNIP at {sparsity(low_res)}: "
        + ", ".join(f"{gap:+.1f} pp at depth {d}" for d, gap in gaps.items())
        + "; unpruned: " + ", ".join(f"{gap:+.1f} pp" for gap in dense_gaps.values()) + ". "
        f"At depth {deepest} and {sparsity(low_res)}: SBP-SR "
        f"{res('Stable', 'snip', deepest, low_res):.1f} %"
        + "".join(f", {method_label(m)} on the standard net "
                  f"{res('standard', m, deepest, low_res):.1f} %"
                  for m in params.residual_methods) + ".",
        f"- **Caveats.** Whatever the phase, magnitude pruning at {sparsity(low_train)} keeps "
        f"{100 * magnitude_first['density'].mean():.2g} % of the weights of the "
        f"{MNIST_INPUTS}-input first layer, whose weights are the smallest under fan-in "
        f"scaling."
        + (" For ReLU, SNIP collapses "
           + ", ".join(f"{collapsed('relu', ph):.0f}" for ph in PHASES)
           + " layers in the ordered, EOC and chaotic inits at that sparsity: once its signal "
           "has grown, the small bias of the chaotic ReLU network no longer matters and its "
           "scores are balanced like those of the EOC network."
           if "relu" in params.activations else ""),
    ]
    return "\n".join(lines)

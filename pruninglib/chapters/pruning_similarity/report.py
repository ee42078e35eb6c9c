"""What the chapter prints: tables, the summary text, the numbers its exercises quote, and
the tidy frames it offers for download. Inputs are the frames of :mod:`.study` (``runs``,
``sim``, ``summary``, ``arms``) and :func:`.verdicts.b1b_frame`."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ...book.plots import model_label
from .figures import MEASURE_LABELS, VARIANT_LABELS
from .study import PAIR, Study, main_arm
from .verdicts import verdict_estimates


def comparison_note(sim: pd.DataFrame) -> str:
    """How many pairs were compared and how many layer comparisons are undefined."""
    return (f"{len(sim[PAIR].drop_duplicates())} networks compared with their reference; "
            f"{int(sim['similarity'].isna().sum())} layer comparisons undefined (a layer cut "
            f"off by pruning)")


def accuracy_table(runs: pd.DataFrame, grid: Mapping[str, Study]) -> pd.DataFrame:
    """Test accuracy in %, mean over references, one decimal: rows (model, variant), columns
    the densities from dense to sparsest; pruned networks with the main fine-tuning recipe;
    the dense row averages the references."""
    labels = {**VARIANT_LABELS, "dense": "dense (the references)"}
    return (main_arm(runs, grid)
            .pivot_table(index=["model.name", "variant"], columns="density",
                         values="test_accuracy")
            .mul(100).round(1).sort_index(axis=1, ascending=False).rename(index=labels))


def measures_table(summary: pd.DataFrame, grid: Mapping[str, Study],
                   measures: Sequence[str]) -> pd.DataFrame:
    """Middle-layer mean similarity at each model's density of the claims (and of the dense
    control), mean over references, three decimals: rows (model, variant), columns the
    measures; pruned networks with the main fine-tuning recipe."""
    rows = main_arm(summary, grid)
    at = rows["model.name"].map({m: s.claim_density for m, s in grid.items()})
    rows = rows[(rows["variant"] == "dense") | (rows["density"] == at)]
    return (rows.pivot_table(index=["model.name", "variant"], columns="measure",
                             values="middle")
            .reindex(columns=list(measures)).round(3)
            .rename(index=VARIANT_LABELS).rename(columns=MEASURE_LABELS))


def summary_text(summary: pd.DataFrame, grid: Mapping[str, Study]) -> str:
    """One Markdown bullet per model: the control's similarity, the pruned network's drift
    along its path, the accuracies of the sparse networks at the density of the claims, and
    A7's ends-minus-middle with and without the control (SVCCA, main fine-tuning recipe,
    means over references)."""
    svcca = main_arm(summary[summary["measure"] == "svcca"], grid)
    lines = []
    for model, study in grid.items():
        part = svcca[svcca["model.name"] == model]
        at = study.claim_density

        def mean(column, variant, density=None, part=part):
            rows = part[part["variant"] == variant]
            rows = rows if density is None else rows[rows["density"] == density]
            return float(rows[column].mean())

        path = sorted({max(study.densities), at, min(study.densities)}, reverse=True)
        drift = ", ".join(f"{mean('middle', 'magnitude', d):.2f} at density {d:g}"
                          for d in path)
        accuracy = {v: 100 * mean("test_accuracy", v, at)
                    for v in ("magnitude", "reinit", "random", "uniform")}
        references = 100 * mean("test_accuracy", "dense")
        lines.append(
            f"- **{model_label(model)}** ({study.references} references): two dense networks "
            f"of different seeds share a middle-layer SVCCA of {mean('middle', 'dense'):.2f} "
            f"(first layer {mean('first', 'dense'):.2f}, logits {mean('last', 'dense'):.2f}). "
            f"Pruned and fine-tuned, a reference keeps {drift} "
            f"({mean('middle_gap', 'magnitude', min(study.densities)):+.2f} against the "
            f"control at the sparsest point). At density {at:g} the pruned network reaches "
            f"{accuracy['magnitude']:.1f} % (the dense networks {references:.1f} %); trained "
            f"from scratch for {study.scratch_budget(at).epochs} epochs, the re-initialised "
            f"one {accuracy['reinit']:.1f} %, the random sparse one with the same layer sizes "
            f"{accuracy['random']:.1f} % and the uniform random one "
            f"{accuracy['uniform']:.1f} %. First and last layers minus the middle: "
            f"{mean('ends_minus_middle', 'magnitude', at):+.2f} for the pruned network, "
            f"{mean('ends_minus_middle', 'dense'):+.2f} for the control (A7 judges the "
            f"difference).")
    return "\n".join(lines)


def budget_text(b1b: pd.DataFrame) -> str:
    """Which way B1b moves, one Markdown bullet per model and measure: the gap to the control
    at every budget (and with learning-rate rewinding) with its verdict, then the direction
    from the fewest to the most epochs per step, or that their intervals overlap.

    b1b: :func:`.verdicts.b1b_frame`'s columns.
    """
    lines = []
    for (model, measure), rows in b1b.groupby(["model", "measure"], sort=False):
        plain = rows[~rows["rewound"]].sort_values("epochs")
        steps = "; ".join(f"{r.arm}: {r.mean:+.3f} ({r.verdict})"
                          for r in (*plain.itertuples(), *rows[rows["rewound"]].itertuples()))
        line = f"- **{model}, {measure}**: {steps}."
        if len(plain) > 1:
            first, last = plain.iloc[0], plain.iloc[-1]
            change = (f"from {first['mean']:+.3f} at {first['epochs']} ep to "
                      f"{last['mean']:+.3f} at {last['epochs']} ep per step")
            if last["high"] < first["low"] or last["low"] > first["high"]:
                way = "further from" if last["mean"] < first["mean"] else "closer to"
                line += (f" More fine-tuning moves the pruned network {way} its reference, "
                         f"relative to the control ({change}).")
            else:
                line += f" No clear direction with the budget: {change}, intervals overlap."
        lines.append(line)
    return "\n".join(lines)


EXERCISE_NAMES = tuple(f"pruning_similarity_{name}" for name in (
    "least_epochs", "most_epochs", "svcca_gap_least", "svcca_gap_most", "cka_gap_least",
    "cka_gap_most", "control_ends", "pruned_ends", "a7", "b1a_half", "references"))
"""The glue names of the numbers the exercises quote (:func:`exercise_numbers`)."""


def exercise_numbers(b1b: pd.DataFrame, summary: pd.DataFrame, runs: pd.DataFrame,
                     grid: Mapping[str, Study]) -> dict[str, float]:
    """Glue name (:data:`EXERCISE_NAMES`) -> the number an exercise quotes, for the first
    model of ``grid``: B1b's gap with SVCCA and linear CKA at the fewest and most fine-tuning
    epochs per step (``b1b``: :func:`.verdicts.b1b_frame`), SVCCA's ends-minus-middle of
    the control and of the pruned network (main recipe, density of the claims, means over
    references), A7's estimate, B1a's interval half-width (pp, both from
    :func:`.verdicts.verdict_estimates`), the number of references."""
    results = verdict_estimates(summary, runs, grid)
    model, study = next(iter(grid.items()))
    name = model_label(model)
    plain = b1b[(b1b["model"] == name) & ~b1b["rewound"]]
    least, most = int(plain["epochs"].min()), int(plain["epochs"].max())

    def gap(measure, epochs):
        rows = plain[(plain["measure"] == measure) & (plain["epochs"] == epochs)]
        return float(rows["mean"].mean())  # NaN when the measure was left out

    svcca = main_arm(summary[(summary["measure"] == "svcca")
                             & (summary["model.name"] == model)], grid)
    pruned = svcca[(svcca["variant"] == "magnitude")
                   & (svcca["density"] == study.claim_density)]
    values = (least, most, gap("SVCCA", least), gap("SVCCA", most), gap("linear CKA", least),
              gap("linear CKA", most),
              float(svcca.loc[svcca["variant"] == "dense", "ends_minus_middle"].mean()),
              float(pruned["ends_minus_middle"].mean()), float(results[f"A7 · {name}"].mean),
              float(results[f"B1a · {name}"].half_width), study.references)
    return dict(zip(EXERCISE_NAMES, values))


def dense_accuracy(runs: pd.DataFrame) -> dict[str, float]:
    """Model name -> mean test accuracy (in [0, 1]) of its dense references."""
    return runs[runs["variant"] == "dense"].groupby("model.name")["test_accuracy"].mean().to_dict()


def download_tables(runs: pd.DataFrame, sim: pd.DataFrame, summary: pd.DataFrame,
                    arms: pd.DataFrame, b1b: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tidy frames behind the figures and verdicts, by download name: every network
    (``networks``), every layer comparison (``layers``), the position means per compared pair
    and measure (``positions``), B1b's budgets per reference (``budgets``) and B1b's
    estimates (``b1b``)."""
    return {"networks": runs, "layers": sim, "positions": summary, "budgets": arms,
            "b1b": b1b}

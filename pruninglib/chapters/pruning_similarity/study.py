"""The chapter's experiment: which networks it trains, how they are compared, the numbers the
verdicts and the summary read.

For every model a :class:`Study`: dense networks of seeds 0, 1, ... (seed 0 is the
*reference*, the others the *control*), the reference pruned along a path of densities with
fine-tuning (one path per seed: the seed sets the batch order), and the re-initialised and
random sparse networks trained from scratch at some densities of the path. Frames:

* ``runs`` (:func:`train_networks`): one row per network, :func:`finetune.to_frame`'s columns;
* ``sim`` (:func:`layer_similarities`): one row per network, layer and measure
  (:func:`pruninglib.analysis.drift.drift_frame`'s columns, similarity unitless in [0, 1]);
* ``summary`` (:func:`summarise`): one row per network and measure with the mean similarity
  of the first, middle and last layers, their gaps to the dense control (``<position>_gap``)
  and the network's test accuracy (in [0, 1]).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ...analysis.drift import minus_control, position_means
from ...book.claims import Estimate, NoRows, estimate, samples
from ...book.plots import model_label
from ...config import DataSpec, ModelSpec, RunSpec, TrainSpec
from . import finetune
from .drift import drift_of
from .figures import VARIANT_LABELS
from .finetune import VARIANTS, ScratchSpec, finetune_path

KEYS = ["model.name", "variant", "density", "seed"]
"""The columns that identify one network."""


@dataclass(frozen=True)
class Study:
    """The networks of one model.

    data: the data of every run. width: the model's width multiplier.
    training: the recipe of the dense networks and of the from-scratch variants.
    tuning: the fine-tuning recipe after every pruning step.
    densities: the pruning path (strictly decreasing kept fractions).
    scratch_densities: the densities of the path trained from scratch (both variants).
    dense_seeds: dense networks 0 .. dense_seeds-1 (0 = reference). seeds: of every sparse
        variant (0 .. seeds-1).
    """

    model: str
    data: DataSpec
    width: float
    training: TrainSpec
    tuning: TrainSpec
    densities: tuple[float, ...]
    scratch_densities: tuple[float, ...]
    dense_seeds: int
    seeds: int

    @property
    def dense(self) -> list[RunSpec]:
        base = RunSpec(data=self.data, model=ModelSpec(self.model, width=self.width),
                       train=self.training)
        return [base.replace(seed=s) for s in range(self.dense_seeds)]

    @property
    def reference(self) -> RunSpec:
        return self.dense[0]

    @property
    def pruned(self) -> list[finetune.FinetuneSpec]:
        """Every step of the pruning path of every seed, seed by seed."""
        return [spec for seed in range(self.seeds)
                for spec in finetune_path(self.reference, self.densities, train=self.tuning,
                                          seed=seed)]

    @property
    def scratch(self) -> list[ScratchSpec]:
        """Re-initialised and random sparse networks of seed s, from the pruned network of
        seed s at every density of ``scratch_densities``."""
        return [ScratchSpec(spec, variant, self.training, seed=spec.seed)
                for spec in self.pruned if spec.density in self.scratch_densities
                for variant in VARIANTS]

    @property
    def specs(self) -> list:
        """Dense, pruned, from scratch: the reference first."""
        return self.dense + self.pruned + self.scratch

    @property
    def setting(self) -> str:
        """Our scale in one line: model · data · images · epochs."""
        images = self.data.train_subset or "all"
        return (f"{model_label(self.model)} · {self.data.name} {images} training images · "
                f"{self.training.epochs} ep + {self.tuning.epochs} ep per pruning step")


def _per_model(parameters: Mapping, name: str, model: str):
    value = parameters[name]
    if model not in value:
        raise ValueError(f"{name}={value!r} is not allowed: it needs an entry for every model, "
                         f"{model!r} has none")
    return value[model]


def studies(parameters: Mapping) -> dict[str, Study]:
    """Model name -> :class:`Study` from the chapter's parameters (a mapping with the keys of
    the chapter's section of ``notebooks/profiles.yml``)."""
    p = parameters
    training = TrainSpec(epochs=p["epochs"], lr=p["lr"], batch_size=p["batch_size"],
                         weight_decay=p["weight_decay"])
    tuning = TrainSpec(epochs=p["finetune_epochs"], lr=p["finetune_lr"],
                       batch_size=p["batch_size"], weight_decay=p["weight_decay"])
    return {model: Study(
        model=model,
        data=DataSpec(p["dataset"], train_subset=p["train_subsets"].get(model),
                      test_subset=p["test_subset"], augment=p["augment"]),
        width=p["widths"].get(model, 1.0), training=training, tuning=tuning,
        densities=tuple(_per_model(p, "densities", model)),
        scratch_densities=tuple(_per_model(p, "scratch_densities", model)),
        dense_seeds=p["dense_seeds"], seeds=p["seeds"]) for model in p["models"]}


def train_networks(plan: Mapping[str, Study], *, executor=None, progress: bool = True,
                   **options) -> pd.DataFrame:
    """Train (or load) every network of every study on ``executor``; :func:`finetune.to_frame`
    of the results (``options``: results_dir, device, data_root)."""
    specs = [spec for study in plan.values() for spec in study.specs]
    return finetune.to_frame(finetune.run_all(specs, executor=executor, progress=progress,
                                              **options))


def layer_similarities(plan: Mapping[str, Study], *, measures: Sequence[str], conv: str,
                       executor=None, progress: bool = False, **options) -> pd.DataFrame:
    """Every network of every study against its reference, layer by layer (one cached task
    per network, see :func:`drift_of`)."""
    frames = [drift_of(study.reference, study.specs[1:], study.data, measures=measures,
                       conv=conv, executor=executor, progress=progress, **options)
              for study in plan.values()]
    return pd.concat(frames, ignore_index=True)


def summarise(sim: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Position means of ``sim`` per network and measure, their gaps to the mean of the
    dense control of the same model and measure, and each network's test_accuracy."""
    summary = position_means(sim, KEYS)
    control = summary[summary["variant"] == "dense"]
    return minus_control(summary, control).merge(runs[KEYS + ["test_accuracy"]], on=KEYS)


def comparison_note(sim: pd.DataFrame) -> str:
    """How many networks were compared and how many layer comparisons are undefined."""
    return (f"{len(sim[KEYS].drop_duplicates())} networks compared with their reference; "
            f"{int(sim['similarity'].isna().sum())} layer comparisons undefined (a layer cut "
            f"off by pruning)")


def accuracy_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy in %, mean over seeds, one decimal: rows (model, variant), columns the
    densities from dense to sparsest; the dense row averages reference and controls."""
    labels = {**VARIANT_LABELS, "dense": "dense (reference and control)"}
    return (runs.pivot_table(index=["model.name", "variant"], columns="density",
                             values="test_accuracy")
            .mul(100).round(1).sort_index(axis=1, ascending=False).rename(index=labels))


def measures_table(summary: pd.DataFrame, density: float,
                   measures: Sequence[str]) -> pd.DataFrame:
    """Middle-layer mean similarity at ``density`` (and of the dense control), mean over
    seeds, three decimals: rows (model, variant), columns the measures."""
    rows = summary[(summary["variant"] == "dense") | (summary["density"] == density)]
    return (rows.pivot_table(index=["model.name", "variant"], columns="measure",
                             values="middle")
            .reindex(columns=list(measures)).round(3).rename(index=VARIANT_LABELS))


def reference_accuracy(runs: pd.DataFrame) -> dict[str, float]:
    """Model name -> test accuracy (in [0, 1]) of its reference (dense, seed 0)."""
    reference = runs[(runs["variant"] == "dense") & (runs["seed"] == 0)]
    return reference.set_index("model.name")["test_accuracy"].to_dict()


def _verdict_frame(summary: pd.DataFrame, references: Mapping[str, float]) -> pd.DataFrame:
    """The SVCCA rows of ``summary`` with ``drop`` (reference minus network test accuracy)
    and ``ends_minus_middle`` (mean of first and last layers minus the middle mean)."""
    return summary[summary["measure"] == "svcca"].assign(
        drop=lambda f: f["model.name"].map(references) - f["test_accuracy"],
        ends_minus_middle=lambda f: (f["first"] + f["last"]) / 2 - f["middle"])


def around_one_reference(values, *, unit: str = "") -> Estimate:
    """The estimate of a value measured on networks derived from ONE reference network.

    values: one per seed of the sparse variant (fine-tuning batch order, or fresh weights
    paired with the fine-tuned network of that seed). They are not independent replicates of
    the claim (every one descends from the same trained network), so the estimate has one
    replicate (n = 1, no interval: at most "partly"); the mean over seeds is the value, and
    their spread is reported in ``setting``.
    """
    spread = Estimate.from_samples(values, unit=unit)
    if spread.n == 0:
        return spread
    seeds = "1 seed" if spread.n == 1 else f"{spread.n} seeds"
    note = f"1 reference network: mean over {seeds} of the sparse network"
    if spread.n > 1:
        note += (f" (their 95 % CI ±{spread.half_width:.2g}{' ' + unit if unit else ''} "
                 f"covers batch order and fresh weights only, not the reference)")
    return Estimate(spread.mean, -math.inf, math.inf, 1, unit, note)


def verdict_estimates(summary: pd.DataFrame, plan: Mapping[str, Study], density: float,
                      references: Mapping[str, float]) -> dict[str, Estimate]:
    """Claim id -> our estimate, for every claim of :mod:`.claims` and every model.

    Accuracies in percentage points, similarities unitless; at ``density`` unless the claim
    says otherwise. Every claim is measured on networks derived from one reference
    (:func:`around_one_reference`); the check B1c keeps its interval over seeds.
    """
    table = _verdict_frame(summary, references)
    out = {}
    for model, study in plan.items():
        name = model_label(model)
        pruned = {"model.name": model, "variant": "magnitude", "density": density}

        def values(column, where=pruned, minus=None, scale=1.0):
            return _samples(table, column, where, minus, scale)

        out[f"B1a · {name}"] = around_one_reference(values("drop", scale=100), unit="pp")
        out[f"B1b · {name}"] = around_one_reference(values("middle_gap"))
        out[f"B1c · {name}"] = estimate(
            table, "middle", where={**pruned, "density": max(study.densities)},
            minus={**pruned, "density": min(study.densities)},
            setting="one pruning path per seed, all from the same reference")
        for cid, variant in (("B2", "random"), ("B3", "reinit")):
            out[f"{cid} · {name}"] = around_one_reference(
                values("test_accuracy", minus={**pruned, "variant": variant}, scale=100),
                unit="pp")
        out[f"A7 · {name}"] = around_one_reference(values("ends_minus_middle"))
    return out


def _samples(table, column, where, minus, scale):
    """Per-seed values, or none where a variant or density was left out."""
    try:
        return samples(table, column, where=where, minus=minus, scale=scale)
    except NoRows:
        return []


def summary_text(summary: pd.DataFrame, plan: Mapping[str, Study], density: float,
                 references: Mapping[str, float]) -> str:
    """One Markdown bullet per model: the control's similarity, the pruned network's drift
    along its path, and the accuracies and similarities of the three variants at
    ``density`` (SVCCA, means over seeds)."""
    svcca = summary[summary["measure"] == "svcca"]

    def mean_of(model, variant, column, at=None):
        rows = svcca[(svcca["model.name"] == model) & (svcca["variant"] == variant)]
        if at is not None:
            rows = rows[rows["density"] == at]
        return rows[column].mean()

    lines = []
    for model, study in plan.items():
        path = study.densities
        shown = sorted({max(path), density, min(path)}, reverse=True)
        drift = ", ".join(f"{mean_of(model, 'magnitude', 'middle', d):.2f} at density {d:g}"
                          for d in shown)
        acc = {v: 100 * mean_of(model, v, "test_accuracy", density)
               for v in ("magnitude", "reinit", "random")}
        gap = mean_of(model, "magnitude", "middle_gap", min(path))
        lines.append(
            f"- **{model_label(model)}**: two dense networks of different seeds share a "
            f"middle-layer SVCCA of {mean_of(model, 'dense', 'middle'):.2f} "
            f"(first layer {mean_of(model, 'dense', 'first'):.2f}, logits "
            f"{mean_of(model, 'dense', 'last'):.2f}). Pruned and fine-tuned, "
            f"the reference keeps {drift} ({gap:+.2f} against the control at "
            f"the sparsest point); at {density:g} its accuracy is "
            f"{acc['magnitude']:.1f} % against the reference's "
            f"{100 * references[model]:.1f} %. Trained from scratch "
            f"at {density:g}, the re-initialised network reaches "
            f"{acc['reinit']:.1f} % and the random sparse one "
            f"{acc['random']:.1f} %, with middle-layer SVCCA "
            f"{mean_of(model, 'reinit', 'middle', density):.2f} and "
            f"{mean_of(model, 'random', 'middle', density):.2f}.")
    return "\n".join(lines)

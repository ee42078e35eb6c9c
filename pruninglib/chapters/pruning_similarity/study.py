"""The chapter's experiment: which networks it trains and which pairs of them it compares.

For every model a :class:`Study` of ``references`` independent replicates. Replicate r is:

* the dense *reference* r (seed r), trained with the dense recipe;
* the reference pruned along the whole path of densities, with fine-tuning after every step
  (the *main* fine-tuning recipe, batch order of seed r): the pruned network of every claim;
* the same pruning path down to the density of the claims with every fine-tuning recipe of
  :attr:`Study.arms` (epochs per step, and learning-rate rewinding): B1b's budgets;
* the re-initialised, random sparse and uniform random networks of seed r at some densities
  of the main path, trained from scratch for as many epochs as the pruned network had in all
  (dense training plus every fine-tuning step down to that density): equal budgets.

Every network of replicate r is compared, layer by layer, with reference r; the dense
networks of the other seeds are reference r's *control* (every cross-seed dense pair).
:func:`comparisons` lists these pairs, :func:`plan` every cached task (training runs,
derived runs, layer similarities). Frames:

* ``runs`` (:func:`train_networks`): one row per network, :func:`finetune.to_frame`'s columns;
* ``sim`` (:func:`layer_similarities`): one row per compared pair, layer and measure
  (:func:`pruninglib.analysis.drift.drift_frame`'s columns, similarity unitless in [0, 1]),
  with ``reference`` (the reference's seed);
* ``summary`` (:func:`summarise`): one row per compared pair and measure.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ...analysis.drift import minus_control, position_means
from ...book.plots import model_label
from ...config import DataSpec, ModelSpec, RunSpec, TrainSpec
from ...runs.cache import Task
from . import finetune
from .drift import drift_of, drift_task
from .finetune import VARIANTS, FinetuneSpec, ScratchSpec, finetune_path, task_of

NETWORK = ["model.name", "variant", "density", "seed", "finetune_epochs", "finetune_lr"]
"""The columns that identify one network (the fine-tuning recipe is 0 / 0.0 unless pruned)."""
PAIR = ["model.name", "reference", *NETWORK[1:]]
"""The columns that identify one compared pair (``reference``: the reference's seed)."""


@dataclass(frozen=True)
class Arm:
    """One fine-tuning recipe of B1b: ``label`` ('5 ep', '5 ep, LR rewound'), the recipe of
    every pruning step (``train``), and whether it replays the dense learning rate
    (``rewound``)."""

    label: str
    train: TrainSpec
    rewound: bool = False


@dataclass(frozen=True)
class Study:
    """The networks of one model.

    data: the data of every run. width: the model's width multiplier.
    training: the recipe of the dense networks (and, longer, of the from-scratch variants).
    tuning: the main fine-tuning recipe after every pruning step.
    densities: the main pruning path (strictly decreasing kept fractions).
    scratch_densities: the densities of the main path trained from scratch (every variant).
    claim_density: the density the claims are judged at (on the path).
    references: independent replicates (dense references 0 .. references-1).
    budget_epochs: B1b's fine-tuning epochs per step (at ``tuning``'s learning rate).
    rewind_epochs: epochs per step of B1b's learning-rate-rewinding arm (the dense recipe's
        learning rate, annealed within every step); 0 for none.
    """

    model: str
    data: DataSpec
    width: float
    training: TrainSpec
    tuning: TrainSpec
    densities: tuple[float, ...]
    scratch_densities: tuple[float, ...]
    claim_density: float
    references: int
    budget_epochs: tuple[int, ...] = ()
    rewind_epochs: int = 0

    def __post_init__(self) -> None:
        for name, values in (("scratch_densities", self.scratch_densities),
                             ("claim_density", (self.claim_density,))):
            stray = [d for d in values if d not in self.densities]
            if stray:
                raise ValueError(f"{name}={stray[0]!r} is not allowed for {self.model}: a "
                                 f"density of its pruning path {list(self.densities)}")
        if self.references < 2:
            raise ValueError(f"references={self.references!r} is not allowed: at least 2 (a "
                             f"reference needs a dense network of another seed as control)")
        if self.rewind_epochs and self.training.lr == self.tuning.lr:
            raise ValueError(f"finetune_lr={self.tuning.lr!r} is not allowed with "
                             f"rewind_epochs: it must differ from lr, or the rewound arm is "
                             f"a budget arm")

    @property
    def dense(self) -> list[RunSpec]:
        """The references, seed by seed (each one the others' control)."""
        base = RunSpec(data=self.data, model=ModelSpec(self.model, width=self.width),
                       train=self.training)
        return [base.replace(seed=r) for r in range(self.references)]

    @property
    def main(self) -> Arm:
        return Arm(f"{self.tuning.epochs} ep", self.tuning)

    @property
    def arms(self) -> list[Arm]:
        """B1b's fine-tuning recipes: every budget, then learning-rate rewinding."""
        arms = [Arm(f"{e} ep", dataclasses.replace(self.tuning, epochs=e))
                for e in self.budget_epochs]
        if self.rewind_epochs:
            arms.append(Arm(f"{self.rewind_epochs} ep, LR rewound",
                            dataclasses.replace(self.training, epochs=self.rewind_epochs),
                            rewound=True))
        return arms

    def path(self, reference: int, arm: Arm | None = None) -> list[FinetuneSpec]:
        """Every step of the pruning path of ``reference``: the whole main path, or an arm's
        path down to the density of the claims (fine-tuning batch order of seed
        ``reference``)."""
        if arm is None:
            return finetune_path(self.dense[reference], self.densities, train=self.tuning,
                                 seed=reference)
        stop = self.densities.index(self.claim_density) + 1
        return finetune_path(self.dense[reference], self.densities[:stop], train=arm.train,
                             seed=reference)

    def scratch_budget(self, density: float) -> TrainSpec:
        """The recipe of a from-scratch network at ``density``: the dense one, for as many
        epochs as the pruned network had in all down to that density."""
        steps = self.densities.index(density) + 1
        return dataclasses.replace(
            self.training, epochs=self.training.epochs + steps * self.tuning.epochs)

    def scratch(self, reference: int) -> list[ScratchSpec]:
        """The from-scratch variants of seed ``reference``, from its main path."""
        return [ScratchSpec(spec, variant, self.scratch_budget(spec.density), seed=reference)
                for spec in self.path(reference) if spec.density in self.scratch_densities
                for variant in VARIANTS]

    def networks(self, reference: int) -> list:
        """Every network of one replicate: reference, main path, arms' paths, scratch."""
        arms = [spec for arm in self.arms for spec in self.path(reference, arm)]
        return _unique([self.dense[reference], *self.path(reference), *arms,
                        *self.scratch(reference)])

    @property
    def specs(self) -> list:
        """Every network of every replicate, replicate by replicate (no repeats)."""
        return _unique([s for r in range(self.references) for s in self.networks(r)])

    def compared(self, reference: int) -> list:
        """The networks compared with reference ``reference``: the dense networks of the
        other seeds (its control), its main path, its arms' pruned networks at the density
        of the claims, its from-scratch networks."""
        finals = [self.path(reference, arm)[-1] for arm in self.arms]
        others = [d for r, d in enumerate(self.dense) if r != reference]
        return _unique([*others, *self.path(reference), *finals, *self.scratch(reference)])

    @property
    def setting(self) -> str:
        """Our scale in one line: model · data · images · epochs · replicates."""
        images = self.data.train_subset or "all"
        return (f"{model_label(self.model)} · {self.data.name} {images} training images · "
                f"{self.training.epochs} ep + {self.tuning.epochs} ep per pruning step · "
                f"{self.references} independent references")


def _unique(specs: Sequence) -> list:
    """``specs`` without repeats (same cached task), first occurrence kept."""
    seen, out = set(), []
    for spec in specs:
        key = task_of(spec).key()
        if key not in seen:
            seen.add(key)
            out.append(spec)
    return out


def _per_model(parameters: Mapping, name: str, model: str):
    value = parameters[name]
    if not isinstance(value, Mapping) or model not in value:
        raise ValueError(f"{name}={value!r} is not allowed: it needs an entry for every model, "
                         f"{model!r} has none")
    return value[model]


def studies(parameters: Mapping) -> dict[str, Study]:
    """Model name -> :class:`Study` from the chapter's parameters (a mapping with the keys of
    the chapter's section of ``notebooks/profiles.yml``)."""
    p = parameters
    training = TrainSpec(epochs=p["epochs"], lr=p["lr"], batch_size=p["batch_size"],
                         weight_decay=p["weight_decay"])
    tuning = dataclasses.replace(training, epochs=p["finetune_epochs"], lr=p["finetune_lr"])
    return {model: Study(
        model=model,
        data=DataSpec(p["dataset"], train_subset=p["train_subsets"].get(model),
                      test_subset=p["test_subset"], augment=p["augment"]),
        width=p["widths"].get(model, 1.0), training=training, tuning=tuning,
        densities=tuple(_per_model(p, "densities", model)),
        scratch_densities=tuple(_per_model(p, "scratch_densities", model)),
        claim_density=p["claim_density"], references=p["references"],
        budget_epochs=tuple(_per_model(p, "budget_epochs", model)),
        rewind_epochs=_per_model(p, "rewind_epochs", model) or 0)
        for model in p["models"]}


def comparisons(grid: Mapping[str, Study]) -> list[tuple[RunSpec, object, DataSpec]]:
    """Every compared (reference, network, data) triple of every study."""
    return [(study.dense[r], network, study.data) for study in grid.values()
            for r in range(study.references) for network in study.compared(r)]


def plan(parameters: Mapping) -> list[Task]:
    """Every cached task the chapter computes at ``parameters``: the training runs and
    derived runs of :func:`studies` (:func:`finetune.task_of`), then the layer similarities
    of :func:`comparisons` (:func:`drift_task`)."""
    grid = studies(parameters)
    runs = [task_of(spec) for study in grid.values() for spec in study.specs]
    drift = [drift_task(reference, network, data, measures=parameters["measures"],
                        conv=parameters["conv"])
             for reference, network, data in comparisons(grid)]
    return runs + drift


def train_networks(grid: Mapping[str, Study], *, executor=None, progress: bool = True,
                   **options) -> pd.DataFrame:
    """Train (or load) every network of every study on ``executor``; :func:`finetune.to_frame`
    of the results (``options``: results_dir, device, data_root)."""
    specs = [spec for study in grid.values() for spec in study.specs]
    return finetune.to_frame(finetune.run_all(specs, executor=executor, progress=progress,
                                              **options))


def layer_similarities(grid: Mapping[str, Study], *, measures: Sequence[str], conv: str,
                       executor=None, progress: bool = False, **options) -> pd.DataFrame:
    """Every network of every study against its reference, layer by layer (one cached task
    per pair, see :func:`drift_of`), on each study's test images."""
    frames = []
    for study in grid.values():
        pairs = [(reference, network) for reference, network, data in comparisons(
            {study.model: study})]
        frames.append(drift_of(pairs, study.data, measures=measures, conv=conv,
                               executor=executor, progress=progress, **options))
    return pd.concat(frames, ignore_index=True)


def summarise(sim: pd.DataFrame, runs: pd.DataFrame, grid: Mapping[str, Study]) -> pd.DataFrame:
    """One row per compared pair and measure: :data:`PAIR`, measure, ``arm`` (the label of a
    pruned network's fine-tuning recipe, '' for the others), the mean similarity of the
    first, middle and last layers, ``ends_minus_middle`` (mean of first and last minus
    middle), each with its control (``<column>_control``: the mean over the dense networks of
    the other seeds compared with the same reference, model and measure) and the gap to it
    (``<column>_gap``), and the network's test_accuracy (in [0, 1])."""
    summary = position_means(sim, PAIR)
    summary["ends_minus_middle"] = (summary["first"] + summary["last"]) / 2 - summary["middle"]
    control = summary[summary["variant"] == "dense"]
    columns = ("first", "middle", "last", "ends_minus_middle")
    out = minus_control(summary, control, on=("model.name", "measure", "reference"),
                        columns=columns)
    out.insert(out.columns.get_loc("measure") + 1, "arm", _arm_labels(out, grid))
    return out.merge(runs[NETWORK + ["test_accuracy"]], on=NETWORK, how="left")


def _arm_labels(frame: pd.DataFrame, grid: Mapping[str, Study]) -> list[str]:
    """The :class:`Arm` label of every pruned row of ``frame`` ('' for the others)."""
    labels = {(model, arm.train.epochs, arm.train.lr): arm.label
              for model, study in grid.items() for arm in [study.main, *study.arms]}
    return [labels.get((m, e, lr), "") if v == "magnitude" else ""
            for m, v, e, lr in zip(frame["model.name"], frame["variant"],
                                   frame["finetune_epochs"], frame["finetune_lr"])]


def main_arm(frame: pd.DataFrame, grid: Mapping[str, Study]) -> pd.DataFrame:
    """The rows of ``frame`` (a sim, runs or summary frame) that are not pruned with another
    fine-tuning recipe than the main one: what the figures of the main path show."""
    keep = pd.Series(True, index=frame.index)
    for model, study in grid.items():
        other = ((frame["model.name"] == model) & (frame["variant"] == "magnitude")
                 & ((frame["finetune_epochs"] != study.tuning.epochs)
                    | (frame["finetune_lr"] != study.tuning.lr)))
        keep &= ~other
    return frame[keep]


def arms_frame(summary: pd.DataFrame, runs: pd.DataFrame,
               grid: Mapping[str, Study]) -> pd.DataFrame:
    """B1b's budgets, one row per model, arm, reference and measure at the density of the
    claims: ``epochs`` (per step), ``rewound``, ``middle_gap`` (the pruned network's
    middle-layer similarity to its reference minus the control's) and ``drop`` (the
    reference's test accuracy minus the pruned network's, in percentage points)."""
    reference = runs[runs["variant"] == "dense"].set_index(["model.name", "seed"])
    rows = []
    for model, study in grid.items():
        for arm in study.arms:
            part = summary[(summary["model.name"] == model) & (summary["arm"] == arm.label)
                           & (summary["density"] == study.claim_density)]
            for row in part.itertuples(index=False):
                acc = reference.loc[(model, row.reference), "test_accuracy"]
                rows.append({"model.name": model, "arm": arm.label,
                             "epochs": arm.train.epochs, "rewound": arm.rewound,
                             "reference": row.reference, "measure": row.measure,
                             "middle_gap": row.middle_gap,
                             "drop": 100 * (acc - row.test_accuracy)})
    return pd.DataFrame(rows)

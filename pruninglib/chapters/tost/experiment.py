"""The chapter's experiment: every protocol trains every mask at every sparsity with every seed.

* :class:`Design`: the knobs turned into specs (the dense run every protocol starts from, the
  protocols' spec changes, masks, densities, seeds; the single tricks may run on fewer masks
  and sparsities) and the sparsity bands the claims use;
* :func:`plan`: every training run of a design, as cached tasks (the dry run's input);
* :func:`run_protocols`: the whole grid, plus the dense reference, as cached training runs
  (:mod:`pruninglib.runs.experiments`) on any executor, in one batch;
* :func:`gains`: per seed, each protocol's accuracy minus the default's, in points;
* :func:`dense_gap`: per seed, the dense network's accuracy minus the default sparse one's;
* :func:`at_lowest`: the rows at the highest sparsity.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ...config import ConfigError, DataSpec, ModelSpec, RunSpec, TrainSpec
from ...data import DATASETS
from ...runs.cache import Task
from ...runs.experiments import grid_specs, run_all, run_task, to_frame
from .protocols import protocol_changes

HIGH_SPARSITY = 0.95
"""T1 is judged at this sparsity and above (the study's claims sheet: "at >= 95 %")."""
VERY_HIGH_SPARSITY = 0.98
"""Each component alone is judged at this sparsity and above (the claims sheet: 98-99 %)."""
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Design:
    """What the chapter runs.

    base: the dense run (default PruneSpec) every protocol and mask starts from.
    methods: the masks ("prune.method"). densities: kept fractions, highest first.
    seeds: seeds 0 .. seeds-1. protocols: the protocols compared ("default" among them).
    changes: protocol -> its dotted spec changes (:func:`.protocols.protocol_changes`).
    trick_methods, trick_densities: the masks and densities the single tricks (every protocol
        but 'default' and 'all') run on, subsets of ``methods`` and ``densities``; empty =
        all of them.
    """

    base: RunSpec
    methods: tuple[str, ...]
    densities: tuple[float, ...]
    seeds: int
    protocols: tuple[str, ...]
    changes: Mapping[str, dict]
    trick_methods: tuple[str, ...] = ()
    trick_densities: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if "default" not in self.protocols:
            raise ConfigError(f"protocols={list(self.protocols)!r} is not allowed: it must "
                              "contain 'default' (gains are measured against it)")
        missing = [q for q in self.protocols if q not in self.changes]
        if missing:
            raise ConfigError(f"changes has no entry for protocol {missing[0]!r}")
        for name, values, allowed, unit in (
                ("trick_methods", self.trick_methods, self.methods, "methods"),
                ("trick_sparsities", [round(1 - d, 10) for d in self.trick_densities],
                 [round(1 - d, 10) for d in self.densities], "sparsities")):
            outside = [v for v in values if v not in allowed]
            if outside:
                raise ConfigError(f"{name}={list(values)!r} is not allowed: a subset of "
                                  f"{unit} = {list(allowed)!r} (gains need a default run)")

    @classmethod
    def from_parameters(cls, p: Mapping) -> Design:
        """The design of the chapter's knobs ``p`` (a mapping with the keys of the ``tost``
        section of notebooks/profiles.yml); sparsities become densities 1 - s."""
        data = DataSpec(p["dataset"], train_subset=p["train_subset"],
                        test_subset=p["test_subset"], augment=p["augment"])
        net = ModelSpec(p["model"], width=p["width"], hidden=tuple(p["hidden"]),
                        batchnorm=p["batchnorm"])
        training = TrainSpec(epochs=p["epochs"], lr=p["lr"], batch_size=p["batch_size"],
                             weight_decay=p["weight_decay"], schedule=p["lr_schedule"],
                             milestones=tuple(p["milestones"]), bf16=bool(p["bf16"]),
                             channels_last=bool(p["channels_last"]))
        settings = {"epochs": p["epochs"],
                    "num_classes": DATASETS[p["dataset"]].num_classes,
                    "ghost_activation": p["ghost_activation"],
                    "ghost_fraction": p["ghost_fraction"],
                    "label_smoothing": p["label_smoothing"],
                    "gradinit_steps": p["gradinit_steps"], "recipe": p["recipe"]}
        protocols = tuple(p["protocols"])
        changes = {q: protocol_changes(q, **settings) for q in protocols}
        return cls(base=RunSpec(data=data, model=net, train=training),
                   methods=tuple(p["methods"]), densities=_densities(p["sparsities"]),
                   seeds=int(p["seeds"]), protocols=protocols, changes=changes,
                   trick_methods=tuple(p["trick_methods"] or ()),
                   trick_densities=_densities(p["trick_sparsities"] or ()))

    @property
    def num_classes(self) -> int:
        return DATASETS[self.base.data.name].num_classes

    @property
    def components(self) -> list[str]:
        """The protocols that test one trick alone (all but 'default' and 'all')."""
        return [q for q in self.protocols if q not in ("default", "all")]

    def with_every_change(self) -> RunSpec:
        """:attr:`base` with the changes of every protocol at once: the run whose
        :func:`~.protocols.ghost_schedule` is the ghosts' schedule of every protocol that
        uses them."""
        return self.base.replace(**{k: v for q in self.protocols
                                    for k, v in self.changes[q].items()})

    def parts_of_all(self) -> list[str]:
        """The components among the protocols whose changes protocol 'all' makes ([] without
        'all')."""
        if "all" not in self.changes:
            return []
        every = self.changes["all"].items()
        return [q for q in self.components if self.changes[q].items() <= every]

    @property
    def high(self) -> list[float]:
        """Densities at sparsity >= :data:`HIGH_SPARSITY`."""
        return [d for d in self.densities if d <= 1 - HIGH_SPARSITY + _TOLERANCE]

    @property
    def very_high(self) -> list[float]:
        """Densities at sparsity >= :data:`VERY_HIGH_SPARSITY`."""
        return [d for d in self.densities if d <= 1 - VERY_HIGH_SPARSITY + _TOLERANCE]

    @property
    def trick_very_high(self) -> list[float]:
        """The very high densities the single tricks run at (:attr:`very_high` among
        :attr:`single_trick_densities`)."""
        return [d for d in self.very_high if d in self.single_trick_densities]

    @property
    def lowest(self) -> float:
        """The lowest density (the highest sparsity)."""
        return self.densities[-1]

    @property
    def highest(self) -> float:
        """The highest density (the lowest sparsity)."""
        return self.densities[0]

    @property
    def single_trick_methods(self) -> tuple[str, ...]:
        """The masks the single tricks run on (:attr:`trick_methods`, else every mask)."""
        return self.trick_methods or self.methods

    @property
    def single_trick_densities(self) -> tuple[float, ...]:
        """The densities the single tricks run on (:attr:`trick_densities`, else all)."""
        return self.trick_densities or self.densities

    def dense_specs(self) -> list[RunSpec]:
        """The dense reference, one run per seed."""
        return grid_specs(self.base, {"seed": list(range(self.seeds))})

    def protocol_specs(self, protocol: str) -> list[RunSpec]:
        """The pruned runs of ``protocol``: every mask x density x seed (seed fastest); a
        single trick on :attr:`single_trick_methods` x :attr:`single_trick_densities` only."""
        single = protocol not in ("default", "all")
        methods = self.single_trick_methods if single else self.methods
        densities = self.single_trick_densities if single else self.densities
        grid = {"prune.method": list(methods), "prune.density": list(densities),
                "seed": list(range(self.seeds))}
        return grid_specs(self.base.replace(**self.changes[protocol]), grid)

    def batches(self) -> dict[str, list[RunSpec]]:
        """Every run of the design: "dense" -> :meth:`dense_specs`, then each protocol ->
        :meth:`protocol_specs` (what :func:`run_protocols` trains and :func:`plan` lists)."""
        return {"dense": self.dense_specs(),
                **{q: self.protocol_specs(q) for q in self.protocols}}


def _densities(sparsities) -> tuple[float, ...]:
    """Kept fractions 1 - s of ``sparsities``, distinct, highest first."""
    return tuple(sorted({round(1 - s, 10) for s in sparsities}, reverse=True))


def plan(params: Mapping) -> list[Task]:
    """Every cached task the notebook computes at ``params`` (the ``tost`` knobs): the
    training runs of :meth:`Design.batches`, each once (a protocol without changes trains the
    default's runs)."""
    unique: dict[str, Task] = {}
    for specs in Design.from_parameters(params).batches().values():
        for spec in specs:
            unique.setdefault(spec.key(), run_task(spec))
    return list(unique.values())


@dataclass
class ProtocolRuns:
    """The chapter's results: :func:`~pruninglib.runs.experiments.to_frame` rows.

    dense: one row per dense run (seed). runs: one row per pruned run, with a "protocol"
    column (protocol x mask x density x seed).
    """

    dense: pd.DataFrame
    runs: pd.DataFrame

    @property
    def gains(self) -> pd.DataFrame:
        """:func:`gains` of :attr:`runs`."""
        return gains(self.runs)

    @property
    def count(self) -> int:
        """Trainings in all (pruned and dense)."""
        return len(self.runs) + len(self.dense)

    def compute_seconds(self) -> float:
        """Recorded pruning + GradInit + training time of every run, in seconds (as stored
        with each result, cached or not)."""
        columns = ["prune_seconds", "train_seconds"]
        return float(self.runs[columns].sum().sum() + self.dense[columns].sum().sum())


def run_protocols(design: Design, *, executor=None, results_dir=None, device="auto",
                  progress: bool = True) -> ProtocolRuns:
    """Every run of ``design`` (the dense reference, then each protocol's grid) on
    ``executor`` (None/'inline', 'pool[:N]', 'submitit[:...]', 'ray[:...]') in one batch;
    runs already stored are loaded."""
    batches = design.batches()
    results = run_all([s for specs in batches.values() for s in specs],
                      executor=executor, results_dir=results_dir, device=device,
                      progress=progress)
    frames, start = {}, 0
    for name, specs in batches.items():
        frames[name] = to_frame(results[start:start + len(specs)]).assign(protocol=name)
        start += len(specs)
    dense = frames.pop("dense").drop(columns="protocol")
    return ProtocolRuns(dense, pd.concat(frames.values(), ignore_index=True))


_KEYS = ("model.name", "prune.method", "prune.density", "seed")


def gains(runs: pd.DataFrame, *, baseline: str = "default", value: str = "test_accuracy",
          keys: Sequence[str] = _KEYS) -> pd.DataFrame:
    """Per run of every protocol but ``baseline``: ``gain`` = 100 * (value - the baseline's
    value for the same ``keys``), in points; columns ``keys``, "protocol", "gain".

    runs: a sweep frame with a "protocol" column. Runs without a baseline partner are dropped.
    """
    keys = list(keys)
    base = runs[runs["protocol"] == baseline].set_index(keys)[value].rename("baseline")
    rest = runs[runs["protocol"] != baseline].join(base, on=keys, how="inner")
    rest = rest.assign(gain=100 * (rest[value] - rest["baseline"]))
    return rest[[*keys, "protocol", "gain"]].reset_index(drop=True)


def dense_gap(design: Design, result: ProtocolRuns) -> pd.DataFrame:
    """Per seed: "gap" = 100 * (dense accuracy - the default protocol's accuracy at the lowest
    density, averaged over masks), in points; columns "seed", "gap"."""
    runs = at_lowest(design, result.runs)
    sparse = runs[runs["protocol"] == "default"].groupby("seed")["test_accuracy"].mean()
    dense = result.dense.groupby("seed")["test_accuracy"].mean()
    gap = 100 * (dense - sparse).dropna()
    return gap.rename("gap").reset_index()


def at_lowest(design: Design, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (runs or gains) at the design's lowest density."""
    return frame[(frame["prune.density"] - design.lowest).abs() < 1e-12]

"""The chapter's experiment: every protocol trains every mask at every sparsity with every seed.

* :class:`Design`: the knobs turned into specs (the dense run every protocol starts from, the
  protocols' spec changes, masks, densities, seeds) and the sparsity bands the claims use;
* :func:`run_protocols`: the whole grid, plus the dense reference, as cached training runs
  (:mod:`pruninglib.runs.experiments`) on any executor, in one batch;
* :func:`gains`: per seed, each protocol's accuracy minus the default's, in points.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ...config import ConfigError, DataSpec, ModelSpec, RunSpec, TrainSpec
from ...data import DATASETS
from ...runs.experiments import grid_specs, run_all, to_frame
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
    """

    base: RunSpec
    methods: tuple[str, ...]
    densities: tuple[float, ...]
    seeds: int
    protocols: tuple[str, ...]
    changes: Mapping[str, dict]

    def __post_init__(self) -> None:
        if "default" not in self.protocols:
            raise ConfigError(f"protocols={list(self.protocols)!r} is not allowed: it must "
                              "contain 'default' (gains are measured against it)")
        missing = [q for q in self.protocols if q not in self.changes]
        if missing:
            raise ConfigError(f"changes has no entry for protocol {missing[0]!r}")

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
                             milestones=tuple(p["milestones"]))
        settings = dict(epochs=p["epochs"], num_classes=DATASETS[p["dataset"]].num_classes,
                        ghost_activation=p["ghost_activation"],
                        ghost_fraction=p["ghost_fraction"],
                        label_smoothing=p["label_smoothing"],
                        gradinit_steps=p["gradinit_steps"], recipe=p["recipe"])
        protocols = tuple(p["protocols"])
        changes = {q: protocol_changes(q, **settings) for q in protocols}
        return cls(base=RunSpec(data=data, model=net, train=training),
                   methods=tuple(p["methods"]),
                   densities=tuple(sorted({round(1 - s, 10) for s in p["sparsities"]},
                                          reverse=True)),
                   seeds=int(p["seeds"]), protocols=protocols, changes=changes)

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
    def lowest(self) -> float:
        """The lowest density (the highest sparsity)."""
        return self.densities[-1]

    @property
    def highest(self) -> float:
        """The highest density (the lowest sparsity)."""
        return self.densities[0]

    def dense_specs(self) -> list[RunSpec]:
        """The dense reference, one run per seed."""
        return grid_specs(self.base, {"seed": list(range(self.seeds))})

    def protocol_specs(self, protocol: str) -> list[RunSpec]:
        """The pruned runs of ``protocol``: every mask x density x seed (seed fastest)."""
        grid = {"prune.method": list(self.methods), "prune.density": list(self.densities),
                "seed": list(range(self.seeds))}
        return grid_specs(self.base.replace(**self.changes[protocol]), grid)


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
    dense = design.dense_specs()
    batches = {q: design.protocol_specs(q) for q in design.protocols}
    results = run_all([*dense, *(s for specs in batches.values() for s in specs)],
                      executor=executor, results_dir=results_dir, device=device,
                      progress=progress)
    frames, start = [], len(dense)
    for protocol, specs in batches.items():
        part = results[start:start + len(specs)]
        frames.append(to_frame(part).assign(protocol=protocol))
        start += len(specs)
    return ProtocolRuns(to_frame(results[:len(dense)]),
                        pd.concat(frames, ignore_index=True))


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

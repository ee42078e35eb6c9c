"""TPrune at CPU scale (Mao et al. 2021): BSSL analysis, then line pruning by structured
Hoyer-Square (on the inner lines, on the directions BSSL found, or on every row and column),
group lasso or line magnitude, physical slicing, fine-tuning, latency.

Unlike every other chapter this prunes *during training*: a dense
:class:`~pruninglib.models.transformer.TransformerClassifier` is trained first, then trained
on with a group penalty, its lines under a relative-norm threshold are sliced away
(:mod:`pruninglib.pruners.structured`) and the smaller dense model is fine-tuned. Every model
is timed through three code paths (:mod:`.paths`), so that dense and pruned models can be
compared like for like. Each seed is one cached task (kind ``tprune``, :func:`seed_task`);
:func:`run` computes a grid of seeds on any executor.
"""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ...config import DataSpec, TrainSpec, section_dict
from ...data import Dataset, batches, load_data_once, num_batches
from ...models.transformer import TransformerClassifier
from ...pruners.structured import (
    BOTH,
    INNER_ONLY,
    count_parameters,
    flops,
    keep_above,
    keep_largest,
    latency,
    penalty,
    slice_units,
    unit_scores,
)
from ...runs.cache import Context, Output, Task
from ...runs.executors import execute
from ...seeds import derive_seed
from ...train import evaluate, make_optimizer, make_scheduler, train
from .guidance import bssl_rows, guided_directions
from .paths import PATHS, on_path

KIND = "tprune"
FORMAT = 2
"""Version of a seed's payload, part of its key: 2 added the guided and both-direction
Hoyer-Square runs, the one-line probe and the three timing paths (format 1 had none)."""

STAGE2 = {"group_lasso": ("group_lasso", "inner"), "hoyer_square": ("hoyer_square", "inner"),
          "hoyer_guided": ("hoyer_square", "guided"), "hoyer_both": ("hoyer_square", "both")}
"""Stage-2 method -> (penalty, lines penalised): 'inner' = the lines that can be sliced,
chosen in advance (:data:`~pruninglib.pruners.structured.INNER_ONLY`); 'guided' = each
matrix type along the direction BSSL found (:func:`.guidance.guided_directions`); 'both' =
every row and every column (DeepHoyer's structured penalty, no guidance)."""


@dataclass(frozen=True)
class TPruneSpec:
    """Sizes of one TPrune experiment.

    d_model/layers/heads/hidden: the Transformer; epochs: dense training (Adam, cosine, lr);
    bssl_strength: group-lasso weight on every row and column (stage 1); reg_epochs: training
    with a penalty, from the dense model (stage 1 and 2), with reg_optimizer ('sgd' with
    momentum 0.9 by default: Adam's normalised steps keep every weight moving by about lr, so
    group lasso never brings a line near zero) at reg_lr; lasso_strengths: group-lasso
    weights of stage 2; hoyer_strengths: Hoyer-Square weights of stage 2 (every Hoyer-Square
    method of :data:`STAGE2`); threshold: a unit is removed when its relative line norm is
    below it; finetune_epochs / finetune_lr: after
    slicing;
    latency_batch: the "typical" batch (besides batch 1); latency_repeats: timed calls;
    threads: torch threads while timing.
    """

    d_model: int = 64
    layers: int = 2
    heads: int = 4
    hidden: int = 256
    epochs: int = 4
    lr: float = 2e-3
    batch_size: int = 128
    bssl_strength: float = 0.01
    reg_epochs: int = 3
    reg_optimizer: str = "sgd"
    reg_lr: float = 0.05
    lasso_strengths: tuple[float, ...] = (0.01, 0.02, 0.04)
    hoyer_strengths: tuple[float, ...] = (0.01, 0.03, 0.1)
    threshold: float = 0.05
    finetune_epochs: int = 1
    finetune_lr: float = 5e-4
    latency_batch: int = 64
    latency_repeats: int = 30
    threads: int = 1

    @classmethod
    def from_parameters(cls, values: Mapping) -> TPruneSpec:
        """The spec whose fields take their values from ``values`` (e.g. a chapter's
        parameters; other keys are ignored, lists become tuples)."""
        return cls(**{f.name: tuple(values[f.name]) if isinstance(values[f.name], list)
                      else values[f.name] for f in dataclasses.fields(cls)})


def build(spec: TPruneSpec, data: Dataset) -> TransformerClassifier:
    """The Transformer for ``data``: an image (C, H, W) is read as H tokens of C*W features."""
    c, h, w = data.input_shape
    return TransformerClassifier(h, c * w, data.num_classes, spec.d_model, spec.layers,
                                 spec.heads, spec.hidden)


def fit(model, data: Dataset, *, epochs: int, lr: float, batch_size: int, seed: int,
        optimizer: str = "adam", kind: str | None = None, strength: float = 0.0,
        directions=None, progress: bool = False, desc: str = "train") -> float:
    """Train with ``optimizer`` (adam, or sgd with momentum 0.9) and a cosine schedule,
    adding ``strength * penalty(model, kind, directions)`` to the cross-entropy when ``kind``
    is given; return the test accuracy.
    Without a penalty this is :func:`pruninglib.train.train`."""
    spec = TrainSpec(epochs=epochs, optimizer=optimizer, lr=lr, batch_size=batch_size)
    generator = torch.Generator().manual_seed(seed)
    if kind is None:
        train(model, data, spec, generator=generator, progress=progress, desc=desc)
        return evaluate(model, data.test_x, data.test_y)[1]
    step = make_optimizer(model, spec)
    scheduler = make_scheduler(step, spec, num_batches(len(data.train_x), batch_size))
    model.train()
    for _ in tqdm(range(epochs), desc=desc, disable=not progress, leave=False):
        for xb, yb in batches(data.train_x, data.train_y, batch_size, generator=generator,
                              shuffle=True):
            loss = F.cross_entropy(model(xb), yb) + strength * penalty(model, kind, directions)
            step.zero_grad(set_to_none=True)
            loss.backward()
            step.step()
            scheduler.step()
    return evaluate(model, data.test_x, data.test_y)[1]


def measure(models, data: Dataset, spec: TPruneSpec) -> list[dict]:
    """Per model: parameters, FLOPs per sample of the model as sliced (``flops``) and padded to
    equal heads (``flops_padded``), and the median CPU latency (s) at batch 1 and at
    latency_batch through each code path of :data:`~.paths.PATHS`: ``latency_1`` /
    ``latency_batch`` as sliced, ``latency_per_head_*`` and ``latency_padded_*``. All models
    on all paths are timed in turn (:func:`~pruninglib.pruners.structured.latency`), so a slow
    spell of a shared machine hits them alike."""
    tokens = data.input_shape[1]
    variants = [[on_path(m, path) for path in PATHS] for m in models]
    rows = [{"params": count_parameters(m), "flops": flops(m, tokens),
             "flops_padded": flops(v[PATHS.index("padded")], tokens)}
            for m, v in zip(models, variants)]
    timed_models = [v for per_model in variants for v in per_model]
    for suffix, n in (("1", 1), ("batch", spec.latency_batch)):
        timed = latency(timed_models, data.test_x[:n], threads=spec.threads,
                        repeats=spec.latency_repeats)
        for i, row in enumerate(rows):
            for j, path in enumerate(PATHS):
                name = f"latency_{suffix}" if path == "as_run" else f"latency_{path}_{suffix}"
                row[name] = timed[i * len(PATHS) + j]["median"]
    return rows


def removed_fractions(keep) -> dict:
    """Fraction of units removed, overall and per unit kind (qk, vo, ffn)."""
    out = {}
    for kind in ("qk", "vo", "ffn"):
        masks = [m for name, m in keep.items() if name.endswith(kind)]
        out[f"removed_{kind}"] = float(sum((~m).sum() for m in masks) /
                                       sum(len(m) for m in masks))
    out["lines_removed"] = float(sum((~m).sum() for m in keep.values()) /
                                 sum(len(m) for m in keep.values()))
    return out


def one_line_removed(scores) -> dict[str, torch.Tensor]:
    """Keep every unit but the lowest-scoring one of each unit group: the shape probe (each
    block's FFN 256 -> 255 and one head one query/key and one value dimension narrower),
    which removes almost no work but leaves odd shapes and unequal heads."""
    return {name: torch.arange(len(s)) != int(torch.argmin(s)) for name, s in scores.items()}


def lines_penalised(how: str, bssl: list[dict]):
    """The ``directions`` of :func:`~pruninglib.pruners.structured.penalty` for a
    :data:`STAGE2` line choice: 'inner', 'guided' (by this seed's ``bssl`` rows) or 'both'."""
    if how == "inner":
        return INNER_ONLY
    if how == "guided":
        return guided_directions(bssl)
    if how == "both":
        return BOTH
    raise ValueError(f"lines={how!r} is not allowed: inner, guided, both")


def run_seed(data: Dataset, spec: TPruneSpec, seed: int, progress: bool = False,
             ) -> tuple[list[dict], list[dict]]:
    """One seed of the whole experiment. Returns (runs, bssl):

    runs: one row per model: seed, method (dense, one_line, magnitude and the :data:`STAGE2`
    methods), strength, directions (the lines penalised, e.g. ``q:out k:out ...``),
    lines_removed and removed_{qk,vo,ffn} (fractions of units), accuracy_sliced (test
    accuracy right after slicing), accuracy (after fine-tuning), and the costs of
    :func:`measure`. Every model gets the same training budget: ``epochs`` dense, then
    ``reg_epochs`` at ``reg_lr`` (with a penalty, or none for the dense, one_line and
    magnitude rows), then ``finetune_epochs``. A magnitude row slices the lines of the
    penalty-free model to the same fraction per unit kind as the Hoyer-Square row (inner
    lines) of the same strength; the one_line row removes one unit per group
    (:func:`one_line_removed`). Penalised trainings with equal penalty, strength and lines
    (e.g. guided directions equal to the inner ones) are trained once.
    bssl: one row per (block, matrix, direction) after stage 1 (:func:`.guidance.bssl_rows`)
    with seed and the accuracy of that model.
    Random streams: initial weights and every batch order come from (seed, purpose).
    """
    torch.manual_seed(derive_seed(seed, "tprune-init"))
    start = build(spec, data).to(data.train_x.device)
    common = {"batch_size": spec.batch_size, "progress": progress}
    fit(start, data, epochs=spec.epochs, lr=spec.lr, desc="dense",
        seed=derive_seed(seed, "tprune-dense-batches"), **common)
    trained = {}

    def train_on(kind=None, strength=0.0, directions=None, desc="dense, on"):
        key = (kind, strength, repr(directions))
        if key not in trained:
            model = copy.deepcopy(start)
            fit(model, data, epochs=spec.reg_epochs, lr=spec.reg_lr, desc=desc,
                seed=derive_seed(seed, "tprune-penalised-batches"),
                optimizer=spec.reg_optimizer, kind=kind, strength=strength,
                directions=directions, **common)
            trained[key] = model
        return trained[key]

    bssl_model = train_on("group_lasso", spec.bssl_strength, BOTH, "BSSL")
    bssl_accuracy = evaluate(bssl_model, data.test_x, data.test_y)[1]
    bssl = [{"seed": seed, **row, "accuracy": bssl_accuracy}
            for row in bssl_rows(bssl_model, spec.threshold)]

    dense = train_on()
    dense_scores = unit_scores(dense)
    probe = one_line_removed(dense_scores)
    pruned = [("dense", 0.0, "", keep_largest(dense_scores, 0.0), copy.deepcopy(dense)),
              ("one_line", 0.0, "", probe, slice_units(dense, probe))]
    for method, (kind, how) in STAGE2.items():
        directions = lines_penalised(how, bssl)
        for strength in (spec.lasso_strengths if kind == "group_lasso"
                         else spec.hoyer_strengths):
            model = train_on(kind, strength, directions, f"{method} {strength:g}")
            keep = keep_above(unit_scores(model), spec.threshold)
            pruned.append((method, strength, describe(directions), keep,
                           slice_units(model, keep)))
            if method == "hoyer_square":
                removed = removed_fractions(keep)
                magnitude = {name: keep_largest(
                    {name: s}, removed[f"removed_{name.rsplit('.', 1)[1]}"])[name]
                    for name, s in dense_scores.items()}
                pruned.append(("magnitude", strength, "", magnitude,
                               slice_units(dense, magnitude)))
    runs = []
    for method, strength, directions, keep, small in pruned:
        sliced = evaluate(small, data.test_x, data.test_y)[1]
        tuned = fit(small, data, epochs=spec.finetune_epochs, lr=spec.finetune_lr,
                    seed=derive_seed(seed, "tprune-finetune-batches"),
                    desc=f"fine-tune {method}", **common)
        runs.append({"seed": seed, "method": method, "strength": strength,
                     "directions": directions, **removed_fractions(keep),
                     "accuracy_sliced": sliced, "accuracy": tuned})
    for row, cost in zip(runs, measure([small for *_, small in pruned], data, spec)):
        row.update(cost)
    return runs, bssl


def describe(directions) -> str:
    """Penalised lines in one short text, e.g. ``q:out k:out v:out o:in fc1:out fc2:in``."""
    return " ".join(f"{m}:{'+'.join(d)}" for m, d in directions.items())


def seed_task(data: DataSpec, spec: TPruneSpec, seed: int) -> Task:
    """The cached task of one seed of the experiment (kind ``tprune``): the data, the sizes,
    the seed and the payload's :data:`FORMAT` (seeds stored in an older format get another
    key and are recomputed, never misread)."""
    return Task.make(KIND, {"data": section_dict(data), "tprune": dataclasses.asdict(spec),
                            "seed": seed, "format": FORMAT}, compute_seed)


def compute_seed(spec: dict, context: Context) -> Output:
    """Compute function of :func:`seed_task`: :func:`run_seed` on the data loaded on the CPU
    (the chapter trains and times on the CPU whatever the device). Payload: the spec's
    fields plus ``runs`` and ``bssl`` (lists of row dicts)."""
    sizes = {name: tuple(value) if isinstance(value, list) else value
             for name, value in spec["tprune"].items()}
    data = load_data_once(DataSpec(**spec["data"]), root=context.data_root, device="cpu")
    runs, bssl = run_seed(data, TPruneSpec(**sizes), spec["seed"], context.progress)
    return Output({**spec, "runs": runs, "bssl": bssl})


def seed_tasks(data: DataSpec, spec: TPruneSpec, seeds: Sequence[int]) -> list[Task]:
    """:func:`seed_task` of every seed, in order: the chapter's whole grid."""
    return [seed_task(data, spec, seed) for seed in seeds]


def inputs(params: Mapping) -> tuple[DataSpec, TPruneSpec, list[int]]:
    """The data, sizes and seeds of the chapter's parameters (``dataset``, ``train_subset``,
    ``test_subset``, the :class:`TPruneSpec` fields and ``seeds``, run as 0 .. seeds-1)."""
    data = DataSpec(params["dataset"], train_subset=params["train_subset"],
                    test_subset=params["test_subset"])
    return data, TPruneSpec.from_parameters(params), list(range(params["seeds"]))


def plan(params: Mapping) -> list[Task]:
    """Every cached task the notebook computes at ``params``: one kind-``tprune`` task per
    seed (:func:`inputs`, :func:`seed_tasks`)."""
    return seed_tasks(*inputs(params))


def run(data: DataSpec, spec: TPruneSpec, seeds: Sequence[int], *, executor=None,
        progress: bool = False, results_dir=None, data_root=None
        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`run_seed` for every seed, each a cached task (:func:`seed_tasks`) computed on
    ``executor`` (None/'inline', 'pool[:N]', 'submitit[:...]', 'ray[:...]') unless stored
    in ``<results_dir>/tprune/`` (latencies included: they are those of the machine that
    computed them; time on an idle machine, e.g. inline). Returns (runs, bssl) DataFrames;
    runs are compared with their seed's dense model by :func:`against_dense`."""
    payloads = execute(seed_tasks(data, spec, seeds), executor=executor, progress=progress,
                       results_dir=results_dir, data_root=data_root, device="cpu")
    runs = pd.DataFrame([row for payload in payloads for row in payload["runs"]])
    bssl = pd.DataFrame([row for payload in payloads for row in payload["bssl"]])
    return against_dense(runs), bssl


SPEEDUPS = {"speedup_1": "latency_1", "speedup_batch": "latency_batch",
            "speedup_per_head_1": "latency_per_head_1",
            "speedup_per_head_batch": "latency_per_head_batch",
            "speedup_padded_1": "latency_padded_1",
            "speedup_padded_batch": "latency_padded_batch"}
"""Speed-up column -> the latency column it divides: ``speedup_*`` compares the models as
sliced (the dense one batched, a pruned one with unequal heads through the per-head loop:
not like for like), ``speedup_per_head_*`` both through the per-head loop and
``speedup_padded_*`` both through the batched matmul (like for like)."""


def against_dense(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` (one row per model, with seed, method, accuracy in [0, 1], flops,
    flops_padded and the latency columns of :data:`SPEEDUPS`) plus, each against the same
    seed's dense row: accuracy_drop (dense − model, points), relative_drop (that drop in % of
    the dense accuracy), every :data:`SPEEDUPS` column (dense latency ÷ model latency on the
    same path; those whose latency column is missing are left out), flop_reduction (dense
    FLOPs ÷ model FLOPs) and flop_reduction_padded (dense FLOPs ÷ FLOPs of the model padded
    to equal heads, the operations the padded path executes)."""
    dense = runs[runs["method"] == "dense"].set_index("seed")
    missing = sorted(set(runs["seed"]) - set(dense.index))
    if missing:
        raise ValueError(f"seeds {missing} have no dense row to compare with")
    base = dense.loc[runs["seed"]].reset_index(drop=True)
    runs = runs.reset_index(drop=True).copy()
    runs["accuracy_drop"] = (base["accuracy"] - runs["accuracy"]) * 100
    runs["relative_drop"] = runs["accuracy_drop"] / base["accuracy"]
    for speedup, column in SPEEDUPS.items():
        if column in runs:
            runs[speedup] = base[column] / runs[column]
    runs["flop_reduction"] = base["flops"] / runs["flops"]
    if "flops_padded" in runs:
        runs["flop_reduction_padded"] = base["flops"] / runs["flops_padded"]
    return runs

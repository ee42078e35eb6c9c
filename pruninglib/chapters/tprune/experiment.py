"""TPrune at CPU scale (Mao et al. 2021): BSSL analysis, then line pruning by structured
Hoyer-Square, group lasso or line magnitude, physical slicing, fine-tuning, latency.

Unlike every other chapter this prunes *during training*: a dense
:class:`~pruninglib.models.transformer.TransformerClassifier` is trained first, then trained
on with a group penalty, its lines under a relative-norm threshold are sliced away
(:mod:`pruninglib.pruners.structured`) and the smaller dense model is fine-tuned. Each seed
is one cached task (kind ``tprune``, :func:`seed_task`); :func:`run` computes a grid of seeds
on any executor.
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

from ...config import DataSpec, TrainSpec
from ...data import Dataset, batches, load_data_once, num_batches
from ...models.transformer import TransformerClassifier
from ...pruners.structured import (BOTH, INNER_ONLY, count_parameters, flops, keep_above,
                                   keep_largest, latency, penalty, relative_line_norms,
                                   slice_units, unit_scores)
from ...runs.cache import Context, Output, Task
from ...runs.executors import execute
from ...train import evaluate, make_optimizer, make_scheduler, train

KIND = "tprune"


@dataclass(frozen=True)
class TPruneSpec:
    """Sizes of one TPrune experiment.

    d_model/layers/heads/hidden: the Transformer; epochs: dense training (Adam, cosine, lr);
    bssl_strength: group-lasso weight on every row and column (stage 1); reg_epochs: training
    with a penalty, from the dense model (stage 1 and 2), with reg_optimizer ('sgd' with
    momentum 0.9 by default: Adam's normalised steps keep every weight moving by about lr, so
    group lasso never brings a line near zero) at reg_lr; lasso_strengths /
    hoyer_strengths: penalty weights of stage 2 on the inner lines; threshold: a unit is
    removed when its relative line norm is below it; finetune_epochs / finetune_lr: after
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
    def from_parameters(cls, values: Mapping) -> "TPruneSpec":
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
    """Per model: parameters, FLOPs per sample and median CPU latency (s) at batch 1 and at
    latency_batch, the models timed in turn (:func:`~pruninglib.pruners.structured.latency`)."""
    tokens = data.input_shape[1]
    rows = [{"params": count_parameters(m), "flops": flops(m, tokens)} for m in models]
    for name, n in (("latency_1", 1), ("latency_batch", spec.latency_batch)):
        timed = latency(models, data.test_x[:n], threads=spec.threads,
                        repeats=spec.latency_repeats)
        for row, t in zip(rows, timed):
            row[name] = t["median"]
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


def run_seed(data: Dataset, spec: TPruneSpec, seed: int, progress: bool = False,
             ) -> tuple[list[dict], list[dict]]:
    """One seed of the whole experiment. Returns (runs, bssl):

    runs: one row per model: seed, method (dense, group_lasso, hoyer_square, magnitude),
    strength, lines_removed and removed_{qk,vo,ffn} (fractions of units), accuracy_sliced
    (test accuracy right after slicing), accuracy (after fine-tuning), params, flops,
    latency_1, latency_batch (s). Every model gets the same training budget: ``epochs``
    dense, then ``reg_epochs`` at ``reg_lr`` (with a penalty, or none for the dense and
    magnitude rows), then ``finetune_epochs``. A magnitude row slices the lines of the
    penalty-free model to the same fraction per unit kind as the Hoyer-Square row of the same
    strength.
    bssl: one row per (block, matrix, direction) after stage 1: sparse (fraction of lines
    below the threshold) and accuracy of that model.
    """
    torch.manual_seed(seed)
    start = build(spec, data).to(data.train_x.device)
    common = {"batch_size": spec.batch_size, "progress": progress}
    fit(start, data, epochs=spec.epochs, lr=spec.lr, seed=seed, desc="dense", **common)

    def train_on(kind=None, strength=0.0, directions=None, desc="dense, on"):
        model = copy.deepcopy(start)
        accuracy = fit(model, data, epochs=spec.reg_epochs, lr=spec.reg_lr, seed=seed + 1,
                       optimizer=spec.reg_optimizer, kind=kind, strength=strength,
                       directions=directions, desc=desc, **common)
        return model, accuracy

    bssl_model, bssl_accuracy = train_on("group_lasso", spec.bssl_strength, BOTH, "BSSL")
    bssl = [{"seed": seed, "block": r["block"], "matrix": r["matrix"],
             "direction": r["direction"], "lines": len(r["relative"]),
             "sparse": float((r["relative"] < spec.threshold).float().mean()),
             "accuracy": bssl_accuracy} for r in relative_line_norms(bssl_model)]

    dense, _ = train_on()
    dense_scores = unit_scores(dense)
    everything = {name: torch.ones(len(s), dtype=torch.bool) for name, s in dense_scores.items()}
    pruned = [("dense", 0.0, everything, copy.deepcopy(dense))]
    for kind, strengths in (("group_lasso", spec.lasso_strengths),
                            ("hoyer_square", spec.hoyer_strengths)):
        for strength in strengths:
            model, _ = train_on(kind, strength, INNER_ONLY, f"{kind} {strength:g}")
            keep = keep_above(unit_scores(model), spec.threshold)
            pruned.append((kind, strength, keep, slice_units(model, keep)))
            if kind == "hoyer_square":
                removed = removed_fractions(keep)
                magnitude = {name: keep_largest(
                    {name: s}, removed[f"removed_{name.rsplit('.', 1)[1]}"])[name]
                    for name, s in dense_scores.items()}
                pruned.append(("magnitude", strength, magnitude,
                               slice_units(dense, magnitude)))
    runs = []
    for method, strength, keep, small in pruned:
        sliced = evaluate(small, data.test_x, data.test_y)[1]
        tuned = fit(small, data, epochs=spec.finetune_epochs, lr=spec.finetune_lr,
                    seed=seed + 2, desc=f"fine-tune {method}", **common)
        runs.append({"seed": seed, "method": method, "strength": strength,
                     **removed_fractions(keep), "accuracy_sliced": sliced, "accuracy": tuned})
    for row, cost in zip(runs, measure([small for *_, small in pruned], data, spec)):
        row.update(cost)
    return runs, bssl


def seed_task(data: DataSpec, spec: TPruneSpec, seed: int) -> Task:
    """The cached task of one seed of the experiment (kind ``tprune``): the data, the sizes
    and the seed. Its key is the one the chapter's private cache used, so stored seeds stay
    valid."""
    return Task.make(KIND, {"data": dataclasses.asdict(data), "tprune": dataclasses.asdict(spec),
                            "seed": seed}, compute_seed)


def compute_seed(spec: dict, context: Context) -> Output:
    """Compute function of :func:`seed_task`: :func:`run_seed` on the data loaded on the CPU
    (the chapter trains and times on the CPU whatever the device). Payload: the spec's
    fields plus ``runs`` and ``bssl`` (lists of row dicts)."""
    sizes = {name: tuple(value) if isinstance(value, list) else value
             for name, value in spec["tprune"].items()}
    data = load_data_once(DataSpec(**spec["data"]), root=context.data_root, device="cpu")
    runs, bssl = run_seed(data, TPruneSpec(**sizes), spec["seed"], context.progress)
    return Output({**spec, "runs": runs, "bssl": bssl})


def run(data: DataSpec, spec: TPruneSpec, seeds: Sequence[int], *, executor=None,
        progress: bool = False, results_dir=None, data_root=None
        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`run_seed` for every seed, each a cached task (:func:`seed_task`) computed on
    ``executor`` (None/'inline', 'pool[:N]', 'submitit[:...]', 'ray[:...]') unless stored
    in ``<results_dir>/tprune/`` (latencies included: they are those of the machine that
    computed them; time on an idle machine, e.g. inline). Returns (runs, bssl) DataFrames;
    runs are compared with their seed's dense model by :func:`against_dense`."""
    tasks = [seed_task(data, spec, seed) for seed in seeds]
    payloads = execute(tasks, executor=executor, progress=progress, results_dir=results_dir,
                       data_root=data_root, device="cpu")
    runs = pd.DataFrame([row for payload in payloads for row in payload["runs"]])
    bssl = pd.DataFrame([row for payload in payloads for row in payload["bssl"]])
    return against_dense(runs), bssl


def against_dense(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` (one row per model, with seed, method, accuracy in [0, 1], latency_1,
    latency_batch, flops) plus, each against the same seed's dense row: accuracy_drop
    (dense − model, points), relative_drop (that drop in % of the dense accuracy),
    speedup_1 / speedup_batch (dense latency ÷ model latency) and flop_reduction (dense
    FLOPs ÷ model FLOPs)."""
    dense = runs[runs["method"] == "dense"].set_index("seed")
    missing = sorted(set(runs["seed"]) - set(dense.index))
    if missing:
        raise ValueError(f"seeds {missing} have no dense row to compare with")
    base = dense.loc[runs["seed"]].reset_index(drop=True)
    runs = runs.reset_index(drop=True).copy()
    runs["accuracy_drop"] = (base["accuracy"] - runs["accuracy"]) * 100
    runs["relative_drop"] = runs["accuracy_drop"] / base["accuracy"]
    runs["speedup_1"] = base["latency_1"] / runs["latency_1"]
    runs["speedup_batch"] = base["latency_batch"] / runs["latency_batch"]
    runs["flop_reduction"] = base["flops"] / runs["flops"]
    return runs

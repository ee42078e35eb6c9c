"""TPrune at CPU scale (Mao et al. 2021): BSSL analysis, then line pruning by structured
Hoyer-Square, group lasso or line magnitude, physical slicing, fine-tuning, latency.

Unlike every other chapter this prunes *during training*: a dense
:class:`~pruninglib.transformer.TransformerClassifier` is trained first, then trained on with
a group penalty, its lines under a relative-norm threshold are sliced away
(:mod:`pruninglib.structured`) and the smaller dense model is fine-tuned.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ...config import DataSpec, TrainSpec
from ...data import Dataset, batches, load_data, num_batches
from ...runs.store import ResultStore
from ...pruners.structured import (BOTH, INNER_ONLY, count_parameters, flops, keep_above, keep_largest,
                         latency, penalty, relative_line_norms, slice_units, unit_scores)
from ...train import evaluate, make_optimizer, make_scheduler, train
from ...models.transformer import TransformerClassifier


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
    latency_batch, the models timed in turn (:func:`~pruninglib.structured.latency`)."""
    tokens = data.input_shape[1]
    rows = [{"params": count_parameters(m), "flops": flops(m, tokens)} for m in models]
    for name, n in (("latency_1", 1), ("latency_batch", spec.latency_batch)):
        timed = latency(models, data.test_x[:n], threads=spec.threads,
                        repeats=spec.latency_repeats)
        for row, t in zip(rows, timed):
            row[name] = t["median"]
    return rows


def _removed(keep) -> dict:
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
                removed = _removed(keep)
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
        runs.append({"seed": seed, "method": method, "strength": strength, **_removed(keep),
                     "accuracy_sliced": sliced, "accuracy": tuned})
    for row, cost in zip(runs, measure([small for *_, small in pruned], data, spec)):
        row.update(cost)
    return runs, bssl


def seed_key(data: DataSpec, spec: TPruneSpec, seed: int) -> str:
    """16-hex cache key of one seed of the experiment (data, sizes and seed)."""
    text = json.dumps({"data": dataclasses.asdict(data), "tprune": dataclasses.asdict(spec),
                       "seed": seed}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run(data: DataSpec, spec: TPruneSpec, seeds, *, progress: bool = False,
        results_dir=None, data_root=None):
    """:func:`run_seed` for every seed -> (runs, bssl) DataFrames; runs gain accuracy_drop
    (dense − pruned, points), speedup_1 / speedup_batch (dense latency ÷ pruned latency) and
    flop_reduction (dense FLOPs ÷ pruned FLOPs), each against the same seed's dense model.

    Each seed's rows are stored in ``<results_dir>/tprune/`` under :func:`seed_key` and
    loaded from there next time (latencies included: they are those of the machine that
    computed them). The data are loaded on the CPU, and only if some seed is not stored."""
    store = ResultStore(ResultStore(results_dir).root / "tprune")
    loaded = None
    runs, bssl = [], []
    for seed in tqdm(list(seeds), desc="seeds", disable=not progress):
        key = seed_key(data, spec, seed)
        payload = store.load(key)
        if payload is None:
            if loaded is None:
                loaded = load_data(data, root=data_root, device="cpu")
            r, b = run_seed(loaded, spec, seed, progress)
            payload = {"data": dataclasses.asdict(data), "tprune": dataclasses.asdict(spec),
                       "seed": seed, "runs": r, "bssl": b}
            store.save(key, payload)
        runs += payload["runs"]
        bssl += payload["bssl"]
    runs, bssl = pd.DataFrame(runs), pd.DataFrame(bssl)
    dense = runs[runs["method"] == "dense"].set_index("seed")
    base = dense.loc[runs["seed"]].reset_index(drop=True)
    runs["accuracy_drop"] = (base["accuracy"] - runs["accuracy"]) * 100
    runs["speedup_1"] = base["latency_1"] / runs["latency_1"]
    runs["speedup_batch"] = base["latency_batch"] / runs["latency_batch"]
    runs["flop_reduction"] = base["flops"] / runs["flops"]
    return runs, bssl


def best_within(runs, method: str, max_drop: float):
    """Per seed, the ``method`` row with the most lines removed among those whose accuracy
    drop is at most ``max_drop`` points; where none qualifies, that seed's dense row (nothing
    removed, speed-up 1) stands in, relabelled ``method``. One row per seed."""
    picked = []
    for seed, rows in runs.groupby("seed"):
        ok = rows[(rows["method"] == method) & (rows["accuracy_drop"] <= max_drop)]
        row = (ok.loc[ok["lines_removed"].idxmax()] if len(ok)
               else rows[rows["method"] == "dense"].iloc[0])
        picked.append(row.copy().rename(seed))
    frame = pd.DataFrame(picked).reset_index(drop=True)
    frame["method"] = method
    return frame

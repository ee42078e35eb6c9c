"""Runs and sweeps: spec in, cached result out.

``run(spec)`` builds the model, prunes it at initialisation, trains it and stores the result
under the spec's hash; a finished run is loaded, never recomputed. ``sweep(base, grid)`` runs
the cartesian product of a grid of spec changes and returns a tidy DataFrame (one row per run),
so an interrupted sweep resumes where it stopped. This is the only module that knows about
caching.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import platform
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from tqdm import tqdm

from . import __version__
from .analysis.connectivity import effective_mask
from .config import RunSpec
from .data import Dataset, class_balanced_batch, load_data
from .masks import Mask, apply_mask, count, full_mask, layer_densities
from .models import build_model
from .pruners import ScoringContext, magnitude_round, prune, rescale_fan_in
from .pruners.selection import schedule_densities
from .store import ResultStore
from .train import evaluate, resolve_device, train


@dataclass
class Result:
    """Outcome of one run.

    metrics: test_accuracy, test_loss (nats), train_accuracy, train_loss (last epoch; NaN when
        epochs = 0), density and compression achieved (direct), effective_density (weights on
        some input-output path), collapsed_layers (layers with no effective weight),
        prune_seconds, train_seconds.
    history: one dict per epoch (see :func:`pruninglib.train.train`).
    layers: one dict per prunable layer: name, shape, numel, kept, density, effective_density.
    env: versions, device and thread count the run was computed with.
    """

    spec: RunSpec
    key: str
    metrics: dict
    history: list[dict]
    layers: list[dict]
    env: dict

    def to_dict(self) -> dict:
        return {"spec": self.spec.to_dict(), "key": self.key, "metrics": self.metrics,
                "history": self.history, "layers": self.layers, "env": self.env}

    @classmethod
    def from_dict(cls, d: dict) -> "Result":
        return cls(spec=RunSpec.from_dict(d["spec"]), key=d["key"], metrics=d["metrics"],
                   history=d["history"], layers=d["layers"], env=d["env"])


def derive_seed(seed: int, purpose: str) -> int:
    """Independent 63-bit seed for one purpose (init, prune, batches, ...) of a run seed."""
    digest = hashlib.sha256(f"{seed}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _generator(seed: int, purpose: str) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(seed, purpose))


_DATA_CACHE: dict[tuple, Dataset] = {}


def _dataset(spec: RunSpec, device: torch.device, data_root) -> Dataset:
    key = (spec.data, str(device), str(data_root))
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()  # one dataset in memory at a time
        _DATA_CACHE[key] = load_data(spec.data, root=data_root, device=device)
    return _DATA_CACHE[key]


def environment(device: torch.device) -> dict:
    """Versions, device and threads, recorded with every result."""
    return {"pruninglib": __version__, "torch": torch.__version__,
            "python": platform.python_version(), "device": str(device),
            "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                            else platform.processor() or platform.machine()),
            "threads": torch.get_num_threads()}


def _iterative_magnitude(model, spec: RunSpec, data: Dataset, progress: bool) -> Mask:
    """IMP with rewinding to initialisation: train, prune the smallest trained weights to the
    round's density, rewind the survivors to their initial values; ``prune.rounds`` rounds."""
    initial = copy.deepcopy(model.state_dict())
    alive = full_mask(model, spec.prune.include_classifier)
    densities = schedule_densities(spec.prune.density, spec.prune.rounds,
                                   spec.prune.schedule)
    for level, target in enumerate(densities, start=1):
        train(model, data, spec.train, generator=_generator(spec.seed, f"imp-{level}"),
              mask=alive, augment=spec.data.augment, progress=progress,
              desc=f"IMP level {level}/{len(densities)}")
        alive = magnitude_round(model, alive, target, spec.prune.scope)
        model.load_state_dict(initial)
    return alive


def _find_mask(model, spec: RunSpec, data: Dataset, progress: bool) -> Mask:
    if spec.prune.method == "imp":
        return _iterative_magnitude(model, spec, data, progress)
    generator = _generator(spec.seed, "prune")
    x, y = class_balanced_batch(data.train_x, data.train_y, spec.prune.samples_per_class,
                                generator)
    ctx = ScoringContext(input_shape=tuple(data.input_shape), x=x, y=y, generator=generator)
    return prune(model, spec.prune, ctx)


def run(spec: RunSpec, *, results_dir=None, device="auto", progress: bool = True,
        save_weights: bool = False, data_root=None) -> Result:
    """Prune at initialisation, train and evaluate ``spec``; cached under ``spec.key()``.

    results_dir: where results live (default: ``$PRUNINGLIB_RESULTS`` or ``results/``).
    device: 'auto' (cuda if available), 'cpu' or 'cuda'. Not part of the key: a result computed
        on one device is reused on another (the device is recorded in ``Result.env``).
    save_weights: also store the final weights and the mask (safetensors).
    """
    store = ResultStore(results_dir)
    key = spec.key()
    payload = store.load(key)
    if payload is not None and (not save_weights
                                or (store.directory(key) / "weights.safetensors").is_file()):
        return Result.from_dict(payload)
    dev = resolve_device(device)
    data = _dataset(spec, dev, data_root)
    torch.manual_seed(derive_seed(spec.seed, "init"))
    model = build_model(spec.model, tuple(data.input_shape), data.num_classes).to(dev)
    dense_init = {n: p.detach().clone() for n, p in model.named_parameters()}

    start = time.perf_counter()
    mask = _find_mask(model, spec, data, progress)
    prune_seconds = time.perf_counter() - start
    if spec.prune.reinit:
        torch.manual_seed(derive_seed(spec.seed, "reinit"))
        fresh = build_model(spec.model, tuple(data.input_shape), data.num_classes)
        model.load_state_dict(fresh.state_dict())
        dense_init = {n: p.detach().clone() for n, p in model.named_parameters()}
    apply_mask(model, mask)
    if spec.prune.rescale == "fan_in":
        rescale_fan_in(model, mask, dense_init)

    start = time.perf_counter()
    history = train(model, data, spec.train, generator=_generator(spec.seed, "batches"),
                    mask=mask, augment=spec.data.augment, progress=progress,
                    desc=f"{spec.prune.method} d={spec.prune.density:.3g} seed {spec.seed}")
    train_seconds = time.perf_counter() - start
    if history:
        last = history[-1]
        test_loss, test_acc = last["test_loss"], last["test_accuracy"]
        train_loss, train_acc = last["train_loss"], last["train_accuracy"]
    else:
        test_loss, test_acc = evaluate(model, data.test_x, data.test_y)
        train_loss, train_acc = float("nan"), float("nan")

    effective = effective_mask(model, mask, tuple(data.input_shape))
    layers = layer_densities(mask)
    for row, m in zip(layers, effective.values()):
        row["effective_density"] = int(m.sum()) / m.numel()
    kept, total = count(mask)
    effective_kept, _ = count(effective)
    metrics = {"test_accuracy": test_acc, "test_loss": test_loss,
               "train_accuracy": train_acc, "train_loss": train_loss,
               "density": kept / total, "compression": total / kept if kept else float("inf"),
               "effective_density": effective_kept / total,
               "collapsed_layers": sum(int(m.sum()) == 0 for m in effective.values()),
               "prunable_weights": total,
               "prune_seconds": prune_seconds, "train_seconds": train_seconds}
    result = Result(spec=spec, key=key, metrics=metrics, history=history, layers=layers,
                    env=environment(dev))
    weights = None
    if save_weights:
        weights = {**{f"param/{n}": p for n, p in model.state_dict().items()},
                   **{f"mask/{n}": m for n, m in mask.items()}}
    store.save(key, result.to_dict(), weights)
    return result


def grid_specs(base: RunSpec, grid: Mapping[str, Sequence]) -> list[RunSpec]:
    """Cartesian product of ``grid`` (dotted spec path -> values) applied to ``base``, in the
    grid's key order (last key varies fastest). Invalid combinations raise ConfigError."""
    paths = list(grid)
    return [base.replace(**dict(zip(paths, values)))
            for values in itertools.product(*(grid[p] for p in paths))]


def run_all(specs: Iterable[RunSpec], *, progress: bool = True, **kwargs) -> list[Result]:
    """:func:`run` each spec in order (cached ones load instantly), with an overall bar."""
    specs = list(specs)
    return [run(s, progress=progress, **kwargs)
            for s in tqdm(specs, desc="runs", unit="run", disable=not progress)]


def sweep_results(base: RunSpec, grid: Mapping[str, Sequence], **kwargs) -> list[Result]:
    """The :class:`Result` of every run of the grid (see :func:`grid_specs`)."""
    return run_all(grid_specs(base, grid), **kwargs)


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name + "."))
        else:
            out[name] = tuple(v) if isinstance(v, list) else v
    return out


def to_frame(results: Iterable[Result]) -> pd.DataFrame:
    """One row per run: key, every spec field (dotted names) and every metric."""
    return pd.DataFrame([{"key": r.key, **_flatten(r.spec.to_dict()), **r.metrics}
                         for r in results])


def sweep(base: RunSpec, grid: Mapping[str, Sequence], **kwargs) -> pd.DataFrame:
    """Run the grid (cached, resumable) and return :func:`to_frame` of the results."""
    return to_frame(sweep_results(base, grid, **kwargs))


def layers_frame(results: Iterable[Result]) -> pd.DataFrame:
    """One row per (run, prunable layer): run identifiers, layer index and name, numel, kept,
    density and effective density."""
    rows = []
    for r in results:
        ident = {"key": r.key, "model.name": r.spec.model.name,
                 "prune.method": r.spec.prune.method, "prune.density": r.spec.prune.density,
                 "seed": r.spec.seed}
        for index, layer in enumerate(r.layers):
            rows.append({**ident, "layer_index": index, "layer": layer["name"],
                         **{k: layer[k] for k in ("numel", "kept", "density",
                                                  "effective_density")}})
    return pd.DataFrame(rows)

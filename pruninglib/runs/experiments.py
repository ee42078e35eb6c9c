"""Runs and sweeps: spec in, cached result out.

``run(spec)`` builds the model, prunes it at initialisation, applies the training tricks of
``spec.tost`` (:mod:`pruninglib.tost`; the mask stays fixed), trains it and stores the result
under the spec's hash; a finished run is loaded, never recomputed. ``sweep(base, grid)`` runs
the cartesian product of a grid of spec changes and returns a tidy DataFrame (one row per run),
so an interrupted sweep resumes where it stopped. ``mask_of(spec)`` gives a run's mask without
training (stored, or found again with the run's seeds). This is the only module that knows
about caching.

A run is computed under a claim on its store directory (:meth:`ResultStore.try_claim`), so
workers sharing a results directory never compute the same run twice: :func:`attempt` returns
None when another live worker holds the claim, :func:`run` waits for that worker's result.
``sweep(..., executor=...)`` maps the missing runs to a process pool, SLURM (submitit) or Ray
(:mod:`pruninglib.executors`). ``checkpoint_every`` saves the training state every few epochs
(safetensors + JSON) so a preempted run resumes mid-training with identical numbers.
"""
from __future__ import annotations

import copy
import itertools
import math
import platform
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from .. import __version__
from ..config import ConfigError
from ..analysis.connectivity import effective_mask
from ..config import RunSpec, ToSTSpec
from ..data import Dataset, class_balanced_batch, load_data_once
from ..masks import Mask, apply_mask, count, full_mask, layer_densities
from ..pruners import ScoringContext, magnitude_round, prune, rescale_fan_in
from ..pruners.selection import schedule_densities
from .cache import Context, Output, Task, cached, canonical_json, load, store_for
from .cache import attempt as cache_attempt
from .executors import SweepError, execute, make_executor
from .networks import initial_network, mask_from_tensors, network_tensors, seeded_network
from .store import ResultStore
from ..tricks import Ghosts, gradinit
from .. import seeds
from ..seeds import derive_seed
from ..train import evaluate, resolve_device, train


@dataclass
class Result:
    """Outcome of one run.

    metrics: test_accuracy, test_loss (nats), train_accuracy, train_loss (last epoch; NaN when
        epochs = 0), density and compression achieved (direct), effective_density (weights on
        some input-output path), collapsed_layers (layers with no effective weight),
        empty_layers (layers with no kept weight at all), diverged (a loss went non-finite:
        the numbers are not a trained network's; a warning is issued), prune_seconds,
        train_seconds (GradInit included).
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


def dataset_for(spec, device: torch.device, data_root) -> Dataset:
    """The data of ``spec`` (anything with a ``data`` DataSpec; see :func:`load_data_once`)."""
    return load_data_once(spec.data, root=data_root, device=device)


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
        train(model, data, spec.train, generator=seeds.generator(spec.seed, f"imp-{level}"),
              mask=alive, augment=spec.data.augment, progress=progress,
              desc=f"IMP level {level}/{len(densities)}")
        alive = magnitude_round(model, alive, target, spec.prune.scope)
        model.load_state_dict(initial)
    return alive


def _find_mask(model, spec: RunSpec, data: Dataset, progress: bool) -> Mask:
    if spec.prune.method == "imp":
        return _iterative_magnitude(model, spec, data, progress)
    generator = seeds.generator(spec.seed, "prune")
    x, y = class_balanced_batch(data.train_x, data.train_y, spec.prune.samples_per_class,
                                generator)
    ctx = ScoringContext(input_shape=tuple(data.input_shape), x=x, y=y, generator=generator)
    return prune(model, spec.prune, ctx)


def run_task(spec: RunSpec, save_weights: bool = False) -> Task:
    """The cached task of a training run: kind 'run', key ``spec.key()``."""
    return Task("run", spec.to_json(), "pruninglib.runs.experiments:compute_run",
                bool(save_weights))


def mask_of(spec: RunSpec, *, results_dir=None, device="cpu", data_root=None) -> Mask:
    """The mask that :func:`run` trains for ``spec``, without training.

    If the run is stored with its weights (``run(..., save_weights=True)``), the stored mask;
    otherwise the mask is recomputed from the same initialisation, pruning batch and seeds as
    the run's (identical on the same device) and cached as kind 'masks' under the run's key.
    Method 'imp' finds its mask by training, so recomputing it costs its pruning rounds.
    Returns ``{name: bool tensor}`` on the CPU, input to output.
    """
    runs = store_for("run", results_dir)
    stored = load(run_task(spec, save_weights=True), runs)
    if stored is not None:  # safetensors sorts names: restore the run's layer order
        return mask_from_tensors(runs.load_weights(spec.key()),
                                 [layer["name"] for layer in stored["layers"]])
    task = Task("masks", spec.to_json(), "pruninglib.runs.experiments:compute_mask", True)
    payload = cached(task, results_dir=results_dir, device=device, data_root=data_root)
    tensors = store_for("masks", results_dir).load_weights(task.key())
    return {name: tensors[name].bool() for name in payload["layers"]}


def compute_mask(spec: dict, context: Context) -> Output:
    """Compute function of :func:`mask_of`: the run's mask found again, without training."""
    spec = RunSpec.from_dict(spec)
    dev = resolve_device(context.device)
    data = dataset_for(spec, dev, context.data_root)
    mask = _find_mask(initial_network(spec.model, data.input_shape, data.num_classes, spec.seed, dev), spec, data, progress=False)
    mask = {n: m.bool().cpu() for n, m in mask.items()}
    return Output({"spec": spec.to_dict(), "layers": list(mask)}, mask)


def run(spec: RunSpec, *, results_dir=None, device="auto", progress: bool = True,
        save_weights: bool = False, data_root=None, checkpoint_every: int | None = None,
        poll_seconds: float = 2.0) -> Result:
    """Prune at initialisation, train and evaluate ``spec``; cached under ``spec.key()``.

    results_dir: where results live (default: ``$PRUNINGLIB_RESULTS`` or ``results/``).
    device: 'auto' (cuda if available), 'cpu' or 'cuda'. Not part of the key: a result computed
        on one device is reused on another (the device is recorded in ``Result.env``).
    save_weights: also store the final weights and the mask (safetensors).
    checkpoint_every: save the training state every this many epochs (and once after pruning),
        so that a killed or preempted run resumes where it stopped with identical numbers.
        An existing checkpoint is resumed whatever this is; it is removed once the run is done.
    poll_seconds: if another worker is computing this run (it holds the run's claim, see
        :class:`pruninglib.runs.store.Claim`), wait for its result, checking this often; if
        that worker dies, compute the run here.

    A run that raises records the error in the store (``error.json``) and raises it.
    """
    payload = cached(run_task(spec, save_weights), results_dir=results_dir,
                     poll_seconds=poll_seconds, device=device, progress=progress,
                     data_root=data_root, checkpoint_every=checkpoint_every)
    return Result.from_dict(payload)


def attempt(spec: RunSpec, *, store: ResultStore, device="auto", progress: bool = False,
            save_weights: bool = False, data_root=None,
            checkpoint_every: int | None = None) -> Result | None:
    """:func:`run` without waiting: the result if stored or computed here, None if another live
    worker holds the run's claim (executors report it as running and poll the store)."""
    payload = cache_attempt(run_task(spec, save_weights), store, device=device,
                            progress=progress, data_root=data_root,
                            checkpoint_every=checkpoint_every)
    return None if payload is None else Result.from_dict(payload)


# -- checkpoints -------------------------------------------------------------------------------
def _optimizer_to_store(state: dict) -> tuple[dict, dict]:
    """Split an optimizer state_dict into JSON and tensors (safetensors, no pickle)."""
    tensors, plain = {}, {}
    for index, values in state["state"].items():
        plain[str(index)] = {}
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{index}/{name}"] = value
            else:
                plain[str(index)][name] = value
    return {"state": plain, "param_groups": state["param_groups"]}, tensors


def _optimizer_from_store(plain: dict, tensors: dict) -> dict:
    state = {int(index): dict(values) for index, values in plain["state"].items()}
    for name, value in tensors.items():
        if name.startswith("optimizer/"):
            _, index, field = name.split("/", 2)
            state.setdefault(int(index), {})[field] = value
    return {"state": state, "param_groups": plain["param_groups"]}


def _save_checkpoint(store: ResultStore, key: str, epoch: int, model, mask: Mask,
                     generator: torch.Generator, history: list[dict], optimizer, scheduler,
                     seconds: dict) -> None:
    tensors = {**{f"model/{n}": t for n, t in model.state_dict().items()},
               **{f"mask/{n}": m for n, m in mask.items()},
               "rng/batches": generator.get_state()}
    state = {"epoch": epoch, "history": history, "seconds": seconds,
             "mask_names": list(mask)}
    if optimizer is not None:
        plain, optimizer_tensors = _optimizer_to_store(optimizer.state_dict())
        tensors.update(optimizer_tensors)
        scheduler_state = {k: v for k, v in scheduler.state_dict().items()
                           if k != "milestones"}  # a Counter, rebuilt from the spec
        state.update(optimizer=plain, scheduler=scheduler_state)
    store.save_checkpoint(key, state, tensors)


def compute_run(spec: dict, context: Context) -> Output:
    """Compute function of a training run (:func:`run_task`): prune at initialisation, train,
    evaluate. Checkpoints go to ``context.store`` under ``context.key``."""
    spec = RunSpec.from_dict(spec)
    store, key, progress = context.store, context.key, context.progress
    checkpoint_every = context.checkpoint_every
    dev = resolve_device(context.device)
    data = dataset_for(spec, dev, context.data_root)
    model = initial_network(spec.model, data.input_shape, data.num_classes, spec.seed, dev)
    batch_generator = seeds.generator(spec.seed, "batches")
    checkpoint = store.load_checkpoint(key)
    resume = None
    if checkpoint is not None:
        state, tensors = checkpoint
        ghosts = Ghosts(model, spec.tost)  # the checkpoint holds the ghost weights too
        model.load_state_dict({n[len("model/"):]: t for n, t in tensors.items()
                               if n.startswith("model/")})
        mask = {n: tensors[f"mask/{n}"].to(dev) for n in state["mask_names"]}
        batch_generator.set_state(tensors["rng/batches"])
        prune_seconds = state["seconds"]["prune"]
        train_before = state["seconds"]["train"]
        if state["epoch"] > 0:
            resume = {"epoch": state["epoch"], "history": state["history"],
                      "optimizer": _optimizer_from_store(state["optimizer"], tensors),
                      "scheduler": state["scheduler"]}
    else:
        mask, prune_seconds, train_before = prepare_network(model, spec, data, progress)
        ghosts = Ghosts(model, spec.tost)  # ToST's ghosts, none when spec.tost is off
        if checkpoint_every is not None and spec.train.epochs > 0:
            _save_checkpoint(store, key, 0, model, mask, batch_generator, [], None, None,
                             {"prune": prune_seconds, "train": train_before})

    start = time.perf_counter()

    def on_epoch(point: dict) -> None:
        epoch = point["epoch"]
        if checkpoint_every is not None and epoch % checkpoint_every == 0 \
                and epoch < spec.train.epochs:
            seconds = {"prune": prune_seconds,
                       "train": train_before + time.perf_counter() - start}
            _save_checkpoint(store, key, epoch, model, mask, batch_generator,
                             point["history"], point["optimizer"], point["scheduler"], seconds)

    history = train(model, data, spec.train, generator=batch_generator,
                    mask=mask, augment=spec.data.augment, progress=progress,
                    desc=f"{spec.prune.method} d={spec.prune.density:.3g} seed {spec.seed}",
                    resume=resume, on_epoch=on_epoch, before_epoch=ghosts.set_epoch,
                    before_step=ghosts.set_step)
    ghosts.remove()  # the evaluated net is the plain sparse net
    train_seconds = train_before + time.perf_counter() - start
    return run_output(spec, key, model, mask, data, history, prune_seconds, train_seconds,
                      dev, context.weights)


def prepare_network(model, spec: RunSpec, data: Dataset, progress: bool
                    ) -> tuple[Mask, float, float]:
    """What a run does to its initial network before training, in place: find the mask,
    re-initialise if asked, zero the pruned weights, rescale, GradInit. Returns the mask and
    the seconds spent pruning and in GradInit (which counts as training)."""
    dense_init = {n: p.detach().clone() for n, p in model.named_parameters()}
    start = time.perf_counter()
    mask = _find_mask(model, spec, data, progress)
    prune_seconds = time.perf_counter() - start
    if spec.prune.reinit:
        fresh = seeded_network(spec.model, data.input_shape, data.num_classes,
                               derive_seed(spec.seed, "reinit"))
        model.load_state_dict(fresh.state_dict())
        dense_init = {n: p.detach().clone() for n, p in model.named_parameters()}
    apply_mask(model, mask)
    if spec.prune.rescale == "fan_in":
        rescale_fan_in(model, mask, dense_init)
    start = time.perf_counter()
    if spec.tost.gradinit_steps:
        gradinit(model, mask, data.train_x, data.train_y, steps=spec.tost.gradinit_steps,
                 batch_size=spec.train.batch_size,
                 generator=seeds.generator(spec.seed, "gradinit"))
    return mask, prune_seconds, time.perf_counter() - start


def run_output(spec: RunSpec, key: str, model, mask: Mask, data: Dataset,
               history: list[dict], prune_seconds: float, train_seconds: float, dev,
               weights: bool, env: Mapping | None = None) -> Output:
    """The stored form of a trained run: metrics from the last epoch (or an evaluation at
    initialisation), layer densities, effective densities, environment (``env`` added to
    it), and the network's tensors if ``weights``."""
    effective = effective_mask(model, mask, tuple(data.input_shape))
    layers = layer_densities(mask)
    for row, m in zip(layers, effective.values()):
        row["effective_density"] = int(m.sum()) / m.numel()
    final = final_metrics(model, mask, data, history)
    total = final.pop("prunable_weights")
    effective_kept, _ = count(effective)
    metrics = {**final, "effective_density": effective_kept / total,
               "collapsed_layers": sum(int(m.sum()) == 0 for m in effective.values()),
               "prunable_weights": total,
               "empty_layers": sum(int(m.sum()) == 0 for m in mask.values()),
               "diverged": not all(math.isfinite(h["train_loss"]) for h in history)
                           or not math.isfinite(final["test_loss"]),
               "prune_seconds": prune_seconds, "train_seconds": train_seconds}
    _warn_if_abnormal(spec, metrics)
    result = Result(spec=spec, key=key, metrics=metrics, history=history, layers=layers,
                    env={**environment(dev), **(env or {})})
    return Output(result.to_dict(), network_tensors(model, mask) if weights else None)


def final_metrics(model, mask: Mask, data: Dataset, history: list[dict]) -> dict:
    """Test and train accuracy (fraction) and loss (nats) of the last epoch of ``history``
    (with no epoch: the test set evaluated now, train metrics NaN), and the kept ``density``,
    ``compression`` (1/density, inf when nothing is kept) and ``prunable_weights`` of
    ``mask``."""
    if history:
        last = {k: history[-1][k] for k in ("test_accuracy", "test_loss", "train_accuracy",
                                            "train_loss")}
    else:
        loss, accuracy = evaluate(model, data.test_x, data.test_y)
        last = {"test_accuracy": accuracy, "test_loss": loss,
                "train_accuracy": float("nan"), "train_loss": float("nan")}
    kept, total = count(mask)
    return {**last, "density": kept / total,
            "compression": total / kept if kept else float("inf"), "prunable_weights": total}


class AbnormalRunWarning(UserWarning):
    """A run was stored, but its loss went non-finite or its mask left a layer empty."""


def _warn_if_abnormal(spec: RunSpec, metrics: dict) -> None:
    problems = []
    if metrics["diverged"]:
        problems.append("its loss went non-finite (diverged=True; try a smaller train.lr)")
    if metrics["empty_layers"] and spec.prune.method != "dense":
        problems.append(f"its mask leaves {metrics['empty_layers']} layer(s) without any "
                        f"weight (empty_layers; density {spec.prune.density:g} is too low "
                        f"for this network)")
    if problems:
        warnings.warn(f"run {spec.key()} ({spec.model.name}, {spec.prune.method}, seed "
                      f"{spec.seed}): " + "; ".join(problems), AbnormalRunWarning, stacklevel=3)


def grid_specs(base: RunSpec, grid: Mapping[str, Sequence]) -> list[RunSpec]:
    """Cartesian product of ``grid`` (dotted spec path -> values) applied to ``base``, in the
    grid's key order (last key varies fastest). A grid axis that is not a non-empty list (a
    bare string, an empty list) and invalid combinations raise ConfigError."""
    for path, values in grid.items():
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise ConfigError(f"grid {path}={values!r} is not allowed: a non-empty list of "
                              f"values, e.g. [{values!r}]")
    grid = {path: list(values) for path, values in grid.items()}
    empty = [path for path, values in grid.items() if not values]
    if empty:
        raise ConfigError(f"grid {empty[0]}=[] is not allowed: a non-empty list of values")
    paths = list(grid)
    return [base.replace(**dict(zip(paths, values)))
            for values in itertools.product(*(grid[p] for p in paths))]


def run_all(specs: Iterable[RunSpec], *, progress: bool = True, executor=None,
            ensemble: bool = False, **kwargs) -> list[Result]:
    """:func:`run` each spec (cached ones load instantly) on ``executor`` (see
    :func:`pruninglib.executors.make_executor`: None/'inline' runs them here, in order, with
    an overall bar; 'pool', 'submitit', 'ray' map them to the engine's workers), in the order
    given. Failed runs do not stop the others: once all are finished, one
    :class:`pruninglib.executors.SweepError` lists them (the stored results stay).

    ensemble: first train the missing runs that can share one batched model (same data,
    model and training spec, no ToST trick; see :func:`ensemble_groups`) in groups, one group
    per task of the executor, each run still stored under its own key
    (:mod:`pruninglib.runs.ensembles`); the rest train alone. Off by default: a run trained in
    an ensemble equals the run trained alone up to float32 rounding only, so results computed
    before stay reproducible bit for bit without it. Not with ``checkpoint_every`` (ensembles
    write no checkpoints: those runs train alone)."""
    specs = list(specs)
    save_weights = kwargs.pop("save_weights", False)
    tasks = [run_task(spec, save_weights) for spec in specs]
    if ensemble:
        executor = make_executor(executor)
        _train_in_ensembles(specs, save_weights, executor, progress, kwargs)
    try:
        payloads = execute(tasks, executor=executor, progress=progress, **kwargs)
    except SweepError as error:
        error.results = [Result.from_dict(p) for p in error.results]
        for item in error.failed:
            item["spec"] = RunSpec.from_dict(item["spec"])
        raise
    return [Result.from_dict(p) for p in payloads]


ENSEMBLE_FUNCTION = "pruninglib.runs.ensembles:compute_ensemble"
MAX_ENSEMBLE = 16
"""Largest group handed to one worker (memory grows with it; the speed-up flattens well
before)."""


class EnsembleFallbackWarning(UserWarning):
    """A group of runs could not be trained as an ensemble: its runs were trained alone."""


def ensemble_signature(spec: RunSpec) -> str | None:
    """What runs must share to be trained as one ensemble (data, model, training spec, hence
    the number of steps), as canonical JSON; None for a run that cannot join one (ToST tricks
    change the network during training; ``train.epochs = 0`` trains nothing; ensembles keep
    the default memory layout, so ``train.channels_last`` runs train alone)."""
    if spec.tost != ToSTSpec() or spec.train.epochs == 0 or spec.train.channels_last:
        return None
    d = spec.to_dict(full=True)
    return canonical_json({"data": d["data"], "model": d["model"], "train": d["train"]})


def ensemble_groups(specs: Iterable[RunSpec], *, max_members: int = MAX_ENSEMBLE,
                    min_groups: int = 1) -> list[list[RunSpec]]:
    """The runs of ``specs`` that can be trained together, in groups of 2 to ``max_members``
    (compatible runs split into groups of nearly equal sizes, at least ``min_groups`` of them
    where there are enough runs, e.g. one per worker of a pool), in the order given. Runs
    without a partner are left out (they train alone)."""
    by_signature: dict[str, list[RunSpec]] = {}
    seen = set()
    for spec in specs:
        signature = ensemble_signature(spec)
        if signature is None or spec.key() in seen:
            continue
        seen.add(spec.key())
        by_signature.setdefault(signature, []).append(spec)
    groups = []
    for members in by_signature.values():
        if len(members) < 2:
            continue
        count = max(math.ceil(len(members) / max_members),
                    min(min_groups, len(members) // 2))
        bounds = [round(i * len(members) / count) for i in range(count + 1)]
        groups += [members[a:b] for a, b in zip(bounds, bounds[1:])]
    return groups


def _train_in_ensembles(specs: list[RunSpec], save_weights: bool, executor, progress: bool,
                        options: dict) -> None:
    """Train the missing runs of ``specs`` that can share a batched model, one group per
    task of ``executor``; a group that fails leaves its runs to be trained alone."""
    if options.get("checkpoint_every") is not None:
        return
    runs = store_for("run", options.get("results_dir"))
    runs.check_root()
    missing = [spec for spec in specs if runs.status(spec.key()) in ("missing", "failed")]
    groups = ensemble_groups(missing, min_groups=getattr(executor, "workers", 1) or 1)
    if not groups:
        return
    tasks = [Task.make("ensemble", {"members": [m.to_dict() for m in group],
                                    "weights": bool(save_weights)}, ENSEMBLE_FUNCTION)
             for group in groups]
    try:
        execute(tasks, executor=executor, progress=progress,
                **{k: v for k, v in options.items() if k != "on_progress"})
    except SweepError as error:
        warnings.warn(f"{len(error.failed)} of {len(tasks)} ensembles failed (first: "
                      f"{error.failed[0]['error']}); their runs are trained alone",
                      EnsembleFallbackWarning, stacklevel=3)


def sweep_results(base: RunSpec, grid: Mapping[str, Sequence], **kwargs) -> list[Result]:
    """The :class:`Result` of every run of the grid (see :func:`grid_specs`); keyword
    arguments as :func:`run_all` (``executor=``) and :func:`run`."""
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
    return pd.DataFrame([{"key": r.key, **_flatten(r.spec.to_dict(full=True)), **r.metrics}
                         for r in results])


def sweep(base: RunSpec, grid: Mapping[str, Sequence], **kwargs) -> pd.DataFrame:
    """Run the grid (cached, resumable) and return :func:`to_frame` of the results.

    Keyword arguments: ``executor`` (None/'inline', 'pool[:N]', 'submitit[:...]', 'ray[:...]'
    or an executor object; see :mod:`pruninglib.executors`) and those of :func:`run`."""
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

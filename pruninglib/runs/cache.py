"""The one cached-computation path: every stored result of the study goes through here.

A :class:`Task` names one computation: its ``kind`` (which part of the store it lives in),
its ``spec`` (a JSON-able dict: everything that changes the result) and the function that
computes it (a ``"module:function"`` path, so a task is plain data that pickles, crosses
process and machine boundaries, and needs no import of the chapter that defined it). The
task's key is the first 16 hex digits of the SHA-256 of the spec's canonical JSON (sorted
keys, no whitespace), the same rule :meth:`pruninglib.config.RunSpec.key` uses, so a
training run's key is its RunSpec key and every results folder built before keeps working.

Where results live (``results_dir`` default: ``$PRUNINGLIB_RESULTS`` or ``results/``):

* kind ``run`` (training runs, :mod:`pruninglib.runs.experiments`): ``<results>/<key[:2]>/<key>/``;
* any other kind: ``<results>/<kind>/<key[:2]>/<key>/`` (e.g. ``collapse``, ``ntk``, ``tprune``,
  ``derived``, ``drift``, ``masks``).

:func:`attempt` is what a worker does for one task: load it if stored (checksum and key
verified by :class:`~pruninglib.runs.store.ResultStore`), else claim it, compute it, write it
atomically, release the claim. :func:`pruninglib.runs.executors.execute` maps many tasks to an executor (inline,
a process pool, SLURM, Ray); :func:`cached` is the one-task form that waits for another worker holding the task's claim.

The compute function has the signature ``compute(spec: dict, context: Context) -> Output``.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import ConfigError
from .store import ResultStore, StoreError

RUN_KIND = "run"


def spec_key(spec_json: str) -> str:
    """16-hex-digit SHA-256 prefix of a canonical JSON text (the cache key)."""
    return hashlib.sha256(spec_json.encode()).hexdigest()[:16]


def canonical_json(spec: Mapping) -> str:
    """Sorted keys, no whitespace: equal specs give equal texts (and equal keys)."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Task:
    """One cached computation.

    kind: the store part it lives in (``run`` is the results root, others a sub-folder).
    spec_json: canonical JSON of the spec (build with :meth:`make`).
    function: ``"module:function"`` computing it, called as ``function(spec, context)``.
    weights: whether the stored entry counts only with its weights file (safetensors).
    """

    kind: str
    spec_json: str
    function: str
    weights: bool = False

    @classmethod
    def make(cls, kind: str, spec: Mapping, function: str | Callable, *,
             weights: bool = False) -> "Task":
        """A task from a JSON-able ``spec`` and a function (or its ``module:name`` path)."""
        if not kind or not kind.replace("_", "").isalnum():
            raise ConfigError(f"kind={kind!r} is not allowed: letters, digits and _")
        if callable(function):
            function = f"{function.__module__}:{function.__qualname__}"
        return cls(kind, canonical_json(spec), function, bool(weights))

    @property
    def spec(self) -> dict:
        return json.loads(self.spec_json)

    def key(self) -> str:
        return spec_key(self.spec_json)

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "spec": self.spec_json,
                           "function": self.function, "weights": self.weights})

    @classmethod
    def from_json(cls, text: str) -> "Task":
        d = json.loads(text)
        return cls(d["kind"], d["spec"], d["function"], d["weights"])


@dataclass
class Output:
    """What a compute function returns: a JSON-able payload and optional tensors."""

    payload: dict
    weights: dict[str, torch.Tensor] | None = None


@dataclass
class Context:
    """What a compute function may use besides its spec.

    store: the task's part of the store (checkpoints of long computations go there).
    key: the task's key. results_dir: the results root (to load other stored results).
    device, data_root, progress, checkpoint_every: the caller's options.
    weights: whether the task stores tensors (its :attr:`Task.weights`).
    """

    store: ResultStore
    key: str
    results_dir: Path
    device: str = "auto"
    data_root: str | None = None
    progress: bool = False
    checkpoint_every: int | None = None
    weights: bool = False


def store_for(kind: str, results_dir=None, *, stale_after: float | None = None
              ) -> ResultStore:
    """The store of ``kind`` under the results root ``results_dir``."""
    root = ResultStore(results_dir, stale_after=stale_after)
    if kind == RUN_KIND:
        return root
    return ResultStore(root.root / kind, stale_after=root.stale_after)


def resolve_function(path: str) -> Callable:
    """The function a ``"module:qualname"`` path names."""
    module, _, name = path.partition(":")
    target = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


def load(task: Task, store: ResultStore) -> dict | None:
    """The stored payload of ``task`` or None (not stored, no weights where they are needed,
    or a payload that names another key: never used, recomputed)."""
    key = task.key()
    payload = store.load(key)
    if payload is None:
        return None
    if payload.get("key", key) != key:
        store.discard(key, f"its result names key {payload.get('key')!r}")
        return None
    if task.weights and not store.has_weights(key):
        return None
    store.remove_dead_claim(key)
    return payload


def check_checkpoint_every(checkpoint_every) -> None:
    if checkpoint_every is not None and (isinstance(checkpoint_every, bool) or not isinstance(
            checkpoint_every, int) or checkpoint_every < 1):
        raise ConfigError(f"checkpoint_every={checkpoint_every!r} is not allowed: None or a "
                          f"positive number of epochs")


def attempt(task: Task, store: ResultStore, **options) -> dict | None:
    """The payload of ``task``: loaded if stored, else computed here under the task's claim
    and stored. None when another live worker holds the claim (wait for it, or poll).

    A compute function that raises records the error in the store (``error.json``) and the
    error propagates. ``options`` go to :class:`Context` (device, data_root, progress,
    checkpoint_every)."""
    check_checkpoint_every(options.get("checkpoint_every"))
    key = task.key()
    stored = load(task, store)
    if stored is not None:
        return stored
    claim = store.try_claim(key)
    if claim is None:
        return None
    with claim:
        stored = load(task, store)  # finished between our load and our claim
        if stored is not None:
            return stored
        compute = resolve_function(task.function)
        context = Context(store=store, key=key, results_dir=_results_root(store, task.kind),
                          weights=task.weights, **options)
        started = time.perf_counter()
        try:
            output = compute(task.spec, context)
        except StoreError:
            raise
        except Exception as error:
            try:
                store.save_error(key, error, task.spec)
            except StoreError as store_error:
                error.add_note(str(store_error))
            raise
        if not claim.owned():
            return None  # taken over by another worker (we were thought dead): theirs counts
        payload = {**output.payload, "key": key}
        store.save(key, payload, output.weights)
        log_compute_time(task.kind, time.perf_counter() - started, payload)
        store.clear_error(key)
        store.clear_checkpoint(key)
    return payload


TIME_LOG_VARIABLE = "PRUNINGLIB_TIME_LOG"


def log_compute_time(kind: str, seconds: float, payload: dict) -> None:
    """Append what a computation cost to the file ``$PRUNINGLIB_TIME_LOG`` names, if set (the
    book runner sets it per chapter to say where a build's time goes): one JSON line with the
    kind, the wall seconds and, for training runs, their pruning and training seconds. Lines
    are appended whole, so the workers of a pool can share the file."""
    path = os.environ.get(TIME_LOG_VARIABLE)
    if not path:
        return
    metrics = payload.get("metrics", {}) if isinstance(payload, dict) else {}
    record = {"kind": kind, "seconds": round(seconds, 3),
              **{k: round(float(metrics[k]), 3) for k in ("prune_seconds", "train_seconds")
                 if isinstance(metrics.get(k), (int, float))}}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _results_root(store: ResultStore, kind: str) -> Path:
    return store.root if kind == RUN_KIND else store.root.parent


def cached(task: Task, *, results_dir=None, poll_seconds: float = 2.0, **options) -> dict:
    """The payload of one task, computed here unless stored; if another worker is computing
    it, wait for its result (and compute it here if that worker dies)."""
    store = store_for(task.kind, results_dir)
    while True:
        payload = attempt(task, store, **options)
        if payload is not None:
            return payload
        time.sleep(poll_seconds)

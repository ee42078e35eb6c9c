"""A dry run of a profile: every chapter's parameters resolved, every task it would compute
validated, and every distinct network built, pruned and trained for one step, on the CPU in
minutes (``make book PROFILE=paper DRY_RUN=1``, or
``python -m pruninglib.chapters.dry_run --profile paper``).

The ``paper`` profile needs a GPU and CIFAR, so a GPU user would be the first to find its
errors; this finds the ones that do not need either. Per chapter it calls the chapter's
``plan(params)`` (the tasks its notebook would compute, made by the same functions the notebook
calls), then:

* every task's spec is parsed again and its compute function imported;
* for every distinct (network, input shape) of its training runs: the network is built, pruned
  with every method the chapter uses on it (iterative methods with at most
  :data:`MAX_ROUNDS` rounds: the same code, fewer repetitions), and trained for one step
  (batch of :data:`BATCH`) on the run's own data; CIFAR, when it is not on disk, is replaced by
  a small file set in CIFAR's own format (:func:`write_cifar_format`).

Nothing is stored in the results folder. This module sits above the chapter packages: it is
the one place besides the notebooks that imports all of them.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..book.parameters import ParameterError, load_profiles, parameters_for, repo_root
from ..book.runner import toc_chapters
from ..config import ConfigError, DataSpec, RunSpec
from ..data import class_balanced_batch, default_data_root, load_data
from ..masks import apply_mask
from ..pruners import ScoringContext, prune
from ..runs.cache import Task, resolve_function
from ..runs.networks import initial_network
from ..train import make_optimizer

MAX_ROUNDS = 2
BATCH = 8
CIFAR_FILES = {"cifar10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)]
                           + ["test_batch"], "labels", 10),
               "cifar100": ("cifar-100-python", ["train", "test"], "fine_labels", 100)}


def write_cifar_format(root: Path, name: str, per_file: int = 20, seed: int = 0) -> Path:
    """A small file set in CIFAR's own pickle format under ``root`` (random pixels, every
    class present), read by :func:`pruninglib.data.load_data` exactly like the real one."""
    folder, files, label_key, classes = CIFAR_FILES[name]
    rng = np.random.default_rng(seed)
    (root / folder).mkdir(parents=True, exist_ok=True)
    for file in files:
        labels = [int(i % classes) for i in range(max(per_file, classes))]
        data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
        with open(root / folder / file, "wb") as f:
            pickle.dump({"data": data, label_key: labels}, f)
    return root


@dataclass
class ChapterReport:
    """What the dry run did for one chapter."""

    chapter: str
    tasks: dict = field(default_factory=dict)      # kind -> count
    networks: list = field(default_factory=list)   # "model ×width on data: methods" lines
    errors: list = field(default_factory=list)
    seconds: float = 0.0


def _run_groups(tasks: list[Task]) -> dict[tuple, dict]:
    """(model spec JSON, data name, augment) -> {pruning variant: (prune spec, train spec)}:
    one variant per method and its options, at the smallest density the chapter asks of it
    on that network (the likeliest to break), iterative methods capped at
    :data:`MAX_ROUNDS` rounds."""
    groups: dict[tuple, dict] = {}
    for task in tasks:
        if task.kind != "run":
            continue
        spec = RunSpec.from_dict(task.spec)
        key = (json.dumps(dataclasses.asdict(spec.model), sort_keys=True), spec.data.name,
               spec.data.augment)
        prune_spec = spec.prune
        if prune_spec.method not in ("dense", "imp"):
            prune_spec = dataclasses.replace(prune_spec,
                                             iterations=min(prune_spec.rounds, MAX_ROUNDS))
        variant = json.dumps({**dataclasses.asdict(prune_spec), "density": None},
                             sort_keys=True)
        known = groups.setdefault(key, {}).get(variant)
        if known is None or prune_spec.density < known[0].density:
            groups[key][variant] = (prune_spec, spec.train)
    return groups


def _check_network(model_json: str, data_name: str, augment: bool, variants: dict,
                   data_root: Path) -> str:
    """Build, prune with every variant's method and train one step; the line for the report."""
    from ..config import ModelSpec

    model_spec = ModelSpec(**json.loads(model_json))
    data = load_data(DataSpec(data_name), root=data_root)
    x, y = data.train_x[:BATCH], data.train_y[:BATCH]
    methods = []
    for prune_spec, train_spec in variants.values():
        model = initial_network(model_spec, data.input_shape, data.num_classes, 0)
        mask = None
        if prune_spec.method not in ("dense", "imp"):
            generator = torch.Generator().manual_seed(0)
            bx, by = class_balanced_batch(data.train_x, data.train_y, 1, generator)
            context = ScoringContext(input_shape=tuple(data.input_shape), x=bx, y=by,
                                     generator=generator)
            mask = prune(model, prune_spec, context)
            apply_mask(model, mask)
        optimizer = make_optimizer(model, train_spec)
        model.train()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite loss {loss.item()} after one step")
        methods.append(prune_spec.method)
    width = f" ×{model_spec.width:g}" if model_spec.width != 1 else ""
    return (f"{model_spec.name}{width} on {data_name}{' (augmented)' if augment else ''}: "
            f"{', '.join(sorted(set(methods)))}")


def dry_run_chapter(chapter: str, profile: str, data_root: Path,
                    profiles: dict | None = None) -> ChapterReport:
    """The dry run of one chapter (see the module docstring); errors are collected, not
    raised, one line each."""
    report = ChapterReport(chapter)
    start = time.perf_counter()
    try:
        params = parameters_for(chapter, profile, profiles=profiles)
        package = importlib.import_module(f"{__package__}.{chapter}")
        if not hasattr(package, "plan"):
            raise AttributeError(f"chapter {chapter!r} has no plan(params) function")
        tasks = list(package.plan(params))
    except (ParameterError, ConfigError, AttributeError, ValueError) as error:
        report.errors.append(f"{type(error).__name__}: {error}")
        report.seconds = time.perf_counter() - start
        return report
    for task in tasks:
        report.tasks[task.kind] = report.tasks.get(task.kind, 0) + 1
        try:
            if task.kind == "run":
                RunSpec.from_dict(task.spec)
            resolve_function(task.function)
        except Exception as error:  # noqa: BLE001 - every problem is reported, none raised
            report.errors.append(f"task {task.key()} ({task.kind}): {error}")
    for (model_json, data_name, augment), variants in _run_groups(tasks).items():
        try:
            report.networks.append(_check_network(model_json, data_name, augment, variants,
                                                  data_root))
        except Exception as error:  # noqa: BLE001
            model = json.loads(model_json)["name"]
            report.errors.append(f"{model} on {data_name}: {type(error).__name__}: {error}")
    report.seconds = time.perf_counter() - start
    return report


def _data_root_for(data_root: Path | None, scratch: Path) -> Path:
    """A data root with every dataset: the real files where they are on disk (linked), and a
    small CIFAR-format set for each CIFAR dataset that is not."""
    real = Path(data_root) if data_root is not None else default_data_root()
    for entry in real.iterdir() if real.is_dir() else []:
        (scratch / entry.name).symlink_to(entry.resolve())
    for name, (folder, *_rest) in CIFAR_FILES.items():
        if not (scratch / folder).exists():
            write_cifar_format(scratch, name)
    return scratch


def dry_run(profile: str = "paper", chapters: list[str] | None = None, *,
            data_root: Path | None = None, out=None) -> list[ChapterReport]:
    """The dry run of every chapter in ``_toc.yml`` (or ``chapters``); prints one block per
    chapter to ``out`` and returns the reports."""
    out = out or sys.stdout
    root = repo_root()
    profiles = load_profiles(root / "notebooks" / "profiles.yml")
    chapters = chapters or toc_chapters(root)
    reports = []
    with tempfile.TemporaryDirectory(prefix="dry-run-data-") as scratch:
        root_for_data = _data_root_for(data_root, Path(scratch))
        for chapter in chapters:
            report = dry_run_chapter(chapter, profile, root_for_data, profiles)
            reports.append(report)
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.tasks.items())) or "none"
            print(f"{chapter} ({report.seconds:.0f} s): tasks {kinds}; "
                  f"{len(report.networks)} network(s) pruned and trained one step",
                  file=out, flush=True)
            for line in report.networks:
                print(f"  ok  {line}", file=out)
            for line in report.errors:
                print(f"  ERROR  {line}", file=out)
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pruninglib.chapters.dry_run",
        description="Check a profile without running it: parameters, every task's spec, and "
                    "one training step of every distinct network, on the CPU.")
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--chapter", action="append", metavar="NAME")
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args(argv)
    try:
        reports = dry_run(args.profile, args.chapter, data_root=args.data_root)
    except ParameterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = [r.chapter for r in reports if r.errors]
    print(f"dry run of profile {args.profile}: {len(reports) - len(failed)} of {len(reports)} "
          f"chapters ok" + (f"; errors in {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

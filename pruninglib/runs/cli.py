"""Command line: ``python -m pruninglib sweep|status ...`` over the library's sweep machinery.

    python -m pruninglib sweep SWEEP.yaml --executor pool:2 --results-dir results
    python -m pruninglib sweep --set data.name=synthetic --set train.epochs=1 \\
        --grid prune.method=random,snip --grid prune.density=0.1,0.01 --grid seed=0,1
    python -m pruninglib status SWEEP.yaml --results-dir results

A sweep file (YAML) holds ``base`` (RunSpec fields, nested; unset ones keep their defaults)
and ``grid`` (dotted field -> list of values), optionally ``executor``::

    base:
      data: {name: fashion_mnist, train_subset: 10000}
      model: {name: lenet_300_100}
      train: {epochs: 3}
    grid:
      prune.method: [random, snip, synflow]
      prune.density: [0.1, 0.01]
      seed: [0, 1, 2]

``--set`` changes the base and ``--grid`` adds or replaces an axis (values separated by
commas, or a YAML list in brackets: ``--grid 'model.hidden=[[100], [300, 100]]'``).

``sweep`` prints a progress line (done / running / failed / left) as runs finish, then each
failed run with its error line; exit status 0 if every run is stored, 1 if some failed, 2 on a
bad argument or an unwritable results directory. ``status`` prints the same summary from the
store without computing anything (it also sees runs other workers are computing).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..config import ConfigError, RunSpec


def _value(text: str):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _pair(text: str) -> tuple[str, str]:
    name, eq, value = text.partition("=")
    if not eq or not name.strip():
        raise ConfigError(f"{text!r} is not allowed: PATH=VALUE, e.g. prune.density=0.1")
    return name.strip(), value.strip()


def _values(name: str, text: str) -> list:
    if text.startswith("["):
        values = _value(text)
        if not isinstance(values, list):
            raise ConfigError(f"grid {name}={text} is not allowed: a YAML list or "
                              f"comma-separated values")
        return values
    return [_value(v.strip()) for v in text.split(",") if v.strip()]


def load_plan(args) -> tuple[RunSpec, dict, dict]:
    """(base spec, grid, file options) from the sweep file and the --set / --grid options."""
    import yaml

    plan = {}
    if args.file:
        path = Path(args.file)
        try:
            plan = yaml.safe_load(path.read_text())
        except OSError as error:
            raise ConfigError(f"sweep file {str(path)!r} is not allowed: "
                              f"{error.strerror}") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"sweep file {str(path)!r} is not allowed: not YAML "
                              f"({str(error).splitlines()[0]})") from None
        if plan is None:
            raise ConfigError(f"sweep file {str(path)!r} is not allowed: it is empty (it needs "
                              f"'base' and/or 'grid')")
        if not isinstance(plan, dict):
            raise ConfigError(f"sweep file {str(path)!r} is not allowed: a mapping with "
                              f"'base' and 'grid'")
        unknown = set(plan) - {"base", "grid", "executor"}
        if unknown:
            raise ConfigError(f"sweep file key {sorted(unknown)[0]!r} is not allowed: "
                              f"base, grid, executor")
    base = RunSpec.from_dict(plan.get("base") or {})
    changes = dict(_pair(item) for item in args.set)
    if changes:
        base = base.replace(**{k: _value(v) for k, v in changes.items()})
    grid = dict(plan.get("grid") or {})
    for item in args.grid:
        name, text = _pair(item)
        grid[name] = _values(name, text)
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"grid {name}={values!r} is not allowed: a non-empty list")
    return base, grid, {k: plan[k] for k in ("executor",) if k in plan}


def _line(counts: dict) -> str:
    return (f"[{time.strftime('%H:%M:%S')}] {counts['done']} done, {counts['running']} "
            f"running, {counts['failed']} failed, {counts['left']} left "
            f"(of {counts['total']})")


def _report_failures(failures: list[dict], varying, results_dir, out) -> None:
    from .executors import describe
    from .store import ResultStore

    if not failures:
        return
    store = ResultStore(results_dir)
    print(f"{len(failures)} failed run(s) (error line; traceback in the error.json named):",
          file=out)
    for item in failures:
        print(f"  {item['key']}  {describe(item['spec'], varying)}", file=out)
        print(f"      {item['error']}", file=out)
        print(f"      {store.directory(item['key']) / 'error.json'}", file=out)


def _sweep(args, out) -> int:
    from .executors import (
        PoolExecutor,
        SweepError,
        make_executor,
        varying_fields,
    )

    executor = make_executor(args.executor) if args.executor else None
    if isinstance(executor, PoolExecutor):
        executor.prestart()  # the fork server imports torch while this process does
    base, grid, file_options = load_plan(args)
    if executor is None:
        executor = make_executor(file_options.get("executor"))
    from .experiments import grid_specs, run_all, to_frame

    specs = grid_specs(base, grid)
    varying = varying_fields(specs)
    print(f"sweep: {len(specs)} runs on {executor!r}, results in "
          f"{args.results_dir or 'the default results directory'}", file=out, flush=True)
    last = {"time": 0.0, "line": None}

    def on_progress(counts: dict) -> None:
        now = time.monotonic()
        finished = counts["done"] + counts["failed"] == counts["total"]
        if finished or now - last["time"] >= args.progress_every:
            line = _line(counts)
            if line != last["line"]:
                print(line, file=out, flush=True)
                last.update(time=now, line=line)

    failures, results = [], []
    try:
        results = run_all(specs, executor=executor, progress=False,
                          results_dir=args.results_dir, device=args.device,
                          save_weights=args.save_weights, data_root=args.data_root,
                          checkpoint_every=args.checkpoint_every, poll_seconds=args.poll,
                          on_progress=on_progress, ensemble=args.ensemble)
    except SweepError as error:
        failures, results = error.failed, error.results
    total = len({s.key() for s in specs})
    print(f"finished: {len(results)} of {total} runs stored, {len(failures)} failed",
          file=out, flush=True)
    _report_failures(failures, varying, args.results_dir, out)
    if args.out and results:
        frame = to_frame(results)
        if args.out.endswith(".json"):
            frame.to_json(args.out)
        else:
            frame.to_csv(args.out, index=False)
        print(f"table of {len(frame)} runs written to {args.out}", file=out)
    return 1 if failures else 0


def _status(args, out) -> int:
    from .executors import summary, varying_fields
    from .experiments import grid_specs
    from .store import ResultStore

    base, grid, _ = load_plan(args)
    specs = grid_specs(base, grid)
    counts = summary(specs, args.results_dir)
    print(_line(counts), file=out)
    store = ResultStore(args.results_dir)
    for spec in {s.key(): s for s in specs}.values():
        info = store.claim_info(spec.key())
        if info is not None and not info["stale"] and not store.has(spec.key()):
            print(f"  running {spec.key()} on {info.get('host', '?').split('/')[0]} "
                  f"pid {info.get('pid', '?')}, heartbeat {info['age']:.0f} s ago", file=out)
    _report_failures(counts["failures"], varying_fields(specs), args.results_dir, out)
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m pruninglib",
                                   description="Run or inspect a sweep of pruning runs.")
    commands = main.add_subparsers(dest="command", required=True)
    for name, text in (("sweep", "compute the runs of a sweep that are not stored yet"),
                       ("status", "where a sweep stands in the store (computes nothing)")):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("file", nargs="?", help="sweep file (YAML: base, grid, executor)")
        sub.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                         help="change a field of the base spec (repeatable)")
        sub.add_argument("--grid", action="append", default=[], metavar="PATH=V1,V2",
                         help="add or replace a grid axis (repeatable)")
        sub.add_argument("--results-dir", default=None,
                         help="results directory (default: $PRUNINGLIB_RESULTS or results/)")
        if name == "sweep":
            sub.add_argument("--executor", default=None,
                             help="inline[:THREADS] (default), pool[:N], "
                                  "submitit[:k=v,...], slurm[:PARTITION,k=v,...], "
                                  "ray[:k=v,...] (see pruninglib.executors)")
            sub.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
            sub.add_argument("--checkpoint-every", type=int, default=None, metavar="EPOCHS",
                             help="save the training state every EPOCHS epochs")
            sub.add_argument("--save-weights", action="store_true",
                             help="also store final weights and masks (safetensors)")
            sub.add_argument("--ensemble", action="store_true",
                             help="train runs that share data, model and training spec as one "
                                  "batched model (equal to training alone up to float32 "
                                  "rounding; see pruninglib.runs.ensembles)")
            sub.add_argument("--data-root", default=None, help="dataset directory")
            sub.add_argument("--poll", type=float, default=None, metavar="SECONDS",
                             help="how often the store and the engine are checked")
            sub.add_argument("--progress-every", type=float, default=10.0,
                             metavar="SECONDS", help="at most one progress line this often")
            sub.add_argument("--out", default=None,
                             help="write the table of results (.csv, or .json)")
    return main


def main(argv=None, out=None) -> int:
    from .store import StoreError

    out = out or sys.stdout
    args = parser().parse_args(argv)
    try:
        return _sweep(args, out) if args.command == "sweep" else _status(args, out)
    except (ConfigError, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs are stored; run the same command to resume",
              file=sys.stderr)
        return 130


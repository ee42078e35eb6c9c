"""Where the runs of a sweep are computed: here, a local process pool, SLURM (submitit) or Ray.

``sweep(base, grid, executor=...)`` (and ``run_all``, ``sweep_results``) map the runs that are
not stored yet to tasks of an engine; each task calls :func:`pruninglib.runs.cache.attempt`
for its runs and returns only their keys and status; the caller then loads the results from
the store. The engines do all the scheduling; what keeps the runs apart is the store: a worker
claims a run before computing it (see :class:`pruninglib.store.Claim`), so several sweeps,
notebooks or job arrays can share one results directory, and a run another worker is
computing is waited for, not computed twice. A killed sweep resumes where it stopped when it
is started again (finished runs are loaded, the claims of dead workers are taken over).

Executors, by name (``executor="NAME"`` or ``"NAME:ARGS"``, also ``-p executor ...`` in the
book's notebooks and ``--executor`` in ``python -m pruninglib sweep``):

========== ============================================================================
inline[:T] in this process, one run after the other (the default); T: torch threads
pool[:N]   N local worker processes (default: one per core), each with cores // N torch
           threads, so the pool never oversubscribes the cores
submitit   SLURM through submitit (``submitit:cluster=local`` runs the jobs as local
           processes); further ``key=value`` pairs go to ``update_parameters`` (e.g.
           ``slurm_partition=gpu,timeout_min=240,gpus_per_node=1``)
slurm[:P]  submitit on SLURM (never local), P: the partition
ray        Ray tasks (``ray:address=auto`` joins a running cluster; by default a local
           one is started); ``num_cpus`` / ``num_gpus`` per task
========== ============================================================================

``ARGS`` is ``value`` (the first argument: workers, cluster, address) and/or ``key=value``
pairs separated by commas, e.g. ``pool:2``, ``submitit:cluster=local,timeout_min=10``. Every
executor takes ``runs_per_task`` (several short runs per job) and ``poll_seconds``.

Failed runs do not stop a sweep: when all others are finished, :class:`SweepError` lists each
failed run with its error line (also stored in its ``error.json``). A worker process that dies
(killed, out of memory, node failure) is retried ``max_retries`` times, then reported as
failed. A results directory that cannot be written stops the sweep with one
:class:`pruninglib.store.StoreError`.
"""
from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import os
import signal
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..config import ConfigError, RunSpec
from ..train import resolve_device
from .cache import Task, attempt, check_checkpoint_every, load, store_for
from .store import ResultStore, StoreError, error_line, release_all_claims


class SweepError(RuntimeError):
    """Some runs of a sweep failed; all the others finished and are stored.

    failed: one dict per failed run: key, spec (RunSpec), error (its error line).
    results: the Results of the runs that finished, in the order of the specs.
    """

    def __init__(self, failed: list[dict], results: list, varying: Sequence[str] = ()):
        self.failed, self.results = failed, results
        lines = [f"{len(failed)} of {len(failed) + len(results)} runs failed (the other "
                 f"{len(results)} are stored; a new sweep retries only the failed ones):"]
        for item in failed[:20]:
            lines.append(f"  {item['key']} {describe(item['spec'], varying)}: {item['error']}")
        if len(failed) > 20:
            lines.append(f"  ... and {len(failed) - 20} more (python -m pruninglib status)")
        super().__init__("\n".join(lines))


def describe(spec: RunSpec | dict, fields: Sequence[str] = ()) -> str:
    """The values of dotted ``fields`` of ``spec`` (a RunSpec or a task's spec dict; default
    model, method, density, seed) as k=v pairs."""
    flat = _flat(spec if isinstance(spec, dict) else spec.to_dict())
    fields = list(fields) or ["model.name", "prune.method", "prune.density", "seed"]
    return " ".join(f"{k}={flat[k]}" for k in fields if k in flat)


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = tuple(v) if isinstance(v, list) else v
    return out


def varying_fields(specs: Sequence[RunSpec | dict]) -> list[str]:
    """Dotted spec fields whose value differs between ``specs`` (the grid's axes)."""
    flats = [_flat(s if isinstance(s, dict) else s.to_dict()) for s in specs]
    if not flats:
        return []
    return [k for k in flats[0] if len({repr(f.get(k)) for f in flats}) > 1]


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# -- the task a worker runs ------------------------------------------------------------------
def run_tasks(task_jsons: list[str], options: dict, threads: int | None = None) -> list[list]:
    """Worker side: :func:`~pruninglib.runs.cache.attempt` each task (JSON); return one
    ``[key, status, detail]`` per task, status 'done', 'busy' (another worker holds it),
    'failed' (detail: the error line) or 'store-error' (detail: the StoreError message; the
    remaining tasks are not attempted). Only plain strings cross the process boundary."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    options = dict(options)
    results_dir, stale_after = options.pop("results_dir"), options.pop("stale_after")
    out = []
    for text in task_jsons:
        task = Task.from_json(text)
        key = task.key()
        store = store_for(task.kind, results_dir, stale_after=stale_after)
        try:
            payload = attempt(task, store, **options)
        except StoreError as error:
            out.append([key, "store-error", str(error)])
            break
        except Exception as error:  # recorded in the store's error.json too
            out.append([key, "failed", error_line(error)])
            continue
        out.append([key, "done" if payload is not None else "busy", ""])
    return out


# -- executors -------------------------------------------------------------------------------
class Executor:
    """Runs tasks somewhere. Subclasses implement :meth:`submit`, :meth:`done`,
    :meth:`result` and may override :meth:`start`, :meth:`close`, :meth:`wait`.

    threads: torch threads per task in the worker (None: leave as it is).
    runs_per_task: specs handed to one task (several short runs per SLURM job).
    poll_seconds: how often the store and the engine are checked.
    max_retries: resubmissions of a run whose worker died before finishing it.
    """

    name = "executor"
    threads: int | None = None
    runs_per_task: int = 1
    poll_seconds: float = 1.0
    max_retries: int = 2
    shows_run_progress = False  # whether per-run progress bars can be shown (in-process only)
    runs_here = False  # tasks run on this machine (so its devices are the ones that count)

    def bind(self, results_root: Path) -> None:
        """Told the (absolute) results directory before :meth:`start`."""

    def start(self) -> None:
        pass

    def close(self, abort: bool = False) -> None:
        """Release the engine; ``abort``: the sweep was interrupted, stop what still runs."""

    def submit(self, fn: Callable, *args) -> Any:
        """Start ``fn(*args)`` somewhere; return a handle for :meth:`done` / :meth:`result`."""
        raise NotImplementedError

    def submit_many(self, fn: Callable, calls: list[tuple]) -> list:
        """:meth:`submit` each argument tuple (engines override it to submit them at once,
        e.g. as one SLURM job array)."""
        return [self.submit(fn, *args) for args in calls]

    def done(self, handle) -> bool:
        raise NotImplementedError

    def result(self, handle):
        raise NotImplementedError

    def wait(self, handles: list, timeout: float) -> None:
        """Return when one of ``handles`` is done or after ``timeout`` seconds."""
        time.sleep(timeout)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(abort=exc_type is not None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class _Finished:
    def __init__(self, value=None, error: BaseException | None = None):
        self.value, self.error = value, error


class InlineExecutor(Executor):
    """Every run in this process, in order (per-run progress bars shown).

    threads: set this process's torch threads to this first (default: leave them)."""

    name = "inline"
    shows_run_progress = True
    runs_here = True

    def __init__(self, threads: int | None = None, *, poll_seconds: float = 1.0):
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                    or threads < 1):
            raise ConfigError(f"executor inline threads={threads!r} is not allowed: a "
                              f"positive integer")
        self.threads, self.poll_seconds = threads, poll_seconds

    def submit(self, fn, *args):
        try:
            return _Finished(fn(*args))
        except Exception as error:
            return _Finished(error=error)

    def done(self, handle) -> bool:
        return True

    def result(self, handle):
        if handle.error is not None:
            raise handle.error
        return handle.value


_PRELOAD = ["pruninglib.runs.forkserver_guard", "torch", "torch._dynamo", "pruninglib.models",
            "pruninglib.pruners", "pruninglib.train"]
"""Imported once by the fork server, not by every worker: the guard that ties the fork server
to the sweep's life, torch, the library's core, and torch._dynamo, which torch imports on a
process's first optimizer (~2-5 s)."""


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (``PR_SET_PDEATHSIG``); a no-op
    where that is not available."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _init_pool_worker(threads: int) -> None:
    """Pin torch threads; die with the parent (the fork server, which dies with the sweep:
    :mod:`pruninglib.runs.forkserver_guard`), so a killed sweep leaves no workers."""
    die_with_parent()
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


class PoolExecutor(Executor):
    """``workers`` local processes with ``threads`` torch threads each.

    workers: default one per core; threads: default cores // workers. A pool asking for more
    threads than there are cores is shrunk (with a warning) so it never oversubscribes them
    (COMPUTE.md: oversubscribed steps run 10-100x slower).
    start_method: 'forkserver' (default: workers are forked from a clean server that imported
    the library once), 'spawn' or 'fork'.
    """

    name = "pool"
    poll_seconds = 0.5
    runs_here = True

    def __init__(self, workers: int | None = None, threads: int | None = None, *,
                 start_method: str = "forkserver", poll_seconds: float = 0.5,
                 max_retries: int = 2):
        cores = available_cores()
        for label, value in (("workers", workers), ("threads", threads)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise ConfigError(f"executor pool {label}={value!r} is not allowed: a "
                                  f"positive integer")
        workers = workers or (cores if threads is None else max(1, cores // threads))
        threads = threads or max(1, cores // workers)
        if workers * threads > cores:
            fitted = max(1, cores // threads)
            warnings.warn(f"pool of {workers} workers x {threads} threads > {cores} cores: "
                          f"using {fitted} workers (oversubscribing is 10-100x slower)",
                          stacklevel=2)
            workers = fitted
        self.workers, self.threads = workers, threads
        self.start_method, self.poll_seconds, self.max_retries = (start_method, poll_seconds,
                                                                   max_retries)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def prestart(self) -> None:
        """Start the fork server now (it imports torch and the library, ~2-3 s), e.g. while
        the caller is still importing: the first workers then start at once."""
        import multiprocessing
        import multiprocessing.forkserver

        if self.start_method == "forkserver":
            multiprocessing.get_context("forkserver").set_forkserver_preload(_PRELOAD)
            multiprocessing.forkserver.ensure_running()

    def start(self) -> None:
        import multiprocessing

        if self._pool is not None:
            return
        context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            context.set_forkserver_preload(_PRELOAD)
        self._pool = concurrent.futures.ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_init_pool_worker,
            initargs=(self.threads,))

    def close(self, abort: bool = False) -> None:
        if self._pool is None:
            return
        if abort:  # interrupted: do not leave runs computing (their claims become stale)
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join(timeout=5)
        else:
            self._pool.shutdown(wait=True)
        self._pool = None

    def submit(self, fn, *args):
        try:
            return self._pool.submit(fn, *args)
        except concurrent.futures.process.BrokenProcessPool:
            # a worker died (killed, out of memory): the pool is unusable, start a new one
            self.close(abort=True)
            self.start()
            return self._pool.submit(fn, *args)

    def done(self, handle) -> bool:
        return handle.done()

    def result(self, handle):
        try:
            return handle.result()
        except concurrent.futures.process.BrokenProcessPool as error:
            raise RuntimeError(
                "a pool worker process died (killed, out of memory, or a script that starts "
                "a pool without an `if __name__ == '__main__':` guard)") from error

    def wait(self, handles, timeout) -> None:
        if handles:
            concurrent.futures.wait(handles, timeout=timeout,
                                    return_when=concurrent.futures.FIRST_COMPLETED)
        else:
            time.sleep(timeout)

    def __repr__(self) -> str:
        return f"PoolExecutor(workers={self.workers}, threads={self.threads})"


def _submitit_task_class():
    if "SubmititTask" in globals():
        return globals()["SubmititTask"]
    from submitit.helpers import Checkpointable

    class SubmititTask(Checkpointable):
        """A SLURM job running some specs; on preemption or timeout (submitit's signal) it
        releases its claims and is requeued: finished runs are then loaded and a run with a
        checkpoint resumes mid-training."""

        def __call__(self, task_jsons, options, threads):
            return run_tasks(task_jsons, options, threads)

        def checkpoint(self, *args, **kwargs):
            release_all_claims()
            return super().checkpoint(*args, **kwargs)

    SubmititTask.__module__ = __name__
    SubmititTask.__qualname__ = "SubmititTask"
    globals()["SubmititTask"] = SubmititTask
    return SubmititTask


def __getattr__(name: str):  # SubmititTask is defined on first use (submitit is optional)
    if name == "SubmititTask":
        return _submitit_task_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SubmititExecutor(Executor):
    """One SLURM job (array element) per ``runs_per_task`` runs, through submitit.

    folder: where submitit keeps its job files and logs, which are pickles (on shared storage
        for SLURM; default: ``<results directory>.submitit/`` beside, never inside, the results
        directory, from which only JSON and safetensors are ever read).
    cluster: None = SLURM if available else local; 'slurm', 'local' or 'debug'.
    parameters: passed to ``AutoExecutor.update_parameters`` (timeout_min, slurm_partition,
        gpus_per_node, cpus_per_task, mem_gb, slurm_array_parallelism, ...). ``cpus_per_task``
        (default 1) is also the torch thread count of each run.
    """

    name = "submitit"
    poll_seconds = 5.0

    def __init__(self, folder: str | os.PathLike | None = None, cluster: str | None = None, *,
                 runs_per_task: int = 1, poll_seconds: float = 5.0, max_retries: int = 2,
                 **parameters):
        try:
            import submitit  # noqa: F401
        except ImportError as error:
            raise ConfigError("executor='submitit' is not allowed: the submitit package is "
                              "not installed (pip install 'pruninglib[cluster]')") from error
        self.folder = None if folder is None else Path(folder).expanduser().absolute()
        self.cluster = cluster
        self.runs_per_task, self.poll_seconds, self.max_retries = (runs_per_task, poll_seconds,
                                                                   max_retries)
        parameters.setdefault("cpus_per_task", 1)
        parameters.setdefault("timeout_min", 60)
        parameters.setdefault("name", "pruninglib")
        self.parameters = parameters
        self.threads = int(parameters["cpus_per_task"])
        self._executor = None
        self._jobs: list = []

    def bind(self, results_root: Path) -> None:
        if self.folder is None:
            root = Path(results_root)
            self.folder = root.with_name(root.name + ".submitit")

    def start(self) -> None:
        import submitit

        self._executor = submitit.AutoExecutor(folder=self.folder, cluster=self.cluster)
        self._executor.update_parameters(**self.parameters)

    def submit(self, fn, *args):
        return self.submit_many(fn, [args])[0]

    def submit_many(self, fn, calls):
        task = _submitit_task_class()() if fn is run_tasks else fn
        with self._executor.batch():  # one job array, not one sbatch per task
            jobs = [self._executor.submit(task, *args) for args in calls]
        self._jobs.extend(jobs)
        return jobs

    def done(self, handle) -> bool:
        return handle.done()

    def result(self, handle):
        return handle.result()

    def close(self, abort: bool = False) -> None:
        if abort and self._jobs:
            for job in self._jobs:
                if not job.done():
                    job.cancel(check=False)
        self._executor, self._jobs = None, []

    def __repr__(self) -> str:
        return f"SubmititExecutor(cluster={self.cluster!r}, folder={str(self.folder)!r})"


class RayExecutor(Executor):
    """One Ray task per ``runs_per_task`` runs.

    address: None starts a local Ray (unless one is initialised already); 'auto' or
        'ray://HOST:PORT' joins a cluster.
    num_cpus / num_gpus: resources per task (num_cpus is also the torch thread count).
    init: further keyword arguments of ``ray.init``.
    """

    name = "ray"
    poll_seconds = 1.0

    def __init__(self, address: str | None = None, *, num_cpus: int = 1, num_gpus: float = 0,
                 runs_per_task: int = 1, poll_seconds: float = 1.0, max_retries: int = 2,
                 init: dict | None = None, **init_kwargs):
        try:
            import ray  # noqa: F401
        except ImportError as error:
            raise ConfigError("executor='ray' is not allowed: the ray package is not "
                              "installed (pip install 'pruninglib[ray]')") from error
        self.address, self.num_cpus, self.num_gpus = address, num_cpus, num_gpus
        self.threads = max(1, int(num_cpus))
        self.runs_per_task, self.poll_seconds, self.max_retries = (runs_per_task, poll_seconds,
                                                                   max_retries)
        self.init = {**(init or {}), **init_kwargs}
        self._started = False
        self._remote = None
        self._refs: list = []

    def start(self) -> None:
        import ray

        if not ray.is_initialized():
            options = {"include_dashboard": False, "log_to_driver": False, **self.init}
            ray.init(address=self.address, **options)
            self._started = True
        self._remote = ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus,
                                  max_retries=self.max_retries)(run_tasks)

    def submit(self, fn, *args):
        remote = self._remote if fn is run_tasks else __import__("ray").remote(fn)
        ref = remote.remote(*args)
        self._refs.append(ref)
        return ref

    def done(self, handle) -> bool:
        import ray

        ready, _ = ray.wait([handle], timeout=0)
        return bool(ready)

    def result(self, handle):
        import ray

        return ray.get(handle)

    def wait(self, handles, timeout) -> None:
        import ray

        if handles:
            ray.wait(list(handles), num_returns=1, timeout=timeout)
        else:
            time.sleep(timeout)

    def close(self, abort: bool = False) -> None:
        import ray

        if abort and self._refs:
            for ref in self._refs:
                ray.cancel(ref, force=True)
        self._refs = []
        if self._started:
            ray.shutdown()
            self._started = False

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, num_cpus={self.num_cpus})"


EXECUTORS: dict[str, tuple[type, str | None]] = {
    "inline": (InlineExecutor, "threads"),
    "pool": (PoolExecutor, "workers"),
    "submitit": (SubmititExecutor, "cluster"),
    "slurm": (SubmititExecutor, "slurm_partition"),
    "ray": (RayExecutor, "address"),
}
"""Executor names: class and the name of the argument a bare value (``pool:4``) sets."""


def _value(text: str):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def make_executor(executor: str | dict | Executor | None = None) -> Executor:
    """An :class:`Executor` from a name with arguments (``'pool:2'``,
    ``'submitit:cluster=local,timeout_min=10'``, ``'ray:address=auto'``), a dict
    (``{'kind': 'pool', 'workers': 2}``), an Executor (returned as is) or None (inline)."""
    if executor is None:
        return InlineExecutor()
    if isinstance(executor, Executor):
        return executor
    if isinstance(executor, dict):
        kwargs = dict(executor)
        kind = kwargs.pop("kind", None)
    elif isinstance(executor, str):
        kind, _, rest = executor.strip().partition(":")
        kwargs = {}
        if rest:
            for i, item in enumerate(rest.split(",")):
                name, eq, value = item.partition("=")
                if eq:
                    kwargs[name.strip()] = _value(value.strip())
                elif i == 0 and kind in EXECUTORS and EXECUTORS[kind][1]:
                    kwargs[EXECUTORS[kind][1]] = _value(item.strip())
                else:
                    raise ConfigError(f"executor={executor!r} is not allowed: arguments are "
                                      f"'value' first, then 'key=value' pairs separated by ','")
    else:
        raise ConfigError(f"executor={executor!r} is not allowed: a name, a dict or an "
                          f"Executor")
    if kind == "slurm":
        kwargs.setdefault("cluster", "slurm")
    if kind not in EXECUTORS:
        raise ConfigError(f"executor={executor!r} is not allowed: one of "
                          + ", ".join(sorted(EXECUTORS)) + " (optionally NAME:ARGS)")
    cls = EXECUTORS[kind][0]
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ConfigError(f"executor={executor!r} is not allowed: {error}") from None


# -- the sweeper ---------------------------------------------------------------------------------
def _absolute(path) -> str | None:
    return None if path is None else str(Path(path).expanduser().absolute())


def execute(tasks: Sequence[Task], *, executor=None, progress: bool = True,
            results_dir=None, device="auto", data_root=None,
            checkpoint_every: int | None = None, poll_seconds: float | None = None,
            on_progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Stored payloads of ``tasks`` (in order), computing those not stored on ``executor``.

    on_progress: called with {done, running, failed, left, total} whenever it changes.
    Raises :class:`SweepError` (after all other tasks finished) if some failed and
    :class:`StoreError` at once if the results directory cannot be written.
    """
    from tqdm import tqdm

    executor = make_executor(executor)
    root = ResultStore(results_dir)
    check_checkpoint_every(checkpoint_every)
    if executor.runs_here:
        resolve_device(device)  # a GPU asked for where none is: one line, before any run
    root.check_root()
    options = {"results_dir": _absolute(root.root), "stale_after": root.stale_after,
               "device": device, "data_root": _absolute(data_root),
               "checkpoint_every": checkpoint_every,
               "progress": bool(progress and executor.shows_run_progress)}
    poll = executor.poll_seconds if poll_seconds is None else poll_seconds
    by_key: dict[str, Task] = {}
    for task in tasks:
        by_key.setdefault(task.key(), task)
    stores = {kind: store_for(kind, root.root, stale_after=root.stale_after)
              for kind in {task.kind for task in by_key.values()}}

    def status_of(key: str) -> str:
        return stores[by_key[key].kind].status(key)

    def stored(key: str) -> dict | None:
        return load(by_key[key], stores[by_key[key].kind])

    results: dict[str, Any] = {}
    for key in by_key:
        payload = stored(key)
        if payload is not None:
            results[key] = payload
    failed: dict[str, str] = {}
    crashes: dict[str, int] = {}
    in_flight: dict[Any, list[str]] = {}
    # runs another live worker is computing (e.g. jobs of an earlier, killed sweep) are
    # waited for, not submitted again
    waiting = {key for key in by_key if key not in results and status_of(key) == "running"}
    queue = [key for key in by_key if key not in results and key not in waiting]
    bar = tqdm(total=len(by_key), initial=len(results), desc=f"runs ({executor.name})",
               unit="run", disable=not progress)
    last_summary = None

    def report() -> None:
        nonlocal last_summary
        active = [k for keys in in_flight.values() for k in keys] + sorted(waiting)
        running = sum(status_of(k) == "running" for k in active
                      if k not in results and k not in failed)
        summary = {"done": len(results), "running": running, "failed": len(failed),
                   "left": len(by_key) - len(results) - len(failed) - running,
                   "total": len(by_key)}
        if summary != last_summary:
            last_summary = summary
            bar.n = summary["done"] + summary["failed"]
            bar.set_postfix(running=running, failed=len(failed), refresh=True)
            if on_progress is not None:
                on_progress(summary)

    def finish(key: str) -> None:
        """The worker says done: load it (a result that does not load is computed again)."""
        loaded = stored(key)
        if loaded is not None:
            results[key] = loaded
        else:
            crashed(key, "its result did not load after the worker finished")

    def crashed(key: str, reason: str) -> None:
        crashes[key] = crashes.get(key, 0) + 1
        if crashes[key] > executor.max_retries:
            failed[key] = f"{executor.name} worker lost {crashes[key]} times: {reason}"
        elif status_of(key) == "running":
            waiting.add(key)
        else:
            queue.append(key)

    executor.bind(Path(options["results_dir"]))
    try:
        with executor:
            report()
            while queue or in_flight or waiting:
                if queue:
                    size = executor.runs_per_task
                    if executor.shows_run_progress:
                        chunks, queue[:] = [queue[:size]], queue[size:]  # inline: report
                    else:                                                # between runs
                        chunks, queue[:] = [queue[i:i + size]
                                            for i in range(0, len(queue), size)], []
                    calls = [([by_key[k].to_json() for k in chunk], options, executor.threads)
                             for chunk in chunks]
                    for handle, chunk in zip(executor.submit_many(run_tasks, calls), chunks):
                        in_flight[handle] = chunk
                progressed = False
                for handle in [h for h in in_flight if executor.done(h)]:
                    chunk = in_flight.pop(handle)
                    progressed = True
                    try:
                        outputs = executor.result(handle)
                    except StoreError:
                        raise
                    except Exception as error:  # the worker died: killed, OOM, lost node
                        for key in chunk:
                            if stores[by_key[key].kind].has(key):
                                finish(key)
                            else:
                                crashed(key, error_line(error))
                        continue
                    reported = set()
                    for key, status, detail in outputs:
                        reported.add(key)
                        if status == "store-error":
                            raise StoreError(detail)
                        if status == "done":
                            finish(key)
                        elif status == "failed":
                            failed[key] = detail
                        else:
                            waiting.add(key)
                    queue.extend(k for k in chunk if k not in reported)
                for key in sorted(waiting):
                    status = status_of(key)
                    if status == "running":
                        continue
                    waiting.discard(key)
                    progressed = True
                    if status == "done":
                        finish(key)
                    else:  # the other worker died or failed: compute it here
                        queue.append(key)
                report()
                if not progressed and not queue:
                    executor.wait(list(in_flight), poll)
    finally:
        bar.close()
    ordered = [results[k] for k in by_key if k in results]
    if failed:
        specs = {k: by_key[k].spec for k in by_key}
        varying = varying_fields(list(specs.values()))
        raise SweepError([{"key": k, "spec": specs[k], "error": e} for k, e in failed.items()],
                         ordered, varying)
    return [results[task.key()] for task in tasks]


def summary(specs: Sequence[RunSpec], results_dir=None) -> dict:
    """Where ``specs`` stand in the store: {done, running, failed, left, total} and
    ``failures``: [{key, spec, error}] for the failed ones (their last error line)."""
    store = ResultStore(results_dir)
    store.check_root()
    counts = {"done": 0, "running": 0, "failed": 0, "missing": 0}
    failures = []
    unique = {}
    for spec in specs:
        unique.setdefault(spec.key(), spec)
    for key, spec in unique.items():
        status = store.status(key)
        counts[status] += 1
        if status == "failed":
            record = store.load_error(key) or {}
            failures.append({"key": key, "spec": spec, "error": record.get("error", "?")})
    return {"done": counts["done"], "running": counts["running"], "failed": counts["failed"],
            "left": counts["missing"], "total": len(unique), "failures": failures}

"""Sweeps on every executor (in-process, local pool, submitit, Ray), the reliability of a sweep
that is killed or shared by several workers, and the command line.

Tests marked ``slow`` start several Python processes each (a killed and restarted pool sweep,
submitit's and Ray's local engines): about a minute and a half together on 2 busy cores;
run them with ``pytest -m slow``."""
from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import SMALL_RUN, TIMING
from pruninglib.runs.cli import main as cli
from pruninglib.config import (
    ConfigError,
    DataSpec,
    ModelSpec,
    PruneSpec,
    RunSpec,
    TrainSpec,
)
from pruninglib.runs.executors import (
    InlineExecutor,
    PoolExecutor,
    SweepError,
    available_cores,
    make_executor,
)
from pruninglib.runs.experiments import grid_specs, run_all, sweep, sweep_results
from pruninglib.runs.store import CorruptResultWarning, ResultStore

BASE = SMALL_RUN
SMALL_GRID = {"prune.density": [0.5, 0.1], "seed": [0, 1]}
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=TIMING).reset_index(drop=True),
                                  b.drop(columns=TIMING).reset_index(drop=True))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The small sweep computed in this process (one thread), the yardstick of every engine."""
    return sweep(BASE, SMALL_GRID, results_dir=tmp_path_factory.mktemp("reference"),
                 progress=False)


# -- choosing an executor -------------------------------------------------------------------------
def test_executors_are_chosen_by_name_with_arguments():
    assert isinstance(make_executor(None), InlineExecutor)
    assert isinstance(make_executor("inline"), InlineExecutor)
    cores = available_cores()
    pool = make_executor("pool:1")
    assert (pool.workers, pool.threads) == (1, cores)
    pool = make_executor({"kind": "pool", "workers": 1, "threads": 1})
    assert (pool.workers, pool.threads) == (1, 1)
    with pytest.warns(UserWarning, match="oversubscribing"):
        pool = make_executor(f"pool:{cores + 3}")
    assert pool.workers * pool.threads <= cores
    same = PoolExecutor(1)
    assert make_executor(same) is same
    for bad, match in [("threads", r"executor='threads' is not allowed: one of inline, pool"),
                       ("pool:0", r"pool workers=0 is not allowed"),
                       ("pool:2,3", r"'key=value' pairs"),
                       ("pool:speed=9", r"executor='pool:speed=9' is not allowed: .*speed")]:
        with pytest.raises(ConfigError, match=match):
            make_executor(bad)


# -- engines ---------------------------------------------------------------------------------------
def test_a_pool_sweep_gives_the_same_frame_as_in_process(tmp_path, reference):
    frame = sweep(BASE, SMALL_GRID, results_dir=tmp_path, progress=False,
                  executor=PoolExecutor(workers=2, threads=1))
    _same_frames(frame, reference)
    store = ResultStore(tmp_path)
    pids = {a["pid"] for key in frame["key"] for a in store.attempts(key)}
    assert os.getpid() not in pids  # computed in the workers
    results = sweep_results(BASE, SMALL_GRID, results_dir=tmp_path, progress=False,
                            executor="pool:2")  # all stored: nothing is submitted
    assert all(r.env["threads"] == 1 for r in results)  # threads pinned in the workers


@pytest.mark.slow
def test_submitit_local_executor_runs_a_sweep(tmp_path, reference):
    pytest.importorskip("submitit", reason="submitit is not installed (extra 'cluster')")
    from pruninglib.runs.executors import SubmititExecutor

    executor = SubmititExecutor(folder=tmp_path / "jobs", cluster="local", runs_per_task=2,
                                timeout_min=5, poll_seconds=0.2)
    frame = sweep(BASE, SMALL_GRID, results_dir=tmp_path / "results", progress=False,
                  executor=executor)
    _same_frames(frame, reference)
    assert len(list((tmp_path / "jobs").glob("*_result.pkl"))) == 2  # 4 runs, 2 per job


@pytest.mark.slow
def test_ray_local_executor_runs_a_sweep(tmp_path, reference):
    pytest.importorskip("ray", reason="ray is not installed (extra 'ray')")
    from pruninglib.runs.executors import RayExecutor

    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # Ray's socket paths must be short
    try:
        executor = RayExecutor(num_cpus=1, runs_per_task=2, poll_seconds=0.2,
                               init={"num_cpus": 2, "object_store_memory": 80 * 2**20,
                                     "_temp_dir": temp})
        frame = sweep(BASE, SMALL_GRID, results_dir=tmp_path / "results", progress=False,
                      executor=executor)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    _same_frames(frame, reference)


# -- failures ---------------------------------------------------------------------------------------
def test_failed_runs_are_reported_after_all_others_and_retried_alone(tmp_path):
    # SNIP's scoring batch cannot have 1000 images of a class: fails when run, not before
    specs = grid_specs(BASE, {"prune.samples_per_class": [10, 1000], "seed": [0, 1]})
    with pytest.raises(SweepError) as info:
        run_all(specs, results_dir=tmp_path, progress=False)
    error = info.value
    assert len(error.failed) == 2 and len(error.results) == 2
    text = str(error)
    assert text.startswith("2 of 4 runs failed (the other 2 are stored")
    for item in error.failed:
        assert item["key"] in text and item["spec"].prune.samples_per_class == 1000
        assert item["error"].startswith("ValueError: class 0 has")
    assert "prune.samples_per_class=1000 seed=1" in text
    store = ResultStore(tmp_path)
    assert sorted(store.status(s.key()) for s in specs) == ["done", "done", "failed",
                                                            "failed"]
    with pytest.raises(SweepError):
        run_all(specs, results_dir=tmp_path, progress=False)
    # the finished runs were loaded, only the failed ones were attempted again
    assert [len(store.attempts(s.key())) for s in specs] == [1, 1, 2, 2]


# -- the command line -----------------------------------------------------------------------------
def _sweep_file(path: Path, grid: dict, base: RunSpec = BASE) -> Path:
    path.write_text(yaml.safe_dump({"base": base.to_dict(), "grid": grid}))
    return path


def test_cli_sweep_prints_progress_and_failed_runs_then_status(tmp_path):
    plan = _sweep_file(tmp_path / "sweep.yaml", {"seed": [0, 1]})
    out = io.StringIO()
    code = cli(["sweep", str(plan), "--results-dir", str(tmp_path / "r"),
                "--grid", "prune.samples_per_class=10,1000", "--set", "model.hidden=[8]",
                "--progress-every", "0", "--out", str(tmp_path / "table.csv")], out=out)
    text = out.getvalue()
    assert code == 1, text
    assert "sweep: 4 runs on InlineExecutor(inline)" in text
    assert "0 done, 0 running, 0 failed, 4 left (of 4)" in text
    assert "2 done, 0 running, 2 failed, 0 left (of 4)" in text
    assert "finished: 2 of 4 runs stored, 2 failed" in text
    assert text.count("ValueError: class 0 has") == 2
    assert text.count("error.json") >= 2 and "prune.samples_per_class=1000 seed=1" in text
    assert len(pd.read_csv(tmp_path / "table.csv")) == 2

    out = io.StringIO()
    assert cli(["status", str(plan), "--results-dir", str(tmp_path / "r"),
                "--grid", "prune.samples_per_class=10,1000", "--set", "model.hidden=[8]"],
               out=out) == 0
    assert "2 done, 0 running, 2 failed, 0 left (of 4)" in out.getvalue()
    assert out.getvalue().count("ValueError: class 0 has") == 2


def test_cli_rejects_bad_input_with_one_line(tmp_path, capsys):
    assert cli(["sweep", "--set", "prune.method=snip", "--grid", "prune.density=0.5,2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: prune.density=2") and "\n" not in err
    assert cli(["sweep", "--executor", "threads", "--results-dir", str(tmp_path)]) == 2
    assert "executor='threads' is not allowed" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: {}\nspeed: 3\n")
    assert cli(["status", str(bad)]) == 2
    assert "sweep file key 'speed' is not allowed" in capsys.readouterr().err


# -- reliability: killed sweeps, concurrent workers ------------------------------------------------
KILL_BASE = RunSpec(data=DataSpec("synthetic"), model=ModelSpec("mlp", hidden=(64, 64)),
                    prune=PruneSpec("synflow", density=0.3),
                    train=TrainSpec(epochs=3, batch_size=16))
KILL_GRID = {"prune.density": [0.5, 0.3, 0.2, 0.1, 0.05, 0.02], "seed": [0, 1]}


def _finished(results: Path) -> dict:
    """key -> (inode, mtime) of every finished result (a rewrite changes both)."""
    out = {}
    for path in results.glob("*/*/result.json"):
        stat = path.stat()
        out[path.parent.name] = (stat.st_ino, stat.st_mtime_ns)
    return out


@pytest.mark.slow
def test_a_pool_sweep_killed_three_times_resumes_to_the_same_frame(tmp_path):
    """SIGKILL the whole sweep (parent, fork server and workers, as a job scheduler does) at
    three random points, restart it each time: the final table equals an uninterrupted run's
    and no run finished before a kill is computed again."""
    sweep(KILL_BASE, KILL_GRID, results_dir=tmp_path / "reference",
          progress=False).to_json(tmp_path / "reference.json")
    reference = pd.read_json(tmp_path / "reference.json")  # compared after the same round trip
    plan = _sweep_file(tmp_path / "sweep.yaml", KILL_GRID, KILL_BASE)
    results = tmp_path / "results"
    command = [sys.executable, "-m", "pruninglib", "sweep", str(plan), "--executor",
               "pool:workers=2,threads=1", "--results-dir", str(results), "--poll", "0.05",
               "--out", str(tmp_path / "frame.json")]
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    total = len(reference)
    ranges = [(0, 3), (4, 6), (7, 8)]  # how many runs are finished when each kill lands
    finished_before: dict = {}
    for round_, (low, high) in enumerate(ranges):
        target = rng.randint(max(low, len(finished_before)), high)
        proc = subprocess.Popen(command, cwd=ROOT, env=ENV, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while len(_finished(results)) < target and time.time() < deadline \
                and proc.poll() is None:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.15))
        assert proc.poll() is None, (f"seed {seed}: the sweep ended before kill {round_ + 1} "
                                     f"(target {target}): {proc.stderr.read().decode()[-2000:]}")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        finished = _finished(results)
        assert len(finished) < total, f"seed {seed}: kill {round_ + 1} came too late"
        for key, stamp in finished_before.items():
            assert finished[key] == stamp, f"seed {seed}: finished run {key} was rewritten"
        finished_before = finished
        with warnings.catch_warnings():
            warnings.simplefilter("error", CorruptResultWarning)
            for key in finished:  # nothing that looks finished is damaged
                assert ResultStore(results).load(key) is not None

    attempts_before = {k: len(ResultStore(results).attempts(k)) for k in finished_before}
    final = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True,
                           timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr
    assert f"finished: {total} of {total} runs stored, 0 failed" in final.stdout
    _same_frames(pd.read_json(tmp_path / "frame.json"), reference)
    store = ResultStore(results)
    for key, stamp in finished_before.items():  # loaded, not recomputed
        assert _finished(results)[key] == stamp
        assert len(store.attempts(key)) == attempts_before[key]
    assert not list(results.glob("*/*/claim")), "a claim was left behind"


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_a_pool_sweep_killed_alone_leaves_no_process_behind(tmp_path):
    """SIGKILL only the parent of a pool sweep (not its process group): the fork server, the
    resource tracker and the workers all exit on their own."""
    plan = _sweep_file(tmp_path / "sweep.yaml", KILL_GRID,
                       KILL_BASE.replace(**{"train.epochs": 30}))
    results = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "pruninglib", "sweep", str(plan),
                             "--executor", "pool:workers=2,threads=1", "--results-dir",
                             str(results)], cwd=ROOT, env=ENV, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not list(results.glob("*/*/claim")) and time.time() < deadline:
            time.sleep(0.1)
        assert list(results.glob("*/*/claim")), "no worker started within 2 minutes"
        below = _descendants(proc.pid)
        assert len(below) >= 3, f"expected a fork server and workers, found {below}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 30
        while any(_alive(pid) for pid in below) and time.time() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in below if _alive(pid)], "processes outlived the sweep"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


CONCURRENT = textwrap.dedent("""
    import json, sys, time, torch
    from pathlib import Path
    torch.set_num_threads(1)
    from pruninglib.config import RunSpec
    from pruninglib.runs.experiments import grid_specs, run_all, to_frame
    base = RunSpec.from_dict(json.loads(sys.argv[1]))
    specs = grid_specs(base, json.loads(sys.argv[2]))[::-1]  # the other end of the grid first
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # torch's lazy imports
    Path(sys.argv[4]).touch()                      # ready
    while not Path(sys.argv[5]).exists():          # wait for the other worker: start together
        time.sleep(0.005)
    results = run_all(specs, results_dir=sys.argv[3], progress=False, poll_seconds=0.05)
    to_frame(results[::-1]).to_json(sys.argv[6])
""")
PAIR_GRID = {"prune.density": [0.5, 0.2, 0.1, 0.05, 0.02], "seed": [0, 1]}


def test_two_workers_on_the_same_sweep_compute_each_run_once(tmp_path):
    """This process and another one sweep the same grid into one directory at once, from
    opposite ends (so that both compute runs, and meet on the runs in the middle)."""
    import torch

    results, go, ready = tmp_path / "results", tmp_path / "go", tmp_path / "ready"
    other = subprocess.Popen(
        [sys.executable, "-c", CONCURRENT, KILL_BASE.to_json(), json.dumps(PAIR_GRID),
         str(results), str(ready), str(go), str(tmp_path / "other.json")], cwd=ROOT, env=ENV)
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # same warm-up here
    deadline = time.time() + 120
    while not ready.exists() and time.time() < deadline and other.poll() is None:
        time.sleep(0.005)
    go.touch()
    mine = sweep(KILL_BASE, PAIR_GRID, results_dir=results, progress=False, poll_seconds=0.05)
    assert other.wait(300) == 0
    mine.to_json(tmp_path / "mine.json")
    _same_frames(pd.read_json(tmp_path / "mine.json"), pd.read_json(tmp_path / "other.json"))
    store = ResultStore(results)
    attempts = {key: store.attempts(key) for key in mine["key"]}
    assert all(len(a) == 1 for a in attempts.values()), attempts
    workers = {a[0]["pid"] for a in attempts.values()}
    assert workers == {os.getpid(), other.pid}, "both workers should have computed runs"

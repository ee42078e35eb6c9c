"""The results store on shared storage: claims, failures, checkpoints, unwritable directories,
and loading that never unpickles."""
from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
import warnings

import pytest
import torch

from helpers import SMALL_RUN, Preempted, numbers, preempt_after_checkpoint
from pruninglib.runs import experiments
from pruninglib.runs import store as store_module
from pruninglib.config import (
    ConfigError,
    RunSpec,
)
from pruninglib.runs.cli import main as cli
from pruninglib.runs.experiments import run
from pruninglib.runs.store import (
    CorruptCheckpointWarning,
    CorruptResultWarning,
    ResultStore,
    StoreError,
)

BASE = SMALL_RUN
FAILING = BASE.replace(**{"model.name": "cnn1d", "model.hidden": []})  # needs 1-D inputs



def _files(root):
    """Every file under root with its bytes (to prove nothing changed)."""
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _assert_unchanged_but_attempts(root, before):
    """Every file stored before is byte-identical; the only new files are attempt logs."""
    after = _files(root)
    assert {k: v for k, v in after.items() if k in before} == before
    assert all(k.name == "attempts.log" for k in set(after) - set(before)), sorted(after)


def _flat_changes(spec: RunSpec) -> list[tuple[str, object]]:
    """Dotted (path, value) pairs that rebuild ``spec`` from the default RunSpec."""
    def flat(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict):
                yield from flat(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}", v
    return list(flat(spec.to_dict()))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- claims ----------------------------------------------------------------------------------
def test_a_claim_is_exclusive_until_released(tmp_path):
    store, other = ResultStore(tmp_path), ResultStore(tmp_path)
    with store.try_claim("abcdef0123456789") as claim:
        assert claim.owned()
        assert other.try_claim("abcdef0123456789") is None
        assert other.status("abcdef0123456789") == "running"
    assert not (store.directory("abcdef0123456789") / "claim").exists()
    assert other.status("abcdef0123456789") == "missing"
    again = other.try_claim("abcdef0123456789")
    assert again is not None
    again.release()
    assert [a["pid"] for a in store.attempts("abcdef0123456789")] == [os.getpid()] * 2


def test_the_claim_of_a_dead_process_is_taken_over_at_once(tmp_path):
    store = ResultStore(tmp_path)  # default stale_after: minutes
    key = "00dead0000000000"
    path = store.directory(key) / "claim"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({**store._new_claim_info(), "pid": _dead_pid()}))
    assert store.claim_info(key)["stale"] and store.status(key) == "missing"
    claim = store.try_claim(key)
    assert claim is not None and claim.owned()
    claim.release()


def test_a_claim_without_heartbeat_is_taken_over_and_a_beating_one_is_not(tmp_path):
    store = ResultStore(tmp_path, stale_after=0.5)
    key = "0ther0host000000"
    path = store.directory(key) / "claim"
    path.parent.mkdir(parents=True)
    # a worker on another machine: its pid means nothing here, only the heartbeat counts
    path.write_text(json.dumps({"host": "elsewhere/1", "pid": 1, "time": 0, "token": "x"}))
    assert store.status(key) == "running"
    old = time.time() - 5
    os.utime(path, (old, old))
    assert store.status(key) == "missing"
    with store.try_claim(key) as claim:
        time.sleep(1.2)  # > stale_after: only the heartbeat keeps it alive
        assert store.claim_info(key)["age"] < 0.5
        assert ResultStore(tmp_path, stale_after=0.5).try_claim(key) is None
        assert claim.owned()


def test_of_many_simultaneous_takeovers_exactly_one_wins(tmp_path):
    store = ResultStore(tmp_path)
    for round_ in range(10):
        key = f"race{round_:012d}"
        path = store.directory(key) / "claim"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({**store._new_claim_info(), "pid": _dead_pid()}))
        barrier, won = threading.Barrier(8), []

        def contend(barrier, key, won):
            barrier.wait()
            claim = ResultStore(tmp_path).try_claim(key)
            if claim is not None:
                won.append(claim)

        threads = [threading.Thread(target=contend, args=(barrier, key, won))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        owners = [c for c in won if c.owned()]  # a loser that raced finds out before writing
        assert len(owners) == 1, f"round {round_}: {len(owners)} workers own the claim"
        for claim in won:
            claim.release()


def test_a_worker_whose_claim_was_taken_over_does_not_write(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    compute = experiments.compute_run

    def compute_then_lose_claim(spec, context):
        out = compute(spec, context)
        path = context.store.directory(context.key) / "claim"
        path.write_text(json.dumps({"host": "elsewhere/1", "pid": 1, "time": 0,
                                    "token": "thief"}))
        return out
    monkeypatch.setattr(experiments, "compute_run", compute_then_lose_claim)
    assert experiments.attempt(BASE, store=store) is None
    assert not store.has(BASE.key()) and store.status(BASE.key()) == "running"


# -- failures --------------------------------------------------------------------------------
def test_a_failed_run_leaves_its_error_line_and_nothing_that_looks_finished(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(ConfigError, match="needs sequence inputs"):
        run(FAILING, results_dir=tmp_path, progress=False)
    key = FAILING.key()
    record = store.load_error(key)
    assert record["error"].startswith("ConfigError: model.name='cnn1d' needs sequence inputs")
    assert "Traceback" in record["traceback"] and record["spec"] == FAILING.to_dict()
    assert store.status(key) == "failed" and not store.has(key)
    assert not (store.directory(key) / "claim").exists()


def test_an_interrupted_run_releases_its_claim_and_records_no_error(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(experiments, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(BASE, results_dir=tmp_path, progress=False)
    assert ResultStore(tmp_path).status(BASE.key()) == "missing"


# -- unwritable results directory --------------------------------------------------------------
def test_a_full_disk_gives_one_clear_error_and_corrupts_nothing(tmp_path, monkeypatch):
    finished = run(BASE, results_dir=tmp_path, progress=False, save_weights=True)
    before = _files(tmp_path)
    real_fdopen = os.fdopen

    class FullFile:
        """Writes half of the data, then fails as a full disk does."""

        def __init__(self, f):
            self.f = f

        def write(self, data):
            if len(data) < 1000:  # the claim (small) still fits, the result does not
                return self.f.write(data)
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(store_module.os, "fdopen",
                        lambda fd, *a, **k: FullFile(real_fdopen(fd, *a, **k)))
    other = BASE.replace(seed=1)
    with pytest.raises(StoreError) as info:
        run(other, results_dir=tmp_path, progress=False)
    message = str(info.value)
    assert "\n" not in message and str(tmp_path) in message and "disk is full" in message
    monkeypatch.undo()
    _assert_unchanged_but_attempts(tmp_path, before)
    assert ResultStore(tmp_path).load(finished.key) is not None
    assert ResultStore(tmp_path).status(other.key()) == "missing"


@pytest.mark.slow
def test_a_file_size_limit_hit_mid_write_is_one_clear_error(tmp_path):
    """A real kernel write error (RLIMIT_FSIZE: the write fails part-way) in a child."""
    script = (
        "import resource, signal, sys, torch\n"
        "torch.set_num_threads(1)\n"
        "from pruninglib.config import *\n"
        "from pruninglib.runs.experiments import run\n"
        "from pruninglib.runs.store import StoreError\n"
        f"spec = RunSpec.from_dict({BASE.to_dict()!r}).replace(seed=1)\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1500, resource.RLIM_INFINITY))\n"
        "try:\n"
        "    run(spec, results_dir=sys.argv[1], progress=False)\n"
        "except StoreError as e:\n"
        "    print('STORE-ERROR', e); sys.exit(3)\n")
    finished = run(BASE, results_dir=tmp_path, progress=False)
    before = _files(tmp_path)
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                          text=True, timeout=600)  # generous: a loaded machine
    assert proc.returncode == 3, proc.stderr
    assert "file size limit exceeded" in proc.stdout and str(tmp_path) in proc.stdout
    _assert_unchanged_but_attempts(tmp_path, before)
    assert ResultStore(tmp_path).load(finished.key) is not None


def _make_read_only(path):
    """Read-only for real: chmod (non-root), else the immutable attribute (root); None if
    neither is possible here."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        return lambda: path.chmod(0o755)
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(path)],
                                                 capture_output=True).returncode == 0:
        return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)
    return None


@pytest.mark.parametrize("where", ["root", "run directory"])
def test_a_read_only_results_dir_gives_one_clear_error_and_still_reads(tmp_path, where,
                                                                        capsys):
    root = tmp_path / "results"
    finished = run(BASE, results_dir=root, progress=False)
    target = root if where == "root" else ResultStore(root).directory(finished.key).parent
    same_prefix = where == "run directory"  # a new run in the read-only <root>/<xx> folder
    other = next(BASE.replace(seed=s) for s in range(1, 5000)
                 if (BASE.replace(seed=s).key()[:2] == finished.key[:2]) == same_prefix)
    before = _files(root)
    undo = _make_read_only(target)
    if undo is None:
        pytest.skip("cannot make a directory read-only here (root without chattr support)")
    try:
        with pytest.raises(StoreError) as info:
            run(other, results_dir=root, progress=False)
        message = str(info.value)
        assert "\n" not in message and str(root) in message
        assert "read-only" in message or "permission denied" in message
        # what is stored can still be read from a read-only directory
        assert run(BASE, results_dir=root, progress=False).key == finished.key
        frame = experiments.sweep(BASE, {"seed": [0]}, results_dir=root, progress=False)
        assert list(frame["key"]) == [finished.key]
        # a sweep that needs to write stops at once with the same one-line error
        with pytest.raises(StoreError, match="cannot claim run"):
            experiments.sweep(BASE, {"seed": [finished.spec.seed, other.seed]},
                              results_dir=root, progress=False)
        code = cli(["sweep", "--results-dir", str(root), "--set", f"seed={other.seed}",
                    *[f"--set={k}={json.dumps(v)}" for k, v in _flat_changes(other)]])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err.startswith("error: ") and "cannot claim run" in err, err
        assert "\n" not in err
    finally:
        undo()
    assert _files(root) == before


# -- checkpoints -----------------------------------------------------------------------------
@pytest.mark.parametrize("changes", [
    {},
    {"train.optimizer": "adam", "train.lr": 0.01, "train.schedule": "step",
     "train.epochs": 5, "model.batchnorm": True},
    {"prune.method": "imp", "prune.iterations": 2, "train.weight_decay": 1e-4},
], ids=["sgd-cosine", "adam-step-batchnorm", "imp"])
def test_a_run_resumed_from_a_checkpoint_gives_identicalnumbers(tmp_path, monkeypatch,
                                                                 changes):
    spec = BASE.replace(**{"train.epochs": 4, **changes})
    uninterrupted = run(spec, results_dir=tmp_path / "a", progress=False)

    preempt_after_checkpoint(monkeypatch, epoch=2)
    with pytest.raises(Preempted):
        run(spec, results_dir=tmp_path / "b", progress=False, checkpoint_every=1)
    monkeypatch.undo()
    store = ResultStore(tmp_path / "b")
    assert store.status(spec.key()) == "missing"
    saved_state, _ = store.load_checkpoint(spec.key())
    assert saved_state["epoch"] == 2

    resumed_from = []
    train = experiments.train

    def spy(*args, resume=None, **kwargs):
        resumed_from.append(None if resume is None else resume["epoch"])
        return train(*args, resume=resume, **kwargs)
    monkeypatch.setattr(experiments, "train", spy)
    resumed = run(spec, results_dir=tmp_path / "b", progress=False)
    assert resumed_from == [2], "the run should continue from epoch 2"
    assert numbers(resumed) == numbers(uninterrupted)
    assert resumed.history[:2] == saved_state["history"]  # epochs 1-2 came from the checkpoint
    assert not list(store.directory(spec.key()).glob("checkpoint*"))


def test_a_damaged_checkpoint_is_reported_and_ignored(tmp_path, monkeypatch):
    spec = BASE.replace(**{"train.epochs": 3})
    reference = run(spec, results_dir=tmp_path / "a", progress=False)
    preempt_after_checkpoint(monkeypatch, epoch=1)
    with pytest.raises(Preempted):
        run(spec, results_dir=tmp_path / "b", progress=False, checkpoint_every=1)
    monkeypatch.undo()
    directory = ResultStore(tmp_path / "b").directory(spec.key())
    tensors = next(directory.glob("checkpoint-*.safetensors"))
    tensors.write_bytes(tensors.read_bytes()[:-100])  # truncated
    with pytest.warns(CorruptCheckpointWarning, match="corrupt checkpoint"):
        again = run(spec, results_dir=tmp_path / "b", progress=False)
    assert numbers(again) == numbers(reference)


def test_checkpoint_every_must_be_a_positive_number_of_epochs(tmp_path):
    with pytest.raises(ConfigError, match=r"checkpoint_every=0 is not allowed"):
        run(BASE, results_dir=tmp_path, progress=False, checkpoint_every=0)


# -- nothing is ever unpickled -----------------------------------------------------------------
class Exploit:
    """Unpickling this creates a file: proof that something unpickled it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_loading_never_unpickles(tmp_path, monkeypatch):
    finished = run(BASE, results_dir=tmp_path, progress=False, save_weights=True)
    spec = BASE.replace(**{"train.epochs": 3})
    preempt_after_checkpoint(monkeypatch)
    with pytest.raises(Preempted):
        run(spec, results_dir=tmp_path, progress=False, checkpoint_every=1)
    monkeypatch.undo()

    def forbidden(*args, **kwargs):
        raise AssertionError("something was unpickled")
    for module, name in [(pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"),
                         (torch, "load")]:
        monkeypatch.setattr(module, name, forbidden)
    store = ResultStore(tmp_path)
    assert store.load(finished.key) is not None
    assert store.load_weights(finished.key)
    assert run(spec, results_dir=tmp_path, progress=False).history  # resumed, then finished
    monkeypatch.undo()

    # pickles planted where results, weights and checkpoints live are rejected, never run
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Exploit(marker))
    directory = store.directory(finished.key)
    (directory / "weights.safetensors").write_bytes(payload)
    with pytest.warns(CorruptResultWarning), pytest.raises(FileNotFoundError):
        store.load_weights(finished.key)  # fails its checksum: moved aside, never parsed
    (directory / "result.json").write_bytes(payload)
    with pytest.warns(CorruptResultWarning):
        assert store.load(finished.key) is None
    (directory / "checkpoint.json").write_bytes(payload)
    with pytest.warns(CorruptCheckpointWarning):
        assert store.load_checkpoint(finished.key) is None
    assert not marker.exists()


def test_leftover_temporary_files_of_a_killed_writer_are_removed(tmp_path):
    store = ResultStore(tmp_path)
    directory = store.directory(BASE.key())
    directory.mkdir(parents=True)
    (directory / ".result.json.x1.tmp").write_text('{"checksum": "half a res')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(BASE, results_dir=tmp_path, progress=False)
    assert not list(directory.glob(".*.tmp"))

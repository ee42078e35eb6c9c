"""Content-addressed results on disk: one directory per run, named by the spec's hash.

Layout of a run's directory ``<root>/<key[:2]>/<key>/``:

* ``result.json``: the finished result (+ ``weights.safetensors`` when asked). Writes are
  atomic (temporary file in the same directory, then ``os.replace``), so a reader never sees
  half a result and a killed run leaves nothing that looks finished. Every ``result.json``
  carries a SHA-256 checksum of its content: a truncated, empty or garbled file is detected,
  moved aside as ``result.json.corrupt`` and reported, and the run is recomputed.
* ``claim``: held while a worker computes the run (see :class:`Claim`), so that workers sharing
  the directory (a process pool, SLURM jobs, Ray tasks, two notebooks) never compute the same
  run twice. A claim whose worker died (same host and its process is gone, or no heartbeat for
  ``stale_after`` seconds) is taken over.
* ``error.json``: the error line and traceback of the last failed attempt (removed on success).
* ``checkpoint.json`` + ``checkpoint-<epoch>.safetensors``: optional per-epoch training state,
  so a preempted long run resumes mid-training.
* ``attempts.log``: one JSON line per claim taken (host, pid, time): who computed what.

Only JSON and safetensors are ever read back: no pickle is loaded, whatever the files contain.
A results directory that cannot be written (full disk, read-only mount, no permission) raises
one :class:`StoreError` naming the directory; nothing stored before is changed.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import socket
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..paths import default_dir

if TYPE_CHECKING:
    import torch

RESULTS_ENV = "PRUNINGLIB_RESULTS"
STALE_AFTER = 600.0
"""Seconds without a heartbeat after which another worker takes a claim over (a live worker
refreshes its claim every ``stale_after / 10`` seconds)."""


def default_results_dir() -> Path:
    """``$PRUNINGLIB_RESULTS``, else ``results/`` in the source checkout, else the user cache."""
    return default_dir(RESULTS_ENV, "results")


class CorruptResultWarning(UserWarning):
    """A stored result failed its checksum or did not parse; it will be recomputed."""


class CorruptCheckpointWarning(UserWarning):
    """A stored checkpoint failed its checksum or did not parse; training restarts."""


class StoreError(OSError):
    """The results directory cannot be written (disk full, read-only, no permission).

    The message is one line naming the directory and the system's reason; files stored
    before are untouched and no partial file is left behind."""


def _checksum(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _store_error(root: Path, action: str, error: OSError) -> StoreError:
    reason = error.strerror or str(error)
    hint = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
            errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
            errno.EPERM: "permission denied", errno.EFBIG: "file size limit exceeded",
            }.get(error.errno, reason)
    return StoreError(error.errno or errno.EIO,
                      f"cannot {action} in results directory {root}: {hint} ({reason}); "
                      f"finished results there are untouched")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all at once or not at all (no partial file left on error)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # as open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read_json(path: Path):
    """Parsed JSON of ``path``, or None if it is absent, unreadable or not JSON."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


# -- claims --------------------------------------------------------------------------------------
def _host_id() -> str:
    """This machine and PID namespace: two processes with the same host id see each other's
    PIDs, so a dead claimant can be recognised at once."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()}/{namespace}"


def _process_start(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot (guards against PID reuse), if known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _pid_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if start is not None:
        now = _process_start(pid)
        if now is not None and now != start:
            return False  # the PID was reused by another process
    return True


_HELD: set[Claim] = set()
_HELD_LOCK = threading.Lock()


def release_all_claims() -> None:
    """Release every claim this process holds (used when a job is preempted: the requeued job,
    maybe on another host, can then take its runs over at once)."""
    with _HELD_LOCK:
        held = list(_HELD)
    for claim in held:
        claim.release()


class Claim:
    """A run claimed by this process: the file ``<run dir>/claim`` holds our host, pid, time
    and a random token. A daemon thread refreshes its modification time (the heartbeat) every
    ``stale_after / 10`` seconds while held. Use as a context manager (released on exit, even on
    errors and interrupts); a killed process leaves a claim that others recognise as stale."""

    def __init__(self, store: ResultStore, key: str, info: dict):
        self.store, self.key, self.info = store, key, info
        self.path = store.directory(key) / "claim"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def owned(self) -> bool:
        """Whether ``claim`` still holds our token (False once another worker took it over)."""
        info = _read_json(self.path)
        if info is None and self.path.exists():
            return not self.lost  # being rewritten by a stealer right now: decided next time
        self.lost = self.lost or info is None or info.get("token") != self.info["token"]
        return not self.lost

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                if self.owned():
                    os.utime(self.path)
            except OSError:
                pass  # a heartbeat that cannot be written only makes the claim look older

    def __enter__(self) -> Claim:
        with _HELD_LOCK:
            _HELD.add(self)
        interval = max(0.05, self.store.stale_after / 10)
        self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True,
                                        name=f"claim-{self.key}")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        """Stop the heartbeat and remove the claim file if it is still ours."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with _HELD_LOCK:
            _HELD.discard(self)
        try:
            if _read_json(self.path) == self.info:
                self.path.unlink()
        except OSError:
            pass


# -- the store -----------------------------------------------------------------------------------
class ResultStore:
    """Results of runs keyed by ``RunSpec.key()`` under ``root``.

    stale_after: seconds without a heartbeat after which a claim from another machine is taken
        over (claims of dead processes on this machine are taken over at once).
    """

    def __init__(self, root: str | os.PathLike | None = None, *,
                 stale_after: float | None = None):
        if root is not None and not str(root).strip():
            raise StoreError(errno.EINVAL, f"results_dir={str(root)!r} is not allowed: a "
                                           f"directory path, or None for the default")
        self.root = Path(root) if root is not None else default_results_dir()
        if stale_after is None:
            stale_after = float(os.environ.get("PRUNINGLIB_STALE_AFTER", STALE_AFTER))
        self.stale_after = stale_after

    def check_root(self) -> None:
        """Raise :class:`StoreError` (one line) if the root exists and is not a directory."""
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(errno.ENOTDIR, f"results directory {self.root} is not allowed: "
                                            f"it is a file, not a directory")

    def directory(self, key: str) -> Path:
        return self.root / key[:2] / key

    def _write(self, path: Path, data: bytes, action: str) -> None:
        try:
            _atomic_write(path, data)
        except OSError as error:
            raise _store_error(self.root, action, error) from error

    # -- results ---------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return (self.directory(key) / "result.json").is_file()

    def save(self, key: str, payload: dict, weights: dict[str, torch.Tensor] | None = None
             ) -> Path:
        """Store ``payload`` (JSON-able dict) and optional tensors; weights first, so a result
        that looks finished always has its weights. Raises :class:`StoreError` if the directory
        cannot be written (nothing partial is left)."""
        from safetensors.torch import save as save_safetensors

        directory = self.directory(key)
        record = {"checksum": _checksum(payload), "payload": payload}
        if weights is not None:
            tensors = {k: v.detach().cpu().contiguous() for k, v in weights.items()}
            data = save_safetensors(tensors)
            self._write(directory / "weights.safetensors", data,
                        f"save the weights of run {key}")
            record["weights_sha256"] = hashlib.sha256(data).hexdigest()
        text = json.dumps(record, indent=1)  # key order kept: tables read back identically
        self._write(directory / "result.json", text.encode(), f"save run {key}")
        return directory

    def load(self, key: str) -> dict | None:
        """The stored payload, or None if absent or corrupt (a corrupt file is moved aside
        with a :class:`CorruptResultWarning` naming it)."""
        path = self.directory(key) / "result.json"
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            text = b""
        try:
            record = json.loads(text)
            ok = _checksum(record["payload"]) == record["checksum"]
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            try:
                os.replace(path, path.with_name("result.json.corrupt"))
                where = "moved aside"
            except FileNotFoundError:
                where = "already moved aside by another worker"
            except OSError as error:
                where = f"could not be moved aside ({error.strerror})"
            warnings.warn(f"corrupt result {path} (checksum or JSON failed): {where}, "
                          f"recomputing", CorruptResultWarning, stacklevel=2)
            return None
        return record["payload"]

    def _weights_bytes(self, key: str) -> bytes | None:
        """The weights file of ``key`` if it matches the checksum its result recorded (results
        written before weights had checksums: if it parses), else None; a file that does not
        verify is moved aside with a :class:`CorruptResultWarning`."""
        from safetensors.torch import load as load_safetensors

        path = self.directory(key) / "weights.safetensors"
        try:
            data = path.read_bytes()
            record = json.loads((self.directory(key) / "result.json").read_bytes())
        except (OSError, ValueError):
            return None
        expected = record.get("weights_sha256") if isinstance(record, dict) else None
        if expected is not None:
            ok = hashlib.sha256(data).hexdigest() == expected
        else:
            try:
                load_safetensors(data)
                ok = True
            except Exception:  # noqa: BLE001 - any parse failure means corrupt
                ok = False
        if not ok:
            try:
                os.replace(path, path.with_name("weights.safetensors.corrupt"))
            except OSError:
                pass
            warnings.warn(f"corrupt weights {path} (checksum failed): moved aside, "
                          f"recomputing", CorruptResultWarning, stacklevel=3)
            return None
        return data

    def has_weights(self, key: str) -> bool:
        """Whether ``key`` has a weights file that verifies."""
        return self._weights_bytes(key) is not None

    def load_weights(self, key: str) -> dict[str, torch.Tensor]:
        """Tensors saved with the run, verified against their checksum (raises
        FileNotFoundError if none are stored or they do not verify)."""
        from safetensors.torch import load as load_safetensors

        data = self._weights_bytes(key)
        if data is None:
            raise FileNotFoundError(f"no verified weights stored for run {key} (run it with "
                                    f"save_weights=True)")
        return load_safetensors(data)

    def discard(self, key: str, reason: str) -> None:
        """Move the result of ``key`` aside (``result.json.corrupt``) with a warning."""
        path = self.directory(key) / "result.json"
        try:
            os.replace(path, path.with_name("result.json.corrupt"))
        except OSError:
            pass
        warnings.warn(f"result {path} not used ({reason}): moved aside, recomputing",
                      CorruptResultWarning, stacklevel=3)

    def keys(self) -> list[str]:
        """Keys of every finished run under root."""
        return sorted(p.parent.name for p in self.root.glob("*/*/result.json"))

    # -- claims ----------------------------------------------------------------------------
    def _new_claim_info(self) -> dict:
        return {"host": _host_id(), "pid": os.getpid(), "start": _process_start(os.getpid()),
                "time": time.time(), "token": uuid.uuid4().hex}

    def claim_info(self, key: str) -> dict | None:
        """The claim on ``key`` (host, pid, time, token) with ``age`` (seconds since the last
        heartbeat) and ``stale`` added, or None if the run is not claimed."""
        path = self.directory(key) / "claim"
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return None
        info = _read_json(path)
        if not isinstance(info, dict) or "token" not in info:
            # unreadable: a claim is written in full before it appears, so this is damage
            return {"age": age, "stale": True, "damaged": True}
        stale = age > self.stale_after or (
            info.get("host") == _host_id() and isinstance(info.get("pid"), int)
            and not _pid_alive(info["pid"], info.get("start")))
        return {**info, "age": age, "stale": stale}

    def remove_dead_claim(self, key: str) -> None:
        """Remove the claim on a finished ``key`` left by a worker that died between writing
        the result and releasing its claim (a live worker's claim is left alone)."""
        info = self.claim_info(key)
        if info is not None and info["stale"]:
            try:
                (self.directory(key) / "claim").unlink()
            except OSError:
                pass

    def _create_claim(self, path: Path, info: dict) -> bool:
        """Create ``path`` holding ``info`` only if it does not exist (atomically: a hard link
        of a complete temporary file, else O_CREAT|O_EXCL); False if it exists."""
        data = json.dumps(info).encode()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".claim.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
                return True
            except FileExistsError:
                return False
            except OSError as error:
                if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP,
                                       errno.EMLINK, errno.ENOSYS):
                    raise
            try:  # a file system without hard links
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            return True
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _take_over(self, path: Path, stale: dict) -> None:
        """Move the stale claim ``stale`` out of the way (atomic rename); if what was moved is
        not that claim (another worker replaced it meanwhile), put it back."""
        aside = path.with_name(f"claim.stale.{uuid.uuid4().hex}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return
        moved = _read_json(aside)
        if stale.get("damaged") or (isinstance(moved, dict)
                                    and moved.get("token") == stale.get("token")):
            aside.unlink(missing_ok=True)
            return
        try:  # we moved a fresh claim: restore it unless a newer one appeared
            os.link(aside, path)
        except OSError:
            pass
        aside.unlink(missing_ok=True)

    def try_claim(self, key: str) -> Claim | None:
        """Claim ``key`` for this process, or None if a live worker holds it. Stale claims are
        taken over. The caller checks again that the run is not finished once it holds the
        claim. Raises :class:`StoreError` if the directory cannot be written."""
        directory = self.directory(key)
        path = directory / "claim"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for _ in range(10):
                info = self._new_claim_info()
                if self._create_claim(path, info):
                    self._log_attempt(key, info)
                    self._remove_leftovers(directory)
                    return Claim(self, key, info)
                current = self.claim_info(key)
                if current is None:
                    continue  # released meanwhile: try again
                if not current["stale"]:
                    return None
                self._take_over(path, current)
            return None
        except OSError as error:
            raise _store_error(self.root, f"claim run {key}", error) from error

    @staticmethod
    def _remove_leftovers(directory: Path) -> None:
        """Temporary files of a killed writer of this run (never read; only the claim holder
        writes here, so they are garbage once we hold it)."""
        for pattern in (".result.json.*.tmp", ".weights.safetensors.*.tmp",
                        ".error.json.*.tmp", ".checkpoint*.tmp"):
            for path in directory.glob(pattern):
                try:
                    path.unlink()
                except OSError:
                    pass

    def _log_attempt(self, key: str, info: dict) -> None:
        line = json.dumps({k: info[k] for k in ("host", "pid", "time")}) + "\n"
        try:
            with open(self.directory(key) / "attempts.log", "a") as f:
                f.write(line)
        except OSError:
            pass  # diagnostics only

    def attempts(self, key: str) -> list[dict]:
        """Every claim taken on ``key`` (host, pid, time), oldest first: one per computation."""
        try:
            lines = (self.directory(key) / "attempts.log").read_text().splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    # -- failures --------------------------------------------------------------------------
    def save_error(self, key: str, error: BaseException, spec: dict | None = None) -> None:
        """Record a failed attempt in ``error.json``: the error line, traceback, host, time."""
        line = error_line(error)
        record = {"key": key, "error": line, "time": time.time(), "host": _host_id(),
                  "pid": os.getpid(), "spec": spec,
                  "traceback": "".join(traceback.format_exception(error))}
        self._write(self.directory(key) / "error.json", json.dumps(record, indent=1).encode(),
                    f"record the failure of run {key}")

    def load_error(self, key: str) -> dict | None:
        """The last recorded failure of ``key`` (see :meth:`save_error`), or None."""
        record = _read_json(self.directory(key) / "error.json")
        return record if isinstance(record, dict) and "error" in record else None

    def clear_error(self, key: str) -> None:
        try:
            (self.directory(key) / "error.json").unlink(missing_ok=True)
        except OSError:
            pass

    def status(self, key: str) -> str:
        """'done' (a result is stored), 'running' (claimed by a live worker), 'failed' (the
        last attempt raised; see :meth:`load_error`) or 'missing'."""
        if self.has(key):
            return "done"
        claim = self.claim_info(key)
        if claim is not None and not claim["stale"]:
            return "running"
        if (self.directory(key) / "error.json").is_file():
            return "failed"
        return "missing"

    # -- checkpoints -----------------------------------------------------------------------
    def save_checkpoint(self, key: str, state: dict, tensors: dict[str, torch.Tensor]) -> None:
        """Store training ``state`` (JSON-able) and ``tensors`` at ``state['epoch']``: tensors
        first under a name with the epoch, then ``checkpoint.json`` (with their checksum) as
        the commit point, then the previous tensors file is removed."""
        from safetensors.torch import save as save_safetensors

        directory = self.directory(key)
        data = save_safetensors({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
        name = f"checkpoint-{int(state['epoch'])}.safetensors"
        self._write(directory / name, data, f"checkpoint run {key}")
        record = {"key": key, "tensors": name, "tensors_sha256": hashlib.sha256(data).hexdigest(),
                  "state": state}
        record["checksum"] = _checksum(record)
        self._write(directory / "checkpoint.json", json.dumps(record).encode(),
                    f"checkpoint run {key}")
        for old in directory.glob("checkpoint-*.safetensors"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def load_checkpoint(self, key: str) -> tuple[dict, dict[str, torch.Tensor]] | None:
        """(state, tensors) of the last checkpoint, or None if there is none; a damaged one
        is reported with a :class:`CorruptCheckpointWarning` and ignored."""
        from safetensors.torch import load as load_safetensors

        directory = self.directory(key)
        path = directory / "checkpoint.json"
        if not path.exists():
            return None
        record = _read_json(path)
        try:
            claimed = record.pop("checksum")
            ok = claimed == _checksum(record) and record["key"] == key
            name = record["tensors"]
            data = (directory / Path(name).name).read_bytes() if ok else b""
            ok = ok and hashlib.sha256(data).hexdigest() == record["tensors_sha256"]
            tensors = load_safetensors(data) if ok else None
        except Exception:  # missing keys, unreadable files, safetensors' own header errors
            ok, tensors = False, None
        if not ok:
            warnings.warn(f"corrupt checkpoint {path}: ignored, training restarts from the "
                          f"beginning", CorruptCheckpointWarning, stacklevel=2)
            self.clear_checkpoint(key)
            return None
        return record["state"], tensors

    def clear_checkpoint(self, key: str) -> None:
        directory = self.directory(key)
        for path in [directory / "checkpoint.json",
                     *directory.glob("checkpoint-*.safetensors")]:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass


def error_line(error: BaseException) -> str:
    """``Type: message``, first line of the message only."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__

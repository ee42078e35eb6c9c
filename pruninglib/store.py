"""Content-addressed results on disk: one directory per run, named by the spec's hash.

Layout: ``<root>/<key[:2]>/<key>/result.json`` (+ ``weights.safetensors`` when asked).
Writes are atomic (temporary file in the same directory, then ``os.replace``), so a reader never
sees half a result and a killed run leaves nothing that looks finished. Every ``result.json``
carries a SHA-256 checksum of its content: a truncated, empty or garbled file is detected,
moved aside as ``result.json.corrupt`` and reported, and the run is recomputed. Weights use
safetensors (no pickle is ever loaded).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .paths import default_dir

RESULTS_ENV = "PRUNINGLIB_RESULTS"


def default_results_dir() -> Path:
    """``$PRUNINGLIB_RESULTS``, else ``results/`` in the source checkout, else the user cache."""
    return default_dir(RESULTS_ENV, "results")


class CorruptResultWarning(UserWarning):
    """A stored result failed its checksum or did not parse; it will be recomputed."""


def _checksum(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class ResultStore:
    """Results of runs keyed by ``RunSpec.key()`` under ``root``."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_results_dir()

    def directory(self, key: str) -> Path:
        return self.root / key[:2] / key

    def has(self, key: str) -> bool:
        return (self.directory(key) / "result.json").is_file()

    def save(self, key: str, payload: dict, weights: dict[str, torch.Tensor] | None = None
             ) -> Path:
        """Store ``payload`` (JSON-able dict) and optional tensors; weights first, so a result
        that looks finished always has its weights."""
        directory = self.directory(key)
        if weights is not None:
            tensors = {k: v.detach().cpu().contiguous() for k, v in weights.items()}
            _atomic_write(directory / "weights.safetensors",
                          lambda tmp: save_file(tensors, tmp))
        record = {"checksum": _checksum(payload), "payload": payload}
        text = json.dumps(record, indent=1)  # key order kept: tables read back identically
        _atomic_write(directory / "result.json", lambda tmp: Path(tmp).write_text(text))
        return directory

    def load(self, key: str) -> dict | None:
        """The stored payload, or None if absent or corrupt (a corrupt file is moved aside
        with a :class:`CorruptResultWarning` naming it)."""
        path = self.directory(key) / "result.json"
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
            ok = _checksum(record["payload"]) == record["checksum"]
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            os.replace(path, path.with_name("result.json.corrupt"))
            warnings.warn(f"corrupt result {path} (checksum or JSON failed): moved aside, "
                          f"recomputing", CorruptResultWarning, stacklevel=2)
            return None
        return record["payload"]

    def load_weights(self, key: str) -> dict[str, torch.Tensor]:
        """Tensors saved with the run (safetensors; raises FileNotFoundError if none)."""
        path = self.directory(key) / "weights.safetensors"
        if not path.is_file():
            raise FileNotFoundError(f"no weights stored for run {key} (run it with "
                                    f"save_weights=True)")
        return load_file(path)

    def keys(self) -> list[str]:
        """Keys of every finished run under root."""
        return sorted(p.parent.name for p in self.root.glob("*/*/result.json"))

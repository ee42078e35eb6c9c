"""Random streams: every random draw of the library comes from ``(seed, purpose)``.

A run seed is never used directly: :func:`derive_seed` hashes it with the purpose of the draw
(``"init"``, ``"prune"``, ``"batches"``, ...), so streams for different purposes of one seed,
and for the same purpose of different seeds, are independent, and adding a purpose changes no
other stream.
"""
from __future__ import annotations

import hashlib

import torch


def derive_seed(seed: int, purpose: str) -> int:
    """Independent 63-bit seed for one purpose (init, prune, batches, ...) of a run seed."""
    digest = hashlib.sha256(f"{seed}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(seed: int, purpose: str) -> torch.Generator:
    """A CPU generator seeded by :func:`derive_seed` (``seed``, ``purpose``)."""
    return torch.Generator().manual_seed(derive_seed(seed, purpose))

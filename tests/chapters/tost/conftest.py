"""The ToST chapter's small test inputs: knobs for a tiny design, and a hand-built runs frame
whose gains are known by construction."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.chapters.tost import experiment

TINY = {"dataset": "synthetic", "train_subset": None, "test_subset": None, "augment": False,
        "model": "resmlp", "width": 1.0, "hidden": [8], "batchnorm": True, "epochs": 2,
        "lr": 0.05, "batch_size": 128, "weight_decay": 0.0, "lr_schedule": "cosine",
        "milestones": [0.5, 0.75], "ghost_activation": "silu", "ghost_fraction": 0.2,
        "label_smoothing": 0.1, "gradinit_steps": 2,
        "recipe": ["ghost_neurons", "ghost_skips", "label_smoothing", "gradinit"],
        "protocols": ["default", "ghost_skips", "fan_in", "all"],
        "methods": ["random", "snip"], "sparsities": [0.9, 0.99], "trick_methods": None,
        "trick_sparsities": None, "bf16": False, "channels_last": False, "seeds": 3}
"""Knobs of a design (the ``tost`` section of notebooks/profiles.yml) on the synthetic set."""

BASE_GAIN = {"ghost_skips": {0.1: -1.0, 0.01: 1.0}, "fan_in": {0.1: 0.0, 0.01: 3.0},
             "all": {0.1: 0.5, 0.01: 2.0}}
"""Gain in points over default by protocol and density, before the mask and seed terms."""


def known_gain(protocol: str, method: str, density: float, seed: int) -> float:
    """The gain (points) the frame of :func:`runs_frame` has by construction: the base gain,
    +1 for the SNIP mask, +0.1 per seed."""
    return BASE_GAIN[protocol][density] + (method == "snip") + 0.1 * seed


@pytest.fixture
def design() -> experiment.Design:
    return experiment.Design.from_parameters(TINY)


@pytest.fixture
def runs_frame() -> pd.DataFrame:
    """Rows like a sweep frame's: default accuracy 0.5 + 0.01 seed (+0.1 for SNIP at density
    0.1), every other protocol the default plus :func:`known_gain` points."""
    rows = []
    for method in ("random", "snip"):
        for density in (0.1, 0.01):
            for seed in range(3):
                default = 0.5 + 0.01 * seed + 0.1 * (method == "snip" and density == 0.1)
                for protocol in ("default", *BASE_GAIN):
                    gain = 0.0 if protocol == "default" else known_gain(protocol, method,
                                                                        density, seed)
                    rows.append({"model.name": "resmlp", "prune.method": method,
                                 "prune.density": density, "seed": seed,
                                 "protocol": protocol, "test_accuracy": default + gain / 100,
                                 "prune_seconds": 1.0, "train_seconds": 5.0})
    return pd.DataFrame(rows)


@pytest.fixture
def dense_frame() -> pd.DataFrame:
    """The dense reference of :func:`runs_frame`: accuracy 0.8 + 0.01 seed, so it is 30 points
    above the default at density 0.01 (both masks 0.5 + 0.01 seed) for every seed."""
    return pd.DataFrame([{"model.name": "resmlp", "prune.method": "dense", "prune.density": 1.0,
                          "seed": seed, "test_accuracy": 0.8 + 0.01 * seed,
                          "prune_seconds": 0.0, "train_seconds": 5.0} for seed in range(3)])

"""Small hand-made frames and parameters of the robust-pruning chapter, with known numbers."""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

SEEDS = (0, 1, 2)


def params(**changes) -> SimpleNamespace:
    """The chapter's knobs at a tiny size (the names of notebooks/profiles.yml)."""
    values = dict(
        data={"name": "synthetic", "train_subset": None, "test_subset": None},
        activations=["tanh"], width=6, depths=[3], train_depth=4, eoc_point="ours",
        eoc_sigma_b={"tanh": 0.2, "elu": 0.2, "relu": 0.0},
        ordered={"sigma_b": 1.0, "sigma_w2": 0.5}, chaotic={"sigma_b": 0.2, "sigma_w2": 4.0},
        methods=["magnitude", "snip"], densities=[0.3], train_densities=[0.5, 0.1],
        training={"optimizer": "adam", "lr": 0.001, "schedule": "cosine", "epochs": 1,
                  "batch_size": 64},
        trainable_accuracy=0.5, phase_activations=["tanh"], phase_grid=3,
        propagation={"width": 20, "depth": 3, "pairs": 2, "c1": 0.5}, chi_inputs=16,
        residual_family="resmlp", residual_depths=[2, 4], residual_width=8,
        residual_densities=[0.1], residual_methods=["snip", "synflow"],
        residual_data={"name": "synthetic", "train_subset": None, "test_subset": None,
                       "augment": False},
        residual_training={"optimizer": "adam", "lr": 0.001, "schedule": "cosine",
                           "epochs": 1, "batch_size": 64, "weight_decay": 0.0},
        seeds=len(SEEDS))
    values.update(changes)
    return SimpleNamespace(**values)


# test accuracy per seed of the tanh MLPs of depth 4 (fractions)
MLP_ACCURACY = {
    ("ordered", "dense", 1.0, "none"): (0.80, 0.80, 0.80),
    ("eoc", "dense", 1.0, "none"): (0.90, 0.91, 0.92),
    ("chaotic", "dense", 1.0, "none"): (0.70, 0.70, 0.70),
    ("ordered", "snip", 0.5, "none"): (0.50, 0.20, 0.20),   # mean 0.30, best in seed 0
    ("eoc", "snip", 0.5, "none"): (0.60, 0.60, 0.60),
    ("chaotic", "snip", 0.5, "none"): (0.35, 0.35, 0.35),   # mean 0.35: the best other
    ("ordered", "snip", 0.1, "none"): (0.10, 0.10, 0.10),
    ("eoc", "snip", 0.1, "none"): (0.80, 0.82, 0.84),
    ("chaotic", "snip", 0.1, "none"): (0.10, 0.10, 0.10),
    ("eoc", "random", 0.1, "none"): (0.70, 0.70, 0.70),     # same-density control
    ("eoc", "snip", 0.5, "fan_in"): (0.65, 0.65, 0.65),
    ("eoc", "snip", 0.1, "fan_in"): (0.85, 0.85, 0.88),
    ("eoc", "magnitude", 0.5, "none"): (0.55, 0.55, 0.55),
    ("eoc", "magnitude", 0.1, "none"): (0.30, 0.30, 0.30),
    ("eoc", "magnitude", 0.5, "fan_in"): (0.56, 0.56, 0.56),
    ("eoc", "magnitude", 0.1, "fan_in"): (0.31, 0.31, 0.31),
}
COLLAPSED = {"ordered": 5, "eoc": 0, "chaotic": 2}  # SNIP at density 0.1, every seed


def train_runs() -> pd.DataFrame:
    rows = []
    for (phase, method, density, rescale), accuracies in MLP_ACCURACY.items():
        for seed, accuracy in zip(SEEDS, accuracies):
            collapsed = COLLAPSED[phase] if (method, density) == ("snip", 0.1) else 0
            rows.append({"activation": "tanh", "phase": phase, "depth": 4,
                         "prune.method": method, "prune.density": density,
                         "prune.rescale": rescale, "seed": seed, "test_accuracy": accuracy,
                         "collapsed_layers": collapsed, "key": f"{phase}-{method}-"
                         f"{density}-{rescale}-{seed}"})
    return pd.DataFrame(rows)


def train_layers() -> pd.DataFrame:
    """5 prunable layers (input, 3 hidden, classifier) of every run, layer i at density
    0.1 (i + 1); SNIP empties the input layer in the ordered phase, magnitude keeps 1 % of
    it."""
    rows = []
    for _, run in train_runs().iterrows():
        for index in range(5):
            density = 0.1 * (index + 1)
            if index == 0 and run["prune.method"] == "magnitude":
                density = 0.01
            if index == 0 and run["prune.method"] == "snip" and run["phase"] == "ordered":
                density = 0.0
            rows.append({**{k: run[k] for k in ("key", "activation", "phase", "depth",
                                                "prune.method", "prune.density",
                                                "prune.rescale", "seed")},
                         "layer_index": index, "density": density})
    return pd.DataFrame(rows)


def chis() -> pd.DataFrame:
    rows = []
    for seed in SEEDS:
        rows.append({"activation": "tanh", "prune.method": "dense", "prune.density": 1.0,
                     "prune.rescale": "none", "seed": seed, "chi": 1.0, "inputless": 0.0})
        for method, density, rescale, chi, inputless in (
                ("snip", 0.1, "none", 0.80 + 0.01 * seed, 0.2),
                ("snip", 0.1, "fan_in", 0.99 + 0.01 * seed, 0.2),
                ("magnitude", 0.1, "none", 0.70, 0.4)):
            rows.append({"activation": "tanh", "prune.method": method,
                         "prune.density": density, "prune.rescale": rescale, "seed": seed,
                         "chi": chi, "inputless": inputless})
    return pd.DataFrame(rows)


# test accuracy per seed of the residual nets at density 0.1 (dense: density 1)
RESIDUAL_ACCURACY = {
    (2, "standard", "dense"): (0.80, 0.80, 0.80),
    (2, "Stable", "dense"): (0.81, 0.81, 0.81),
    (4, "standard", "dense"): (0.78, 0.78, 0.78),
    (4, "Stable", "dense"): (0.80, 0.80, 0.80),
    (2, "standard", "snip"): (0.60, 0.60, 0.60),
    (2, "Stable", "snip"): (0.62, 0.61, 0.60),    # gaps +2, +1, 0 pp
    (4, "standard", "snip"): (0.40, 0.50, 0.45),
    (4, "Stable", "snip"): (0.55, 0.56, 0.57),    # gaps +15, +6, +12 pp
    (4, "standard", "synflow"): (0.70, 0.30, 0.30),   # mean 0.433 < snip's 0.45
}


def res_runs() -> pd.DataFrame:
    rows = []
    for (depth, net, method), accuracies in RESIDUAL_ACCURACY.items():
        for seed, accuracy in zip(SEEDS, accuracies):
            rows.append({"depth": depth, "blocks": depth, "net": net, "prune.method": method,
                         "prune.density": 1.0 if method == "dense" else 0.1,
                         "prune.rescale": "none", "seed": seed, "test_accuracy": accuracy})
    return pd.DataFrame(rows)


def prune_runs() -> pd.DataFrame:
    rows = []
    for phase, collapsed in (("ordered", 4), ("eoc", 1), ("chaotic", 0)):
        for seed in SEEDS:
            rows.append({"activation": "tanh", "phase": phase, "depth": 3,
                         "prune.method": "snip", "prune.density": 0.3, "seed": seed,
                         "collapsed_layers": collapsed + (seed == 2)})
    return pd.DataFrame(rows)


def widths() -> pd.DataFrame:
    """Measured chi of the width study (:func:`.rescaling.width_study`) at widths 6 and 60:
    rescaled SNIP nets at chi 0.80 (width 6) and 0.99 / 1.00 / 1.01 (width 60)."""
    rows = []
    for width, rescaled, inputless in ((6, 0.80, 0.2), (60, 0.99, 0.0)):
        for seed in SEEDS:
            for method, density, rescale, chi in (
                    ("dense", 1.0, "none", 1.0), ("snip", 0.1, "none", 0.8),
                    ("snip", 0.1, "fan_in", rescaled + 0.01 * seed * (width == 60))):
                rows.append({"activation": "tanh", "width": width, "prune.method": method,
                             "prune.density": density, "prune.rescale": rescale,
                             "seed": seed, "chi": chi,
                             "inputless": inputless if method == "snip" else 0.0})
    return pd.DataFrame(rows)


EMPTY_AT_6 = (1, 2, 0)  # empty layers after the input layer, SNIP on the EOC, depth 6


def prune_layers() -> pd.DataFrame:
    """Layers of the prune-only grid: SNIP on the tanh EOC nets of depth 3 and 6 at density
    0.3; the input layer is empty at both depths (its fan-in), depth 3 has no other empty
    layer, depth 6 has :data:`EMPTY_AT_6` per seed (its last layers)."""
    rows = []
    for depth in (3, 6):
        for seed in SEEDS:
            empty = EMPTY_AT_6[seed] if depth == 6 else 0
            for index in range(depth + 1):
                dead = index == 0 or index > depth - empty
                rows.append({"key": f"d{depth}s{seed}", "activation": "tanh", "phase": "eoc",
                             "depth": depth, "prune.method": "snip", "prune.density": 0.3,
                             "prune.rescale": "none", "seed": seed, "layer_index": index,
                             "density": 0.0 if dead else 0.4})
    return pd.DataFrame(rows)

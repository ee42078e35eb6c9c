"""The authors' released numbers, typed in once as CSV next to this module (each file's header
comment names its source; see README.md), loaded as tidy pandas frames.

* :func:`synflow_fig6` — Tanaka et al. 2020 (SynFlow), Fig. 6;
* :func:`ramanujan_summary` — Hoang et al. 2023 (Ramanujan lens), CIFAR-10 summary table.

These are the only inputs of :mod:`pruninglib.book.calibration`.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYNFLOW_FIG6 = HERE / "synflow_fig6.csv"
RAMANUJAN_SUMMARY = HERE / "ramanujan_summary.csv"

# the library's method names for the authors' labels
_METHODS = {"Random": "random", "Rand": "random", "Magnitude": "magnitude", "SNIP": "snip",
            "GraSP": "grasp", "SynFlow": "synflow", "ERK": "erk", "iterSNIP": "iter_snip"}
# panel file name -> (dataset, network) as the paper labels them
_DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "tinyimagenet": "Tiny ImageNet"}
_NETWORKS = {"vgg11_bn": "VGG-11", "vgg16_bn": "VGG-16", "resnet18": "ResNet-18",
             "wide_resnet18": "WRN-18"}
_RAMANUJAN_COLUMNS = {
    "model_type": "model", "prune_type": "source_method", "global_density": "density",
    "acc": "accuracy", "acc_std": "accuracy_std", "irm_mean": "imdb",
    "irm_norm_mean": "imdb_norm", "rm_mean": "delta_r", "random_factor_mean": "narc",
    "perc_ram_by_rm_mean": "ramanujan_by_delta_r", "perc_ram_by_irm_mean": "ramanujan_by_imdb"}


def _read(path: Path):
    import pandas as pd

    return pd.read_csv(path, comment="#")


def source(path: Path) -> str:
    """The header comment of a reference file (its source and provenance), as one string."""
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            lines.append(line[1:].strip())
    return " ".join(lines)


@lru_cache(maxsize=None)
def _synflow_fig6():
    frame = _read(SYNFLOW_FIG6)
    parts = frame["panel"].str.extract(r"^(cifar100|cifar10|tinyimagenet)_(?:lottery_|tiny_)?(.+)$")
    frame.insert(1, "dataset", parts[0].map(_DATASETS))
    frame.insert(2, "network", parts[1].map(_NETWORKS))
    frame.insert(3, "source_method", frame["method"])
    frame["method"] = frame["source_method"].map(_METHODS)
    frame = frame.rename(columns={"mean": "accuracy", "min": "low", "max": "high"})
    frame["sparsity"] = 1 - 10.0 ** -frame["alpha"]
    if frame[["dataset", "network", "method"]].isna().any().any():
        raise ValueError(f"{SYNFLOW_FIG6.name}: an unknown panel or method name")
    return frame


def synflow_fig6():
    """Tanaka et al. 2020, Fig. 6: one row per panel (network × dataset), method and α.

    Columns: panel (the authors' file name), dataset, network, source_method (their label),
    method (ours: random, magnitude, snip, grasp, synflow), alpha (compression 10^α),
    accuracy (mean top-1 %, 3 seeds), low / high (min / max over seeds), seeds, sparsity.
    """
    return _synflow_fig6().copy()


@lru_cache(maxsize=None)
def _ramanujan_summary():
    frame = _read(RAMANUJAN_SUMMARY).rename(columns=_RAMANUJAN_COLUMNS)
    frame.insert(2, "method", frame["source_method"].map(_METHODS))
    if frame["method"].isna().any():
        raise ValueError(f"{RAMANUJAN_SUMMARY.name}: an unknown method name")
    return frame


def ramanujan_summary():
    """Hoang et al. 2023, CIFAR-10: one row per model (resnet34, vgg16), method and density.

    Columns (the authors' names in brackets): model, source_method (their label), method (ours:
    random, erk, snip, grasp, synflow, iter_snip), density, accuracy [acc, fraction, mean of 3
    seeds], accuracy_std, imdb [irm_mean], imdb_norm, delta_r [rm_mean, whole layer], narc
    [random_factor_mean], ramanujan_by_delta_r / ramanujan_by_imdb [fraction of layers
    Ramanujan by each]. NaN where the authors' file has no value (GraSP on VGG-16 at some
    densities).
    """
    return _ramanujan_summary().copy()

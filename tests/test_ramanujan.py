"""The Ramanujan chapter's per-seed statistics, on a small frame computed by hand."""
from __future__ import annotations

import itertools

import pandas as pd
import pytest

from pruninglib.chapters.ramanujan import summary as ramanujan

VARIANTS = ["random", "erk", "snip", "synflow"]


def summary_frame() -> pd.DataFrame:
    """A graph_summary-like frame: 1 model, 2 densities, 2 seeds, 4 variants, + twins."""
    rows = []
    for density, seed, (k, variant) in itertools.product(
            [0.1, 0.2], [0, 1], enumerate(VARIANTS)):
        key = f"{density}-{seed}-{variant}"
        acc = 0.5 + 0.1 * k + 0.01 * seed               # random < erk < snip < synflow
        top_erk = density == 0.1                         # erk has the largest delta_r at 0.1
        rows.append({"key": key, "model.name": "m", "variant": variant,
                     "prune.density": density, "seed": seed, "test_accuracy": acc,
                     "shuffled": False,
                     "imdb_mean": float(k),              # ranks exactly like accuracy
                     "delta_r_mean": {"erk": 9.0 if top_erk else -0.5,
                                      "synflow": 5.0}.get(variant, float(-k)),
                     "narc_mean": {"random": 0.01 if density == 0.1 else -0.03}.get(
                         variant, 0.0),
                     "perc_ram_by_imdb": 0.5 + 0.1 * k, "perc_ram_by_delta_r": 0.25})
        rows.append({"key": key, "model.name": "m", "variant": variant,
                     "prune.density": density, "seed": seed, "test_accuracy": acc,
                     "shuffled": True, "imdb_mean": float(-k)})  # twin ranks in reverse
    return pd.DataFrame(rows)


def test_predictors_joins_each_run_with_its_shuffled_twin():
    frame = ramanujan.predictors(summary_frame())
    assert len(frame) == 16 and "shuffled" not in frame
    assert (frame["imdb_density_only"] == -frame["imdb_mean"]).all()


def test_rank_correlations_medians_and_imdb_advantage():
    frame = ramanujan.predictors(summary_frame())
    rho = ramanujan.rank_correlations(frame)
    assert len(rho) == 4 * len(ramanujan.PREDICTORS)       # 2 densities x 2 seeds each
    by = rho.set_index(["predictor", "prune.density", "seed"])["rho"]
    assert by["imdb_mean"].tolist() == pytest.approx([1.0] * 4)
    assert by["imdb_density_only"].tolist() == pytest.approx([-1.0] * 4)
    assert (rho["n"] == 4).all()
    # delta_r at 0.1: random 0, erk 9, snip -2, synflow 5 -> ranks 2 4 1 3 vs 1 2 3 4:
    # sum d^2 = 1 + 4 + 4 + 1 = 10 -> 1 - 60/60 = 0.0; at 0.2 erk -0.5 -> ranks 3 2 1 4:
    # sum d^2 = 4 + 0 + 4 + 0 = 8 -> 1 - 48/60 = 0.2
    assert by["delta_r_mean"][0.1].tolist() == pytest.approx([0.0, 0.0])
    assert by["delta_r_mean"][0.2].tolist() == pytest.approx([0.2, 0.2])
    medians = ramanujan.median_over_densities(rho).set_index(["seed", "predictor"])["value"]
    assert medians[(0, "delta_r_mean")] == pytest.approx(0.1)
    advantage = ramanujan.imdb_advantage(rho)
    assert advantage["value"].tolist() == pytest.approx([2.0, 2.0])
    partial = ramanujan.rank_correlations(frame, ["imdb_mean"], given="delta_r_mean")
    assert partial["rho"].notna().all()


def test_random_wiring_gain_and_narc():
    frame = ramanujan.predictors(summary_frame())
    top = ramanujan.random_wiring_on_top(frame)
    assert top["value"].tolist() == pytest.approx([0.5, 0.5])  # erk at 0.1, synflow at 0.2
    gain = ramanujan.ramanujan_gain(frame, 0.1)
    # mean over variants of (0.5 + 0.1 k) - 0.25 for k = 0..3
    assert gain["value"].tolist() == pytest.approx([0.4, 0.4])
    assert ramanujan.ramanujan_gain(frame, {"m": 0.2})["value"].tolist() == \
        pytest.approx([0.4, 0.4])
    narc = ramanujan.random_narc(frame)
    assert narc["value"].tolist() == pytest.approx([-0.01, -0.01])  # median of 0.01, -0.03


def test_seed_means_average_over_seeds():
    means = ramanujan.seed_means(ramanujan.predictors(summary_frame()))
    assert len(means) == 8 and (means["seed"] == -1).all()
    snip = means[(means["variant"] == "snip") & (means["prune.density"] == 0.1)]
    assert snip["test_accuracy"].item() == pytest.approx(0.705)

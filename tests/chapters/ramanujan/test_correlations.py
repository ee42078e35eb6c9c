"""The Ramanujan chapter's rank correlations across methods, on a small frame computed by hand."""
from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

from pruninglib.chapters.ramanujan import correlations as corr

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
                     "perc_ram_by_imdb": 0.5 + 0.1 * k, "perc_ram_by_delta_r": 0.25,
                     "imdb_conv_mean": math.nan})       # no conv layers

        rows.append({"key": key, "model.name": "m", "variant": variant,
                     "prune.density": density, "seed": seed, "test_accuracy": acc,
                     "shuffled": True, "imdb_mean": float(-k)})  # twin ranks in reverse
    return pd.DataFrame(rows)


def test_predictors_joins_each_run_with_its_shuffled_twin():
    frame = corr.predictors(summary_frame())
    assert len(frame) == 16 and "shuffled" not in frame
    assert (frame["imdb_density_only"] == -frame["imdb_mean"]).all()


def test_rank_correlations_medians_and_imdb_advantage():
    frame = corr.predictors(summary_frame())
    rho = corr.rank_correlations(frame)
    assert len(rho) == 4 * len(corr.PREDICTORS)       # 2 densities x 2 seeds each
    conv = rho[rho["predictor"] == "imdb_conv_mean"]
    assert conv["rho"].isna().all() and (conv["n"] == 0).all()  # no conv layer: none enters
    rho = rho[rho["predictor"] != "imdb_conv_mean"]
    by = rho.set_index(["predictor", "prune.density", "seed"])["rho"]
    assert by["imdb_mean"].tolist() == pytest.approx([1.0] * 4)
    assert by["imdb_density_only"].tolist() == pytest.approx([-1.0] * 4)
    assert (rho["n"] == 4).all() and (rho["methods"] == 4).all()
    # delta_r at 0.1: random 0, erk 9, snip -2, synflow 5 -> ranks 2 4 1 3 vs 1 2 3 4:
    # sum d^2 = 1 + 4 + 4 + 1 = 10 -> 1 - 60/60 = 0.0; at 0.2 erk -0.5 -> ranks 3 2 1 4:
    # sum d^2 = 4 + 0 + 4 + 0 = 8 -> 1 - 48/60 = 0.2
    assert by["delta_r_mean"][0.1].tolist() == pytest.approx([0.0, 0.0])
    assert by["delta_r_mean"][0.2].tolist() == pytest.approx([0.2, 0.2])
    medians = corr.median_over_densities(rho).set_index(["seed", "predictor"])
    assert medians.loc[(0, "delta_r_mean"), "value"] == pytest.approx(0.1)
    assert medians.loc[(0, "delta_r_mean"), ["entered", "densities"]].tolist() == [2, 2]
    advantage = corr.imdb_advantage(rho)
    assert advantage["value"].tolist() == pytest.approx([2.0, 2.0])
    assert advantage["entered"].tolist() == [2, 2]
    partial = corr.rank_correlations(frame, ["imdb_mean"], given="delta_r_mean")
    assert partial["rho"].notna().all()


def test_a_method_without_a_metric_is_counted_and_too_few_give_no_correlation():
    frame = corr.predictors(summary_frame())
    # random's IMDB undefined at 0.1: 3 of 4 methods enter there, below MIN_METHODS = 4
    frame.loc[(frame["variant"] == "random") & (frame["prune.density"] == 0.1),
              "imdb_mean"] = math.nan
    rho = corr.rank_correlations(frame, ["imdb_mean"]).set_index(["prune.density", "seed"])
    assert rho.loc[0.1, "n"].tolist() == [3, 3] and rho.loc[0.1, "methods"].tolist() == [4, 4]
    assert rho.loc[0.1, "rho"].isna().all() and rho.loc[0.2, "rho"].notna().all()
    medians = corr.median_over_densities(rho.reset_index())
    assert medians["entered"].tolist() == [1, 1] and medians["densities"].tolist() == [2, 2]
    # with a lower minimum the three methods give rho = 1
    loose = corr.rank_correlations(frame, ["imdb_mean"], min_methods=3)
    assert loose["rho"].tolist() == pytest.approx([1.0] * 4)


def test_masks_that_train_leave_out_those_at_chance():
    frame = corr.predictors(summary_frame())
    frame.loc[frame["variant"] == "random", "test_accuracy"] = 0.10
    trained = corr.masks_that_train(frame)
    assert set(trained["variant"]) == {"erk", "snip", "synflow"} and len(trained) == 12
    assert len(corr.masks_that_train(frame, at_chance=0.65)) == 8  # snip, synflow: 0.7+, 0.8+


def test_seed_means_average_over_seeds():
    means = corr.seed_means(corr.predictors(summary_frame()))
    assert len(means) == 8 and (means["seed"] == -1).all()
    snip = means[(means["variant"] == "snip") & (means["prune.density"] == 0.1)]
    assert snip["test_accuracy"].item() == pytest.approx(0.705)


def test_authors_frame_is_the_typed_in_table_in_our_columns():
    frame = corr.authors_frame()
    assert len(frame) == 2 * 5 * 6 and set(frame["seed"]) == {-1}
    assert set(frame["model.name"]) == set(corr.AUTHORS_MODELS)
    row = frame[(frame["model.name"] == "resnet34") & (frame["variant"] == "random")
                & (frame["prune.density"] == 0.01)].iloc[0]
    # the first line of the authors' table: Rand, 0.01, acc 0.6742, irm -0.4717, rm -0.5438
    assert (row["test_accuracy"], row["imdb_mean"], row["delta_r_mean"]) == \
        pytest.approx((0.6742, -0.4717, -0.5438))
    rho = corr.rank_correlations(frame, ["imdb_mean"]).set_index(["model.name",
                                                                  "prune.density"])
    assert rho.loc[("resnet34", 0.01), "rho"] == pytest.approx(0.942857, abs=1e-6)
    assert rho.loc[("vgg16", 0.1), "n"] == 5  # GraSP has no IMDB there


def test_imdb_advantage_counts_only_the_densities_a_model_was_run_at():
    one = corr.predictors(summary_frame())
    other = one[one["prune.density"] == 0.2].assign(**{"model.name": "n"})
    advantage = corr.imdb_advantage(corr.rank_correlations(pd.concat([one, other])))
    counts = advantage.set_index(["model.name", "seed"])["densities"]
    assert counts.to_dict() == {("m", 0): 2, ("m", 1): 2, ("n", 0): 1, ("n", 1): 1}

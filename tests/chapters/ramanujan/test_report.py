"""The numbers the exercises quote and the tables offered for download, on small frames."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from pruninglib.book.claims import Estimate
from pruninglib.chapters.ramanujan import report
from pruninglib.chapters.ramanujan.sweep import Runs
from pruninglib.chapters.ramanujan.verdicts import METRICS

from .test_tables import layers
from .test_verdicts import PARAMS, frame


def test_half_width_with_more_seeds_keeps_the_spread():
    estimate = Estimate.from_samples([0.1, 0.2, 0.3])  # sd 0.1: half = 4.303 * 0.1 / sqrt 3
    assert estimate.half_width == pytest.approx(4.303 * 0.1 / math.sqrt(3))
    assert report.half_width_with(estimate, 5) == pytest.approx(2.776 * 0.1 / math.sqrt(5))
    assert report.half_width_with(Estimate.from_samples([0.1]), 5) == math.inf


def test_glue_values_name_every_number_by_position():
    params = {**PARAMS, "models": ["mlp"]}
    results = {f"{claim} · MLP": Estimate.from_samples([0.5, 0.7, 0.9]) for claim in METRICS}
    pruned = frame()
    values = report.glue_values(params, results, frame(), pruned)
    assert values["ramanujan_seeds"] == 3 and values["ramanujan_more_seeds"] == 5
    assert values["ramanujan_r5_first"] == pytest.approx(0.7)
    assert values["ramanujan_r1_trained_last"] == pytest.approx(0.7)  # one model: first = last
    assert values["ramanujan_chance_first"] == 9  # random at chance: 3 densities x 3 seeds
    assert values["ramanujan_runs_first"] == 54
    assert values["ramanujan_top_density_first"] == 0.2
    # IMDB ranks like accuracy; delta_r = k % 3 + 0.1 seed: the mean of the seeds' rho
    assert -1 <= values["ramanujan_dr_top_first"] <= 1
    assert values["ramanujan_authors_top_density"] == 0.4
    assert values["ramanujan_authors_dr_top_resnet"] == pytest.approx(0.6, abs=0.01)
    assert all(name.startswith("ramanujan_") for name in values)


def downloads() -> dict[str, pd.DataFrame]:
    """:func:`report.download_tables` of the small frames of the other tests."""
    runs_frame = frame().assign(key=[f"k{i}" for i in range(len(frame()))])
    dense = pd.DataFrame({"model.name": ["mlp"], "seed": [0], "test_accuracy": [0.9],
                          "key": ["d0"]})
    runs = Runs(dense=dense, results=[], pruned=runs_frame)
    return report.download_tables(runs, layers(), frame(), {"mlp": 0.05})


def test_download_tables_are_the_tidy_frames():
    tables = downloads()
    assert set(tables) == {"runs", "masks", "layers", "correlations", "claim_values"}
    assert len(tables["runs"]) == 1 + 54
    assert tables["runs"].iloc[0][["variant", "prune.density"]].tolist() == ["dense", 1.0]
    assert list(tables["layers"].columns) == [
        "key", "model.name", "variant", "prune.density", "seed", "shuffled", "layer_index",
        "layer", "kind", "dim_in", "dim_out", "density", "imdb"]  # those the frame has
    assert set(tables["correlations"]["masks"]) == {"all", "that train"}
    assert set(tables["claim_values"]["claim"]) == set(METRICS)

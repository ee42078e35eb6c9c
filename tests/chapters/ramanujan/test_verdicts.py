"""Every claim's value per model and seed, and the estimates of the verdict table."""
from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

from pruninglib.chapters.ramanujan import verdicts

VARIANTS = ["random", "erk", "snip", "iter_snip", "grasp", "synflow"]
PARAMS = {"models": ["mlp"], "densities": {"mlp": [0.2, 0.1, 0.05]}, "dataset": "fashion_mnist",
          "train_subset": {"mlp": 1000}, "epochs": {"mlp": 2}, "seeds": 3, "bf16": {},
          "optimizer": {}, "lr": {"mlp": 0.05}, "channels_last": {}}


def frame() -> pd.DataFrame:
    """One MLP, 3 densities, 3 seeds, 6 methods; IMDB ranks like accuracy, its twin the
    reverse; random fails (at chance) and has no metric at 0.05."""
    rows = []
    for density, seed, (k, variant) in itertools.product(
            PARAMS["densities"]["mlp"], range(3), enumerate(VARIANTS)):
        failed = variant == "random"
        unscored = failed and density == 0.05
        rows.append({"model.name": "mlp", "variant": variant, "prune.density": density,
                     "seed": seed, "test_accuracy": 0.1 if failed else 0.5 + 0.05 * k,
                     "imdb_mean": math.nan if unscored else float(k),
                     "imdb_density_only": float(-k),
                     "delta_r_mean": math.nan if unscored else float(k % 3) + 0.1 * seed,
                     "narc_mean": math.nan if unscored else 0.01 * k,
                     "perc_ram_by_imdb": 0.5, "perc_ram_by_delta_r": 0.25})
    return pd.DataFrame(rows)


def test_claim_values_count_what_entered():
    values = verdicts.claim_values(frame(), {"mlp": 0.05})
    assert list(values) == list(verdicts.METRICS)
    r5 = values["R5"]
    assert r5["value"].tolist() == pytest.approx([1.0] * 3)
    assert r5["entered"].tolist() == [3] * 3          # 5 of 6 methods still enter at 0.05
    trained = values["R5-trained"]                     # random left out everywhere: 5 methods
    assert trained["value"].tolist() == pytest.approx([1.0] * 3)
    c1 = values["C1"]
    assert c1["value"].tolist() == pytest.approx([2.0] * 3)  # 1 - (-1)
    assert values["R3"]["value"].tolist() == pytest.approx([0.25] * 3)
    # R4: random's |NaRC| is 0; found masks k = 2..5 -> median 0.035
    assert values["R4"]["value"].tolist() == pytest.approx([0.035] * 3)
    assert values["R4"]["entered"].tolist() == [2] * 3 and \
        values["R4"]["densities"].tolist() == [3] * 3


def test_estimates_say_what_entered_and_where():
    results = verdicts.estimates(frame(), PARAMS)
    assert set(results) == {f"{m} · MLP" for m in verdicts.METRICS}
    r5 = results["R5 · MLP"]
    assert r5.n == 3 and r5.mean == pytest.approx(1.0)
    assert (r5.entered, r5.total, r5.minimum) == (9, 9, 5)
    assert "methods entering ρ at d = 0.2, 0.1, 0.05: 6, 6, 5 of 6" in r5.setting
    assert "methods entering ρ at d = 0.2, 0.1, 0.05: 5, 5, 5 of 5" in \
        results["R5-trained · MLP"].setting
    assert "Fashion-MNIST, 1000 training images, 2 epoch(s)" in r5.setting
    r4 = results["R4 · MLP"]
    assert r4.entered_text() == "entered: 6 of 9 (density, seed) cells with a value, at " \
                                "least 5 needed"


def test_too_few_correlations_make_a_row_not_measured():
    few = frame()
    few.loc[few["variant"].isin(["erk", "snip", "iter_snip"]) & (few["prune.density"] < 0.2),
            "imdb_mean"] = math.nan   # 3 and 2 of 6 methods at 0.1 and 0.05: no correlation
    estimate = verdicts.estimates(few, PARAMS)["R5 · MLP"]
    assert (estimate.entered, estimate.minimum) == (3, 5) and estimate.too_few_entered

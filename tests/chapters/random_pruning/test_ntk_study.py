"""The NTK study's sweep (cached cells) and its power-law fits, checked on exact power laws."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from pruninglib.chapters.random_pruning import ntk_study
from pruninglib.config import DataSpec
from pruninglib.runs.executors import SweepError


def grid(value, widths=(64, 256, 1024), keeps=(1.0, 0.5, 0.1), seeds=(0, 1)) -> pd.DataFrame:
    """One row per (width, keep, seed) with columns computed by value(width, keep, seed)."""
    rows = [{"width": w, "keep": q, "seed": s, **value(w, q, s)}
            for w in widths for q in keeps for s in seeds]
    return pd.DataFrame(rows)


def test_scale_exponents_recover_an_exact_power_of_q():
    frame = grid(lambda w, q, s: {"scale": (1.0 + 0.1 * s) * q ** 4 if w == 1024 else 1.0})
    fits = ntk_study.scale_exponents(frame)
    assert list(fits["seed"]) == [0, 1] and (fits["width"] == 1024).all()
    np.testing.assert_allclose(fits["exponent"], 4.0, rtol=1e-12)
    np.testing.assert_allclose(fits["prefactor"], [1.0, 1.1], rtol=1e-12)
    with pytest.raises(ValueError, match="two keep"):
        ntk_study.scale_exponents(frame[frame["keep"] == 1.0])


def test_width_exponents_share_one_slope_across_keeps():
    # each q its own prefactor, one slope -0.5 (seed 0) or -0.3 (seed 1)
    slope = {0: -0.5, 1: -0.3}
    frame = grid(lambda w, q, s: {"relerr_rescaled": (7.0 / q) * w ** slope[s]})
    fits = ntk_study.width_exponents(frame)
    np.testing.assert_allclose(fits["exponent"], [-0.5, -0.3], rtol=1e-12)


def test_collapse_ratio_is_one_when_the_error_depends_on_width_times_q():
    collapsed = grid(lambda w, q, s: {"relerr_rescaled": 3.0 * (w * q) ** -0.5})
    fits = ntk_study.collapse_exponents(collapsed)
    np.testing.assert_allclose(fits["width_exponent"], -0.5, rtol=1e-12)
    np.testing.assert_allclose(fits["keep_exponent"], -0.5, rtol=1e-12)
    np.testing.assert_allclose(fits["ratio"], 1.0, rtol=1e-12)
    # error ~ width^-0.5 q^-0.25: the width needed for a fixed error grows like q^-0.5
    weaker = grid(lambda w, q, s: {"relerr_rescaled": w ** -0.5 * q ** -0.25})
    np.testing.assert_allclose(ntk_study.collapse_exponents(weaker)["ratio"], 0.5, rtol=1e-12)


def test_fits_refuse_non_positive_values():
    frame = grid(lambda w, q, s: {"relerr_rescaled": 0.0})
    with pytest.raises(ValueError, match="<= 0"):
        ntk_study.width_exponents(frame)


def test_rescale_readings_match_the_closed_forms():
    x = torch.randn(6, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    table = ntk_study.rescale_readings(x, depth=2, keeps=[0.5, 0.1])
    np.testing.assert_allclose(table["none"], [0.5 ** 3, 0.1 ** 3], rtol=1e-12)
    np.testing.assert_allclose(table["multiplier"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(table["values"], [0.5, 0.1], rtol=1e-12)
    for reading in ("none", "multiplier", "values"):
        np.testing.assert_allclose(table[reading], table[f"{reading} predicted"], rtol=1e-12)


def test_ntk_cells_run_on_a_process_pool_and_are_loaded_not_recomputed(tmp_path,
                                                                       monkeypatch):
    settings = {"n_inputs": 4, "depth": 1, "widths": [8, 16], "keeps": [1.0, 0.5],
                "seeds": [0], "results_dir": tmp_path, "progress": False}
    first = ntk_study.ntk_sweep(DataSpec("synthetic"), executor="pool:2", **settings)
    assert len(first) == 4
    assert len(list((tmp_path / "ntk").glob("*/*/result.json"))) == 4
    assert set(first.columns) >= {"width", "keep", "seed", "scale", "relerr_rescaled",
                                  "width_x_keep"}
    np.testing.assert_allclose(first["width_x_keep"], first["width"] * first["keep"])
    dense = first[first["keep"] == 1.0]
    np.testing.assert_allclose(dense["relerr_rescaled"], dense["relerr_dense"], rtol=1e-12)

    def fail(*args, **kwargs):
        raise AssertionError("a cached cell was recomputed")

    monkeypatch.setattr(ntk_study, "compare_pruned_ntk", fail)
    again = ntk_study.ntk_sweep(DataSpec("synthetic"), **settings)
    pd.testing.assert_frame_equal(first, again)
    with pytest.raises(SweepError, match="recomputed"):  # a new cell is computed
        ntk_study.ntk_sweep(DataSpec("synthetic"), **{**settings, "widths": [32]})


def test_ntk_inputs_are_flattened_training_images():
    x = ntk_study.ntk_inputs(DataSpec("synthetic"), 5)
    assert x.shape == (5, 64) and x.dtype == torch.float64
    with pytest.raises(ValueError, match="training images"):
        ntk_study.ntk_inputs(DataSpec("synthetic", train_subset=10), 11)
    assert math.isfinite(float(x.sum()))


def test_a_mask_that_removes_a_whole_matrix_is_recorded_as_collapsed(tmp_path):
    """Width 2 at q = 0.05: the 2-weight readout is fully pruned with probability 0.9."""
    frame = ntk_study.ntk_sweep(DataSpec("synthetic"), n_inputs=3, depth=1, widths=[2],
                                keeps=[1.0, 0.05], seeds=[0, 1, 2], results_dir=tmp_path,
                                progress=False)
    collapsed = frame[frame["collapsed"]]
    assert len(collapsed) > 0 and (collapsed["keep"] == 0.05).all()
    assert collapsed[list(ntk_study.MEASURED)].isna().all().all()
    assert not frame.loc[frame["keep"] == 1.0, "collapsed"].any()


def test_fits_leave_out_collapsed_cells():
    frame = grid(lambda w, q, s: {"relerr_rescaled": 3.0 * (w * q) ** -0.5,
                                  "scale": q ** 4})
    nan_rows = frame.iloc[:3].assign(relerr_rescaled=float("nan"), scale=float("nan"))
    with_nan = pd.concat([frame, nan_rows], ignore_index=True)
    for fit in (ntk_study.width_exponents, ntk_study.collapse_exponents,
                ntk_study.scale_exponents):
        pd.testing.assert_frame_equal(fit(with_nan), fit(frame))


def test_fit_table_summarises_every_fit_and_the_dense_scale_noise():
    scale = {0: 1.0, 1: 1.1}  # dense fitted scale per seed at the widest width
    frame = grid(lambda w, q, s: {"relerr_rescaled": 3.0 * (w * q) ** -0.5,
                                  "scale": scale[s] * q ** 4})
    table = ntk_study.fit_table(frame)["mean ± 95 % CI over seeds"]
    assert table["k in scale = c·q^k"] == "4.00 ± 0.00 (2 seeds)"
    assert table["b in error ∝ width^b (one b for all q)"] == "-0.50 ± 0.00 (2 seeds)"
    assert table["k = c/b (width needed ∝ q^(−k))"] == "1.00 ± 0.00 (2 seeds)"
    # c: 1.0 and 1.1, mean 1.05, half-width t(1) * sd / sqrt(2) = 12.706 * 0.05
    assert table["c in scale = c·q^k"] == "1.05 ± 0.64 (2 seeds)"
    assert table["scale of the dense NTK (q = 1) at width 1024"] == "1.05 ± 0.64 (2 seeds)"
    assert table["its standard deviation over seeds"] == f"{0.1 / math.sqrt(2):.3f}"

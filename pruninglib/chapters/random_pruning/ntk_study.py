"""The NTK of randomly pruned networks over a grid of widths, keep probabilities and seeds, and
the fits that test Yang & Wang (AISTATS 2023): a cached sweep of
:func:`pruninglib.analysis.ntk.compare_pruned_ntk` cells (bias-free ReLU MLPs in NTK
parameterisation, every weight matrix Bernoulli(q)-masked, the readout included) and three
per-seed power-law fits.

* :func:`scale_exponents` (claim N1): at a fixed width, the fitted scalar a(q) of the
  unrescaled pruned NTK (``scale``, least squares against the dense limit) as c * q**k over the
  keep probabilities. The derivation in :mod:`pruninglib.analysis.ntk` predicts k = the number
  of masked weight matrices (depth + 1) and c = 1.
* :func:`width_exponents` (claim N2): the relative Frobenius error of the rescaled pruned NTK to
  the dense limit as ~ width**b, one slope b shared by all q (each q its own prefactor);
  b = -1/2 is the rate of a sum over ~width independent terms (the central-limit rate).
* :func:`collapse_exponents` (claim N3): the same error as C * width**b * q**c over the whole
  grid. If the error is a function of width * q alone (the width needed for a given error grows
  like 1/q), then c = b: the ratio k = c / b is the exponent in "width needed ~ q**(-k)".

Every cell of the grid is a cached task (kind ``ntk``, :mod:`pruninglib.runs.cache`) keyed by
its settings (inputs, depth, width, q, seed), computed on any executor, so a rebuilt chapter
recomputes nothing. The fits work on logarithms, so the error and the scale must be positive
(they are, for q > 0); cells whose mask removed a whole weight matrix (``collapsed``) are left
out of every fit. :func:`fit_table` summarises the fits over seeds; the figures are in
:mod:`.figures`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from ...analysis.ntk import (
    SQRT2,
    compare_pruned_ntk,
    fit_scale,
    predicted_scale,
    relu_ntk_limit,
)
from ...book.claims import Estimate
from ...config import DataSpec, section_dict
from ...data import load_data_once
from ...runs.cache import Context, Output, Task
from ...runs.executors import execute

_FORMAT = 3  # bump when a cell's payload changes (3: weights and mask from seeds.generator)


def ntk_inputs(data: DataSpec, n: int, data_root=None) -> torch.Tensor:
    """The first ``n`` training images of ``data`` (standardised as for training; subset as the
    spec says), flattened: (n, d) float64."""
    dataset = load_data_once(data, root=data_root)
    if not 1 <= n <= len(dataset.train_x):
        raise ValueError(f"n={n!r} is not allowed: 1 .. {len(dataset.train_x)} training images")
    return dataset.train_x[:n].flatten(1).to(torch.float64)


def cell_task(data: DataSpec, n_inputs: int, depth: int, width: int, keep: float, seed: int,
              sigma_w: float) -> Task:
    """The cached task of one NTK cell (kind ``ntk``)."""
    spec = {"kind": "pruned_ntk", "format": _FORMAT, "data": section_dict(data),
            "n_inputs": n_inputs, "depth": depth, "width": width, "keep": keep, "seed": seed,
            "sigma_w": sigma_w}
    return Task.make("ntk", spec, compute_cell)


def compute_cell(spec: dict, context: Context) -> Output:
    """Compute function of :func:`cell_task`: one row of :func:`ntk_sweep`."""
    x = ntk_inputs(DataSpec(**spec["data"]), spec["n_inputs"], context.data_root)
    limit = relu_ntk_limit(x, spec["depth"], spec["sigma_w"])
    return Output({"spec": spec, "row": _cell(x, spec["width"], spec["depth"], spec["keep"],
                                              spec["seed"], spec["sigma_w"], limit)})


def cell_tasks(data: DataSpec, *, n_inputs: int, depth: int, widths: Sequence[int],
               keeps: Sequence[float], seeds: Sequence[int], sigma_w: float = SQRT2
               ) -> list[Task]:
    """The tasks of :func:`ntk_sweep`: one :func:`cell_task` per width, q and seed."""
    return [cell_task(data, n_inputs, depth, int(w), float(q), int(s), float(sigma_w))
            for w in widths for q in keeps for s in seeds]


def ntk_sweep(data: DataSpec, *, n_inputs: int, depth: int, widths: Sequence[int],
              keeps: Sequence[float], seeds: Sequence[int], sigma_w: float = SQRT2,
              results_dir=None, data_root=None, executor=None,
              progress: bool = True) -> pd.DataFrame:
    """:func:`~pruninglib.analysis.ntk.compare_pruned_ntk` for every width, keep probability
    q and seed: a scalar-output NTK MLP (d, width x depth, 1) on the first ``n_inputs`` training
    images of ``data`` (:func:`ntk_inputs`), every weight matrix masked with Bernoulli(q),
    compared with the analytic dense limit. Each cell is a cached task (kind ``ntk``),
    computed on ``executor`` (None/'inline', 'pool[:N]', 'submitit[:...]', 'ray[:...]').

    Returns one row per cell with the columns of ``compare_pruned_ntk`` (width, depth, keep,
    seed, density, predicted, scale, scale_ratio, relerr_dense, relerr_pruned,
    relerr_rescaled, scale_rescaled), ``width_x_keep`` = width * q and ``collapsed``: True
    where the mask removed a whole weight matrix (the readout of width n keeps no weight with
    probability (1 - q)**n: 4 % at n = 64, q = 0.05); such a network's NTK is zero, its
    measurements are NaN and the fits below leave it out.
    """
    tasks = cell_tasks(data, n_inputs=n_inputs, depth=depth, widths=widths, keeps=keeps,
                       seeds=seeds, sigma_w=sigma_w)
    payloads = execute(tasks, executor=executor, progress=progress, results_dir=results_dir,
                       data_root=data_root)
    frame = pd.DataFrame([payload["row"] for payload in payloads])
    frame["width_x_keep"] = frame["width"] * frame["keep"]
    return frame


def _cell(x, width, depth, keep, seed, sigma_w, limit) -> dict:
    """One cell; a mask that removes a whole weight matrix (the product of the realised
    densities is 0, so compare_pruned_ntk divides by zero) gives a row with collapsed=True and
    NaN measurements."""
    try:
        row = compare_pruned_ntk(x, width, depth, keep, seed, sigma_w=sigma_w, limit=limit)
    except ZeroDivisionError:
        return {"width": width, "depth": depth, "keep": keep, "seed": seed,
                **{c: float("nan") for c in MEASURED}, "collapsed": True}
    return {**row, "collapsed": False}


MEASURED = ("density", "predicted", "scale", "scale_ratio", "relerr_dense", "relerr_pruned",
            "relerr_rescaled", "scale_rescaled")
"""The measurements of a cell (NaN in a collapsed one)."""


def rescale_readings(x: torch.Tensor, depth: int, keeps: Sequence[float],
                     sigma_w: float = SQRT2) -> pd.DataFrame:
    """The infinite-width factor Theta_pruned / Theta_dense for each q, all depth + 1 matrices
    masked, from the pruned recursion of :func:`~pruninglib.analysis.ntk.relu_ntk_limit`
    (fitted against the dense limit on inputs x, (N, d)), beside the closed forms: no
    rescaling (q**(depth+1)), the multiplier reading of "rescale by 1/sqrt(q)" (1) and the
    stored-values reading (q). Columns: keep, then ``<reading>`` (fitted) and
    ``<reading> predicted`` for reading in none, multiplier, values."""
    dense = relu_ntk_limit(x, depth, sigma_w)
    rows = []
    for q in keeps:
        row = {"keep": float(q)}
        for reading in ("none", "multiplier", "values"):
            pruned = relu_ntk_limit(x, depth, sigma_w, keep=float(q), rescale=reading)
            row[reading] = fit_scale(pruned, dense)
            row[f"{reading} predicted"] = predicted_scale([float(q)] * (depth + 1), reading)
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- fits

def _usable(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The rows with every column measured (collapsed cells have NaN measurements)."""
    return frame.dropna(subset=list(columns))


def _logs(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, np.ndarray]:
    out = {}
    for c in columns:
        values = frame[c].to_numpy(dtype=float)
        if not (values > 0).all():
            raise ValueError(f"column {c!r} has values <= 0: a power-law fit needs positive "
                             f"values")
        out[c] = np.log(values)
    return out


def _least_squares(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef


def scale_exponents(frame: pd.DataFrame, width: int | None = None) -> pd.DataFrame:
    """Per seed, the fit scale = c * q**k over the keep probabilities at one width (default:
    the widest in ``frame``); needs at least two distinct q. Columns: seed, width, exponent
    (k), prefactor (c)."""
    width = int(frame["width"].max()) if width is None else int(width)
    rows = []
    for seed, part in _usable(frame[frame["width"] == width], ["scale"]).groupby("seed"):
        if part["keep"].nunique() < 2:
            raise ValueError("scale_exponents needs at least two keep probabilities")
        logs = _logs(part, ("keep", "scale"))
        design = np.column_stack([np.ones(len(part)), logs["keep"]])
        log_c, k = _least_squares(design, logs["scale"])
        rows.append({"seed": seed, "width": width, "exponent": k, "prefactor": np.exp(log_c)})
    return pd.DataFrame(rows)


def width_exponents(frame: pd.DataFrame, value: str = "relerr_rescaled") -> pd.DataFrame:
    """Per seed, the slope b of log(value) against log(width) shared by all keep
    probabilities, each q with its own intercept (least squares on values centred within each
    q); needs at least two widths. Columns: seed, exponent (b)."""
    rows = []
    for seed, part in _usable(frame, [value]).groupby("seed"):
        if part["width"].nunique() < 2:
            raise ValueError("width_exponents needs at least two widths")
        logs = pd.DataFrame(_logs(part, ("width", value)), index=part.index)
        centred = logs - logs.groupby(part["keep"]).transform("mean")
        b = float((centred["width"] * centred[value]).sum() / (centred["width"] ** 2).sum())
        rows.append({"seed": seed, "exponent": b})
    return pd.DataFrame(rows)


def collapse_exponents(frame: pd.DataFrame, value: str = "relerr_rescaled") -> pd.DataFrame:
    """Per seed, the fit value = C * width**b * q**c over the whole grid (needs two widths and
    two keep probabilities). Columns: seed, width_exponent (b), keep_exponent (c), ratio
    (c / b: the width needed for a fixed error grows like q**(-ratio); 1 = the curves collapse
    on width * q)."""
    rows = []
    for seed, part in _usable(frame, [value]).groupby("seed"):
        if part["width"].nunique() < 2 or part["keep"].nunique() < 2:
            raise ValueError("collapse_exponents needs at least two widths and two keeps")
        logs = _logs(part, ("width", "keep", value))
        design = np.column_stack([np.ones(len(part)), logs["width"], logs["keep"]])
        _, b, c = _least_squares(design, logs[value])
        rows.append({"seed": seed, "width_exponent": b, "keep_exponent": c, "ratio": c / b})
    return pd.DataFrame(rows)


def fit_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The fits of :func:`scale_exponents`, :func:`width_exponents` and
    :func:`collapse_exponents` (mean ± 95 % CI over seeds, two decimals), and the seed-level
    noise of the dense network's fitted scale at the widest width (q = 1: its mean ± CI and
    its standard deviation over seeds, the yardstick of claim N2b's tolerance). One column,
    "mean ± 95 % CI over seeds", indexed by the quantity."""
    scale, width, collapse = (scale_exponents(frame), width_exponents(frame),
                              collapse_exponents(frame))
    widest = int(frame["width"].max())
    dense = frame[(frame["width"] == widest) & (frame["keep"] == 1.0)]["scale"].dropna()
    fits = {
        "k in scale = c·q^k": scale["exponent"],
        "c in scale = c·q^k": scale["prefactor"],
        "b in error ∝ width^b (one b for all q)": width["exponent"],
        "b in error ∝ width^b·q^c": collapse["width_exponent"],
        "c in error ∝ width^b·q^c": collapse["keep_exponent"],
        "k = c/b (width needed ∝ q^(−k))": collapse["ratio"],
        f"scale of the dense NTK (q = 1) at width {widest}": dense,
    }
    column = {name: Estimate.from_samples(values).format(2) for name, values in fits.items()}
    spread = float(dense.std(ddof=1)) if len(dense) > 1 else float("nan")
    column["its standard deviation over seeds"] = f"{spread:.3f}"
    return pd.DataFrame({"mean ± 95 % CI over seeds": column})

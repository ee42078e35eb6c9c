"""Rank correlations between a predictor and accuracy, across the methods of one setting.

The Ramanujan chapter asks, at each density, whether a mask metric *ranks* the pruning
methods as their accuracies do: a Spearman correlation across methods, per group of runs
(model, density, seed). Cunegatti et al. ask whether the metric adds anything beyond the
layer-wise densities; :func:`partial_spearman` answers with the rank correlation that is left
once a control variable (e.g. the same metric on a mask that keeps only the layer-wise
densities) is accounted for.

Definitions (n pairs after dropping any pair with a NaN):

* ``spearman(x, y)``: Pearson correlation of the ranks (ties get their average rank), i.e.
  ``scipy.stats.spearmanr``; NaN if n < 3 or either variable is constant.
* ``partial_spearman(x, y, z)``: with r_ab the Spearman correlations,
  ``(r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2))``, the correlation of the residuals of
  rank(x) and rank(y) after a least-squares fit on rank(z); NaN if n < 4, a variable is
  constant or z ranks like x or y exactly.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

MIN_PAIRS = 3
"""Fewest pairs a Spearman correlation is computed from (two points always give +-1)."""


def _complete(*columns) -> list[np.ndarray]:
    arrays = [np.asarray(c, dtype=float) for c in columns]
    keep = np.logical_and.reduce([~np.isnan(a) for a in arrays])
    return [a[keep] for a in arrays]


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / denominator if denominator > 0 else math.nan


def spearman(x, y) -> float:
    """Spearman rank correlation of two equal-length sequences (NaN pairs dropped)."""
    x, y = _complete(x, y)
    if x.size < MIN_PAIRS:
        return math.nan
    return _pearson(rankdata(x), rankdata(y))


def partial_spearman(x, y, z) -> float:
    """Spearman correlation of ``x`` and ``y`` controlling for ``z`` (NaN triples dropped)."""
    x, y, z = _complete(x, y, z)
    if x.size < MIN_PAIRS + 1:
        return math.nan
    rx, ry, rz = rankdata(x), rankdata(y), rankdata(z)
    r_xy, r_xz, r_yz = _pearson(rx, ry), _pearson(rx, rz), _pearson(ry, rz)
    denominator = (1 - r_xz ** 2) * (1 - r_yz ** 2)
    if math.isnan(r_xy + r_xz + r_yz) or denominator <= 1e-12:
        return math.nan
    return (r_xy - r_xz * r_yz) / math.sqrt(denominator)


def spearman_by(frame: pd.DataFrame, x: str, y: str, by: str | Sequence[str], *,
                given: str | None = None) -> pd.DataFrame:
    """Spearman correlation of columns ``x`` and ``y`` within each group of ``by``.

    Each row of ``frame`` is one point (e.g. one method's run); ``given`` names a control
    column, giving :func:`partial_spearman` instead. Returns one row per group: the ``by``
    columns, ``rho`` and ``n`` (the pairs used, after dropping NaNs).
    """
    keys = [by] if isinstance(by, str) else list(by)
    rows = []
    for values, group in frame.groupby(keys, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        columns = [group[x], group[y]] + ([group[given]] if given else [])
        n = len(_complete(*columns)[0])
        rho = partial_spearman(*columns) if given else spearman(*columns)
        rows.append({**dict(zip(keys, values)), "rho": rho, "n": n})
    return pd.DataFrame(rows, columns=[*keys, "rho", "n"])


def argmax_by(frame: pd.DataFrame, value: str, by: str | Sequence[str],
              label: str) -> pd.DataFrame:
    """Within each group of ``by``, the ``label`` of the row with the largest ``value``
    (NaNs skipped; ties go to the first row). Returns the ``by`` columns, ``label`` and
    ``value``; a group with no finite value is left out."""
    keys = [by] if isinstance(by, str) else list(by)
    finite = frame[frame[value].notna()]
    best = finite.loc[finite.groupby(keys, sort=True)[value].idxmax()]
    return best[[*keys, label, value]].reset_index(drop=True)

"""The metrics of claims R2–R4, compared within each density.

Every function takes a frame with one row per mask (:func:`.correlations.predictors` of our
runs, or :func:`.correlations.authors_frame` of the authors' table): ``model.name``,
``variant``, ``prune.density``, ``seed`` and the network metrics. A *random-wired* mask
(:data:`RANDOM_WIRED`: random, ERK) is drawn at random inside each layer; a *found* mask
(:data:`FOUND`) is one a scoring method chose. The per-density functions return one row per
(model, density, seed) with ``value`` (NaN where a side has no defined metric);
:func:`median_per_seed` reduces them to one row per (model, seed), the replicate.

* :func:`random_wiring_margin` (R2): the largest whole-layer Δr of a random-wired mask minus
  the median Δr of the found masks. Positive: a mask with no structural meaning is more
  Ramanujan than the typical found mask at the same density.
* :func:`narc_margin` (R4): the median |NaRC| of the found masks minus the random mask's
  |NaRC|. Positive: the random mask sits nearer NaRC's "random" boundary (0) than the typical
  found mask at the same density. The sign of NaRC itself is fixed by the density for random
  masks (NaRC ≈ -density² + O(1/sqrt(n_L n_R)) for a layer that keeps every output), so only
  a comparison within a density can say something about the wiring.
* :func:`ramanujan_gain` (R3): the fraction of layers Ramanujan by IMDB minus by the
  whole-layer Δr, mean over methods, at one density.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from .correlations import GROUP, PER_SEED

RANDOM_WIRED = ("random", "erk")
"""Variants whose masks are drawn at random within each layer."""

FOUND = ("snip", "iter_snip", "grasp", "synflow")
"""Variants whose masks a scoring method found."""


def _per_density(frame: pd.DataFrame, metric: str, variants: Sequence[str], how: str,
                 name: str) -> pd.Series:
    rows = frame[frame["variant"].isin(list(variants))].dropna(subset=[metric])
    return rows.groupby(list(GROUP))[metric].agg(how).rename(name)


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every (model, density, seed) of ``frame``, so that undefined cells stay as NaN."""
    return frame[list(GROUP)].drop_duplicates().sort_values(list(GROUP))


def random_wiring_margin(frame: pd.DataFrame, metric: str = "delta_r_mean", *,
                         random: Sequence[str] = RANDOM_WIRED,
                         found: Sequence[str] = FOUND) -> pd.DataFrame:
    """Per (model, density, seed): ``value`` = max ``metric`` over the ``random`` variants
    minus its median over the ``found`` variants (NaN if either side has no value)."""
    top = _per_density(frame, metric, random, "max", "random_wired")
    typical = _per_density(frame, metric, found, "median", "found")
    out = _cells(frame).join(top, on=list(GROUP)).join(typical, on=list(GROUP))
    return out.assign(value=out["random_wired"] - out["found"]).reset_index(drop=True)


def narc_margin(frame: pd.DataFrame, *, random: Sequence[str] = ("random",),
                found: Sequence[str] = FOUND) -> pd.DataFrame:
    """Per (model, density, seed): ``value`` = median |NaRC| over the ``found`` variants
    minus the mean |NaRC| of the ``random`` ones (NaN if either side has no value)."""
    sized = frame.assign(narc_size=frame["narc_mean"].abs())
    rand = _per_density(sized, "narc_size", random, "mean", "random")
    typical = _per_density(sized, "narc_size", found, "median", "found")
    out = _cells(frame).join(rand, on=list(GROUP)).join(typical, on=list(GROUP))
    return out.assign(value=out["found"] - out["random"]).reset_index(drop=True)


def ramanujan_gain(frame: pd.DataFrame, density: float | Mapping[str, float]) -> pd.DataFrame:
    """Per model and seed, at ``density`` (one value, or one per model): ``value`` = the
    fraction of layers Ramanujan by IMDB minus the fraction Ramanujan by the whole-layer Δr
    (both > 0, an unscored layer counting as not Ramanujan, as the reference counts), mean
    over variants."""
    wanted = frame["model.name"].map(density) if isinstance(density, Mapping) else density
    rows = frame[(frame["prune.density"] - wanted).abs() <= 1e-12]
    gain = rows["perc_ram_by_imdb"] - rows["perc_ram_by_delta_r"]
    return (rows.assign(value=gain).groupby(list(PER_SEED), as_index=False)["value"].mean())


def median_per_seed(per_density: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, seed) of a per-density frame: ``value`` (median over the densities
    where it is defined), ``entered`` (those densities) and ``densities`` (all)."""
    return per_density.groupby(list(PER_SEED), as_index=False).agg(
        value=("value", "median"), entered=("value", "count"), densities=("value", "size"))

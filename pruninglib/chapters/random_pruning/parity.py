"""Random masks against the masks pruning-at-initialisation (PaI) methods find: the runs of the
sanity checks, their labels, and paired accuracy differences.

For each PaI method (SNIP, GraSP, SynFlow, magnitude) and density, :func:`parity_specs` lists
three masks, all trained from the same initial weights of a seed:

* **found**: the method's mask;
* **shuffled** (``PruneSpec(shuffle=True)``): each layer's kept positions re-drawn uniformly at
  random, the same count per layer (Frankle et al. 2021's layer-wise shuffle). This *is* a
  random mask with the method's own layer densities (the initial weights are the same), so one
  set of runs answers both "does shuffling hurt?" and "is a random mask with good layer-wise
  ratios as good?" (Su et al. 2020);
* **re-initialised** (``PruneSpec(reinit=True)``): the found mask, weights re-drawn from the
  initialisation distribution;

and random masks with data-free layer densities (``uniform``, ``erk``, ``smart_ratio``).
:func:`with_variants` labels the runs of a sweep frame ("snip", "snip shuffled",
"snip re-initialised", "erk", ...), :func:`best_of` adds the best PaI method per density as
a variant, :func:`paired_differences` gives per-seed differences between two variants and
:func:`summarise` their means and 95 % confidence intervals.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...book.claims import Estimate
from ...config import RunSpec
from ...pruners.ratios import LAYER_RATIOS
from ...runs.experiments import grid_specs, run_all, to_frame

SHUFFLED = "shuffled"
REINIT = "re-initialised"
CHECKS = (SHUFFLED, REINIT)
"""The two sanity checks of a found mask (Frankle et al. 2021)."""
BEST_PAI = "best PaI"
"""Variant label of :func:`best_of` rows: the PaI method with the highest mean accuracy."""


def parity_specs(base: RunSpec, methods: Sequence[str], ratios: Sequence[str],
                 densities: Sequence[float], seeds: Sequence[int]) -> list[RunSpec]:
    """Runs of the parity study on ``base`` (its data, model and training): every PaI method
    found, shuffled and re-initialised, and every layer-ratio random mask, at every density
    and seed (the dense baseline is not included)."""
    common = {"prune.density": list(densities), "seed": list(seeds)}
    specs = []
    for extra in ({}, {"prune.shuffle": [True]}, {"prune.reinit": [True]}):
        specs += grid_specs(base, {"prune.method": list(methods), **extra, **common})
    if ratios:
        specs += grid_specs(base, {"prune.method": list(ratios), **common})
    return specs


def variant_label(method: str, shuffle: bool = False, reinit: bool = False,
                  invert: bool = False) -> str:
    """``"snip"``, ``"snip shuffled"``, ``"snip re-initialised"``, ``"snip inverted"`` (and
    combinations, in that order)."""
    parts = [method] + [word for flag, word in ((invert, "inverted"), (shuffle, SHUFFLED),
                                                (reinit, REINIT)) if flag]
    return " ".join(parts)


def with_variants(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a sweep frame (:func:`pruninglib.experiments.to_frame`) with a ``variant``
    column (:func:`variant_label` of each run's prune fields) and a ``kind`` column: "dense",
    "layer ratio" (uniform, erk, smart_ratio), "found", or the variant's words after the
    method ("shuffled", "re-initialised", ...)."""
    out = frame.copy()
    flags = [out.get(f"prune.{k}", pd.Series(False, index=out.index))
             for k in ("shuffle", "reinit", "invert")]
    out["variant"] = [variant_label(m, bool(s), bool(r), bool(i))
                      for m, s, r, i in zip(out["prune.method"], *flags)]
    out["kind"] = [("dense" if m == "dense" else "layer ratio" if m in LAYER_RATIOS
                    else v[len(m):].strip() or "found")
                   for m, v in zip(out["prune.method"], out["variant"])]
    return out


def best_of(frame: pd.DataFrame, variants: Sequence[str], label: str, *,
            value: str = "test_accuracy", by: Sequence[str] = ("prune.density",)
            ) -> pd.DataFrame:
    """Rows of the variant (among ``variants``) with the highest mean ``value`` over seeds in
    each group of ``by``, relabelled ``variant = label``, with the chosen variant in
    ``best_of``. Choosing by the mean (not per seed) keeps the seeds' noise out of the choice."""
    part = frame[frame["variant"].isin(list(variants))]
    rows = []
    for _, group in part.groupby(list(by)):
        best = group.groupby("variant")[value].mean().idxmax()
        rows.append(group[group["variant"] == best].assign(variant=label, best_of=best))
    return pd.concat(rows, ignore_index=True)


def paired_differences(frame: pd.DataFrame, variant: str, reference: str, *,
                       value: str = "test_accuracy", scale: float = 100.0,
                       by: Sequence[str] = ("prune.density",), pair_on: str = "seed"
                       ) -> pd.DataFrame:
    """scale * (value of ``variant`` - value of ``reference``) for each group of ``by`` and each
    seed present in both. Columns: ``by``..., ``pair_on``, variant, reference, difference."""
    keys = [*by, pair_on]

    def pick(name):
        return frame[frame["variant"] == name].groupby(keys)[value].mean()

    a, b = pick(variant).align(pick(reference), join="inner")
    out = ((a - b) * scale).rename("difference").reset_index()
    out.insert(len(keys), "reference", reference)
    out.insert(len(keys), "variant", variant)
    return out


def summarise(differences: pd.DataFrame, by: Sequence[str] = ("variant", "prune.density"),
              value: str = "difference") -> pd.DataFrame:
    """Mean, 95 % CI (Student t over seeds: low, high) and n per group of ``by``."""
    rows = []
    for key, group in differences.groupby(list(by)):
        est = Estimate.from_samples(group[value])
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))),
                     "mean": est.mean, "low": est.low, "high": est.high, "n": est.n})
    return pd.DataFrame(rows)


def highest_failing_density(summary: pd.DataFrame, threshold: float) -> dict[str, float | None]:
    """Per variant of a :func:`summarise` frame over ``prune.density``: the highest density at
    which the mean difference falls below ``threshold`` (None where it never does)."""
    out = {}
    for name, group in summary.groupby("variant"):
        failing = group.loc[group["mean"] < threshold, "prune.density"]
        out[name] = float(failing.max()) if len(failing) else None
    return out


# --------------------------------------------------------------------------- the chapter's runs

def dense_specs(base: RunSpec, seeds: Sequence[int]) -> list[RunSpec]:
    """The dense run of ``base`` for every seed (the default PruneSpec is dense)."""
    return grid_specs(base, {"seed": list(seeds)})


def parity_runs(base: RunSpec, methods: Sequence[str], ratios: Sequence[str],
                densities: Sequence[float], seeds: Sequence[int], **options
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(dense, pruned): the runs of :func:`dense_specs` (stored with their weights, which
    :mod:`.after_training` prunes) and of :func:`parity_specs`, both labelled by
    :func:`with_variants`. ``options`` go to :func:`~pruninglib.runs.experiments.run_all`
    (executor=, results_dir=, device=, progress=)."""
    dense = run_all(dense_specs(base, seeds), save_weights=True, **options)
    specs = parity_specs(base, methods, ratios, densities, seeds)
    return (with_variants(to_frame(dense)),
            with_variants(to_frame(run_all(specs, **options))))


def width_specs(base: RunSpec, multipliers: Sequence[float], masks: Sequence[str],
                density: float, seeds: Sequence[int]) -> list[RunSpec]:
    """The width experiment (Liu et al. 2022): at every hidden-width multiplier and seed, the
    dense network, then each mask of ``masks`` (layer ratios or PaI methods) at ``density``."""
    grid = {"model.width": list(multipliers), "seed": list(seeds)}
    return grid_specs(base, grid) + grid_specs(
        base, {**grid, "prune.method": list(masks), "prune.density": [float(density)]})


def width_runs(base: RunSpec, multipliers: Sequence[float], masks: Sequence[str],
               density: float, seeds: Sequence[int], **options) -> pd.DataFrame:
    """The runs of :func:`width_specs`, labelled by :func:`with_variants`. ``options`` as
    :func:`parity_runs`."""
    specs = width_specs(base, multipliers, masks, density, seeds)
    return with_variants(to_frame(run_all(specs, **options)))


# --------------------------------------------------------------------------- differences

def check_pairs(methods: Sequence[str]) -> list[tuple[str, str]]:
    """(sanity-check variant, its method) of each method, method by method:
    ``("snip shuffled", "snip"), ("snip re-initialised", "snip"), ("grasp shuffled", ...)``."""
    return [(variant_label(m, shuffle=k == SHUFFLED, reinit=k == REINIT), m)
            for m in methods for k in CHECKS]


def differences(frame: pd.DataFrame, pairs: Sequence[tuple[str, str]], **kwargs
                ) -> pd.DataFrame:
    """:func:`paired_differences` of every (variant, reference) pair, one frame; keyword
    arguments as :func:`paired_differences` (value=, scale=, by=, pair_on=)."""
    return pd.concat([paired_differences(frame, v, r, **kwargs) for v, r in pairs],
                     ignore_index=True)


def sanity_checks(runs: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """Per density and seed, shuffled − found and re-initialised − found accuracy (pp) of every
    method (:func:`paired_differences` columns)."""
    return differences(runs, check_pairs(methods))


def against_best(runs: pd.DataFrame, methods: Sequence[str], variants: Sequence[str]
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(best, gaps): the :func:`best_of` rows of ``methods`` per density (label
    :data:`BEST_PAI`, the method chosen once by its mean over seeds) and, per density and
    seed, each of ``variants`` − that best PaI method (pp)."""
    best = best_of(runs, methods, BEST_PAI)
    versus = pd.concat([runs, best], ignore_index=True)
    return best, differences(versus, [(v, BEST_PAI) for v in variants])


def width_gaps(widths: pd.DataFrame, masks: Sequence[str]) -> pd.DataFrame:
    """Per width multiplier and seed, dense − masked accuracy (pp) for each of ``masks``
    (``reference`` names the mask) from a :func:`width_runs` frame."""
    return differences(widths, [("dense", m) for m in masks], by=("model.width",))


# --------------------------------------------------------------------------- tables

def accuracy_table(dense: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (%, mean over seeds, one decimal) of every variant (rows) at every
    density (columns, high to low; the dense network's under its density 1.0)."""
    return (pd.concat([dense, runs])
            .pivot_table(index="variant", columns="prune.density", values="test_accuracy")
            .mul(100).round(1).sort_index(axis=1, ascending=False))


def on_paths_table(runs: pd.DataFrame, methods: Sequence[str], densities: Sequence[float]
                   ) -> pd.DataFrame:
    """Share (%, mean over seeds, one decimal) of the kept weights that lie on some
    input–output path (effective density / density), found and shuffled mask of each
    method (rows) at ``densities`` (columns, high to low)."""
    part = runs[runs["prune.density"].isin(list(densities))]
    rows = [v for m in methods for v in (m, variant_label(m, shuffle=True))]
    return (part.assign(on_paths=100 * part["effective_density"] / part["density"])
            .pivot_table(index="variant", columns="prune.density", values="on_paths")
            .reindex(rows).round(1).sort_index(axis=1, ascending=False))


def best_method_table(best: pd.DataFrame, label=str) -> pd.DataFrame:
    """One row "best PaI method": the method :func:`best_of` chose at each density (columns,
    high to low), written by ``label``."""
    chosen = best.groupby("prune.density")["best_of"].first().map(label)
    return chosen.rename("best PaI method").sort_index(ascending=False).to_frame().T


def width_gap_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """:func:`summarise` of :func:`width_gaps` per mask and width multiplier: columns mask,
    model.width, mean, low, high, n (pp)."""
    return summarise(gaps, by=("reference", "model.width")).rename(columns={"reference": "mask"})

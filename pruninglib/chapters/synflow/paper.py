"""Tanaka et al.'s own numbers for the SynFlow chapter, and its criteria calibrated on them.

Typed in once (the only typed-in numbers of the chapter besides the claims' quotes), from the
authors' result files in ``ganguli-lab/Synaptic-Flow`` as extracted in the study's
``../shared/reference/`` (see ``../shared/CLAIMS.md``, section 2):

* :data:`FIG1` — ``synflow_fig1_table.txt`` (``Results/data/0520_2020_cifar100_lottery_vgg16_bn``
  and its two reruns): VGG-16 on CIFAR-100, top-1 (%) after 160 epochs at compression 10^α,
  α = 0, 0.25, …, 6, mean of 3 runs, and whether some layer was empty in at least one run;
* :data:`FIG5A` — ``synflow_fig5a_table.txt`` (``Results/data/0529_2020_cifar10_lottery_vgg11_
  bn_lottery``): IMP on VGG-11 / CIFAR-10 with 1–5 prune–train cycles, top-1 (%) at
  α = 0, 0.1, …, 4.9 (which paper figure it feeds is unverified);
* Fig. 6 comes from :func:`pruninglib.book.reference.synflow_fig6` (the framework's copy).

Every number the chapter shows about them (critical compressions, the first α at chance, the
calibration of a criterion) is computed here from these tables.
"""
from __future__ import annotations

import math

import pandas as pd

from ...book import calibration, reference
from ...book.criteria import FAIL, NOT_APPLICABLE, PASS, Calibration, Criterion

FIG1_ALPHAS = tuple(k / 4 for k in range(25))
FIG1_ALPHA_MAX = math.log10(14_761_664 / 14)
"""rho_max = N / L of the authors' VGG-16 (14,761,664 prunable weights in 14 layers)."""
FIG1_CHANCE = 1.0  # % (CIFAR-100)
# method -> (accuracy at each alpha of FIG1_ALPHAS, "x" where some layer was empty in a run)
FIG1 = {
    "random": ((72.8, 72.4, 71.9, 70.8, 68.6, 66.1, 62.3, 58.6, 52.1, 38.9, 17.8, 1.0, 1.0,
                1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
               "............xxxxxxxxxxxxx"),
    "magnitude": ((72.9, 73.0, 72.9, 72.6, 71.8, 70.5, 67.6, 65.1, 60.5, 13.6, 1.0, 1.0, 1.0,
                   1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
                  "............xxxxxxxxxxxxx"),
    "snip": ((72.7, 73.1, 72.9, 71.8, 70.5, 69.2, 67.9, 64.6, 60.9, 55.3, 46.2, 32.7, 15.5,
              1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
             "...............xxxxxxxxxx"),
    "grasp": ((72.7, 72.1, 72.6, 71.6, 70.2, 68.5, 66.9, 65.2, 60.8, 53.2, 43.0, 28.4, 3.5,
               1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
              "...............xxxxxxxxxx"),
    "synflow": ((72.7, 72.9, 73.2, 72.7, 71.7, 69.8, 68.2, 66.4, 63.0, 59.3, 54.3, 49.3, 41.0,
                 32.8, 23.8, 15.3, 9.6, 6.0, 4.5, 2.3, 2.2, 1.0, 1.0, 1.0, 1.0),
                "........................x"),
}

FIG5A_ALPHAS = tuple(k / 10 for k in range(50))
FIG5A_CHANCE = 10.0  # % (CIFAR-10)
# prune-train cycles -> accuracy at each alpha of FIG5A_ALPHAS
FIG5A = {
    1: (86.9, 87.2, 88.6, 85.4, 86.3, 84.5, 86.7, 86.7, 86.3, 85.7, 86.1, 87.3, 87.5, 85.9,
        84.8, 83.7, 81.8, 41.8, 43.1, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0,
        10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0,
        10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0),
    2: (86.3, 87.8, 85.8, 85.9, 88.5, 87.2, 87.2, 88.2, 86.7, 88.0, 87.8, 87.6, 87.9, 86.5,
        87.8, 86.6, 85.5, 85.7, 86.0, 85.1, 84.4, 82.8, 83.3, 82.1, 81.6, 78.7, 79.8, 76.8,
        74.2, 68.2, 31.7, 61.0, 32.6, 40.7, 32.3, 10.0, 27.3, 10.0, 10.0, 21.4, 10.0, 10.0,
        10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0),
    3: (87.7, 84.5, 86.8, 85.7, 85.9, 87.7, 87.0, 85.5, 88.1, 88.8, 86.9, 87.8, 88.0, 87.9,
        86.8, 84.7, 85.8, 86.1, 85.2, 86.3, 84.8, 83.1, 82.8, 83.8, 81.5, 80.5, 78.4, 78.3,
        73.3, 72.8, 71.7, 67.5, 64.5, 57.5, 49.3, 45.8, 33.4, 22.8, 19.3, 18.8, 22.1, 19.0,
        10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0),
    4: (86.6, 85.4, 87.3, 85.9, 87.8, 87.5, 87.1, 86.3, 87.4, 86.7, 86.9, 88.3, 87.4, 87.2,
        87.2, 88.1, 87.8, 86.4, 85.5, 84.9, 86.2, 84.0, 85.3, 81.9, 83.3, 82.1, 80.8, 78.9,
        77.0, 73.4, 72.4, 67.4, 65.2, 60.3, 54.9, 47.0, 46.4, 31.8, 16.4, 20.7, 10.0, 10.0,
        10.0, 17.9, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0),
    5: (86.2, 88.4, 87.0, 87.7, 87.6, 87.9, 86.9, 88.5, 85.2, 88.0, 87.5, 88.0, 86.8, 87.5,
        88.6, 87.2, 86.7, 87.0, 86.6, 86.0, 84.4, 84.4, 83.7, 83.0, 83.7, 80.2, 80.3, 78.9,
        76.2, 74.8, 75.5, 70.7, 68.2, 62.9, 55.0, 48.3, 40.0, 38.7, 29.1, 19.4, 10.0, 10.0,
        10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0),
}

FIG6_PANELS = {"VGG-11": "cifar10_lottery_vgg11_bn", "VGG-16": "cifar10_lottery_vgg16_bn",
               "ResNet-18": "cifar10_tiny_resnet18"}
"""The CIFAR-10 panels of Fig. 6 the chapter quotes, by network."""


def fig1_summary(table: dict | None = None) -> pd.DataFrame:
    """Per method of Fig. 1 (``table``: :data:`FIG1`'s layout): first_collapse (the first α
    with an empty layer, NaN if none), alpha_cr (the last α before it, on the 0.25 grid),
    last_above_chance (the last α with accuracy above 1 %), gap_cr = α_max − alpha_cr and
    gap_collapse = α_max − first_collapse (0 if none), in decades."""
    rows = []
    for method, (accuracy, flags) in (FIG1 if table is None else table).items():
        if len(accuracy) != len(FIG1_ALPHAS) or len(flags) != len(FIG1_ALPHAS):
            raise ValueError(f"Fig. 1 row {method!r} has {len(accuracy)} values and "
                             f"{len(flags)} flags: {len(FIG1_ALPHAS)} of each are needed")
        collapsed = [a for a, f in zip(FIG1_ALPHAS, flags) if f == "x"]
        first = collapsed[0] if collapsed else math.nan
        safe = [a for a in FIG1_ALPHAS if not collapsed or a < first]
        above = [a for a, acc in zip(FIG1_ALPHAS, accuracy) if acc > FIG1_CHANCE]
        rows.append({"method": method, "first_collapse": first, "alpha_cr": safe[-1],
                     "last_above_chance": above[-1] if above else math.nan,
                     "gap_cr": FIG1_ALPHA_MAX - safe[-1],
                     "gap_collapse": FIG1_ALPHA_MAX - first if collapsed else 0.0})
    return pd.DataFrame(rows).set_index("method")


def fig1_table() -> pd.DataFrame:
    """:func:`fig1_summary` as the chapter shows it (paper's method names, three columns)."""
    names = {"random": "random", "magnitude": "magnitude", "snip": "SNIP", "grasp": "GraSP",
             "synflow": "SynFlow"}
    out = fig1_summary()[["first_collapse", "alpha_cr", "last_above_chance"]]
    out.index = pd.Index([names[m] for m in out.index],
                         name="paper, Fig. 1 (VGG-16, CIFAR-100)")
    return out.rename(columns={"first_collapse": "first α with a collapsed layer",
                               "alpha_cr": "α_cr (grid step 0.25)",
                               "last_above_chance": "last α with accuracy > 1 %"})


def fig1_cliff(table: dict | None = None) -> pd.Series:
    """Per baseline method of Fig. 1 (``table``: :data:`FIG1`'s layout; SynFlow left out),
    the accuracy (%) at the last α of the 0.25 grid before its first empty layer."""
    rows = {}
    for method, (accuracy, flags) in (FIG1 if table is None else table).items():
        if method == "synflow" or "x" not in flags:
            continue
        first = flags.index("x")
        rows[method] = accuracy[first - 1] if first > 0 else math.nan
    return pd.Series(rows, name="accuracy before the first empty layer (%)")


def fig1_cliff_text() -> str:
    """``random 17.8 %, magnitude 1.0 %, ...`` one 0.25 step before the first empty layer."""
    return (", ".join(f"{reference_label(m)} {a:.1f} %" for m, a in fig1_cliff().items())
            + f" one 0.25 step before the first empty layer (chance {FIG1_CHANCE:g} %)")


def imp_first_chance(table: dict | None = None) -> pd.Series:
    """Per number of IMP cycles (``table``: :data:`FIG5A`'s layout), the first α at which
    the accuracy is at chance (10 %); NaN if never."""
    out = {}
    for cycles, accuracy in (FIG5A if table is None else table).items():
        if len(accuracy) != len(FIG5A_ALPHAS):
            raise ValueError(f"Fig. 5a row of {cycles} cycles has {len(accuracy)} values: "
                             f"{len(FIG5A_ALPHAS)} are needed")
        at_chance = [a for a, acc in zip(FIG5A_ALPHAS, accuracy) if acc <= FIG5A_CHANCE]
        out[cycles] = at_chance[0] if at_chance else math.nan
    return pd.Series(out, name="first α at chance").rename_axis("cycles")


def imp_first_chance_text() -> str:
    """``1.9 with 1 cycle, 3.5 with 2, 4.2 with 3, 4.0 with 4, 4.0 with 5``."""
    first = imp_first_chance()
    return ", ".join(f"{a:.1f} with {_cycles(c)}" if k == 0 else f"{a:.1f} with {c}"
                     for k, (c, a) in enumerate(first.items()))


def fig6_versus(network: str, alpha: float) -> str:
    """SynFlow against the best other method by mean in the CIFAR-10 panel of ``network``
    (a key of :data:`FIG6_PANELS`) at ``alpha``: ``"90.08 % vs 89.80 % (magnitude)"``."""
    if network not in FIG6_PANELS:
        raise ValueError(f"network={network!r} is not allowed: " + ", ".join(FIG6_PANELS))
    frame = reference.synflow_fig6()
    at = frame[(frame["panel"] == FIG6_PANELS[network]) & ((frame["alpha"] - alpha).abs()
                                                          < 1e-9)]
    if at.empty:
        raise ValueError(f"alpha={alpha} is not in Fig. 6: 0, 1, 1.5, 2, 2.5, 3")
    means = at.set_index("method")["accuracy"]
    other = means.drop(index="synflow").idxmax()
    return (f"{means['synflow']:.2f} % vs {means[other]:.2f} % "
            f"({reference_label(other)})")


def reference_label(method: str) -> str:
    """The paper's name of a method: SNIP, GraSP, SynFlow; random and magnitude as is."""
    return {"snip": "SNIP", "grasp": "GraSP", "synflow": "SynFlow"}.get(method, method)


# ------------------------------------------------------------------------------------------
# Calibration: the chapter's criteria applied to these numbers
# ------------------------------------------------------------------------------------------
def calibrate_s1(criterion: Criterion, methods=("random", "magnitude", "snip", "grasp")
                 ) -> Calibration:
    """S1 on Fig. 1: ``criterion`` on α_max − α_cr of each of ``methods`` (the chapter's
    metric is their smallest)."""
    gaps = fig1_summary().loc[list(methods), "gap_cr"]
    result = calibration.calibrate(lambda g: g.map(criterion.holds), gaps, unit="methods")
    return _with_detail(result, f"{result.detail}; smallest gap {gaps.min():.2f} decades")


def calibrate_cliff(criterion: Criterion) -> Calibration:
    """S1-cliff on Fig. 1: n.a., since the files flag layers without any weight, not layers
    cut off from every input–output path (the collapse the chapter's metric uses); the detail
    gives ``criterion`` on accuracy − chance (pp) one 0.25 step before the first *empty*
    layer, per method."""
    margins = fig1_cliff() - FIG1_CHANCE
    holding = [m for m, v in margins.items() if criterion.holds(v)]
    return Calibration(NOT_APPLICABLE, (
        "the files flag empty layers, not layers cut off from every path; one step before "
        f"the first empty layer it holds for {len(holding)} of {len(margins)} methods ("
        + ", ".join(f"{reference_label(m)} {v:+.1f} pp" for m, v in margins.items()) + ")"))


def calibrate_s6(criterion: Criterion) -> Calibration:
    """S6 on Fig. 1: ``criterion`` on α_max − the first α at which SynFlow empties a layer."""
    row = fig1_summary().loc["synflow"]
    return _one(criterion, row["gap_collapse"],
                f"SynFlow first empties a layer at α = {row['first_collapse']:.2f}, "
                f"α_max = {FIG1_ALPHA_MAX:.2f}")


def calibrate_s4(criterion: Criterion, fewest: int, most: int) -> Calibration:
    """S4 on the IMP result files: ``criterion`` on the first α at chance with ``most``
    cycles minus with ``fewest`` (the authors' files have accuracies, not collapse flags);
    n.a. for cycle counts they did not run."""
    first = imp_first_chance()
    if fewest not in first.index or most not in first.index or most <= fewest:
        return Calibration(NOT_APPLICABLE, f"the authors ran 1–5 cycles; we compare {fewest} "
                                           f"and {most}")
    return _one(criterion, first[most] - first[fewest],
                f"first α at chance {first[fewest]:.1f} with {_cycles(fewest)}, "
                f"{first[most]:.1f} with {most}")


def _cycles(n: int) -> str:
    return f"{n} cycle" + ("s" if n != 1 else "")


def _one(criterion: Criterion, value: float, detail: str) -> Calibration:
    holds = criterion.holds(value)
    if holds is None:
        return Calibration(NOT_APPLICABLE, detail)
    return Calibration(PASS if holds else FAIL, f"{value:+.2f} decades: {detail}",
                       int(holds), 1)


def _with_detail(result: Calibration, detail: str) -> Calibration:
    return Calibration(result.result, detail, result.holding, result.units)


def calibrate_s7(alpha: float, criterion: Criterion) -> Calibration:
    """S7 on Fig. 6: SynFlow − the best other method by mean at ``alpha``, in each of the
    12 panels (:func:`pruninglib.book.calibration.synflow_fig6`)."""
    return calibration.synflow_fig6(alpha, criterion)

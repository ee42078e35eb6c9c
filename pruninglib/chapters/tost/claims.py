"""The ToST chapter's claims, as data, and the estimate each row is judged on.

Two tables, kept apart:

* :data:`TOST_ROWS`, the claims of Jaiswal et al. 2022 (T1 per mask, T3a, T2 per ToST
  component, and two *not measured* rows for the masks and settings we do not test);
* :data:`OWN_ROWS`, this book's own tests, which are not claims of ToST and are never counted
  as its reproductions: "own-gap" (a *check* of the experiment's precondition: the default
  sparse network is clearly below the dense one, so a recipe has room to help), "own-T3b"
  (the gain at the lowest sparsity stays within ±1 point: the study's claims sheet's reading
  of T3) and "own-fan_in" (fan-in rescaling alone helps: it is Hayou et al.'s trick, tested
  beside ToST's).

Every row of ToST's table could fail; the only check is the precondition. The authors
released no numbers we could calibrate a criterion on (their tables were not retrieved), so
every calibration is "n.a.".
Metric texts name the knobs (``{mask}``, ``{high}``, ...), filled in by :func:`declared`;
:func:`estimates` computes every row's :class:`~pruninglib.book.claims.Estimate` from the
runs (paired by seed), and :func:`verdict_tables` renders both tables.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ...book import claims
from ...book.plots import method_label, model_label
from .experiment import Design, ProtocolRuns, dense_gap
from .protocols import LABELS, OWN_COMPONENTS, TOST_RECIPE

TOST = "Jaiswal et al. 2022 (ToST)"
OWN = "This book's own tests (not claims of ToST)"
OWN_CAPTION = ("This book's own tests: not claims of ToST, not counted as its reproductions")
PAPER_SCALE = "ResNet-18/32/104, VGG-16, MobileNet · CIFAR-10/100, Tiny ImageNet · 182 ep"
PAPER_MASKS = ("imp", "snip", "grasp", "synflow", "random")
"""The masks T3 names: lottery tickets (iterative magnitude pruning), SNIP, GraSP, SynFlow,
random."""

_GAIN = "paired by seed"
_BEATS = "beat the default by more than the seed spread, as the claims sheet asks"
_HELPS = "each part is proposed as a help: 0 = no gain"

T1 = claims.Claim(
    id="T1-{mask_label}", paper=TOST,
    statement="Training with ToST's recipe ('all') beats the default protocol with a "
              "{mask_label} mask.",
    metric="all − default test accuracy, mean over sparsities {high}, " + _GAIN,
    criterion=claims.above(0.0, "pp", why=_BEATS))
T1_OTHER_MASKS = claims.Claim(
    id="T1-other-masks", paper=TOST, kind="not_measured",
    statement="The recipe helps with any mask, including {untested}.",
    metric="all − default test accuracy with those masks",
    reason="this page trains only {tested} masks (the `methods` knob); lottery tickets "
           "(IMP) cost five trainings each and are found with the run's own training spec, "
           "so label smoothing would change the mask itself")
T3A = claims.Claim(
    id="T3a", paper=TOST,
    statement="The gain of the recipe is largest at high sparsity.",
    metric="(all − default) at {lowest} minus (all − default) at {highest} sparsity, mean "
           "over masks, " + _GAIN,
    criterion=claims.above(0.0, "pp", why="'largest at high sparsity': any increase"))
T3_SCOPE = claims.Claim(
    id="T3-scope", paper=TOST, kind="not_measured",
    statement="The gains hold across data sets (CIFAR-10/100, Tiny ImageNet) and "
              "architectures (ResNet-18/32/104, VGG-16, MobileNet).",
    metric="the T1 gain on each data set and architecture",
    reason="one data set and one architecture per page (the `paper` profile: ResNet-32 on "
           "CIFAR-10)")
T2 = claims.Claim(
    id="T2-{component}", paper=TOST,
    statement="Used alone, the trick '{component_label}' (one of ToST's four) improves "
              "accuracy at very high sparsity.",
    metric="{component_label} − default, mean over {trick_masks} masks at sparsities "
           "{trick_very_high}, " + _GAIN,
    criterion=claims.above(0.0, "pp", why=_HELPS))
TOST_ROWS = (T1, T1_OTHER_MASKS, T3A, T3_SCOPE, T2)
"""The templates of the ToST table, in reading order (T1 and T2 expand per mask / trick)."""

OWN_GAP = claims.Claim(
    id="own-gap", paper=OWN, kind="check",
    statement="Precondition: at {lowest} sparsity the default sparse network is clearly "
              "below the dense one, so a training recipe has room to help.",
    metric="dense − default test accuracy at {lowest} sparsity, mean over masks, " + _GAIN,
    criterion=claims.above(2.0, "pp", why="room for gains of a few points"),
    reason="a precondition of this experiment, not a claim of ToST")
OWN_T3B = claims.Claim(
    id="own-T3b", paper=OWN,
    statement="At the lowest sparsity the recipe changes accuracy by less than a point (the "
              "study's claims sheet's reading of T3; the paper says only that gains are "
              "largest at high sparsity).",
    metric="all − default at {highest} sparsity, mean over masks, " + _GAIN,
    criterion=claims.within(0.0, 1.0, "pp", why="±1 pp: the claims sheet's 'about zero'"))
OWN_FAN_IN = claims.Claim(
    id="own-{component}", paper=OWN,
    statement="Used alone, the trick '{component_label}' (Hayou et al.'s, not ToST's) "
              "improves accuracy at very high sparsity.",
    metric="{component_label} − default, mean over {trick_masks} masks at sparsities "
           "{trick_very_high}, " + _GAIN,
    criterion=claims.above(0.0, "pp", why="0 = no gain"))
OWN_ROWS = (OWN_GAP, OWN_T3B, OWN_FAN_IN)


def _sparsities(densities) -> str:
    return ", ".join(f"{100 * (1 - d):g} %" for d in densities)


def _fill(claim: claims.Claim, scale: claims.Scale, **values) -> claims.Claim:
    def text(s: str) -> str:
        return s.format(**values) if s else s

    return dataclasses.replace(claim, id=text(claim.id), statement=text(claim.statement),
                               metric=text(claim.metric), reason=text(claim.reason),
                               scale=scale)


@dataclasses.dataclass(frozen=True)
class Declared:
    """The rows of the two tables, filled in for one design: ``tost`` and ``own``."""

    tost: list[claims.Claim]
    own: list[claims.Claim]


def declared(design: Design) -> Declared:
    """:data:`TOST_ROWS` and :data:`OWN_ROWS` filled in for ``design``: one T1 row per mask,
    one T2 row per ToST trick among the protocols, one own row per other trick, the masks
    of :data:`PAPER_MASKS` the design leaves out, and the scale column."""
    scale = claims.Scale(paper=PAPER_SCALE, ours=our_scale(design))
    bands = {"high": _sparsities(design.high), "very_high": _sparsities(design.very_high),
             "lowest": _sparsities([design.lowest]),
             "highest": _sparsities([design.highest]),
             "trick_masks": mask_names(design.single_trick_methods),
             "trick_very_high": _sparsities(design.trick_very_high)}
    untested = [m for m in PAPER_MASKS if m not in design.methods]
    tost = [_fill(T1, scale, mask_label=method_label(m), **bands) for m in design.methods]
    if untested:
        tost.append(_fill(T1_OTHER_MASKS, scale, untested=mask_names(untested),
                          tested=mask_names(design.methods)))
    tost += [_fill(T3A, scale, **bands), _fill(T3_SCOPE, scale)]
    tost += [_fill(T2, scale, component=c, component_label=LABELS[c], **bands)
             for c in design.components if c in TOST_RECIPE]
    own = [_fill(OWN_GAP, scale, **bands), _fill(OWN_T3B, scale, **bands)]
    own += [_fill(OWN_FAN_IN, scale, component=c, component_label=LABELS[c], **bands)
            for c in design.components if c in OWN_COMPONENTS]
    return Declared(tost, own)


def mask_names(methods) -> str:
    """The masks' labels, comma-separated (IMP as "lottery-ticket (IMP)")."""
    names = {"imp": "lottery-ticket (IMP)"}
    return ", ".join(names.get(m, method_label(m)) for m in methods)


def our_scale(design: Design) -> str:
    """Our setting in one short line, e.g. ``ResNet-20 · fashion_mnist 2000 · 5 ep · bf16``."""
    model = design.base.model
    if model.name == "resmlp":
        hidden = list(model.hidden)
        blocks = (f"{len(hidden)}×{hidden[0]}" if hidden and len(set(hidden)) == 1
                  else str(hidden))
        name = f"residual MLP {blocks}"
    else:
        name = model_label(model.name)
    width = f" ×{model.width:g}" if model.width != 1 else ""
    data = design.base.data
    images = data.train_subset or "all"
    bf16 = " · bf16" if design.base.train.bf16 else ""
    return f"{name}{width} · {data.name} {images} · {design.base.train.epochs} ep{bf16}"


def estimates(design: Design, result: ProtocolRuns) -> dict[str, claims.Estimate]:
    """Every measured row's estimate from ``result``: paired differences by seed (the gains
    of :func:`.experiment.gains`, in points), averaged per seed over the masks and
    sparsities a row names; "own-gap" from :func:`.experiment.dense_gap`."""
    gain = result.gains

    def est(frame, **selection) -> claims.Estimate:
        return claims.estimate(frame, "gain", unit="pp", **selection)

    high = gain[gain["prune.density"].isin(design.high)]
    very_high = gain[gain["prune.density"].isin(design.very_high)]
    out = {f"T1-{method_label(m)}": est(high, where={"protocol": "all", "prune.method": m})
           for m in design.methods}
    out["T3a"] = est(gain, where={"protocol": "all", "prune.density": design.lowest},
                     minus={"protocol": "all", "prune.density": design.highest})
    out["own-T3b"] = est(gain, where={"protocol": "all", "prune.density": design.highest})
    out["own-gap"] = claims.Estimate.from_samples(dense_gap(design, result)["gap"],
                                                  unit="pp")
    for c in design.components:
        prefix = "T2" if c in TOST_RECIPE else "own"
        out[f"{prefix}-{c}"] = est(very_high, where={"protocol": c})
    return out


def plan_tables(rows: Declared) -> tuple[claims.ClaimTable, claims.ClaimTable]:
    """The plan of both tables (before any result): ToST's claims, then this book's own."""
    return claims.plan_table(rows.tost), claims.plan_table(rows.own, caption=OWN_CAPTION)


def verdict_tables(rows: Declared, results: Mapping[str, claims.Estimate]
                   ) -> tuple[claims.ClaimTable, claims.ClaimTable]:
    """The verdicts of both tables: ToST's claims, then this book's own tests."""
    def part(table_rows):
        ids = {c.id for c in table_rows}
        return {k: v for k, v in results.items() if k in ids}

    return (claims.verdict_table(rows.tost, part(rows.tost)),
            claims.verdict_table(rows.own, part(rows.own), caption=OWN_CAPTION))

"""Criteria, claims and their verdicts (re-exported by :mod:`pruninglib.book.claims`).

A :class:`Claim` is one row of a chapter's claims table, of one of three kinds (:data:`KINDS`):

* ``"claim"`` — a statement of the paper that an experiment could refute; its verdict is one
  of :data:`VERDICTS` and it counts as a reproduction (or not);
* ``"check"`` — an identity, a derivation or a property that holds by construction (it tests
  our code, not the paper): "check passed" / "check failed", shown in a separate table and
  never counted as a reproduction;
* ``"not_measured"`` — a claim we do not test, with the ``reason``.

A :class:`Criterion` (built with :func:`above`, :func:`below`, :func:`within`,
:func:`no_relationship`) says why its threshold (``why``) and turns an :class:`Estimate` into
a verdict; fewer than :data:`MIN_REPLICATES` replicates never give "reproduced".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .estimates import Estimate

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced at this scale"
NOT_MEASURED = "not measured"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_MEASURED)
CHECK_PASSED = "check passed"
CHECK_FAILED = "check failed"
CHECK_VERDICTS = (CHECK_PASSED, CHECK_FAILED, NOT_MEASURED)

CLAIM, CHECK, NOT_MEASURED_KIND = "claim", "check", "not_measured"
KINDS = (CLAIM, CHECK, NOT_MEASURED_KIND)
KIND_MEANING = {
    CLAIM: "a statement of the paper that our experiment could refute",
    CHECK: "an identity, a derivation or a property that holds by construction: it tests "
           "our implementation, not the paper, and is never counted as a reproduction",
    NOT_MEASURED_KIND: "a statement of the paper we do not test (the reason is given)",
}

MIN_REPLICATES = 3
"""Fewer independent replicates (independently trained networks) give at most "partly"."""

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "n.a."
CALIBRATION_RESULTS = (PASS, FAIL, NOT_APPLICABLE)


@dataclass(frozen=True)
class Criterion:
    """How a measurement becomes a verdict; built with :func:`above`, :func:`below`,
    :func:`within` or :func:`no_relationship`. ``text`` is what the verdict table prints (set
    automatically); ``why`` is one short phrase saying why this threshold."""

    kind: str
    threshold: float
    tolerance: float = 0.0
    unit: str = ""
    text: str = ""
    why: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("above", "below", "within"):
            raise ValueError(f"Criterion.kind={self.kind!r} is not allowed: above, below, within")
        if self.kind == "within" and not self.tolerance > 0:
            raise ValueError(f"Criterion.tolerance={self.tolerance!r} is not allowed: > 0")
        if not self.text:
            unit = f" {self.unit}" if self.unit else ""
            text = {
                "above": f"95 % CI above {self.threshold:g}{unit}",
                "below": f"95 % CI below {self.threshold:g}{unit}",
                "within": f"95 % CI within {self.threshold:g} ± {self.tolerance:g}{unit}",
            }[self.kind]
            object.__setattr__(self, "text", text)

    @property
    def described(self) -> str:
        """The criterion with its reason: ``95 % CI above 0 pp (why: a decade of ...)``."""
        return f"{self.text} (why: {self.why})" if self.why else self.text

    def holds(self, value: float) -> bool | None:
        """Whether one number (e.g. the authors' mean) meets the criterion; None if
        undefined. Used to calibrate the criterion on the authors' released numbers."""
        try:
            x = float(value)
        except (TypeError, ValueError):
            return None
        if math.isnan(x):
            return None
        if self.kind == "above":
            return x > self.threshold
        if self.kind == "below":
            return x < self.threshold
        return abs(x - self.threshold) <= self.tolerance

    def verdict(self, estimate: Estimate | None) -> str:
        """One of :data:`VERDICTS`: *reproduced* if the whole 95 % CI meets the criterion and
        there are at least :data:`MIN_REPLICATES` replicates, *partly* if only the mean does
        (or the CI with too few replicates), else *not reproduced at this scale*; *not
        measured* without a value or with fewer entered units than the stated minimum."""
        whole, centre = self._meets(estimate)
        if centre is None:
            return NOT_MEASURED
        if whole and estimate.n >= MIN_REPLICATES:
            return REPRODUCED
        return PARTLY if (centre or whole) else NOT_REPRODUCED

    def check_verdict(self, estimate: Estimate | None) -> str:
        """"check passed" if the criterion holds in every replicate (an identity or a
        derivation must hold in each network, so the range of the replicates is judged, not
        a confidence interval, whose width would only say how many seeds were run), else
        "check failed"; or "not measured". An estimate without its range (built by hand)
        is judged by its whole CI, or its value with one replicate."""
        whole, centre = self._meets(estimate)
        if centre is None:
            return NOT_MEASURED
        if estimate.smallest is not None and estimate.largest is not None:
            passed = bool(self.holds(estimate.smallest)) and bool(self.holds(estimate.largest))
        else:
            passed = centre if estimate.n == 1 else whole
        return CHECK_PASSED if passed else CHECK_FAILED

    def _meets(self, estimate: Estimate | None) -> tuple[bool | None, bool | None]:
        if (estimate is None or estimate.n == 0 or math.isnan(estimate.mean)
                or estimate.too_few_entered):
            return None, None
        lo, hi, m = estimate.low, estimate.high, estimate.mean
        if self.kind == "above":
            return lo > self.threshold, m > self.threshold
        if self.kind == "below":
            return hi < self.threshold, m < self.threshold
        a, b = self.threshold - self.tolerance, self.threshold + self.tolerance
        return (a <= lo and hi <= b), (a <= m <= b)


def above(threshold: float, unit: str = "", *, why: str = "") -> Criterion:
    """Reproduced when the whole 95 % CI lies above ``threshold``."""
    return Criterion("above", float(threshold), unit=unit, why=why)


def below(threshold: float, unit: str = "", *, why: str = "") -> Criterion:
    """Reproduced when the whole 95 % CI lies below ``threshold``."""
    return Criterion("below", float(threshold), unit=unit, why=why)


def within(target: float, tolerance: float, unit: str = "", *, why: str = "") -> Criterion:
    """Reproduced when the whole 95 % CI lies within ``target ± tolerance``."""
    return Criterion("within", float(target), float(tolerance), unit=unit, why=why)


def no_relationship(tolerance: float, unit: str = "", *, why: str = "") -> Criterion:
    """"No relationship", two-sided: reproduced when the whole 95 % CI lies within
    ``0 ± tolerance`` (a strongly negative value fails as a strongly positive one does)."""
    unit_text = f" {unit}" if unit else ""
    return Criterion("within", 0.0, float(tolerance), unit=unit, why=why,
                     text=f"95 % CI within 0 ± {tolerance:g}{unit_text} "
                          "(no relationship, two-sided)")


@dataclass(frozen=True)
class Scale:
    """The paper's setting and ours, shown beside every verdict, e.g.
    ``Scale(paper="VGG-16 · CIFAR-10 · 160 ep", ours="VGG-11×⅛ · Fashion-MNIST 3k · 3 ep")``."""

    paper: str
    ours: str

    def format(self) -> str:
        return f"paper: {self.paper}; ours: {self.ours}"


@dataclass(frozen=True)
class Calibration:
    """A claim's criterion applied to the authors' own released numbers.

    result: "pass", "fail" or "n.a." (:data:`CALIBRATION_RESULTS`).
    detail: one line, e.g. "10 of 12 panels". ``holding``/``units``: the counts behind it.
    A claim whose criterion fails on the authors' data does not test the paper.
    """

    result: str
    detail: str = ""
    holding: int | None = None
    units: int | None = None

    def __post_init__(self) -> None:
        if self.result not in CALIBRATION_RESULTS:
            raise ValueError(f"Calibration.result={self.result!r} is not allowed: "
                             + ", ".join(CALIBRATION_RESULTS))

    def format(self) -> str:
        return f"{self.result}: {self.detail}" if self.detail else self.result


NOT_CALIBRATED = Calibration(NOT_APPLICABLE)
"""What a claim without a calibration shows: no released numbers of the authors cover it."""


@dataclass(frozen=True)
class PaperNumber:
    """A number as the paper reports it (typed in; the only typed-in numbers in the book).

    value: the number(s) as printed, e.g. ``"90.08 % vs 79.14 %"``.
    setting: model, data, sparsity, seeds of that number.
    source: where it is, e.g. ``"Fig. 6 (authors' result files)"``, ``"Table 2"``.
    """

    value: str
    setting: str
    source: str

    def format(self) -> str:
        return f"{self.value} ({self.setting}; {self.source})"


@dataclass(frozen=True)
class Claim:
    """One row of a claims table.

    id: short label used in the text (e.g. "S7").
    paper: short citation, e.g. "Tanaka et al. 2020 (SynFlow)".
    statement: the claim in a sentence.
    metric: our measurement, with its unit.
    criterion: the rule that decides the verdict, fixed before the results are shown
        (None only for kind "not_measured").
    paper_number: the paper's own number, or None where the paper gives none we could read.
    kind: "claim" (default), "check" or "not_measured" (see :data:`KIND_MEANING`).
    reason: why it is not measured (required for kind "not_measured") or is a check.
    scale: the paper's setting and ours (:class:`Scale`), or None.
    calibration: the criterion on the authors' released numbers (:class:`Calibration`), or
        None where none cover it (shown as "n.a.").
    section: the heading of the chapter section that tests it ("" = found by the runner).
    """

    id: str
    paper: str
    statement: str
    metric: str
    criterion: Criterion | None = None
    paper_number: PaperNumber | None = None
    kind: str = CLAIM
    reason: str = ""
    scale: Scale | None = None
    calibration: Calibration | None = None
    section: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Claim.kind={self.kind!r} is not allowed: " + ", ".join(KINDS))
        if self.kind == NOT_MEASURED_KIND and not self.reason.strip():
            raise ValueError(f"claim {self.id!r} is not measured: give the reason")
        if self.kind != NOT_MEASURED_KIND and self.criterion is None:
            raise ValueError(f"claim {self.id!r} needs a criterion")

    @property
    def is_check(self) -> bool:
        return self.kind == CHECK

    def verdict(self, estimate: Estimate | None) -> str:
        """The verdict for ``estimate``: :data:`VERDICTS` for a claim, "check passed" /
        "check failed" for a check, always "not measured" for kind "not_measured"."""
        if self.kind == NOT_MEASURED_KIND:
            return NOT_MEASURED
        if self.kind == CHECK:
            return self.criterion.check_verdict(estimate)
        return self.criterion.verdict(estimate)

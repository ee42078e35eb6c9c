"""Claims, the criteria that test them, and the verdict table a chapter ends with.

A :class:`Claim` is written in a chapter *before* any result is shown: which paper says what,
the paper's own number (typed in from the paper, with its setting and table/figure: the only
typed-in numbers in the book), which of our metrics tests it, and the :class:`Criterion` that
turns our measurement into a verdict. After the runs, :func:`samples` pulls one value per
seed out of a results frame, :meth:`Estimate.from_samples` summarises them (mean and 95 %
confidence interval, Student t), and :func:`verdict_table` renders

    claim · paper (their number, typed in) · ours (mean ± 95 % CI over seeds, setting) ·
    criterion · verdict

where the verdict is one of :data:`VERDICTS`. The rules are deliberately simple and fixed:

* ``above(t)``: *reproduced* if the whole CI lies above ``t``; *partly* if only the mean does;
  otherwise *not reproduced at this scale*.
* ``below(t)``: the mirror image.
* ``within(target, tolerance)``: *reproduced* if the whole CI lies in
  ``[target - tolerance, target + tolerance]``; *partly* if only the mean does.

With one seed there is no interval, so a claim can be at most *partly* reproduced.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Iterable, Mapping, Sequence

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced at this scale"
NOT_MEASURED = "not measured"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_MEASURED)

# Okabe-Ito (colour-blind safe) tints; every verdict also carries a symbol and its words.
_VERDICT_STYLE = {
    REPRODUCED: ("✓", "#c9e7dc"),      # bluish green
    PARTLY: ("≈", "#fbe3b5"),          # orange
    NOT_REPRODUCED: ("✗", "#f6cdb8"),  # vermilion
    NOT_MEASURED: ("–", "#e6e6e6"),
}

# Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom (then normal).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_quantile_975(dof: int) -> float:
    """Two-sided 95 % Student-t critical value for ``dof`` >= 1 degrees of freedom."""
    if dof < 1:
        raise ValueError(f"dof={dof} is not allowed: >= 1")
    if dof <= len(_T975):
        return _T975[dof - 1]
    try:
        from scipy.stats import t

        return float(t.ppf(0.975, dof))
    except ImportError:  # pragma: no cover - scipy is there in practice
        return 1.96 + 2.4 / dof


# ------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """Our measurement of a claim's metric: mean and 95 % CI over ``n`` seeds.

    ``low``/``high`` are -inf/+inf when n < 2 (no interval); ``unit`` is appended when
    printing (e.g. "points", "%", "×"); ``setting`` says where it was measured.
    """

    mean: float
    low: float
    high: float
    n: int
    unit: str = ""
    setting: str = ""

    @classmethod
    def from_samples(cls, values: Iterable[float], *, unit: str = "", setting: str = "",
                     ) -> "Estimate":
        """Mean ± t_{0.975, n-1} · s / sqrt(n) of per-seed values (NaNs are dropped)."""
        xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
        n = len(xs)
        if n == 0:
            return cls(math.nan, -math.inf, math.inf, 0, unit, setting)
        mean = sum(xs) / n
        if n == 1:
            return cls(mean, -math.inf, math.inf, 1, unit, setting)
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
        half = t_quantile_975(n - 1) * sd / math.sqrt(n)
        return cls(mean, mean - half, mean + half, n, unit, setting)

    @property
    def half_width(self) -> float:
        """Half the CI width (inf without an interval)."""
        return (self.high - self.low) / 2

    def format(self, digits: int = 2) -> str:
        """``85.31 ± 0.42 points (3 seeds)`` or ``85.31 points (1 seed, no CI)``."""
        unit = f" {self.unit}" if self.unit else ""
        if self.n == 0:
            return "no runs"
        if self.n == 1:
            return f"{self.mean:.{digits}f}{unit} (1 seed, no CI)"
        return f"{self.mean:.{digits}f} ± {self.half_width:.{digits}f}{unit} ({self.n} seeds)"


class NoRows(LookupError):
    """No row of the frame matches a selection (e.g. a method the reader left out)."""


def samples(frame, value: str, *, where: Mapping, minus: Mapping | None = None,
            pair_on: str | Sequence[str] = "seed", scale: float = 1.0):
    """Per-seed values of column ``value`` for the rows matching ``where`` (a pandas Series
    indexed by ``pair_on``), times ``scale``.

    With ``minus``, the paired difference: value(where) - value(minus), matched on
    ``pair_on`` (the seed by default), so seed-to-seed variation common to both cancels.
    Column names may be dotted ("prune.method"); a float is matched with a relative
    tolerance of 1e-9. Raises :class:`NoRows` when nothing matches, ``KeyError`` for a column
    that does not exist.
    """
    keys = [pair_on] if isinstance(pair_on, str) else list(pair_on)

    def pick(selection: Mapping):
        mask = None
        for column, wanted in selection.items():
            if column not in frame.columns:
                raise KeyError(f"column {column!r} is not in the frame: "
                               + ", ".join(map(str, frame.columns)))
            col = frame[column]
            hit = ((col - wanted).abs() <= 1e-9 * abs(wanted)) if isinstance(wanted, float) \
                else (col == wanted)
            mask = hit if mask is None else (mask & hit)
        rows = frame[mask] if mask is not None else frame
        if rows.empty:
            raise NoRows(f"no rows match {dict(selection)}")
        return rows.groupby(keys)[value].mean()

    result = pick(where)
    if minus is not None:
        other = pick(minus)
        result, other = result.align(other, join="inner")
        if result.empty:
            raise NoRows(f"no common {pair_on!r} between {dict(where)} and {dict(minus)}")
        result = result - other
    return result * scale


def estimate(frame, value: str, *, where: Mapping, minus: Mapping | None = None,
             pair_on: str | Sequence[str] = "seed", scale: float = 1.0, unit: str = "",
             setting: str = "") -> Estimate:
    """:meth:`Estimate.from_samples` of :func:`samples`; a selection that matches no row
    (a method or density the reader left out) gives an empty estimate ("not measured")."""
    try:
        values = samples(frame, value, where=where, minus=minus, pair_on=pair_on, scale=scale)
    except NoRows:
        values = []
    return Estimate.from_samples(values, unit=unit, setting=setting)


# ------------------------------------------------------------------------------------------
# Criteria and claims
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Criterion:
    """How a measurement becomes a verdict; built with :func:`above`, :func:`below` or
    :func:`within`. ``text`` is what the verdict table prints (set automatically)."""

    kind: str
    threshold: float
    tolerance: float = 0.0
    unit: str = ""
    text: str = ""

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

    def verdict(self, estimate: Estimate | None) -> str:
        """One of :data:`VERDICTS` for ``estimate`` (see the module docstring)."""
        if estimate is None or estimate.n == 0 or math.isnan(estimate.mean):
            return NOT_MEASURED
        lo, hi, m = estimate.low, estimate.high, estimate.mean
        if self.kind == "above":
            whole, centre = lo > self.threshold, m > self.threshold
        elif self.kind == "below":
            whole, centre = hi < self.threshold, m < self.threshold
        else:
            a, b = self.threshold - self.tolerance, self.threshold + self.tolerance
            whole, centre = (a <= lo and hi <= b), (a <= m <= b)
        if whole:
            return REPRODUCED
        return PARTLY if centre else NOT_REPRODUCED


def above(threshold: float, unit: str = "") -> Criterion:
    """Reproduced when the whole 95 % CI lies above ``threshold``."""
    return Criterion("above", float(threshold), unit=unit)


def below(threshold: float, unit: str = "") -> Criterion:
    """Reproduced when the whole 95 % CI lies below ``threshold``."""
    return Criterion("below", float(threshold), unit=unit)


def within(target: float, tolerance: float, unit: str = "") -> Criterion:
    """Reproduced when the whole 95 % CI lies within ``target ± tolerance``."""
    return Criterion("within", float(target), float(tolerance), unit=unit)


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
    """One testable statement of a paper.

    id: short label used in the text (e.g. "S7").
    paper: short citation, e.g. "Tanaka et al. 2020 (SynFlow)".
    statement: the claim in a sentence.
    paper_number: the paper's own number, or None where the paper gives none we could read.
    metric: our measurement, with its unit (e.g. "SynFlow − random accuracy at d = 0.01,
        points").
    criterion: the rule that decides the verdict, fixed before the results are shown.
    """

    id: str
    paper: str
    statement: str
    metric: str
    criterion: Criterion
    paper_number: PaperNumber | None = None

    def verdict(self, estimate: Estimate | None) -> str:
        return self.criterion.verdict(estimate)


# ------------------------------------------------------------------------------------------
# Tables
# ------------------------------------------------------------------------------------------
@dataclass
class ClaimTable:
    """A claims table: the plan (no results yet) or the verdicts.

    In a notebook it displays as an HTML table (class ``claims-plan-table`` or
    ``verdict-table``) of four columns: claim · the paper's number (typed in) · our metric
    and criterion (plan) or ours, mean ± 95 % CI over seeds, with its setting · verdict and
    criterion. ``frame`` gives the same content as a plain pandas DataFrame, ``str()`` as
    text.
    """

    claims: list[Claim]
    results: dict[str, Estimate] | None = None
    caption: str = ""

    def __post_init__(self) -> None:
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"claim ids must be unique, got {ids}")
        if self.results is not None:
            stray = sorted(set(self.results) - set(ids))
            if stray:
                raise KeyError(f"results for unknown claim {stray[0]!r}: claims are {ids}")

    @property
    def is_plan(self) -> bool:
        return self.results is None

    def rows(self) -> list[dict]:
        """One plain dict per claim (the columns of :attr:`frame`)."""
        rows = []
        for c in self.claims:
            row = {"id": c.id, "claim": c.statement, "paper": c.paper,
                   "paper's number (typed in)":
                       c.paper_number.format() if c.paper_number else "none retrieved",
                   "our metric": c.metric, "criterion": c.criterion.text}
            if not self.is_plan:
                est = self.results.get(c.id)
                row["ours (mean ± 95 % CI over seeds)"] = (
                    est.format() if est is not None else "not measured")
                row["setting"] = est.setting if est is not None else ""
                row["verdict"] = c.verdict(est)
            rows.append(row)
        return rows

    @property
    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows())

    @property
    def verdicts(self) -> dict[str, str]:
        """Claim id -> verdict (empty for a plan)."""
        return {} if self.is_plan else {r["id"]: r["verdict"] for r in self.rows()}

    def __str__(self) -> str:
        return "\n\n".join("\n".join(f"{k}: {v}" for k, v in row.items())
                           for row in self.rows())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        def cell(main: str, detail: str = "", attrs: str = "") -> str:
            small = (f'<br><span style="font-size:0.85em;opacity:0.8">{escape(detail)}</span>'
                     if detail else "")
            return f"<td{attrs}>{main}{small}</td>"

        if self.is_plan:
            head = ("claim", "the paper's number (typed in)", "our metric",
                    "criterion, fixed before the results")
        else:
            head = ("claim", "the paper's number (typed in)",
                    "ours: mean ± 95 % CI over seeds", "verdict")
        body = []
        for c, row in zip(self.claims, self.rows()):
            number = c.paper_number
            cells = [
                cell(f"<strong>{escape(c.id)}</strong> {escape(c.statement)}", c.paper),
                cell(escape(number.value) if number else "none retrieved",
                     f"{number.setting}; {number.source}" if number else ""),
            ]
            if self.is_plan:
                cells += [cell(escape(c.metric)), cell(escape(c.criterion.text))]
            else:
                est = self.results.get(c.id)
                detail = c.metric + (f"; {est.setting}" if est is not None and est.setting
                                     else "")
                verdict = row["verdict"]
                symbol, colour = _VERDICT_STYLE[verdict]
                cells += [
                    cell(f"<strong>{escape(row['ours (mean ± 95 % CI over seeds)'])}"
                         "</strong>", detail),
                    cell(f"<strong>{symbol} {escape(verdict)}</strong>",
                         f"criterion: {c.criterion.text}",
                         f' class="verdict" style="background:{colour};min-width:9em"'),
                ]
            body.append("<tr>" + "".join(cells) + "</tr>")
        css = "claims-plan-table" if self.is_plan else "verdict-table"
        caption = f"<caption>{escape(self.caption)}</caption>" if self.caption else ""
        header = "".join(f'<th style="text-align:left">{escape(h)}</th>' for h in head)
        return (f'<table class="{css}" style="text-align:left;font-size:0.92em">{caption}'
                f"<thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def plan_table(claims: Sequence[Claim], caption: str = "") -> ClaimTable:
    """The claims a chapter tests, their paper numbers, our metrics and criteria: shown
    before any result."""
    return ClaimTable(list(claims), None, caption)


def verdict_table(claims: Sequence[Claim], results: Mapping[str, Estimate],
                  caption: str = "") -> ClaimTable:
    """The table a chapter ends with: claim · paper · ours · criterion · verdict.
    ``results`` maps claim id -> :class:`Estimate`; a claim without one is "not measured"."""
    return ClaimTable(list(claims), dict(results), caption)

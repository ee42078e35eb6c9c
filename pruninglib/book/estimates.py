"""Our measurements: per-replicate values pulled out of a results frame and summarised.

:func:`samples` gives one value per replicate (an independently trained network: a seed), or
a paired difference; :func:`best_other` compares a method with the best *other* method chosen
once by its mean, then paired by seed; :meth:`Estimate.from_samples` gives the mean and 95 %
Student-t interval, the number of replicates ``n`` and, where values can be undefined, how
many of the compared units entered (``entered`` of ``total``; below ``minimum`` the verdict is
"not measured"). Re-exported by :mod:`pruninglib.book.claims`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

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


def _defined(value) -> bool:
    try:
        return value is not None and not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Estimate:
    """Our measurement of a claim's metric: mean and 95 % CI over ``n`` replicates (seeds).

    ``low``/``high`` are -inf/+inf when n < 2 (no interval); ``unit`` is appended when
    printing (e.g. "points", "%", "×"); ``setting`` says where it was measured.
    ``entered``/``total``: how many of the compared units (``what``, e.g. methods) had a
    defined value (None: not counted); with ``minimum`` set, fewer entered units make the
    verdict "not measured".
    """

    mean: float
    low: float
    high: float
    n: int
    unit: str = ""
    setting: str = ""
    entered: int | None = None
    total: int | None = None
    minimum: int | None = None
    what: str = "methods"
    smallest: float | None = None  # the range over replicates (a check must hold in each)
    largest: float | None = None

    @classmethod
    def from_samples(cls, values: Iterable[float], *, unit: str = "", setting: str = "",
                     entered: int | None = None, total: int | None = None,
                     minimum: int | None = None, what: str | None = None) -> "Estimate":
        """Mean ± t_{0.975, n-1} · s / sqrt(n) of per-replicate values (NaNs are dropped).

        ``values`` may be a :class:`Comparison` (from :func:`best_other`): its entered /
        total / minimum / what are used unless given here."""
        if isinstance(values, Comparison):
            entered = values.entered if entered is None else entered
            total = values.total if total is None else total
            minimum = values.minimum if minimum is None else minimum
            what = values.what if what is None else what
            values = values.samples
        what = what or "methods"
        xs = [float(v) for v in values if _defined(v)]
        n = len(xs)
        extra = dict(entered=entered, total=total, minimum=minimum, what=what)
        if n == 0:
            return cls(math.nan, -math.inf, math.inf, 0, unit, setting, **extra)
        mean = sum(xs) / n
        extra.update(smallest=min(xs), largest=max(xs))
        if n == 1:
            return cls(mean, -math.inf, math.inf, 1, unit, setting, **extra)
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
        half = t_quantile_975(n - 1) * sd / math.sqrt(n)
        return cls(mean, mean - half, mean + half, n, unit, setting, **extra)

    @property
    def half_width(self) -> float:
        """Half the CI width (inf without an interval)."""
        return (self.high - self.low) / 2

    @property
    def too_few_entered(self) -> bool:
        """True when fewer units entered than the stated ``minimum``."""
        return (self.minimum is not None and self.entered is not None
                and self.entered < self.minimum)

    def entered_text(self) -> str:
        """``entered: 4 of 6 methods`` (with the minimum when one is stated), or ``""``."""
        if self.entered is None:
            return ""
        of = f" of {self.total}" if self.total is not None else ""
        least = f", at least {self.minimum} needed" if self.minimum is not None else ""
        return f"entered: {self.entered}{of} {self.what}{least}"

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


def _select(frame, selection: Mapping):
    mask = None
    for column, wanted in selection.items():
        if column not in frame.columns:
            raise KeyError(f"column {column!r} is not in the frame: "
                           + ", ".join(map(str, frame.columns)))
        col = frame[column]
        hit = ((col - wanted).abs() <= 1e-9 * abs(wanted)) if isinstance(wanted, float) \
            else (col == wanted)
        mask = hit if mask is None else (mask & hit)
    return frame[mask] if mask is not None else frame


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
        rows = _select(frame, selection)
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


def entered(frame, value: str, *, by: str = "method") -> tuple[int, int]:
    """(units of column ``by`` with at least one defined ``value``, all units): what
    :attr:`Estimate.entered` / :attr:`Estimate.total` report."""
    if frame.empty:
        return 0, 0
    defined = frame[value].notna().groupby(frame[by]).any()
    return int(defined.sum()), int(len(defined))


@dataclass(frozen=True)
class Comparison:
    """``method`` against the best other method: what :func:`best_other` returns.

    samples: method − competitor, per seed (a pandas Series, paired by seed, times scale).
    competitor: the other method with the best mean over seeds (None if none entered).
    means: mean over seeds of every method that entered (a pandas Series).
    entered / total / minimum / what: as :class:`Estimate`'s (methods with a defined value).
    Iterating gives the samples; :meth:`estimate` summarises them.
    """

    samples: object
    competitor: str | None
    means: object
    entered: int
    total: int
    minimum: int | None = 2
    what: str = "methods"
    method: str = ""
    details: dict = field(default_factory=dict, compare=False)

    def __iter__(self):
        return iter(list(self.samples))

    def __len__(self) -> int:
        return len(self.samples)

    def estimate(self, *, unit: str = "", setting: str = "") -> Estimate:
        """:meth:`Estimate.from_samples` of the paired differences; the setting names the
        competitor ("vs magnitude, the best other by mean")."""
        said = f"vs {self.competitor}, the best other by mean" if self.competitor else ""
        setting = "; ".join(s for s in (setting, said) if s)
        return Estimate.from_samples(self, unit=unit, setting=setting)


def best_other(frame, value: str, method: str, *, by: str = "method", seed: str = "seed",
               where: Mapping | None = None, higher_is_better: bool = True,
               scale: float = 1.0, minimum: int | None = 2) -> Comparison:
    """``method`` against the best other method, fairly: the competitor is chosen ONCE, by
    its mean over seeds (never per seed, which biases against ``method``), then the
    differences method − competitor are paired by ``seed``.

    frame: one row per (method, seed[, ...]); rows matching ``where`` are used and several
    rows of one (method, seed) are averaged. A method whose ``value`` is undefined (NaN) for
    every seed does not enter; the count is kept (``entered`` of ``total`` methods, the
    target included) and below ``minimum`` the estimate's verdict is "not measured".
    """
    part = _select(frame, where or {})
    if by not in part.columns or seed not in part.columns:
        raise KeyError(f"columns {by!r} and {seed!r} are needed: "
                       + ", ".join(map(str, part.columns)))
    import pandas as pd

    n_in, n_all = entered(part, value, by=by)
    table = part.groupby([by, seed])[value].mean().unstack(by)
    means = table.mean(axis=0, skipna=True).dropna()
    empty = pd.Series(dtype=float)
    if method not in means.index:
        return Comparison(empty, None, means, n_in, n_all, minimum, method=method)
    others = means.drop(index=method)
    if others.empty:
        return Comparison(empty, None, means, n_in, n_all, minimum, method=method)
    competitor = others.idxmax() if higher_is_better else others.idxmin()
    diff = ((table[method] - table[competitor]) * scale).dropna()
    return Comparison(diff, str(competitor), means, n_in, n_all, minimum, method=method)

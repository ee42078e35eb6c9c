"""Claims, the criteria that test them, and the verdict table a chapter ends with.

A :class:`Claim` is written in a chapter *before* any result is shown: which paper says what,
the paper's own number (typed in from the paper, with its setting and table/figure), which of
our metrics tests it, and the :class:`Criterion` that turns our measurement into a verdict.
Every row has a ``kind``: a *claim* (a statement of the paper an experiment could refute), a
*check* (an identity, a derivation or a property that holds by construction: shown in a
separate table "Checks of the implementation and derivations", never counted as a
reproduction) or *not_measured* (with the ``reason``). A row may carry its :class:`Scale`
(the paper's setting and ours) and its :class:`Calibration` (the criterion applied to the
authors' own released numbers, :mod:`pruninglib.book.calibration`: pass / fail / n.a.).

After the runs, :func:`samples` pulls one value per seed out of a results frame (or
:func:`best_other` compares a method with the best other one, chosen by its mean, paired by
seed), :meth:`Estimate.from_samples` summarises them (mean and 95 % confidence interval,
Student t, the number of replicates ``n``, and how many units entered), and
:func:`verdict_table` renders

    claim · paper (their number, typed in) · ours (mean ± 95 % CI, n) · scale ·
    the criterion on the paper's own data · verdict

then the checks. The verdict rules are deliberately simple and fixed:

* ``above(t)``: *reproduced* if the whole CI lies above ``t``; *partly* if only the mean does;
  otherwise *not reproduced at this scale*.
* ``below(t)``: the mirror image.
* ``within(target, tolerance)``: *reproduced* if the whole CI lies in
  ``[target - tolerance, target + tolerance]``; *partly* if only the mean does.
  ``no_relationship(t)`` is ``within(0, t)``: a two-sided "no relationship".
* Fewer than 3 replicates (:data:`MIN_REPLICATES`) never give *reproduced* (at most
  *partly*); with one seed there is no interval at all. The replicate is an independently
  trained network, never batch order alone.
* Fewer entered units than an estimate's stated ``minimum`` give *not measured*.
* A check gives *check passed* / *check failed*.

Every criterion says why its threshold (``why=``, one short phrase). This module gathers the
public API of :mod:`.estimates`, :mod:`.criteria` and :mod:`.tables`.
"""
from __future__ import annotations

from .criteria import (CALIBRATION_RESULTS, CHECK, CHECK_FAILED, CHECK_PASSED, CHECK_VERDICTS,
                       CLAIM, FAIL, KIND_MEANING, KINDS, MIN_REPLICATES, NOT_APPLICABLE,
                       NOT_CALIBRATED, NOT_MEASURED, NOT_MEASURED_KIND, NOT_REPRODUCED, PARTLY,
                       PASS, REPRODUCED, VERDICTS, Calibration, Claim, Criterion, PaperNumber,
                       Scale, above, below, no_relationship, within)
from .estimates import (Comparison, Estimate, NoRows, best_other, entered, estimate, samples,
                        t_quantile_975)
from .tables import (CHAPTER_ENV, CHECKS_CAPTION, CLAIMS_DIR_ENV, RECORD_COLUMNS, ClaimTable,
                     anchor, plan_table, record, verdict_table)

__all__ = [
    "CALIBRATION_RESULTS", "CHAPTER_ENV", "CHECK", "CHECKS_CAPTION", "CHECK_FAILED",
    "CHECK_PASSED", "CHECK_VERDICTS", "CLAIM", "CLAIMS_DIR_ENV", "FAIL", "KINDS",
    "KIND_MEANING", "MIN_REPLICATES", "NOT_APPLICABLE", "NOT_CALIBRATED", "NOT_MEASURED",
    "NOT_MEASURED_KIND", "NOT_REPRODUCED", "PARTLY", "PASS", "RECORD_COLUMNS", "REPRODUCED",
    "VERDICTS", "Calibration", "Claim", "ClaimTable", "Comparison", "Criterion", "Estimate",
    "NoRows", "PaperNumber", "Scale", "above", "anchor", "below", "best_other", "entered",
    "estimate", "no_relationship", "plan_table", "record", "samples", "t_quantile_975",
    "verdict_table", "within",
]

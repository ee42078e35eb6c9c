"""The claims tables a chapter shows (re-exported by :mod:`pruninglib.book.claims`).

:func:`plan_table` (before any result) and :func:`verdict_table` (at the end) display the
claims in one table and the checks in a second one, "Checks of the implementation and
derivations", which never counts as reproductions. A verdict table also records its rows as
``<dir>/<chapter>.json`` when the runner asks for it (environment variables
:data:`CLAIMS_DIR_ENV` and :data:`CHAPTER_ENV`, set for the papermill kernel) or when called
with ``chapter=``; the runner gathers them into ``_build/claims.csv``.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Mapping, Sequence

from .criteria import (CHECK, CHECK_FAILED, CHECK_PASSED, NOT_CALIBRATED, NOT_MEASURED,
                       NOT_MEASURED_KIND, NOT_REPRODUCED, PARTLY, REPRODUCED, Claim)
from .estimates import Estimate

CLAIMS_DIR_ENV = "PRUNINGLIB_CLAIMS_DIR"
CHAPTER_ENV = "PRUNINGLIB_CHAPTER"
CHECKS_CAPTION = "Checks of the implementation and derivations"
RECORD_COLUMNS = ("chapter", "id", "kind", "paper", "statement", "paper_number", "metric",
                  "mean", "ci_low", "ci_high", "replicates", "criterion", "calibration",
                  "verdict", "scale_paper", "scale_ours", "section", "anchor", "why",
                  "calibration_detail", "entered", "reason", "unit", "setting")

# Okabe-Ito (colour-blind safe) tints; every verdict also carries a symbol and its words.
_VERDICT_STYLE = {
    REPRODUCED: ("✓", "#c9e7dc"),      # bluish green
    PARTLY: ("≈", "#fbe3b5"),          # orange
    NOT_REPRODUCED: ("✗", "#f6cdb8"),  # vermilion
    NOT_MEASURED: ("–", "#e6e6e6"),
    CHECK_PASSED: ("✓", "#dbe9f4"),    # sky blue: a check, not a reproduction
    CHECK_FAILED: ("✗", "#f6cdb8"),
}


def anchor(claim_id: str) -> str:
    """The HTML id of a claim's row in a verdict table (``verdict-s7-mlp-2``)."""
    return "verdict-" + (re.sub(r"[^a-z0-9]+", "-", claim_id.lower()).strip("-") or "row")


def _number(x: float) -> float | None:
    """A finite number for json/csv, rounded to 10 significant digits; None otherwise."""
    return None if x is None or math.isnan(x) or math.isinf(x) else float(f"{x:.10g}")


@dataclass
class ClaimTable:
    """A claims table: the plan (no results yet) or the verdicts.

    In a notebook it displays as HTML: the claims (class ``claims-plan-table`` or
    ``verdict-table``) and, below, the checks (class ``checks-table``). ``frame`` gives the
    same content as a pandas DataFrame, ``str()`` as text, :meth:`records` as claims.csv rows.
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

    def estimate(self, claim: Claim) -> Estimate | None:
        return None if self.is_plan else self.results.get(claim.id)

    def rows(self) -> list[dict]:
        """One plain dict per claim (the columns of :attr:`frame`)."""
        rows = []
        for c in self.claims:
            calibration = c.calibration or NOT_CALIBRATED
            row = {"id": c.id, "kind": c.kind, "claim": c.statement, "paper": c.paper,
                   "paper's number (typed in)":
                       c.paper_number.format() if c.paper_number else "none retrieved",
                   "our metric": c.metric,
                   "criterion": c.criterion.text if c.criterion else "",
                   "why": c.criterion.why if c.criterion else "",
                   "scale": c.scale.format() if c.scale else "",
                   "the paper's own data": calibration.format()}
            if not self.is_plan:
                est = self.results.get(c.id)
                if c.kind == NOT_MEASURED_KIND:
                    ours = f"not measured: {c.reason}"
                else:
                    ours = est.format() if est is not None else "not measured"
                row["ours (mean ± 95 % CI over seeds)"] = ours
                row["setting"] = est.setting if est is not None else ""
                row["replicates"] = est.n if est is not None else 0
                row["entered"] = est.entered_text() if est is not None else ""
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

    def records(self, chapter: str = "") -> list[dict]:
        """The rows of ``claims.csv`` (:data:`RECORD_COLUMNS`) for this table's claims."""
        out = []
        for c, row in zip(self.claims, self.rows()):
            est = self.estimate(c)
            calibration = c.calibration or NOT_CALIBRATED
            out.append({
                "chapter": chapter, "id": c.id, "kind": c.kind, "paper": c.paper,
                "statement": c.statement,
                "paper_number": c.paper_number.format() if c.paper_number else "",
                "metric": c.metric,
                "mean": _number(est.mean) if est is not None else None,
                "ci_low": _number(est.low) if est is not None else None,
                "ci_high": _number(est.high) if est is not None else None,
                "replicates": est.n if est is not None else 0,
                "criterion": c.criterion.text if c.criterion else "",
                "calibration": calibration.result, "verdict": row.get("verdict", ""),
                "scale_paper": c.scale.paper if c.scale else "",
                "scale_ours": c.scale.ours if c.scale else "",
                "section": c.section, "anchor": anchor(c.id),
                "why": c.criterion.why if c.criterion else "",
                "calibration_detail": calibration.detail,
                "entered": est.entered_text() if est is not None else "",
                "reason": c.reason, "unit": est.unit if est is not None else "",
                "setting": est.setting if est is not None else ""})
        return out

    def __str__(self) -> str:
        return "\n\n".join("\n".join(f"{k}: {v}" for k, v in row.items())
                           for row in self.rows())

    __repr__ = __str__

    # -- HTML -----------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        pairs = list(zip(self.claims, self.rows()))
        claims = [(c, r) for c, r in pairs if not c.is_check]
        checks = [(c, r) for c, r in pairs if c.is_check]
        parts = []
        if claims or not checks:
            css = "claims-plan-table" if self.is_plan else "verdict-table"
            parts.append(self._table(claims, css, self.caption, checks=False))
        if checks:
            caption = CHECKS_CAPTION + (" (fixed before the results)" if self.is_plan else "")
            parts.append(self._table(checks, "checks-table", caption, checks=True))
        return "\n".join(parts)

    def _table(self, pairs, css: str, caption: str, checks: bool) -> str:
        def cell(main: str, detail: str = "", attrs: str = "") -> str:
            small = (f'<br><span style="font-size:0.85em;opacity:0.8">{escape(detail)}</span>'
                     if detail else "")
            return f"<td{attrs}>{main}{small}</td>"

        if checks:
            head = (("check", "what we compute", "criterion, fixed before the results")
                    if self.is_plan else ("check", "ours: mean ± 95 % CI", "result"))
        elif self.is_plan:
            head = ("claim", "the paper's number (typed in)", "our metric",
                    "criterion, fixed before the results", "scale: paper / ours",
                    "criterion on the paper's own data")
        else:
            head = ("claim", "the paper's number (typed in)",
                    "ours: mean ± 95 % CI over seeds", "scale: paper / ours",
                    "criterion on the paper's own data", "verdict")
        body = []
        for c, row in pairs:
            number = c.paper_number
            calibration = c.calibration or NOT_CALIBRATED
            criterion = c.criterion.described if c.criterion else ""
            first = cell(f"<strong>{escape(c.id)}</strong> {escape(c.statement)}",
                         c.paper + (f"; {c.reason}" if c.reason and c.kind == CHECK else ""))
            scale = cell(escape(c.scale.paper) if c.scale else "—",
                         f"ours: {c.scale.ours}" if c.scale else "")
            calib = cell(f"<strong>{escape(calibration.result)}</strong>", calibration.detail)
            if self.is_plan:
                cells = [first]
                if not checks:
                    cells.append(cell(escape(number.value) if number else "none retrieved",
                                      f"{number.setting}; {number.source}" if number else ""))
                cells += [cell(escape(c.metric)), cell(escape(criterion))]
                if not checks:
                    cells += [scale, calib]
                body.append("<tr>" + "".join(cells) + "</tr>")
                continue
            est = self.results.get(c.id)
            detail = c.metric + (f"; {est.setting}" if est is not None and est.setting else "")
            if est is not None and est.entered is not None:
                detail += f"; {est.entered_text()}"
            verdict = row["verdict"]
            symbol, colour = _VERDICT_STYLE[verdict]
            n = est.n if est is not None else 0
            said = f"n = {n} · criterion: {criterion}" if criterion else f"n = {n}"
            if calibration.result == "fail":
                said += " · the paper's own data fail this criterion: it does not test the paper"
            verdict_cell = cell(f"<strong>{symbol} {escape(verdict)}</strong>", said,
                                f' class="verdict" style="background:{colour};min-width:9em"')
            ours = cell(f"<strong>{escape(row['ours (mean ± 95 % CI over seeds)'])}</strong>",
                        detail)
            if checks:
                cells = [first, ours, verdict_cell]
            else:
                cells = [first,
                         cell(escape(number.value) if number else "none retrieved",
                              f"{number.setting}; {number.source}" if number else ""),
                         ours, scale, calib, verdict_cell]
            body.append(f'<tr id="{anchor(c.id)}" data-kind="{escape(c.kind)}">'
                        + "".join(cells) + "</tr>")
        caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
        header = "".join(f'<th style="text-align:left">{escape(h)}</th>' for h in head)
        return (f'<table class="{css}" style="text-align:left;font-size:0.92em">'
                f"{caption_html}<thead><tr>{header}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")


def plan_table(claims: Sequence[Claim], caption: str = "") -> ClaimTable:
    """The claims a chapter tests, their paper numbers, our metrics and criteria (with why
    and their calibration on the authors' data): shown before any result."""
    return ClaimTable(list(claims), None, caption)


def verdict_table(claims: Sequence[Claim], results: Mapping[str, Estimate],
                  caption: str = "", *, chapter: str | None = None,
                  record_to: str | Path | None = None) -> ClaimTable:
    """The table a chapter ends with: claim · paper · ours · scale · the paper's own data ·
    verdict, then the checks. ``results`` maps claim id -> :class:`Estimate`; a claim without
    one is "not measured".

    Records the rows (:meth:`ClaimTable.records`) as ``<dir>/<chapter>.json`` when a chapter
    is known (``chapter=`` or ``$PRUNINGLIB_CHAPTER``): dir is ``record_to``, else
    ``$PRUNINGLIB_CLAIMS_DIR``, else ``_build/claims`` of the repository. Rows of several
    verdict tables of one chapter are merged by id.
    """
    table = ClaimTable(list(claims), dict(results), caption)
    name = chapter or os.environ.get(CHAPTER_ENV)
    if name:
        folder = record_to or os.environ.get(CLAIMS_DIR_ENV)
        if folder is None:
            from .parameters import repo_root

            folder = repo_root() / "_build" / "claims"
        record(table.records(name), Path(folder) / f"{name}.json")
    return table


def record(rows: list[dict], path: Path) -> Path:
    """Write ``rows`` to the json file ``path``, merged by id with the rows already there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = []
    merged = {row["id"]: row for row in old if isinstance(row, dict) and "id" in row}
    for row in rows:
        merged[row["id"]] = row
    path.write_text(json.dumps(list(merged.values()), indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path

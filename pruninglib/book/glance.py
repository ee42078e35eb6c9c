"""The whole book at a glance: ``_build/claims.csv`` and the page "Results at a glance".

Each executed chapter records the rows of its verdict tables (:func:`.tables.verdict_table`)
as json; the runner keeps them in ``book/executed/claims/<chapter>.json`` (beside the executed
copies, so a ``--chapter X`` build keeps the other chapters' rows), then :func:`write_claims_csv`
gathers them into ``_build/claims.csv`` (copied to ``book/executed/claims.csv`` for the
download link) and :func:`write_glance` writes ``book/executed/glance.md``: counts per paper
and verdict (checks counted apart, never as reproductions), then every row with its verdict,
linked to its row in the chapter's verdict table.
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

from .criteria import (CHECK, CHECK_FAILED, CHECK_PASSED, NOT_MEASURED, NOT_REPRODUCED,
                       PARTLY, REPRODUCED)
from .parameters import EXECUTED_DIR
from .tables import CHECKS_CAPTION, RECORD_COLUMNS, anchor

CLAIMS_BUILD_DIR = Path("_build") / "claims"   # where the kernels write (the runner's env)
CLAIMS_KEPT_DIR = EXECUTED_DIR / "claims"      # kept beside the executed copies
CLAIMS_CSV = Path("_build") / "claims.csv"
GLANCE_PAGE = EXECUTED_DIR / "glance.md"
GLANCE_CSV = EXECUTED_DIR / "claims.csv"       # shipped by Sphinx through {download}
_SYMBOL = {REPRODUCED: "✓", PARTLY: "≈", NOT_REPRODUCED: "✗", NOT_MEASURED: "–",
           CHECK_PASSED: "✓", CHECK_FAILED: "✗"}
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.M)


def sections_of(notebook_path: Path) -> dict[str, str]:
    """Row anchor (``verdict-…``) -> the heading of the section whose cell displays that
    row, read from an executed notebook; {} if it cannot be read."""
    try:
        with open(notebook_path, encoding="utf-8") as f:
            cells = json.load(f)["cells"]
    except (OSError, ValueError, KeyError):
        return {}
    found: dict[str, str] = {}
    heading = ""
    for cell in cells:
        source = "".join(cell.get("source", []))
        if cell.get("cell_type") == "markdown":
            titles = _HEADING.findall(source)
            if titles:
                heading = titles[-1][1].strip()
            continue
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            for row in re.findall(r'<tr id="(verdict-[^"]+)"', html):
                found.setdefault(row, heading)
    return found


def gather(root: Path, chapters: list[str]) -> list[dict]:
    """The rows every chapter of ``chapters`` recorded (in reading order), with the chapter
    and, where the chapter did not name one, the section found in its executed copy."""
    rows = []
    for chapter in chapters:
        path = root / CLAIMS_KEPT_DIR / f"{chapter}.json"
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        sections = sections_of(root / EXECUTED_DIR / f"{chapter}.ipynb")
        for row in recorded:
            row = {column: row.get(column) for column in RECORD_COLUMNS}
            row["chapter"] = chapter
            row["anchor"] = row.get("anchor") or anchor(str(row["id"]))
            if not row.get("section"):
                row["section"] = sections.get(row["anchor"], "")
            rows.append(row)
    return rows


def write_claims_csv(root: Path, chapters: list[str]) -> list[dict]:
    """Write ``_build/claims.csv`` (and its copy ``book/executed/claims.csv``) from the
    recorded rows; a header only when no chapter recorded any. Returns the rows."""
    rows = gather(root, chapters)
    for target in (root / CLAIMS_CSV, root / GLANCE_CSV):
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(RECORD_COLUMNS))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return rows


def _md(text) -> str:
    """Text safe inside a MyST table cell: markdown punctuation escaped, no line breaks."""
    text = " ".join(str("" if text is None else text).split())
    return re.sub(r"([\\`*_{}\[\]<>#|$~!])", r"\\\1", text)


def counts(rows: list[dict]) -> tuple[dict, dict]:
    """(claims, checks): paper -> Counter of verdicts. Rows of kind "check" are only in the
    second, so never among the reproductions."""
    claims: dict[str, Counter] = {}
    checks: dict[str, Counter] = {}
    for row in rows:
        target = checks if row.get("kind") == CHECK else claims
        target.setdefault(row.get("paper") or "—", Counter())[row.get("verdict") or ""] += 1
    return claims, checks


def _count_table(per_paper: dict, verdicts: tuple, first: str) -> list[str]:
    head = [first, *verdicts, "total"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    total = Counter()
    for paper, counter in per_paper.items():
        total.update(counter)
        lines.append("| " + " | ".join([_md(paper), *(str(counter[v]) for v in verdicts),
                                        str(sum(counter.values()))]) + " |")
    lines.append("| " + " | ".join(["**all**", *(f"**{total[v]}**" for v in verdicts),
                                    f"**{sum(total.values())}**"]) + " |")
    return lines


def glance_markdown(rows: list[dict], titles: dict[str, str] | None = None) -> str:
    """The MyST source of the page "Results at a glance" for ``rows`` (claims.csv)."""
    titles = titles or {}
    out = [
        "<!-- generated by `python -m pruninglib.book build` from claims.csv; do not edit -->",
        "", "# Results at a glance", "",
        "Every verdict of the book, gathered from the chapters' verdict tables. A *claim* is "
        "a statement of a paper that our experiment could refute; a *check* is an identity, "
        "a derivation or a property that holds by construction: it tests our implementation, "
        "not the paper, and is counted apart, never as a reproduction; a row *not measured* "
        "gives its reason in the chapter. Fewer than three independent replicates never give "
        "*reproduced*. \"The paper's own data\" is the criterion applied to the authors' "
        "released numbers where they exist: a criterion they fail does not test the paper.",
        "", "All rows, with our estimates and criteria: {download}`claims.csv <claims.csv>`.",
        ""]
    if not rows:
        out += ["No chapter has recorded its verdicts yet: the runner "
                "(`python -m pruninglib.book build`) gathers them when it executes the "
                "chapters.", ""]
        return "\n".join(out)
    claims, checks = counts(rows)
    out += ["## Claims per paper and verdict", ""]
    out += _count_table(claims, (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_MEASURED), "paper")
    if checks:
        out += ["", f"## {CHECKS_CAPTION}", "",
                "Not reproductions: they show that our code computes what the paper defines.",
                ""]
        out += _count_table(checks, (CHECK_PASSED, CHECK_FAILED, NOT_MEASURED), "paper")
    out += ["", "## Every verdict", ""]
    chapters = list(dict.fromkeys(row["chapter"] for row in rows))
    for chapter in chapters:
        title = titles.get(chapter, chapter)
        out += [f"### {_md(title)}", "", f"Chapter: [{_md(title)}]({chapter}.ipynb)", "",
                "| row | kind | statement | verdict | n | the paper's own data | section |",
                "|---|---|---|---|---|---|---|"]
        for row in (r for r in rows if r["chapter"] == chapter):
            verdict = row.get("verdict") or ""
            calibration = row.get("calibration") or "n.a."
            if row.get("calibration_detail"):
                calibration += f" ({row['calibration_detail']})"
            where = row.get("section") or "verdict table"
            link = f'<a href="{chapter}.html#{row["anchor"]}">{_html(where)}</a>'
            kind = str(row.get("kind") or "").replace("_", " ")
            out.append("| " + " | ".join([
                f"**{_md(row['id'])}**", _md(kind), _md(row.get("statement")),
                f"{_SYMBOL.get(verdict, '')} {_md(verdict)}".strip(),
                _md(row.get("replicates")), _md(calibration), link]) + " |")
        out.append("")
    return "\n".join(out)


def _html(text: str) -> str:
    from html import escape

    return escape(" ".join(str(text).split())).replace("|", "&#124;").replace("$", "&#36;")


def write_glance(root: Path, chapters: list[str], titles: dict[str, str] | None = None,
                 rows: list[dict] | None = None) -> Path:
    """Write ``book/executed/glance.md`` (and claims.csv, unless ``rows`` are given)."""
    if rows is None:
        rows = write_claims_csv(root, chapters)
    path = root / GLANCE_PAGE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(glance_markdown(rows, titles), encoding="utf-8")
    return path

"""claims.csv and the page "Results at a glance", and how the runner produces them (papermill
replaced by an in-process stand-in: no kernel is started)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest
import yaml

from pruninglib.book import claims, glance, runner

ROOT = Path(__file__).resolve().parents[2]


def _row(chapter, id, kind="claim", verdict=claims.PARTLY, paper="Tanaka et al. 2020"):
    return {"chapter": chapter, "id": id, "kind": kind, "paper": paper,
            "statement": f"Statement of {id} with a | pipe and $5.", "verdict": verdict,
            "replicates": 3, "calibration": "fail", "calibration_detail": "10 of 12 panels",
            "anchor": claims.anchor(id), "section": "Verdicts"}


def test_toc_lists_the_glance_page_first_after_the_introduction():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["parts"][0]["chapters"][0]["file"] == glance.GLANCE_PAGE.with_suffix("").as_posix()
    assert "glance" not in runner.toc_chapters(ROOT)


def test_glance_page_without_claims_is_still_a_page():
    text = glance.glance_markdown([])
    assert text.count("\n# ") == 1 and "# Results at a glance" in text
    assert "{download}`claims.csv <claims.csv>`" in text
    assert "No chapter has recorded" in text


def test_glance_counts_checks_apart_and_links_every_row():
    rows = [_row("synflow", "S7"), _row("synflow", "S2", kind="check",
                                        verdict=claims.CHECK_PASSED),
            _row("synflow", "S3", verdict=claims.REPRODUCED),
            _row("ramanujan", "R4 · MLP", verdict=claims.NOT_REPRODUCED, paper="Hoang 2023")]
    reproductions, checks = glance.counts(rows)
    assert sum(reproductions["Tanaka et al. 2020"].values()) == 2
    assert checks == {"Tanaka et al. 2020": {claims.CHECK_PASSED: 1}}
    text = glance.glance_markdown(rows, {"synflow": "SynFlow chapter"})
    claims_counts = text.split("## Claims per paper and verdict")[1].split("## Checks")[0]
    assert "| Tanaka et al. 2020 | 1 | 1 | 0 | 0 | 2 |" in claims_counts
    assert "| **all** | **1** | **1** | **1** | **0** | **3** |" in claims_counts
    assert "check passed" not in claims_counts
    assert "[SynFlow chapter](synflow.ipynb)" in text
    assert '<a href="synflow.html#verdict-s7">Verdicts</a>' in text
    assert '<a href="ramanujan.html#verdict-r4-mlp">' in text
    assert r"a \| pipe and \$5." in text  # a cell cannot break the table or open math
    assert "fail (10 of 12 panels)" in text


def _notebook_with_verdicts(path: Path, ids: list[str]) -> None:
    table = claims.ClaimTable([claims.Claim(i, "P", "s", "m", claims.above(0)) for i in ids],
                              {})  # not verdict_table: that would record rows
    cell = nbformat.v4.new_code_cell("claims.verdict_table(CLAIMS, RESULTS)")
    cell.outputs = [nbformat.v4.new_output("display_data",
                                           data={"text/html": table._repr_html_()})]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title\n\n## 4. Summary and verdicts"), cell])
    nbformat.write(nb, str(path))


def test_claims_csv_gathers_the_kept_rows_with_their_sections(tmp_path):
    kept = tmp_path / glance.CLAIMS_KEPT_DIR
    kept.mkdir(parents=True)
    claims.record(claims.verdict_table(
        [claims.Claim("S7", "P", "s", "m", claims.above(0))], {}).records("synflow"),
        kept / "synflow.json")
    _notebook_with_verdicts(tmp_path / "book" / "executed" / "synflow.ipynb", ["S7"])
    rows = glance.write_claims_csv(tmp_path, ["synflow", "tprune"])  # tprune: nothing kept
    assert [r["id"] for r in rows] == ["S7"] and rows[0]["section"] == "4. Summary and verdicts"
    for path in (tmp_path / glance.CLAIMS_CSV, tmp_path / glance.GLANCE_CSV):
        with open(path, newline="") as f:
            table = list(csv.DictReader(f))
        assert list(table[0]) == list(claims.RECORD_COLUMNS)
        assert table[0]["chapter"] == "synflow" and table[0]["verdict"] == "not measured"


def test_runner_sets_the_claims_environment_and_keeps_each_chapters_rows(tmp_path,
                                                                          monkeypatch):
    """execute_chapter with papermill replaced: the 'kernel' sees the environment, its rows
    reach book/executed/claims/, a chapter that records nothing loses its old rows."""
    import papermill

    (tmp_path / "notebooks").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), str(tmp_path / "notebooks" / "toy.ipynb"))
    seen = {}

    def fake_execute(source, output, **kwargs):
        import os

        seen.update({k: os.environ.get(k) for k in (claims.CLAIMS_DIR_ENV, claims.CHAPTER_ENV)})
        if kwargs["parameters"].get("record"):
            claims.verdict_table([claims.Claim("T1", "P", "s", "m", claims.above(0))],
                                 {"T1": claims.Estimate(1.0, 0.5, 1.5, 3)})
        _notebook_with_verdicts(Path(output), ["T1"])

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    monkeypatch.delenv(claims.CHAPTER_ENV, raising=False)
    runner.execute_chapter(tmp_path, "toy", "smoke", {"record": True})
    assert seen[claims.CHAPTER_ENV] == "toy"
    assert Path(seen[claims.CLAIMS_DIR_ENV]) == (tmp_path / glance.CLAIMS_BUILD_DIR).resolve()
    assert claims.CHAPTER_ENV not in __import__("os").environ  # restored afterwards
    kept = tmp_path / glance.CLAIMS_KEPT_DIR / "toy.json"
    assert json.loads(kept.read_text())[0]["verdict"] == claims.REPRODUCED
    path = glance.write_glance(tmp_path, ["toy"], {"toy": "Toy"})
    assert "verdict-t1" in path.read_text() and "Toy" in path.read_text()
    runner.execute_chapter(tmp_path, "toy", "smoke", {"record": False})
    assert not kept.exists()


def test_html_build_treats_warnings_as_errors(monkeypatch, tmp_path):
    calls = []

    class Done:
        returncode = 1

    monkeypatch.setattr(runner.subprocess, "run", lambda command, **_: calls.append(command)
                        or Done())
    with pytest.raises(runner.BuildError, match="warnings are errors"):
        runner.build_html(tmp_path)
    assert "-W" in calls[0] and "--keep-going" in calls[0] and "-n" in calls[0]

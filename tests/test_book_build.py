"""The built book, seen in a browser: headless Chromium renders the index and the first
chapter, and we check what a reader would see; every page is rendered and fails on a MathJax
error ("Math input error", ``merror``), and the HTML on a broken local link or image
(:mod:`pruninglib.book.rendering`; control characters in the sources and Sphinx's warnings,
which the runner turns into errors, are checked by the fast tests in ``tests/book/``).

Marked ``book`` (run with ``pytest -m book``; ``make test`` leaves it out). It uses the book in
``_build/html`` if one is there (CI builds it just before with ``make book PROFILE=smoke``),
else builds it with the smoke profile first. Screenshots are kept in ``_build/screenshots/``
as build artefacts.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from pruninglib.book import rendering

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHAPTER = "pai_in_ten_minutes"
CHAPTER_PAGE = HTML / "book" / "executed" / f"{CHAPTER}.html"
CHAPTER_TITLE = "Pruning at initialization in ten minutes"
BOOK_TITLE = "Pruning at initialization, re-examined"
VERDICTS = ("reproduced", "partly", "not reproduced at this scale", "not measured",
            "check passed", "check failed")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    message = ("no headless Chromium: install Debian's chromium "
               "(apt-get install --no-install-recommends chromium)")
    if os.environ.get("CI"):  # CI must run the browser check, not skip it
        pytest.fail(message)
    pytest.skip(message)


def _browser(url: str, *args: str, height: int = 2000, width: int = 1280,
             timeout: int = 120) -> str:
    """Run headless Chromium on ``url`` with extra ``args``; return its stdout."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
             f"--window-size={width},{height}", "--virtual-time-budget=8000", *args, url],
            capture_output=True, text=True, timeout=timeout)
    return result.stdout


def screenshot(page: Path, name: str, height: int = 2000) -> Path:
    """Screenshot of ``page`` (1280 px wide, ``height`` tall, bottom white space cropped)."""
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    out = SHOTS / f"{name}.png"
    out.unlink(missing_ok=True)
    _browser(page.as_uri(), f"--screenshot={out}", height=height)
    assert out.is_file() and out.stat().st_size > 0, f"Chromium wrote no screenshot of {page}"
    image = Image.open(out).convert("RGB")
    grey = np.asarray(image.convert("L"))
    rows = np.nonzero((grey < 245).sum(axis=1) > 3)[0]
    if len(rows) and rows[-1] + 40 < image.height:
        image.crop((0, 0, image.width, int(rows[-1]) + 40)).save(out)
    return out


def rendered_dom(page: Path) -> str:
    """The page's DOM after its scripts (MathJax) ran."""
    dom = _browser(page.as_uri(), "--dump-dom")
    assert "<html" in dom, f"Chromium returned no DOM for {page}"
    return dom


def visible_text(dom: str) -> str:
    """Text a reader sees: scripts, styles, code blocks and rendered math removed."""
    for tag in ("script", "style", "pre", "code", "mjx-container", "mjx-assistive-mml"):
        dom = re.sub(rf"<{tag}\b.*?</{tag}>", " ", dom, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


def assert_not_blank(path: Path, what: str) -> None:
    from PIL import Image

    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert pixels.size > 100 * 100, f"{what} is tiny: {pixels.shape}"
    assert pixels.std() > 10, f"{what} is blank (pixel std {pixels.std():.1f})"
    assert len(np.unique(pixels)) > 16, f"{what} has almost no distinct shades"


def assert_math_rendered(dom: str, page: str) -> None:
    assert "<mjx-container" in dom, f"{page}: MathJax rendered no formula (offline MathJax?)"
    errors = rendering.math_errors(dom)
    assert not errors, f"{page}: MathJax errors: {errors[:3]}"
    text = visible_text(dom)
    raw = re.findall(r"\$[^$\n]{1,80}\$|\\\(.{1,80}?\\\)|\\\[.{1,80}?\\\]", text)
    assert not raw, f"{page}: raw math left on the page: {raw[:3]}"


@pytest.fixture(scope="module")
def book() -> Path:
    if not (HTML / "index.html").is_file() or not CHAPTER_PAGE.is_file():
        subprocess.run([sys.executable, "-m", "pruninglib.book", "build", "--profile", "smoke"],
                       cwd=ROOT, check=True, timeout=3600)
    return HTML


def test_index_page(book):
    shot = screenshot(book / "index.html", "index")
    assert_not_blank(shot, "the index screenshot")
    dom = rendered_dom(book / "index.html")
    assert BOOK_TITLE in dom
    assert CHAPTER_TITLE in dom, "the first chapter is not in the navigation"
    assert_math_rendered(dom, "index")
    # MathJax comes with the book (offline), not from a CDN
    assert re.search(r'<script[^>]+src="[^"]*_static/mathjax/tex-chtml\.js', dom), \
        "MathJax is not served from the book's _static folder"


def test_chapter_page(book):
    assert_not_blank(screenshot(CHAPTER_PAGE, f"{CHAPTER}_top"), "the chapter screenshot")
    assert_not_blank(screenshot(CHAPTER_PAGE, CHAPTER, height=14000),
                     "the full-page chapter screenshot")
    dom = rendered_dom(CHAPTER_PAGE)
    title = re.search(r"<h1[^>]*>(.*?)</h1>", dom, flags=re.S)
    assert title and CHAPTER_TITLE in html.unescape(re.sub(r"<[^>]+>", "", title.group(1)))

    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', dom)
    figures = [CHAPTER_PAGE.parent / src for src in images if not src.startswith("http")]
    figures = [f.resolve() for f in figures if "_static" not in f.as_posix()]
    assert figures, "the chapter shows no figure"
    for figure in figures:
        assert figure.is_file(), f"figure {figure} is missing from the built book"
        assert_not_blank(figure, f"figure {figure.name}")

    table = re.search(r'<table class="verdict-table".*?</table>', dom, flags=re.S)
    assert table, "the chapter has no verdict table"
    cells = re.findall(r'<td class="verdict"[^>]*>(.*?)</td>', table.group(0), flags=re.S)
    assert cells, "the verdict table has no verdict"
    for cell in cells:
        shown = re.search(r"<strong>(.*?)</strong>", cell, flags=re.S)
        text = html.unescape(shown.group(1)).strip() if shown else cell
        assert any(text.endswith(v) for v in VERDICTS), f"odd verdict {text!r}"

    assert_math_rendered(dom, CHAPTER)
    assert "Environment this page was computed in" in dom
    source = CHAPTER_PAGE.read_text()
    assert str(ROOT) not in source, "an absolute path of the build machine is on the page"
    for service in ("colab.research.google.com", "mybinder.org"):
        link = re.search(rf'href="(https://{re.escape(service)}[^"]+)"', source)
        assert link and link.group(1).endswith(f"notebooks/{CHAPTER}.ipynb"), \
            f"the {service} button does not open notebooks/{CHAPTER}.ipynb"
    assert "Traceback" not in visible_text(dom), "an executed cell shows a traceback"


def _pages(book: Path) -> list[Path]:
    """The book's pages (the index and every page of _toc.yml), not Sphinx's own."""
    pages = [book / "index.html", *sorted((book / "book").rglob("*.html"))]
    return [p for p in pages if p.is_file()]


def test_no_page_shows_a_math_error(book):
    pages = _pages(book)
    assert len(pages) > 10, f"only {len(pages)} pages in {book}"
    failures = {}
    for page in pages:
        errors = rendering.math_errors(rendered_dom(page))
        if errors:
            failures[page.relative_to(book).as_posix()] = errors[:2]
    assert not failures, f"MathJax errors (Math input error / merror): {failures}"


def test_synflow_paper_page_renders_its_formulas(book):
    page = book / "book" / "tanaka_2020.html"
    dom = rendered_dom(page)
    assert_math_rendered(dom, "tanaka_2020")
    assert "\x07" not in page.read_text() and "\x07" not in visible_text(dom)


def test_no_broken_local_link_or_image(book):
    problems = rendering.broken_links(book, _pages(book))
    assert not problems, "broken local links or images:\n" + "\n".join(problems[:20])


_OVERFLOW_PROBE = """
<script>
(() => {  /* at the end of the body, after the style sheets: the layout is final */
  const wide = [];
  document.querySelectorAll("div.cell_input pre, div.highlight pre").forEach((pre) => {
    if (pre.clientWidth > 0 && pre.scrollWidth > pre.clientWidth + 1) {
      const lines = pre.textContent.split("\\n");
      wide.push(lines.reduce((a, b) => (b.length > a.length ? b : a), "").slice(0, 100));
    }
  });
  document.body.setAttribute("data-code-off-column", JSON.stringify(wide));
})();
</script>
"""


def code_off_the_column(page: Path, width: int = 1200) -> list[str]:
    """The longest line of every visible code block of ``page`` that needs a horizontal
    scroll bar at ``width`` px (a probe script is added to a copy of the page)."""
    probe = page.with_name(f".probe-{page.name}")
    text = page.read_text(encoding="utf-8")  # Sphinx may leave out the closing tags
    probe.write_text(text.replace("</body>", _OVERFLOW_PROBE + "</body>") if "</body>" in text
                     else text + _OVERFLOW_PROBE, encoding="utf-8")
    try:
        dom = _browser(probe.as_uri(), "--dump-dom", width=width, height=1600)
    finally:
        probe.unlink(missing_ok=True)
    found = re.search(r'data-code-off-column="([^"]*)"', dom)
    assert found, f"the probe did not run on {page}"
    import json

    return json.loads(html.unescape(found.group(1)))


def test_no_code_runs_off_the_column_at_1200_px_and_every_page_is_screenshot(book):
    """Screenshots of every page at 1200 px are kept in _build/screenshots/ (a CI artefact)."""
    wide = {}
    for page in _pages(book):
        name = page.relative_to(book).with_suffix("").as_posix().replace("/", "-")
        shot = SHOTS / f"{name}.png"
        SHOTS.mkdir(parents=True, exist_ok=True)
        _browser(page.as_uri(), f"--screenshot={shot}", width=1200, height=2400)
        assert shot.is_file(), f"no screenshot of {page}"
        if 'http-equiv="Refresh"' in page.read_text(encoding="utf-8"):
            continue  # a redirect (index.html -> the introduction): no content of its own
        lines = code_off_the_column(page)
        if lines:
            wide[name] = lines[:3]
    assert not wide, f"code runs off the column at 1200 px: {wide}"


def test_the_overflow_probe_sees_a_long_line(tmp_path):
    """The check above can fail: a page with one unwrapped 300-character line is caught."""
    page = tmp_path / "wide.html"
    page.write_text('<html><body style="width:600px"><div class="highlight"><pre '
                    'style="white-space:pre;overflow:auto">' + "x = 1  # " + "y" * 300
                    + "</pre></div></body></html>")
    assert code_off_the_column(page) and code_off_the_column(page)[0].startswith("x = 1")


def test_every_chapter_has_exercises_with_solutions_and_a_download(book):
    for chapter in ("pai_in_ten_minutes", "pruning_similarity", "synflow", "robust_pruning",
                    "random_pruning", "ramanujan", "tost", "tprune"):
        page = (book / "book" / "executed" / f"{chapter}.html").read_text(encoding="utf-8")
        assert page.count('class="exercise') >= 2, f"{chapter}: fewer than 2 exercises"
        assert page.count('class="solution') >= 2, f"{chapter}: fewer than 2 solutions"
        assert "_downloads/" in page and ".csv" in page, f"{chapter}: no CSV download link"


def test_glance_page_lists_every_recorded_row_and_ships_claims_csv(book):
    import csv

    page = book / "book" / "executed" / "glance.html"
    assert page.is_file(), "the page 'Results at a glance' was not built"
    source = page.read_text()
    assert "Results at a glance" in source
    download = re.search(r'href="([^"]*_downloads/[^"]*claims\.csv)"', source)
    assert download and (page.parent / html.unescape(download.group(1))).resolve().is_file()
    with open(ROOT / "_build" / "claims.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        assert f'{row["chapter"]}.html#{row["anchor"]}' in source, row["id"]
    checks = [r for r in rows if r["kind"] == "check"]
    counted = re.search(r"Claims per paper and verdict.*?</table>", source, flags=re.S)
    if rows:  # the total of the claims table leaves the checks out
        assert counted and "check passed" not in counted.group(0)
        totals = re.findall(r"<strong>(\d+)</strong>", counted.group(0))
        assert int(totals[-1]) == len(rows) - len(checks)


# -- the runner and papermill on a failing notebook (each starts a kernel: seconds) ----------
def _notebook(path: Path, cells: list[tuple[str, str]]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "language": "python", "display_name": "Python 3"}})
    for kind, source in cells:
        cell = (nbformat.v4.new_code_cell(source) if kind != "markdown"
                else nbformat.v4.new_markdown_cell(source))
        if kind == "parameters":
            cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nbformat.write(nb, str(path))


def test_runner_names_the_notebook_and_the_failing_cell(tmp_path):
    from pruninglib.book import runner as book

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "profiles.yml").write_text(
        "profiles: {smoke: s, cpu: c, paper: p}\ncommon: {all: {}}\n"
        "chapters: {broken: {all: {n: 1}}}\n")
    _notebook(tmp_path / "notebooks" / "broken.ipynb", [
        ("markdown", "# Broken"), ("parameters", 'profile = "cpu"\nn = None'),
        ("code", "x = 1"), ("code", "ratio = 1 / 0  # fails here"), ("code", "y = 2")])
    with pytest.raises(book.BuildError) as error:
        book.execute_chapter(tmp_path, "broken", "smoke", {"n": 2})
    message = str(error.value).splitlines()
    summary = next(line for line in message if line.startswith("error: "))
    assert "notebooks/broken.ipynb failed in cell 4" in summary
    assert "ratio = 1 / 0" in summary and "ZeroDivisionError" in summary
    assert (tmp_path / "_build" / "executed" / "broken.ipynb").is_file()
    assert not (tmp_path / "book" / "executed" / "broken.ipynb").exists()


@pytest.mark.parametrize("args, words", [
    (["-p", "profile", "smoke", "-p", "sedes", "1"], "unknown parameter 'sedes'"),
    (["-p", "profile", "gpu"], "unknown profile 'gpu'"),
])
def test_papermill_with_a_bad_parameter_fails_with_one_clear_line(tmp_path, args, words):
    out = tmp_path / "out.ipynb"
    result = subprocess.run(
        [sys.executable, "-m", "papermill", f"notebooks/{CHAPTER}.ipynb", str(out), *args,
         "--kernel", "python3"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines()
             if "ParameterError" in line]
    assert any(words in line for line in lines), result.stderr[-2000:]

"""Rendering checks of the book, usable without a browser: control characters in the sources,
MathJax errors in a rendered DOM, broken local links and images in the built HTML.

The browser check (``tests/test_book_build.py``, marker ``book``) feeds them the pages of the
built book; the fast tests feed them small pages with the defects.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MATH_ERROR = re.compile(r"Math input error|<merror\b|<mjx-merror\b|class=\"[^\"]*\bmerror\b",
                         re.I)


def control_characters(text: str) -> list[tuple[int, int, str]]:
    """(line, column, repr) of every ASCII control character other than newline and tab
    (a ``\\a`` or ``\\r`` written through a string escape, e.g. ``\\alpha`` -> BEL + "lpha")."""
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        for match in _CONTROL.finditer(line):
            found.append((number, match.start() + 1, repr(match.group())))
    return found


def source_pages(root: Path) -> dict[str, str]:
    """Every source page a reader sees as prose: ``book/**/*.md`` (not the generated
    ``book/executed/``) and the markdown cells of ``notebooks/*.ipynb``; name -> text."""
    pages = {}
    for path in sorted((root / "book").rglob("*.md")):
        if "executed" not in path.relative_to(root / "book").parts:
            pages[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if cell.get("cell_type") == "markdown":
                name = f"{path.relative_to(root).as_posix()} (cell {index + 1})"
                pages[name] = "".join(cell.get("source", []))
    return pages


def control_characters_in_sources(root: Path) -> list[str]:
    """``page:line:column: character`` for every control character in :func:`source_pages`."""
    return [f"{name}:{line}:{col}: {char}" for name, text in source_pages(root).items()
            for line, col, char in control_characters(text)]


def math_errors(dom: str) -> list[str]:
    """MathJax errors in a rendered DOM ("Math input error", ``merror`` elements), each with
    a little context; [] when there are none."""
    return [dom[max(0, m.start() - 60):m.end() + 60].replace("\n", " ")
            for m in _MATH_ERROR.finditer(dom)]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for name in ("href", "src"):
            value = attrs.get(name)
            if value and tag in ("a", "img", "link", "script", "source", "iframe"):
                self.links.append((tag, value))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(html_dir: Path, pages: list[Path] | None = None) -> list[str]:
    """Local links and images of the built book that lead nowhere: a missing file, or a
    ``#fragment`` that is no id of the target page. External links (http, mailto, data) are
    not followed. ``pages``: the HTML files to check (default: every page of ``html_dir``
    outside ``_static``/``_sources``). Returns ``page: tag -> target (why)`` lines."""
    html_dir = Path(html_dir)
    if pages is None:
        pages = [p for p in sorted(html_dir.rglob("*.html"))
                 if not {"_static", "_sources", "_downloads"} & set(p.relative_to(html_dir).parts)]
    parsed: dict[Path, _Links] = {}
    problems = []
    for page in pages:
        links = parsed.setdefault(page.resolve(), _parse(page))
        for tag, target in links.links:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith(("mailto:", "javascript:")):
                continue
            where = page.relative_to(html_dir).as_posix()
            file = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            if file.is_dir():
                file = file / "index.html"
            if not file.exists():
                problems.append(f"{where}: <{tag}> -> {target} (no such file)")
                continue
            if parts.fragment and file.suffix == ".html":
                ids = parsed.setdefault(file, _parse(file)).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{where}: <{tag}> -> {target} (no such id)")
    return problems

"""Rendering checks that need no browser: the MathJax-error detector, control characters in
the sources, broken local links and images (the browser check applies them to the built
book)."""
from __future__ import annotations

from pathlib import Path

from pruninglib.book import rendering

ROOT = Path(__file__).resolve().parents[2]


def test_math_error_detector_catches_math_input_error():
    page = ('<html><body><p>compressions <mjx-container class="MathJax"><mjx-merror '
            'data-mjx-error="Undefined control sequence"><mjx-mtext>Math input error'
            '</mjx-mtext></mjx-merror></mjx-container></p></body></html>')
    found = rendering.math_errors(page)
    assert found and any("Math input error" in f for f in found)
    assert rendering.math_errors("<p>Math input error</p>")
    assert rendering.math_errors('<math><merror><mtext>x</mtext></merror></math>')
    clean = '<mjx-container class="MathJax"><mjx-math><mjx-mi>α</mjx-mi></mjx-math>'
    assert rendering.math_errors(clean) == []


def test_control_characters_are_found_where_a_string_escape_ate_a_backslash():
    text = "compressions $10^{\x07lpha}$\nup to $\rho_{\\max}$\tand\n"
    found = rendering.control_characters(text)
    assert [(line, char) for line, _, char in found] == [(1, "'\\x07'"), (2, "'\\r'")]
    assert rendering.control_characters("tab\tand newline\n") == []


def test_no_source_page_holds_a_control_character():
    pages = rendering.source_pages(ROOT)
    assert "book/tanaka_2020.md" in pages
    assert any(name.startswith("notebooks/") for name in pages)
    assert rendering.control_characters_in_sources(ROOT) == []


def test_broken_local_links_and_images_are_reported(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "ok.png").write_bytes(b"png")
    (tmp_path / "other.html").write_text('<h1 id="top">Other</h1><tr id="verdict-s7"></tr>')
    (tmp_path / "index.html").write_text(
        '<a href="other.html">fine</a> <a href="other.html#verdict-s7">row</a> '
        '<a href="#here" id="here">self</a> <a href="https://example.org/x">ext</a> '
        '<img src="img/ok.png"> <img src="img/missing.png"> '
        '<a href="gone.html">gone</a> <a href="other.html#nowhere">bad id</a>')
    problems = rendering.broken_links(tmp_path)
    assert len(problems) == 3, problems
    assert any("img/missing.png (no such file)" in p for p in problems)
    assert any("gone.html (no such file)" in p for p in problems)
    assert any("other.html#nowhere (no such id)" in p for p in problems)

"""html_to_text: a Canvas page's blocks as lines, chrome and scripts dropped."""

from __future__ import annotations

import pytest

from quizgen.extraction import html_to_text
from tests.support.course_files import LESSON_ABSENT, LESSON_HTML, LESSON_LINES

pytestmark = pytest.mark.fast


def test_lesson_page_gives_exactly_its_lines() -> None:
    assert tuple(html_to_text(LESSON_HTML).split("\n")) == LESSON_LINES


def test_scripts_styles_navigation_and_comments_are_dropped() -> None:
    text = html_to_text(LESSON_HTML)
    for absent in LESSON_ABSENT:
        assert absent not in text


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Plant<b>e</b>r</p>", "Planter"),  # inline elements join without a space
        ("<p>a</p><p>b</p>", "a\nb"),
        ("<div>a<div>b</div>c</div>", "a\nb\nc"),
        ("<h3>Tittel</h3>tekst uten blokk", "Tittel\ntekst uten blokk"),
        ("<p>&aelig;&oslash;&aring; &AElig;&Oslash;&Aring; &#229;</p>", "æøå ÆØÅ å"),
        ("<p>a\u030a</p>", "\u00e5"),  # decomposed å → one character (NFC)
        ("<p>a\x00b\x07c</p>", "abc"),  # no NUL or control characters
        ("<p>  mange \n\t  mellomrom&nbsp;&nbsp;her </p>", "mange mellomrom her"),
        ("<template><p>mal</p></template><p>ja</p>", "ja"),
        ("<table><tr><td><b>A</b>1</td><td>B</td></tr></table>", "A1 | B"),
        ("<table><tr><td><p>x</p><p>y</p></td><td>z</td></tr></table>", "x y | z"),
        ("", ""),
        ("bare tekst", "bare tekst"),
        ("<p>uavsluttet<p>avsnitt</div>", "uavsluttet\navsnitt"),
    ],
)
def test_blocks_inline_text_and_entities(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_deeply_nested_page_does_not_exhaust_the_stack() -> None:
    html = "<div><span>" * 3000 + "dypt" + "</span></div>" * 3000
    assert html_to_text(html) == "dypt"

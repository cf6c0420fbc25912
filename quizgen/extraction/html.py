"""A Canvas page's HTML as plain text lines: what a teacher wrote, not the page's chrome.

Library: BeautifulSoup 4 with the standard library's `html.parser`. Why: it is maintained
(releases every few months), pure Python (no compiled parser in the product; lxml stays a
test-only dependency), and `html.parser` copes with the fragments Canvas's rich-text editor
stores (unclosed `<p>`, stray `</div>`, entities) without guessing a document around them.
selectolax (lexbor, in C) parses several times faster, but a Canvas page is tens of
kilobytes: parsing it costs milliseconds next to the Canvas call that fetched it (bench
part "extraction" measures both sides), so speed does not pay for a binary wheel and a
smaller community.

What comes out:

- one line per block: headings, paragraphs, list items, `<div>`s, `<br>` breaks, captions;
- a table row as one line, its cells' text joined with " | " (empty rows are dropped);
- text inside inline elements (`<b>Foto</b>syntese`) is joined as written, without a space;
- dropped with everything inside: script, style, nav, header, footer, aside, noscript,
  template, and head, svg, iframe, object, embed, select (no prose for a quiz); comments,
  doctypes and CDATA sections too;
- entities decoded (`&aring;` → å, `&nbsp;` → a space), whitespace runs collapsed to one
  space (`<pre>` too), Unicode in NFC (a decomposed "å" becomes one character), NUL and
  other control characters removed (PostgreSQL's text type refuses NUL).

Pure: no I/O. The caller bounds the input's size (`MAX_FILE_BYTES`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quizgen.text import strip_controls

if TYPE_CHECKING:
    from bs4.element import Tag

__all__ = ["html_to_text"]

DROPPED = frozenset(
    {
        "script",
        "style",
        "nav",
        "header",
        "footer",
        "aside",
        "noscript",
        "template",
        "head",
        "svg",
        "iframe",
        "object",
        "embed",
        "select",
    }
)
# Elements that start and end a line of their own.
BLOCKS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "ul",
    }
)
CELLS = ("td", "th")


def html_to_text(html: str) -> str:
    """The page's text, one block per line (see the module's docstring)."""
    # BeautifulSoup (~9 MiB) is imported when a page is first converted, not with this
    # module: the API and every worker import quizgen.extraction, and most convert none.
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    return "\n".join(_lines(soup))


def _clean(fragments: list[str]) -> str:
    text = strip_controls("".join(fragments))
    return " ".join(text.split())


def _lines(root: Tag) -> list[str]:
    """Walk the tree without recursion (a deeply nested page cannot exhaust the stack),
    flushing the inline text gathered so far at every block boundary."""
    from bs4.element import NavigableString, PreformattedString, Tag

    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = _clean(current)
        current.clear()
        if line:
            lines.append(line)

    # (node, False): visit it; (None, True): a block ends here.
    stack: list[tuple[Tag | NavigableString | None, bool]] = [(root, False)]
    while stack:
        node, block_end = stack.pop()
        if block_end:
            flush()
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctypes, CDATA
                current.append(str(node))
            continue
        if not isinstance(node, Tag) or node.name in DROPPED:
            continue
        if node.name == "br":
            flush()
            continue
        if node.name == "tr":
            flush()
            row = _row(node)
            if row:
                lines.append(row)
            continue
        block = node.name in BLOCKS
        if block:
            flush()
            stack.append((None, True))
        for child in reversed(node.contents):
            if isinstance(child, Tag | NavigableString):
                stack.append((child, False))
    flush()
    return lines


def _row(tr: Tag) -> str:
    cells = [" ".join(_lines(cell)) for cell in tr.find_all(CELLS, recursive=False)]
    return " | ".join(cells) if any(cells) else ""

"""Part 11: extraction throughput, pages/s for HTML and for PDF, against the library itself.

quizgen's functions (`quizgen.extraction.html_to_text`, `pdf_to_text`) against the chosen
library called directly on the same files, in the same run, alternated A B A B:

- HTML: the sample course's lesson page (tests/support/course_files.py: headings, lists, a
  table, script, nav, Norwegian) repeated 8 times in one page (~7 KB, a long Canvas
  page), 200 pages; direct = `BeautifulSoup(html, "html.parser").get_text("\\n")`.
- PDF: documents of 20 pages x 40 lines of Norwegian text drawn with reportlab, 10
  documents (200 pages); direct = `PdfReader(...)` and `extract_text()` on every page.

What the ratio shows is quizgen's own cost on top of the library's: the block walk and
the whitespace/NFC cleaning for HTML, the encryption check, the limits and the cleaning
for PDF. Pure CPU, one thread (each case runs in a worker thread, not on the event loop);
no Temporal, database or Canvas: those are measured by the other parts.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable

from bench.harness import Row, Stack, alternate, log, median, pair_ratios, ratio

PART = "11 extraction"
HTML_PAGES = 200
HTML_REPEAT = 8
PDF_DOCUMENTS = 10
PDF_PAGES = 20
PDF_LINES = 40


def _html_page() -> str:
    from tests.support.course_files import LESSON_HTML

    body = LESSON_HTML.split("<body>", 1)[1].split("</body>", 1)[0]
    return f"<html><body>{body * HTML_REPEAT}</body></html>"


def _pdf_document(number: int) -> bytes:
    from tests.support.course_files import text_pdf

    pages = [
        "\n".join(
            f"Dokument {number}, side {page}, linje {line}: fotosyntesen i kloroplastene, "
            "blåbær og grønnsaker."
            for line in range(PDF_LINES)
        )
        for page in range(1, PDF_PAGES + 1)
    ]
    return text_pdf(pages)


def _timed(work: Callable[[], int]) -> Callable[[], Awaitable[float]]:
    """A case: run `work` in a thread; its pages per second."""

    async def measured() -> float:
        def run() -> float:
            started = time.perf_counter()
            pages = work()
            return pages / (time.perf_counter() - started)

        return await asyncio.to_thread(run)

    return measured


async def run(stack: Stack) -> list[Row]:
    from bs4 import BeautifulSoup
    from pypdf import PdfReader

    from quizgen.extraction import html_to_text, pdf_to_text

    rounds = 2 if stack.quick else 3
    html = _html_page()
    documents = [_pdf_document(n) for n in range(PDF_DOCUMENTS)]

    def ours_html() -> int:
        for _ in range(HTML_PAGES):
            html_to_text(html)
        return HTML_PAGES

    def direct_html() -> int:
        for _ in range(HTML_PAGES):
            BeautifulSoup(html, "html.parser").get_text("\n")
        return HTML_PAGES

    def ours_pdf() -> int:
        return sum(pdf_to_text(data).pages for data in documents)

    def direct_pdf() -> int:
        pages = 0
        for data in documents:
            reader = PdfReader(io.BytesIO(data))
            "\n".join(page.extract_text() for page in reader.pages)
            pages += len(reader.pages)
        return pages

    # Warm-up: imports, first-use caches.
    html_to_text(html)
    pdf_to_text(documents[0])
    html_runs = await alternate(
        [("quizgen", _timed(ours_html)), ("direct", _timed(direct_html))], rounds
    )
    pdf_runs = await alternate(
        [("quizgen", _timed(ours_pdf)), ("direct", _timed(direct_pdf))], rounds
    )
    rows = []
    for kind, runs, shape in (
        ("HTML", html_runs, f"{HTML_PAGES} pages of {len(html) // 1024} KB (the lesson x 8)"),
        (
            "PDF",
            pdf_runs,
            f"{PDF_DOCUMENTS} PDFs x {PDF_PAGES} pages x {PDF_LINES} lines of text, "
            f"{sum(map(len, documents)) // PDF_DOCUMENTS // 1024} KB each",
        ),
    ):
        ours, direct = median(runs["quizgen"]), median(runs["direct"])
        log(f"extraction {kind}: quizgen {runs['quizgen']}, direct {runs['direct']} pages/s")
        library = "BeautifulSoup html.parser get_text" if kind == "HTML" else "pypdf extract_text"
        rows.append(
            Row(
                part=PART,
                measure=f"{kind} to text, {shape}: quizgen's function vs {library} called "
                f"directly on the same files ({rounds} rounds, A B A B)",
                result=f"quizgen {ours:,.0f} pages/s",
                baseline=f"direct {direct:,.0f} pages/s",
                ratio=ratio(direct, ours),
                ratio_label="time per page, quizgen / direct; per round "
                + pair_ratios(runs["direct"], runs["quizgen"]),
                data={"quizgen": runs["quizgen"], "direct": runs["direct"]},
            )
        )
    return rows

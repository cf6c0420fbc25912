"""Text out of what a teacher picks in Canvas: pages (HTML) and files (PDF).

Pure functions, no I/O: the extraction activities fetch the bytes (`CanvasClient.download`,
capped at `MAX_FILE_BYTES`) and call these.

- `html_to_text(html) -> str` (quizgen/extraction/html.py, BeautifulSoup on html.parser)
- `pdf_to_text(data, *, max_pages=300, max_seconds=30.0) -> PdfText(text, pages)`
  (quizgen/extraction/pdf.py, pypdf)
- errors: `ExtractionError` and its subclasses (quizgen/extraction/errors.py), each message
  a reason in plain words for the teacher.
"""

from __future__ import annotations

from quizgen.extraction.errors import (
    EncryptedPdf,
    ExtractionError,
    ExtractionTimeout,
    MalformedPdf,
    NoTextLayer,
    TooLarge,
    TooManyPages,
)
from quizgen.extraction.html import html_to_text
from quizgen.extraction.pdf import PdfText, pdf_to_text

__all__ = [
    "MAX_FILE_BYTES",
    "PDF_CONTENT_TYPES",
    "EncryptedPdf",
    "ExtractionError",
    "ExtractionTimeout",
    "MalformedPdf",
    "NoTextLayer",
    "PdfText",
    "TooLarge",
    "TooManyPages",
    "html_to_text",
    "pdf_to_text",
]

# The most bytes one page or file may have: Canvas files up to 10 MB, as the system this
# replaces allowed.
MAX_FILE_BYTES = 10 * 1024 * 1024
# The content types of the files read (Canvas's `content-type` of a file).
PDF_CONTENT_TYPES = frozenset({"application/pdf", "application/x-pdf"})

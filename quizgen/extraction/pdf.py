"""A PDF's text layer, page by page, within limits of bytes, pages and time.

Library: pypdf. Why: maintained (monthly releases, fuzzed upstream), pure Python, so the
image needs no poppler or MuPDF binary and no AGPL licence (PyMuPDF's), and it reads text
page by page, which lets the limits below act between pages. Its AES decryption uses
`cryptography`, already a product dependency. pdfminer.six extracts layout more faithfully
but is several times slower; a quiz needs the words, not the layout.

Decisions, each with why:

- **Bytes**: over `MAX_FILE_BYTES` → `TooLarge` before parsing (the caller's download cap
  is the first guard; this one keeps the function safe on its own). pypdf caps what one
  compressed stream may inflate to, so a 10 MB file cannot grow into gigabytes.
- **Pages**: more than `max_pages` → `TooManyPages` before any page is read: a partial
  text would quietly leave chapters out of the quiz.
- **Time**: the clock is checked between pages (and after opening); past `max_seconds` →
  `ExtractionTimeout`. Not a worker thread with a deadline: pypdf is pure Python and a
  thread cannot be stopped, so a "timed out" thread would go on burning the worker's CPU
  after the activity gave up. The page cap bounds the work; the cost of one page is the one
  thing not bounded (a hostile content stream), and the activity's own start-to-close
  timeout is the backstop for that.
- **Encryption**: a PDF with an empty user password (only an owner password, which
  restricts printing or copying) opens in any viewer without a prompt, so it is read as
  the teacher sees it. One that asks for a password → `EncryptedPdf`.
- **Broken files**: pypdf's own errors (`PyPdfError`: truncated, no xref, not a PDF) and
  the exceptions its parser is known to leak on corrupt input (ValueError, KeyError,
  IndexError, TypeError, AttributeError, AssertionError, arithmetic, recursion, zlib and
  struct errors) → `MalformedPdf`. Nothing else is caught: a bug of ours still surfaces.
- **Scanned documents**: every page without text → `NoTextLayer`. A PDF where some pages
  have text keeps those pages' text.

Text: pages in order, separated by a blank line; within a page, pypdf's lines with
trailing spaces removed; NFC (decomposed "å" from some producers becomes one character);
NUL and other control characters removed (PostgreSQL's text type refuses NUL).

Pure: no I/O.
"""

from __future__ import annotations

import io
import re
import struct
import time
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quizgen.extraction.errors import (
    EncryptedPdf,
    ExtractionTimeout,
    MalformedPdf,
    NoTextLayer,
    TooLarge,
    TooManyPages,
)
from quizgen.text import strip_controls

if TYPE_CHECKING:
    from pypdf import PdfReader

__all__ = ["PdfText", "pdf_to_text"]

# What pypdf's parser leaks on a file it cannot parse, besides its own PyPdfError (see the
# module's docstring).
_LEAKED: tuple[type[BaseException], ...] = (
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    AssertionError,
    ArithmeticError,
    RecursionError,
    zlib.error,
    struct.error,
)
_TRAILING = re.compile(r"[ \t]+$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class PdfText:
    """The text of every page, in order, and how many pages the PDF has."""

    text: str
    pages: int


def pdf_to_text(data: bytes, *, max_pages: int = 300, max_seconds: float = 30.0) -> PdfText:
    """The PDF's text; raises an `ExtractionError` subclass with words for the teacher."""
    from pypdf.errors import PyPdfError  # on first use: see _open

    from quizgen.extraction import MAX_FILE_BYTES  # the package imports this module

    broken: tuple[type[BaseException], ...] = (PyPdfError, *_LEAKED)
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(MAX_FILE_BYTES, len(data))
    started = time.monotonic()
    try:
        reader = _open(data)
        count = len(reader.pages)
    except broken:
        raise MalformedPdf() from None
    if count == 0:
        raise MalformedPdf("The PDF has no pages")
    if count > max_pages:
        raise TooManyPages(count, max_pages)
    texts: list[str] = []
    for number in range(count):
        if time.monotonic() - started > max_seconds:
            raise ExtractionTimeout(max_seconds, number)
        try:
            raw = reader.pages[number].extract_text()
        except broken:
            raise MalformedPdf(
                f"Page {number + 1} of the PDF could not be read (a damaged file?)"
            ) from None
        texts.append(_clean(raw))
    if time.monotonic() - started > max_seconds:
        raise ExtractionTimeout(max_seconds, count)
    if not any(texts):
        raise NoTextLayer()
    return PdfText("\n\n".join(text for text in texts if text), count)


def _open(data: bytes) -> PdfReader:
    # pypdf (~10 MiB) is imported when a PDF is first read, not with this module: the API
    # and every worker import quizgen.extraction (through the Canvas client's TooLarge)
    # and most never read a PDF.
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except NotImplementedError:  # an encryption scheme pypdf does not know
            raise EncryptedPdf() from None
        if not opened:
            raise EncryptedPdf()
    return reader


def _clean(text: str) -> str:
    text = strip_controls(text)
    return _TRAILING.sub("", text).strip()

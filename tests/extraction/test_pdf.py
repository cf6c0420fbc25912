"""pdf_to_text: the text layer page by page; each unreadable PDF a specific reason."""

from __future__ import annotations

import itertools

import pytest

from quizgen.extraction import (
    MAX_FILE_BYTES,
    EncryptedPdf,
    ExtractionError,
    ExtractionTimeout,
    MalformedPdf,
    NoTextLayer,
    PdfText,
    TooLarge,
    TooManyPages,
    pdf_to_text,
)
from quizgen.extraction import pdf as pdf_module
from tests.support.course_files import (
    ENCRYPTED_PASSWORD,
    ENCRYPTED_TEXT,
    OWNER_LOCKED_TEXT,
    TEXT_PDF_PAGES,
    encrypted_pdf,
    oversized_pdf,
    owner_locked_pdf,
    pages_pdf,
    scanned_pdf,
    text_pdf,
    truncated_pdf,
)

pytestmark = pytest.mark.fast


def test_text_pdf_gives_every_page_in_order() -> None:
    result = pdf_to_text(text_pdf())
    assert result == PdfText("\n\n".join(TEXT_PDF_PAGES), 3)
    assert "Ærlig talt: blåbær." in result.text
    assert "Øvingsoppgave på side tre." in result.text


def test_scanned_pdf_has_no_text_layer() -> None:
    with pytest.raises(NoTextLayer, match=r"has no text layer \(a scanned document\?\)"):
        pdf_to_text(scanned_pdf())


def test_pages_without_text_are_skipped_when_others_have_text() -> None:
    result = pdf_to_text(text_pdf(["Første side", "", "Tredje side"]))
    assert result == PdfText("Første side\n\nTredje side", 3)


def test_password_protected_pdf_is_refused_without_its_text() -> None:
    with pytest.raises(EncryptedPdf, match="password") as caught:
        pdf_to_text(encrypted_pdf())
    assert ENCRYPTED_TEXT not in str(caught.value)
    assert ENCRYPTED_PASSWORD not in str(caught.value)


def test_owner_password_only_pdf_is_read_as_any_viewer_opens_it() -> None:
    assert pdf_to_text(owner_locked_pdf()) == PdfText(OWNER_LOCKED_TEXT, 1)


@pytest.mark.parametrize(
    "data",
    [
        truncated_pdf(),
        b"",
        b"not a pdf at all",
        b"<html><body>Innlogging</body></html>",
        b"%PDF-1.7\n" + bytes(range(256)) * 40,
        text_pdf()[:-400],  # the trailer cut off
    ],
    ids=["truncated", "empty", "text", "html", "garbage", "no-trailer"],
)
def test_broken_files_are_malformed_in_plain_words(data: bytes) -> None:
    with pytest.raises(MalformedPdf) as caught:
        pdf_to_text(data)
    message = str(caught.value)
    assert message == "The file is not a readable PDF (damaged or cut off?)"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_over_the_byte_limit_is_refused_before_parsing() -> None:
    data = oversized_pdf()
    assert len(data) == MAX_FILE_BYTES + 1
    with pytest.raises(TooLarge, match="10 MB"):
        pdf_to_text(data)


def test_page_limit() -> None:
    data = pages_pdf(5)
    assert pdf_to_text(data, max_pages=5).pages == 5
    with pytest.raises(TooManyPages, match="has 5 pages; at most 4"):
        pdf_to_text(data, max_pages=4)


def test_time_limit_is_checked_between_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    # A clock that moves one second each time it is read: the start, then once per page.
    ticks = itertools.count()
    monkeypatch.setattr(pdf_module.time, "monotonic", lambda: float(next(ticks)))
    with pytest.raises(ExtractionTimeout, match=r"longer than 2\.5 seconds") as caught:
        pdf_to_text(pages_pdf(10), max_seconds=2.5)
    assert caught.value.pages_read == 2


def test_within_the_time_limit_every_page_is_read() -> None:
    assert pdf_to_text(pages_pdf(10), max_seconds=30).text.endswith("Side 10")


def test_every_failure_is_an_extraction_error() -> None:
    for make in (scanned_pdf, encrypted_pdf, truncated_pdf, oversized_pdf):
        with pytest.raises(ExtractionError):
            pdf_to_text(make())

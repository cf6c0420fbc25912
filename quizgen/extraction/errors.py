"""Why a page or file gave no text, in plain words for a teacher.

    ExtractionError            (a QuizgenError) the item cannot be extracted; retrying the
    │                          same bytes cannot help: each message is shown to the teacher
    ├── NoTextLayer            a PDF whose pages carry no text (scanned: images only)
    ├── EncryptedPdf           a PDF locked with a password
    ├── MalformedPdf           truncated, corrupt, or not a PDF at all
    ├── TooManyPages           more pages than `max_pages`
    ├── ExtractionTimeout      reading took longer than `max_seconds`
    └── TooLarge               more bytes than the cap (raised by callers and by
                               `CanvasClient.download`)

Every message is a sentence without a stack trace or a library's wording: the extraction
activity stores it as the item's reason as it is.
"""

from __future__ import annotations

from quizgen.errors import QuizgenError

__all__ = [
    "EncryptedPdf",
    "ExtractionError",
    "ExtractionTimeout",
    "MalformedPdf",
    "NoTextLayer",
    "TooLarge",
    "TooManyPages",
]


class ExtractionError(QuizgenError):
    """An item whose text cannot be had; `str(err)` is the reason shown to the teacher."""


class NoTextLayer(ExtractionError):
    def __init__(self, message: str = "The PDF has no text layer (a scanned document?)") -> None:
        super().__init__(message)


class EncryptedPdf(ExtractionError):
    def __init__(
        self, message: str = "The PDF is protected with a password; upload an unlocked copy"
    ) -> None:
        super().__init__(message)


class MalformedPdf(ExtractionError):
    def __init__(
        self, message: str = "The file is not a readable PDF (damaged or cut off?)"
    ) -> None:
        super().__init__(message)


class TooManyPages(ExtractionError):
    def __init__(self, pages: int, limit: int) -> None:
        super().__init__(f"The PDF has {pages} pages; at most {limit} can be read")
        self.pages = pages
        self.limit = limit


class ExtractionTimeout(ExtractionError):
    def __init__(self, seconds: float, pages_read: int) -> None:
        super().__init__(
            f"Reading the PDF took longer than {seconds:g} seconds "
            f"(stopped after {pages_read} pages)"
        )
        self.seconds = seconds
        self.pages_read = pages_read


class TooLarge(ExtractionError):
    def __init__(self, limit: int, size: int | None = None) -> None:
        mib = limit / (1024 * 1024)
        shown = f"{mib:g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        super().__init__(f"The file is larger than the limit of {shown}")
        self.limit = limit
        self.size = size

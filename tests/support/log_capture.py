"""Every log line of a test run, kept to be scanned for secrets and course content.

`tests/conftest.py` puts `SessionLog` on the root logger for the whole run (at INFO, what a
deployment logs) and `tests/test_log_hygiene.py`, which runs last, scans what it holds and
every `*.log` file the run's worker and server processes wrote under pytest's temp dir.
"""

from __future__ import annotations

import logging
from pathlib import Path

from deploy.local.api import ALICE, BOB
from deploy.local.canvas import CanvasStandIn
from deploy.local.fake_openai.server import FakeOpenAI
from quizgen.samples import CELLS_SAMPLE, ENGLISH_SAMPLE, NORWEGIAN_SAMPLE
from tests.support.course_files import LESSON_LINES, TEXT_PDF_PAGES
from tests.support.exports import KEY as EXPORT_KEY

__all__ = ["SECRETS", "SessionLog", "content_fragments", "leaks"]

# Tokens and keys the tests use (tests with secrets of their own check their own logs too).
SECRETS = {
    "API token (alice)": ALICE,
    "API token (bob)": BOB,
    "API token (carol)": "carol-token-0123456789",
    "OpenAI key (fake server)": FakeOpenAI.DEFAULT_API_KEY,
    "OpenAI key (test_scale)": "sk-test-this-key-must-never-be-logged-0123",
    "database password (test_redaction)": "s3cret-pa55word",
}


def content_fragments(length: int = 40) -> list[str]:
    """Pieces of the bundled course texts, which the tests use as module content, and the
    lines of the sample course's pages and PDFs, which the extraction tests extract."""
    pieces = []
    for sample in (ENGLISH_SAMPLE, CELLS_SAMPLE, NORWEGIAN_SAMPLE):
        text = " ".join(sample.split())
        pieces += [text[i : i + length] for i in range(0, len(text) - length, len(text) // 4)]
    extracted = [*LESSON_LINES, *(line for page in TEXT_PDF_PAGES for line in page.splitlines())]
    return pieces + [line for line in extracted if len(line) >= 20]


class SessionLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted is the emitter's bug, not ours
            self.handleError(record)


def leaks(lines: list[str], log_files: list[Path]) -> list[str]:
    """`what: where` for every secret or content fragment found."""
    needles = {**SECRETS, **{f"module content {f[:20]!r}...": f for f in content_fragments()}}
    needles |= {f"Canvas token {t[:6]}...": t for t in CanvasStandIn.issued_tokens}
    needles["Canvas token key (tests/support/exports.py)"] = EXPORT_KEY
    found = []
    sources = [("in-process log", "\n".join(lines))]
    sources += [(str(path), path.read_text(errors="replace")) for path in log_files]
    for where, text in sources:
        folded = " ".join(text.split())  # content may wrap across lines
        found += [f"{what}: {where}" for what, needle in needles.items() if needle in folded]
    return found

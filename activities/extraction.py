"""The extraction's activities: each Canvas page, Canvas file or uploaded PDF made text, on
its own, written to PostgreSQL (`quizgen.db.sources`) as it is done.

`begin_extraction` lists the sources not extracted yet; `extract_source` fetches and
converts one (a page's HTML to text keeping its structure as lines; a PDF's text per page,
within byte, page and time limits) and keeps the text, or the reason it cannot be had in
plain words; `finish_extraction` composes each module's text from its extracted sources
and settles the quiz (`created`, or `failed` when no module got any text);
`stop_extraction` records why a run stopped, or that it waits for a reconnect.

What is extracted once is never fetched again (a retried attempt, a new run, a retry of
the failed sources). Canvas being slow or throttling is retried (`activities/_canvas.py`);
what Canvas refuses for one item (403: the teacher may not read it; 404) fails that item
only. The text and the teacher's token stay out of workflow history (invariant 10).
"""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities._canvas import NotReady, canvas_errors
from activities._errors import temporal_errors
from activities._waiting import heartbeating
from quizgen.canvas.access import open_canvas
from quizgen.canvas.client import CanvasClient
from quizgen.canvas_contracts import (
    ExtractionFinished,
    ExtractionOutcome,
    ExtractionPlan,
    ExtractionStopped,
    ExtractSourceInput,
    SourceExtracted,
)
from quizgen.db import sources
from quizgen.db.repository import locked_quiz, write_status
from quizgen.domain import FailureReason, QuizStatus
from quizgen.errors import MAX_REASON_CHARS, CanvasRefusedError, cap_message
from quizgen.extraction import MAX_FILE_BYTES, PDF_CONTENT_TYPES, html_to_text, pdf_to_text
from quizgen.extraction.errors import ExtractionError, TooLarge
from quizgen.names import (
    BEGIN_EXTRACTION_ACTIVITY,
    EXTRACT_SOURCE_ACTIVITY,
    FINISH_EXTRACTION_ACTIVITY,
    STOP_EXTRACTION_ACTIVITY,
)
from quizgen.settings import Settings

__all__ = ["PDF_MAX_PAGES", "PDF_MAX_SECONDS", "ExtractionActivities"]

# Limits per file (besides MAX_FILE_BYTES): a textbook chapter fits; a 2,000-page scan
# or a PDF built to make the parser spin does not.
PDF_MAX_PAGES = 300
PDF_MAX_SECONDS = 30.0


class ExtractionActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    @activity.defn(name=BEGIN_EXTRACTION_ACTIVITY)
    async def begin_extraction(self, quiz_id: uuid.UUID) -> ExtractionPlan:
        with temporal_errors(), canvas_errors():
            async with locked_quiz(self._engine, quiz_id) as lock:
                if lock.status is not QuizStatus.EXTRACTING_CONTENT:
                    raise NotReady(f"a quiz that is {lock.status.value} is not extracting content")
                title = lock.quiz.spec.title
            ids = await sources.unextracted_source_ids(self._engine, quiz_id)
            return ExtractionPlan(source_ids=ids, title=title)

    @activity.defn(name=EXTRACT_SOURCE_ACTIVITY)
    async def extract_source(self, input: ExtractSourceInput) -> SourceExtracted:
        with temporal_errors(), canvas_errors():
            found = await sources.source_for_extraction(
                self._engine, input.quiz_id, input.source_id
            )
            if found is None:
                return SourceExtracted(
                    source_id=input.source_id,
                    outcome=ExtractionOutcome.FAILED,
                    reason="The item is no longer part of the quiz",
                )
            source, upload, owner = found
            if source.status is sources.SourceStatus.EXTRACTED:
                return SourceExtracted(
                    source_id=source.source_id,
                    outcome=ExtractionOutcome.ALREADY,
                    chars=source.chars,
                )
            try:
                # Heartbeats: a dead worker's item is taken over within seconds (extracting
                # twice writes the same text, so an overlap does no harm).
                text, pages, title = await heartbeating(self._extract(source, upload, owner))
                if not text.strip():
                    raise ExtractionError("It has no text to generate questions from")
            except (ExtractionError, CanvasRefusedError) as err:
                reason = cap_message(_reason(err), MAX_REASON_CHARS)
                await sources.mark_failed(self._engine, input.quiz_id, source.source_id, reason)
                return SourceExtracted(
                    source_id=source.source_id, outcome=ExtractionOutcome.FAILED, reason=reason
                )
            await sources.mark_extracted(
                self._engine, input.quiz_id, source.source_id, text=text, pages=pages, title=title
            )
            return SourceExtracted(
                source_id=source.source_id, outcome=ExtractionOutcome.EXTRACTED, chars=len(text)
            )

    async def _extract(
        self, source: sources.SourceRecord, upload: bytes | None, owner: str
    ) -> tuple[str, int | None, str | None]:
        """(text, pages, Canvas's title) of one source."""
        if source.kind is sources.SourceKind.UPLOAD:
            if upload is None:
                raise ExtractionError("The uploaded file is gone: upload it again")
            if upload.startswith(b"%PDF-"):
                text, pages = await _pdf(upload)
                return text, pages, None
            return _plain_text(upload), None, None
        async with open_canvas(self._engine, self._settings, owner) as canvas:
            if source.kind is sources.SourceKind.PAGE:
                return await _page(canvas, source)
            return await _file(canvas, source)

    @activity.defn(name=FINISH_EXTRACTION_ACTIVITY)
    async def finish_extraction(self, quiz_id: uuid.UUID) -> ExtractionFinished:
        with temporal_errors():
            return await self._settle(quiz_id, stopped=None)

    @activity.defn(name=STOP_EXTRACTION_ACTIVITY)
    async def stop_extraction(self, input: ExtractionStopped) -> None:
        """A run that stopped settles the quiz from what it extracted; one that waits for a
        reconnect only says so (`stopped` False)."""
        with temporal_errors():
            if input.stopped:
                await self._settle(input.quiz_id, stopped=input.message)
                return
            async with locked_quiz(self._engine, input.quiz_id) as lock:
                if lock.status is QuizStatus.EXTRACTING_CONTENT:
                    await write_status(
                        lock.connection,
                        input.quiz_id,
                        QuizStatus.EXTRACTING_CONTENT,
                        message=input.message or None,
                    )

    async def _settle(self, quiz_id: uuid.UUID, stopped: str | None) -> ExtractionFinished:
        if stopped is not None:
            for source_id in await sources.unextracted_source_ids(self._engine, quiz_id):
                await sources.mark_failed(self._engine, quiz_id, source_id, stopped)
        modules = await sources.compose_modules(self._engine, quiz_id)
        records = await sources.list_sources(self._engine, quiz_id)
        extracted = sum(r.status is sources.SourceStatus.EXTRACTED for r in records)
        failed = sum(r.status is sources.SourceStatus.FAILED for r in records)
        async with locked_quiz(self._engine, quiz_id) as lock:
            states = await sources.module_states_in(lock.connection, quiz_id)
            ready = sum(state is sources.ContentState.READY for state in states.values())
            status = QuizStatus.CREATED if ready else QuizStatus.FAILED
            if lock.status is QuizStatus.EXTRACTING_CONTENT:
                await write_status(
                    lock.connection,
                    quiz_id,
                    status,
                    reason=None if ready else FailureReason.NO_CONTENT_EXTRACTED,
                    message=stopped
                    or (None if ready else "no usable text was extracted: see each item's reason"),
                )
            else:
                status = lock.status
        return ExtractionFinished(
            status=status,
            modules_ready=sum(m.state is sources.ContentState.READY for m in modules),
            modules_empty=sum(m.state is sources.ContentState.EMPTY for m in modules),
            extracted=extracted,
            failed=failed,
        )


async def _page(
    canvas: CanvasClient, source: sources.SourceRecord
) -> tuple[str, int | None, str | None]:
    path = f"/api/v1/courses/{source.course_id}/pages/{quote(source.canvas_ref or '', safe='')}"
    page = await canvas.request("GET", path)
    if not isinstance(page, dict):
        raise ExtractionError("Canvas answered with something that is not a page")
    if page.get("locked_for_user"):
        raise ExtractionError("The page is locked for you in Canvas")
    text = await asyncio.to_thread(html_to_text, str(page.get("body") or ""))
    return text, None, str(page.get("title") or "") or None


async def _file(
    canvas: CanvasClient, source: sources.SourceRecord
) -> tuple[str, int | None, str | None]:
    meta = await canvas.request(
        "GET", f"/api/v1/courses/{source.course_id}/files/{quote(source.canvas_ref or '')}"
    )
    if not isinstance(meta, dict) or not meta.get("url"):
        raise ExtractionError("Canvas gave no download address for the file")
    kind = str(meta.get("content-type") or "")
    name = str(meta.get("display_name") or "") or None
    if kind not in PDF_CONTENT_TYPES:
        raise ExtractionError(
            f"The file is not a PDF ({kind or 'unknown type'}): only PDFs are read"
        )
    size = meta.get("size")
    if isinstance(size, int) and size > MAX_FILE_BYTES:
        raise TooLarge(MAX_FILE_BYTES, size)
    data = await canvas.download(str(meta["url"]), max_bytes=MAX_FILE_BYTES)
    text, pages = await _pdf(data)
    return text, pages, name


async def _pdf(data: bytes) -> tuple[str, int]:
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(MAX_FILE_BYTES, len(data))
    # pypdf is pure Python: a thread keeps the worker's heartbeats and other items going.
    result = await asyncio.to_thread(
        pdf_to_text, data, max_pages=PDF_MAX_PAGES, max_seconds=PDF_MAX_SECONDS
    )
    return result.text, result.pages


def _plain_text(data: bytes) -> str:
    """An uploaded .txt or .md file: UTF-8 (a byte-order mark allowed), kept as written."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExtractionError("The file is neither a PDF nor UTF-8 text") from None


def _reason(err: Exception) -> str:
    if isinstance(err, CanvasRefusedError):
        if err.status == 403:
            return "Canvas does not let you read this item (403)"
        if err.status == 404:
            return "Canvas has no such item any more (404): deleted or moved?"
        return f"Canvas refused to give this item ({err.status})"
    return str(err)

"""The export's state changes that must agree with Temporal: export (and retry, and
re-export), undo, cancel, and waking an export that waits for a reconnect.

As a generation trigger (api/lifecycle.py): the quiz is read with its row locked, the
decision and the database writes are made, and Temporal is asked, in one transaction; of
two simultaneous calls one wins, and Temporal being down leaves nothing half-written.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import Conflict, NotFound, Unprocessable
from api.lifecycle import owned_and_locked
from quizgen.canvas_contracts import ExportAction, export_progress_message
from quizgen.db import canvas_exports as exports
from quizgen.db.canvas_connections import get_connection
from quizgen.db.review_changes import review_counts
from quizgen.db.tables import CanvasExportRow, QuizRow
from quizgen.domain import (
    EXPORTABLE,
    REVIEWABLE,
    ExportState,
    QuizStatus,
)
from quizgen.errors import TemporalUnavailableError
from quizgen.names import QuizWorkflow
from quizgen.settings import Settings
from quizgen.temporal_client import TemporalGateway

__all__ = [
    "MAX_EXPORT_QUESTIONS",
    "ExportView",
    "cancel_export",
    "export_view",
    "exported_view",
    "resume_waiting_exports",
    "start_export",
    "undo_export",
]

log = logging.getLogger(__name__)

# More than a New Quiz is meant to hold; it keeps an export's plan small in history.
MAX_EXPORT_QUESTIONS = 2000

_export = CanvasExportRow.__table__  # type: ignore[attr-defined]
_quiz = QuizRow.__table__  # type: ignore[attr-defined]


class ExportView(BaseModel):
    """A quiz's export as the API, the pages and the CLI show it."""

    model_config = ConfigDict(frozen=True)

    state: ExportState
    course_id: str
    title: str
    points_per_question: float
    canvas_quiz_id: str | None
    canvas_quiz_url: str | None
    # Approved questions whose current version is in Canvas, of all approved ones.
    exported: int
    total: int
    # In Canvas at an older version: the next export updates them.
    changed: int
    # "X of Y questions exported"
    progress: str
    # Why it failed, was cancelled, or waits ("reconnect Canvas").
    message: str | None
    started_at: datetime
    finished_at: datetime | None


async def export_view(engine: AsyncEngine, quiz_id: uuid.UUID) -> ExportView | None:
    export = await exports.get_export(engine, quiz_id)
    if export is None:
        return None
    counts = await exports.export_counts(engine, quiz_id)
    return ExportView(
        state=export.state,
        course_id=export.course_id,
        title=export.title,
        points_per_question=export.points_per_question,
        canvas_quiz_id=export.canvas_quiz_id,
        canvas_quiz_url=export.canvas_quiz_url,
        exported=counts.exported,
        total=counts.total,
        changed=counts.changed,
        progress=export_progress_message(counts.exported, counts.total),
        message=export.message or None,
        started_at=export.started_at,
        finished_at=export.finished_at,
    )


async def exported_view(engine: AsyncEngine, quiz_id: uuid.UUID) -> ExportView:
    """The quiz's export; `NotFound` when it was never exported (or was undone)."""
    view = await export_view(engine, quiz_id)
    if view is None:
        raise NotFound("this quiz has not been exported")
    return view


async def start_export(
    engine: AsyncEngine,
    temporal: TemporalGateway,
    settings: Settings,
    owner: str,
    quiz_id: uuid.UUID,
    request: exports.ExportRequest | None,
) -> ExportView:
    """Export the quiz's approved questions to Canvas; again, to continue a stopped export
    or to update a published one. `request` None: where the last export went."""
    if not settings.canvas_configured:
        raise Conflict("Canvas is not configured on this server (CANVAS_BASE_URL)")
    if await get_connection(engine, owner) is None:
        raise Conflict("connect Canvas first (PUT /canvas/connection, or the Canvas page)")
    async with owned_and_locked(engine, owner, quiz_id) as lock:
        conn = lock.connection
        previous = await exports.get_export_in(conn, quiz_id, for_update=True)
        status = lock.status
        if status is QuizStatus.EXPORTING_TO_CANVAS or (
            previous is not None and previous.state is ExportState.UNDOING
        ):
            if await temporal.is_running(quiz_id, QuizWorkflow.EXPORT):
                raise Conflict("an export of this quiz is running: wait for it, or cancel it")
        elif status not in EXPORTABLE:
            raise Conflict(f"a quiz that is {status.value} cannot be exported yet")
        if request is None:
            if previous is None:
                raise Unprocessable("say which Canvas course to export to (course_id)")
            request = previous.request
        if (
            previous is not None
            and previous.canvas_quiz_id is not None
            and previous.course_id != request.course_id
        ):
            raise Conflict(
                f"this quiz is in Canvas course {previous.course_id}: "
                "undo that export before exporting to another course"
            )
        approved = (await review_counts(engine, quiz_id)).approved
        if approved == 0:
            raise Conflict("the quiz has no approved question to export: approve some first")
        if approved > MAX_EXPORT_QUESTIONS:
            raise Unprocessable(
                f"an export takes at most {MAX_EXPORT_QUESTIONS} questions ({approved} approved)"
            )
        if status in REVIEWABLE:
            review_status = status
        else:
            review_status = previous.review_status if previous else QuizStatus.READY_FOR_REVIEW
        await exports.save_request_in(conn, quiz_id, request, review_status)
        await lock.set_status(QuizStatus.EXPORTING_TO_CANVAS)
        summary = f"Export of “{request.title[:80]}” to Canvas course {request.course_id}"
        await _begin(temporal, quiz_id, ExportAction.EXPORT, summary, owner)
    return await exported_view(engine, quiz_id)


async def undo_export(
    engine: AsyncEngine, temporal: TemporalGateway, owner: str, quiz_id: uuid.UUID
) -> ExportView:
    """Delete the Canvas quiz the export made and forget the export (in the background)."""
    async with owned_and_locked(engine, owner, quiz_id) as lock:
        previous = await exports.get_export_in(lock.connection, quiz_id, for_update=True)
        if previous is None:
            raise NotFound("this quiz has not been exported")
        if await temporal.is_running(quiz_id, QuizWorkflow.EXPORT):
            raise Conflict("an export of this quiz is running: cancel it first")
        await exports.set_state_in(lock.connection, quiz_id, ExportState.UNDOING)
        summary = f"Undo of the export to Canvas course {previous.course_id}"
        await _begin(temporal, quiz_id, ExportAction.UNDO, summary, owner)
    return await exported_view(engine, quiz_id)


async def cancel_export(
    engine: AsyncEngine, temporal: TemporalGateway, owner: str, quiz_id: uuid.UUID
) -> None:
    """Stop the running export; it records that it was cancelled and gives the quiz back."""
    async with owned_and_locked(engine, owner, quiz_id):
        if not await temporal.is_running(quiz_id, QuizWorkflow.EXPORT):
            raise Conflict("no export of this quiz is running")
        await temporal.cancel_export(quiz_id)


async def resume_waiting_exports(engine: AsyncEngine, temporal: TemporalGateway, owner: str) -> int:
    """After the teacher reconnected Canvas: wake every export of theirs that waits for it,
    and every extraction of theirs (one that does not wait ignores the signal).

    Never raises for Temporal: the connection is saved whatever Temporal says, and work
    still waiting says so on its page (a later reconnect wakes it).
    """
    async with engine.connect() as conn:
        exporting = await conn.execute(
            sa.select(_export.c.quiz_id)
            .join(_quiz, _quiz.c.id == _export.c.quiz_id)
            .where(
                _quiz.c.owner_id == owner,
                _export.c.state == ExportState.WAITING_FOR_CANVAS.value,
            )
        )
        waiting = [(row.quiz_id, QuizWorkflow.EXPORT) for row in exporting]
        extracting = await conn.execute(
            sa.select(_quiz.c.id).where(
                _quiz.c.owner_id == owner,
                _quiz.c.status == QuizStatus.EXTRACTING_CONTENT.value,
            )
        )
        waiting += [(row.id, QuizWorkflow.EXTRACTION) for row in extracting]
    woken = 0
    for quiz_id, kind in waiting:
        try:
            await temporal.reconnected(quiz_id, kind)
            woken += 1
        except TemporalUnavailableError as err:
            log.warning("could not tell quiz %s's %s about the reconnect: %s", quiz_id, kind, err)
    return woken


async def _begin(
    temporal: TemporalGateway, quiz_id: uuid.UUID, action: ExportAction, summary: str, owner: str
) -> None:
    try:
        await temporal.export(quiz_id, action, summary, owner)
    except WorkflowAlreadyStartedError:
        raise Conflict("an export of this quiz is running: wait for it, or cancel it") from None

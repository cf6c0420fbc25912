"""The quiz page's "Export to Canvas" section: pick a course and export, follow the
progress live, open the quiz in Canvas, retry, export changes, cancel and undo.

Everything goes through `api.export_lifecycle` (as the JSON API's `/quizzes/{id}/export`)
and the course list through `api.routes.canvas.courses` (as `GET /canvas/courses`). Each
button is a CSRF-checked post that redirects back to the quiz page with a notice; what the
API refuses (a `Conflict`, ...) becomes one of this module's notices, never free text.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.errors import APIError, NotFound
from api.export_lifecycle import ExportView, cancel_export, export_view, start_export, undo_export
from api.routes.canvas import CanvasCoursePublic
from api.web.canvas_courses import course_id as _course_id
from api.web.canvas_courses import teacher_courses
from api.web.i18n import Translator
from api.web.pages import (
    PREFIX,
    Signed,
    Visit,
    language_of,
    owned_quiz,
    redirect,
    render,
    section_notices,
)
from quizgen.db import canvas_connections as connections
from quizgen.db import repository as repo
from quizgen.db.canvas_exports import ExportRequest
from quizgen.domain import ExportState, QuizStatus
from quizgen.errors import (
    TemporalUnavailableError,
)

__all__ = ["NOTICES", "ExportPanel", "export_context", "router"]

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# The quiz statuses whose page shows the section.
_SHOWN = frozenset(
    {
        QuizStatus.READY_FOR_REVIEW,
        QuizStatus.READY_FOR_REVIEW_PARTIAL,
        QuizStatus.EXPORTING_TO_CANVAS,
        QuizStatus.PUBLISHED,
    }
)
# States the page follows live (the export's workflow is at work, or waits for a token).
_ACTIVE = frozenset({ExportState.RUNNING, ExportState.UNDOING, ExportState.WAITING_FOR_CANVAS})
_STOPPED = frozenset({ExportState.FAILED, ExportState.CANCELLED})
# The notices this section's posts redirect with (`export_` + key), shown by the quiz page.
NOTICES = section_notices(
    "export",
    frozenset(
        {
            "started",
            "retried",
            "undoing",
            "cancelled",
            "not_configured",
            "not_connected",
            "running",
            "not_running",
            "none_approved",
            "not_ready",
            "other_course",
            "no_course",
            "bad_points",
            "not_exported",
            "unavailable",
            "refused",
        }
    ),
)
MAX_TITLE_CHARS = 255


@dataclass(frozen=True)
class ExportPanel:
    """What the quiz page's export section shows."""

    quiz_id: uuid.UUID
    shown: bool
    configured: bool
    connected: bool
    connect_url: str
    export: ExportView | None
    active: bool
    default_title: str
    # The course picker: Canvas's answer, or None with `courses_problem` (a course-id input).
    courses: list[CanvasCoursePublic] | None = None
    courses_problem: str | None = None
    token_refused: bool = False
    show_form: bool = False
    buttons: list[tuple[str, str]] = field(default_factory=list)


def _buttons(export: ExportView) -> list[tuple[str, str]]:
    """The buttons that fit the export's state: (word key, the address's last part)."""
    state = export.state
    shown: list[tuple[str, str]] = []
    if state in _STOPPED:
        shown.append(("retry", "retry"))
    if state is ExportState.PUBLISHED:
        shown.append(("changes" if export.changed > 0 else "again", "retry"))
    if state in (ExportState.RUNNING, ExportState.WAITING_FOR_CANVAS):
        shown.append(("cancel", "cancel"))
    if state not in (ExportState.RUNNING, ExportState.UNDOING):
        shown.append(("undo", "undo"))
    return shown


async def export_panel(request: Request, visit: Visit, quiz: repo.QuizRecord) -> ExportPanel:
    state = request.app.state
    export = await export_view(state.engine, quiz.id)
    connect_url = f"{PREFIX}/canvas?next={PREFIX}/quizzes/{quiz.id}"
    configured = state.settings.canvas_configured
    connected = configured and (
        await connections.get_connection(state.engine, visit.user_id) is not None
    )
    panel = ExportPanel(
        quiz_id=quiz.id,
        shown=quiz.status in _SHOWN or export is not None,
        configured=configured,
        connected=connected,
        connect_url=connect_url,
        export=export,
        active=export is not None and export.state in _ACTIVE,
        default_title=export.title if export else quiz.spec.title,
        buttons=_buttons(export) if export is not None else [],
    )
    # The form: before the first export, and after one stopped (to pick another course).
    wants_form = export is None or (export.state in _STOPPED and export.canvas_quiz_id is None)
    if not (panel.shown and connected and wants_form):
        return panel
    t = Translator(language_of(request, quiz.spec.language))
    listed = await teacher_courses(
        request,
        visit.user_id,
        t,
        refused="export.token_refused",
        unavailable="export.courses_unavailable",
    )
    return replace(
        panel,
        courses=listed.found,
        courses_problem=listed.problem,
        token_refused=listed.token_refused,
        show_form=True,
    )


async def export_context(
    request: Request, visit: Visit, quiz: repo.QuizRecord
) -> dict[str, object]:
    """The quiz page's context for this section (its notices: `NOTICES`)."""
    return {"export": await export_panel(request, visit, quiz)}


@router.get("/quizzes/{quiz_id}/export/live")
async def export_live(request: Request, signed: Signed, quiz_id: uuid.UUID) -> HTMLResponse:
    """The export section alone (polled by app.js while an export runs)."""
    quiz = await owned_quiz(signed, quiz_id)
    context = {"quiz_id": quiz.id, **await export_context(request, signed, quiz)}
    language = language_of(request, quiz.spec.language)
    return render(request, "_export.html", context, language=language, visit=signed)


def _refusal(err: APIError) -> str:
    """The notice for what the export lifecycle refused (its messages are English text)."""
    message = err.message
    if isinstance(err, NotFound):
        return "not_exported"
    for words, key in (
        ("not configured", "not_configured"),
        ("connect Canvas first", "not_connected"),
        ("no export of this quiz is running", "not_running"),
        ("is running", "running"),
        ("no approved question", "none_approved"),
        ("cannot be exported yet", "not_ready"),
        ("undo that export", "other_course"),
        ("course_id", "no_course"),
    ):
        if words in message:
            return key
    return "refused"


async def _run(quiz_id: uuid.UUID, action: Awaitable[object], done: str) -> Response:
    page = f"{PREFIX}/quizzes/{quiz_id}"
    try:
        await action
    except APIError as err:
        return redirect(page, f"export_{_refusal(err)}")
    except TemporalUnavailableError:
        return redirect(page, "export_unavailable")
    return redirect(page, f"export_{done}")


def _points(raw: object) -> float | None:
    try:
        points = float(str(raw).strip().replace(",", ".")) if str(raw).strip() else 1.0
    except ValueError:
        return None
    return points if math.isfinite(points) and 0 <= points <= 1000 else None


@router.post("/quizzes/{quiz_id}/export")
async def export(request: Request, signed: Signed, quiz_id: uuid.UUID) -> Response:
    form = await signed.form()
    quiz = await owned_quiz(signed, quiz_id)
    page = f"{PREFIX}/quizzes/{quiz_id}"
    course_id = _course_id(form.get("course_id"))
    if course_id is None:
        return redirect(page, "export_no_course")
    points = _points(form.get("points_per_question") or "")
    if points is None:
        return redirect(page, "export_bad_points")
    title = str(form.get("title") or "").strip()[:MAX_TITLE_CHARS] or quiz.spec.title
    wanted = ExportRequest(course_id=course_id, title=title, points_per_question=points)
    return await _start(request, signed, quiz_id, wanted, "started")


async def _start(
    request: Request, signed: Visit, quiz_id: uuid.UUID, wanted: ExportRequest | None, done: str
) -> Response:
    state = request.app.state
    started = start_export(
        state.engine, state.temporal, state.settings, signed.user_id, quiz_id, wanted
    )
    return await _run(quiz_id, started, done)


@router.post("/quizzes/{quiz_id}/export/retry")
async def retry(request: Request, signed: Signed, quiz_id: uuid.UUID) -> Response:
    """Export again to where the last export went (retry, or export the changes)."""
    await signed.form()
    await owned_quiz(signed, quiz_id)
    return await _start(request, signed, quiz_id, None, "retried")


@router.post("/quizzes/{quiz_id}/export/undo")
async def undo(request: Request, signed: Signed, quiz_id: uuid.UUID) -> Response:
    await signed.form()
    await owned_quiz(signed, quiz_id)
    state = request.app.state
    undone = undo_export(state.engine, state.temporal, signed.user_id, quiz_id)
    return await _run(quiz_id, undone, "undoing")


@router.post("/quizzes/{quiz_id}/export/cancel")
async def cancel(request: Request, signed: Signed, quiz_id: uuid.UUID) -> Response:
    await signed.form()
    await owned_quiz(signed, quiz_id)
    state = request.app.state
    stopped = cancel_export(state.engine, state.temporal, signed.user_id, quiz_id)
    return await _run(quiz_id, stopped, "cancelled")

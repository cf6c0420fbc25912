"""`/quizzes/{id}/export`: the quiz to Canvas New Quizzes, as a Temporal workflow.

`POST` starts it (or continues a stopped one, or updates a published one) and answers
202 at once; `GET` says where it stands ("X of Y questions exported", the Canvas link,
why it stopped); `DELETE` undoes it (deletes the Canvas quiz); `POST .../cancel` stops a
running one. The QTI download is `GET /quizzes/{id}/export.zip` (api/routes/exports.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from api import export_lifecycle as lifecycle
from api.deps import AppSettings, CurrentUser, Engine, OwnedQuiz, Temporal
from api.errors import error_responses
from api.export_lifecycle import ExportView
from quizgen.db.canvas_exports import ExportRequest

router = APIRouter(prefix="/quizzes/{quiz_id}/export", tags=["canvas export"])

_errors = error_responses(401, 404, 409, 422, 503)


class CanvasExportCreate(BaseModel):
    """Where to export. Without a body (or a `course_id`), where the last export went."""

    model_config = ConfigDict(extra="forbid")

    # A Canvas course id (`GET /canvas/courses` lists the teacher's).
    course_id: Annotated[str, Field(pattern=r"^[0-9]{1,20}$")] | None = None
    # The Canvas quiz's title; the quiz's own by default.
    title: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    points_per_question: Annotated[float, Field(gt=0, le=1000)] = 1.0


@router.post("", status_code=status.HTTP_202_ACCEPTED, responses=_errors)
async def export_to_canvas(
    quiz: OwnedQuiz,
    user: CurrentUser,
    engine: Engine,
    temporal: Temporal,
    settings: AppSettings,
    body: CanvasExportCreate | None = None,
) -> ExportView:
    """Export the approved questions, in the quiz's order, to a New Quiz in the course.

    Again after a failure or a cancellation: continues where it stopped (nothing is
    created twice). Again after it was published: updates the questions edited since,
    adds newly approved ones and removes those no longer approved. 409 while one runs,
    without a Canvas connection, or without approved questions.
    """
    request = None
    if body is not None and body.course_id is not None:
        request = ExportRequest(
            course_id=body.course_id,
            title=body.title or quiz.spec.title,
            points_per_question=body.points_per_question,
        )
    return await lifecycle.start_export(engine, temporal, settings, user, quiz.id, request)


@router.get("", responses=_errors)
async def export_status(quiz: OwnedQuiz, engine: Engine) -> ExportView:
    """Where the export stands: state, "X of Y questions exported", the Canvas quiz."""
    return await lifecycle.exported_view(engine, quiz.id)


@router.delete("", status_code=status.HTTP_202_ACCEPTED, responses=_errors)
async def undo_export(
    quiz: OwnedQuiz, user: CurrentUser, engine: Engine, temporal: Temporal
) -> ExportView:
    """Undo the export: delete the Canvas quiz it made (in the background; state
    `undoing`, then the export is gone and the quiz back in review)."""
    return await lifecycle.undo_export(engine, temporal, user, quiz.id)


@router.post("/cancel", status_code=status.HTTP_202_ACCEPTED, responses=_errors)
async def cancel_export(
    quiz: OwnedQuiz, user: CurrentUser, engine: Engine, temporal: Temporal
) -> ExportView:
    """Stop the running export; what it made stays, and exporting again continues."""
    await lifecycle.cancel_export(engine, temporal, user, quiz.id)
    return await lifecycle.exported_view(engine, quiz.id)

"""A quiz's export to Canvas New Quizzes as PostgreSQL keeps it: the request, its state,
the Canvas quiz, and each question's Canvas item.

The item records are what make an export exactly once per question (invariant 9):

- `canvas_item_id` set: the item exists in Canvas; a changed question (its version or
  payload digest moved on) is updated in place, never added again;
- only `attempted_digest` set: a create was sent and its answer never recorded (a lost
  response, a killed worker): the item may exist, so the exporter looks for it in Canvas
  (by its title, `quizgen:<question id>`) before creating;
- no record: nothing was ever sent for the question.

The same for the Canvas quiz: `quiz_attempted` before its create, `quiz_marker` in its
instructions to find it again.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quizgen.db.engine import single_statement
from quizgen.db.review import ReviewStatus, review_order
from quizgen.db.tables import (
    CanvasExportItemRow,
    CanvasExportRow,
    QuestionRow,
    QuizRow,
    utc_now,
)
from quizgen.domain import ExportState, QuizStatus

__all__ = [
    "ExportCounts",
    "ExportRecord",
    "ExportRequest",
    "ItemRecord",
    "approved_question_ids",
    "delete_export_in",
    "export_counts",
    "forget_canvas_quiz",
    "forget_item",
    "get_export",
    "get_export_in",
    "get_item",
    "item_records",
    "mark_item_attempted",
    "mark_quiz_attempted",
    "record_canvas_quiz",
    "record_item",
    "save_request_in",
    "set_state_in",
]

_export = CanvasExportRow.__table__  # type: ignore[attr-defined]
_item = CanvasExportItemRow.__table__  # type: ignore[attr-defined]
_question = QuestionRow.__table__  # type: ignore[attr-defined]
_quiz = QuizRow.__table__  # type: ignore[attr-defined]


class ExportRequest(BaseModel):
    """Where a teacher asked the quiz to go."""

    model_config = ConfigDict(frozen=True)

    course_id: str
    title: str
    points_per_question: float


class ExportRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    quiz_id: uuid.UUID
    # The quiz's teacher: whose Canvas token the export uses.
    owner_id: str
    course_id: str
    title: str
    points_per_question: float
    state: ExportState
    message: str | None
    review_status: QuizStatus
    quiz_marker: str
    quiz_attempted: bool
    canvas_quiz_id: str | None
    canvas_quiz_url: str | None
    started_at: datetime
    finished_at: datetime | None

    @property
    def request(self) -> ExportRequest:
        return ExportRequest(
            course_id=self.course_id,
            title=self.title,
            points_per_question=self.points_per_question,
        )


class ItemRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    question_id: uuid.UUID
    canvas_item_id: str | None
    exported_version: int | None
    exported_digest: str | None
    attempted_digest: str | None


class ExportCounts(BaseModel):
    """Approved questions (`total`), those whose current version is in Canvas
    (`exported`), and those in Canvas at an older version (`changed`)."""

    model_config = ConfigDict(frozen=True)

    total: int = 0
    exported: int = 0
    changed: int = 0


async def get_export(engine: AsyncEngine, quiz_id: uuid.UUID) -> ExportRecord | None:
    async with single_statement(engine) as conn:
        return await get_export_in(conn, quiz_id)


async def get_export_in(
    conn: AsyncConnection, quiz_id: uuid.UUID, *, for_update: bool = False
) -> ExportRecord | None:
    query = (
        sa.select(_export, _quiz.c.owner_id)
        .join(_quiz, _quiz.c.id == _export.c.quiz_id)
        .where(_export.c.quiz_id == quiz_id)
    )
    if for_update:
        query = query.with_for_update(of=_export)
    row = (await conn.execute(query)).first()
    return ExportRecord.model_validate(row._mapping) if row is not None else None


async def save_request_in(
    conn: AsyncConnection,
    quiz_id: uuid.UUID,
    request: ExportRequest,
    review_status: QuizStatus,
) -> None:
    """Record an export (or a retry, or a re-export) as running.

    What an earlier export made stays (the Canvas quiz, the item records): a retry
    continues and a re-export updates. The caller has checked that the course is the
    same one when a Canvas quiz exists.
    """
    now = utc_now()
    values = {
        **request.model_dump(),
        "state": ExportState.RUNNING.value,
        "message": None,
        "started_at": now,
        "finished_at": None,
    }
    await conn.execute(
        insert(_export)
        .values(
            quiz_id=quiz_id,
            review_status=review_status.value,
            quiz_marker=secrets.token_hex(16),
            quiz_attempted=False,
            **values,
        )
        .on_conflict_do_update(index_elements=[_export.c.quiz_id], set_=values)
    )


async def set_state_in(
    conn: AsyncConnection, quiz_id: uuid.UUID, state: ExportState, message: str | None = None
) -> None:
    ended = state in (ExportState.PUBLISHED, ExportState.FAILED, ExportState.CANCELLED)
    await conn.execute(
        _export.update()
        .where(_export.c.quiz_id == quiz_id)
        .values(state=state.value, message=message, finished_at=utc_now() if ended else None)
    )


async def mark_quiz_attempted(
    engine: AsyncEngine, quiz_id: uuid.UUID, *, attempted: bool = True
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            _export.update().where(_export.c.quiz_id == quiz_id).values(quiz_attempted=attempted)
        )


async def record_canvas_quiz(
    engine: AsyncEngine, quiz_id: uuid.UUID, canvas_quiz_id: str, url: str
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            _export.update()
            .where(_export.c.quiz_id == quiz_id)
            .values(canvas_quiz_id=canvas_quiz_id, canvas_quiz_url=url, quiz_attempted=True)
        )


async def forget_canvas_quiz(engine: AsyncEngine, quiz_id: uuid.UUID) -> None:
    """The Canvas quiz is gone (deleted in Canvas): forget it and its items, a new marker."""
    async with engine.begin() as conn:
        await conn.execute(_item.delete().where(_item.c.quiz_id == quiz_id))
        await conn.execute(
            _export.update()
            .where(_export.c.quiz_id == quiz_id)
            .values(
                canvas_quiz_id=None,
                canvas_quiz_url=None,
                quiz_attempted=False,
                quiz_marker=secrets.token_hex(16),
            )
        )


async def delete_export_in(conn: AsyncConnection, quiz_id: uuid.UUID) -> None:
    """Undo done: the quiz has no export any more."""
    await conn.execute(_item.delete().where(_item.c.quiz_id == quiz_id))
    await conn.execute(_export.delete().where(_export.c.quiz_id == quiz_id))


async def get_item(engine: AsyncEngine, question_id: uuid.UUID) -> ItemRecord | None:
    async with single_statement(engine) as conn:
        row = (
            await conn.execute(sa.select(_item).where(_item.c.question_id == question_id))
        ).first()
    return ItemRecord.model_validate(row._mapping) if row is not None else None


async def item_records(engine: AsyncEngine, quiz_id: uuid.UUID) -> dict[uuid.UUID, ItemRecord]:
    async with single_statement(engine) as conn:
        rows = await conn.execute(sa.select(_item).where(_item.c.quiz_id == quiz_id))
        return {row.question_id: ItemRecord.model_validate(row._mapping) for row in rows}


async def _upsert_item(
    engine: AsyncEngine, quiz_id: uuid.UUID, question_id: uuid.UUID, **values: object
) -> None:
    values = {**values, "updated_at": utc_now()}
    async with engine.begin() as conn:
        await conn.execute(
            insert(_item)
            .values(question_id=question_id, quiz_id=quiz_id, **values)
            .on_conflict_do_update(index_elements=[_item.c.question_id], set_=values)
        )


async def mark_item_attempted(
    engine: AsyncEngine, quiz_id: uuid.UUID, question_id: uuid.UUID, digest: str
) -> None:
    """Written (and committed) before the item's create is sent."""
    await _upsert_item(engine, quiz_id, question_id, attempted_digest=digest)


async def record_item(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    question_id: uuid.UUID,
    *,
    canvas_item_id: str,
    version: int,
    digest: str,
) -> None:
    await _upsert_item(
        engine,
        quiz_id,
        question_id,
        canvas_item_id=canvas_item_id,
        exported_version=version,
        exported_digest=digest,
        attempted_digest=None,
    )


async def forget_item(engine: AsyncEngine, question_id: uuid.UUID) -> None:
    """The item is gone from Canvas (deleted there, or pruned by the export)."""
    async with engine.begin() as conn:
        await conn.execute(_item.delete().where(_item.c.question_id == question_id))


async def approved_question_ids(engine: AsyncEngine, quiz_id: uuid.UUID) -> list[uuid.UUID]:
    """The questions an export sends, in the quiz's review order."""
    async with single_statement(engine) as conn:
        rows = await conn.execute(
            sa.select(_question.c.id)
            .where(
                _question.c.quiz_id == quiz_id,
                _question.c.review_status == ReviewStatus.APPROVED.value,
            )
            .order_by(*review_order())
        )
        return [row.id for row in rows]


async def export_counts(engine: AsyncEngine, quiz_id: uuid.UUID) -> ExportCounts:
    """ "X of Y questions exported", from what Canvas has taken of the approved questions."""
    in_canvas = _item.c.canvas_item_id.is_not(None)
    current = in_canvas & (_item.c.exported_version == _question.c.version)
    async with single_statement(engine) as conn:
        row = (
            await conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.count().filter(current),
                    sa.func.count().filter(in_canvas & ~current),
                )
                .select_from(_question.outerjoin(_item, _item.c.question_id == _question.c.id))
                .where(
                    _question.c.quiz_id == quiz_id,
                    _question.c.review_status == ReviewStatus.APPROVED.value,
                )
            )
        ).one()
    return ExportCounts(total=int(row[0]), exported=int(row[1]), changed=int(row[2]))

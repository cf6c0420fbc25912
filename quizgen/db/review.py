"""Reading and reviewing saved questions: list, edit (re-validated), approve, reject, restore.

A question is pending, approved or rejected (`ReviewStatus`). Rejected questions
are kept (never deleted) and left out of the export; restoring one makes it
pending again. Edits never delete a question and never bypass the question-type
rules or the quiz's no-duplicates rule. Every question has a `version` (1 when
saved) that goes up by one with each change of its data or review status; a
change of data clears the approval unless the same edit approves the new data,
and leaves a rejected question rejected (restore it to have it reviewed again). An edit may
name the versions it was based on: it is then refused (`QuestionChangedError`)
when the question has moved on, checked and written under the row's lock so
two reviewers can never both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db.engine import single_statement, snapshot
from quizgen.db.tables import QuestionRow, QuizModuleRow, QuizRow
from quizgen.domain import Difficulty, QuestionType, QuizStatus
from quizgen.errors import (
    DuplicateQuestionError,
    InvalidQuestionError,
    QuestionNotFoundError,
    ReviewError,
)
from quizgen.questions import QUESTION_MODELS, normalize_text, text_hash
from quizgen.validation import describe_problems

__all__ = [
    "QuestionChangedError",
    "QuestionFilter",
    "QuestionPublic",
    "QuestionSource",
    "QuizSummary",
    "ReviewStatus",
    "get_question",
    "list_questions",
    "list_quizzes",
    "update_question",
]

_quiz = QuizRow.__table__  # type: ignore[attr-defined]
_question = QuestionRow.__table__  # type: ignore[attr-defined]
_module = QuizModuleRow.__table__  # type: ignore[attr-defined]


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class QuestionSource(StrEnum):
    GENERATED = "generated"
    MANUAL = "manual"


# Review order: the quiz-level order reviewers set, then batch and place in it.
def review_order() -> list[Any]:
    return [_question.c.quiz_position, _question.c.batch_key, _question.c.position, _question.c.id]


class QuizSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    title: str
    status: QuizStatus
    questions_saved: int
    questions_target: int
    created_at: datetime
    updated_at: datetime


class QuestionPublic(BaseModel):
    """A saved question as reviewers see it (the API's shape; its quiz is the caller's)."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    module_id: str
    # None for a question written by hand (it belongs to no batch).
    batch_key: str | None
    question_type: QuestionType
    difficulty: Difficulty
    question_data: dict[str, Any]
    # True iff review_status is approved (kept for clients older than review_status).
    is_approved: bool
    review_status: ReviewStatus
    source: QuestionSource
    # The question's place in the quiz's review order (ascending; ties possible).
    quiz_position: int
    created_at: datetime
    updated_at: datetime
    # One more with every change of question_data or review status (the API's ETag).
    version: int


class QuestionChangedError(ReviewError):
    """The question is no longer at the version an edit was based on; nothing was changed.

    `current` is the question as it is now (another reviewer's version).
    """

    def __init__(self, current: QuestionPublic) -> None:
        super().__init__(
            f"question {current.id} was changed meanwhile (it is at version {current.version})"
        )
        self.current = current


class QuestionFilter(BaseModel):
    model_config = ConfigDict(frozen=True)

    module_id: str | None = None
    batch_key: str | None = None
    question_type: QuestionType | None = None
    is_approved: bool | None = None
    review_status: ReviewStatus | None = None
    source: QuestionSource | None = None


def _record(row: Any) -> QuestionPublic:
    return QuestionPublic(
        id=row.id,
        module_id=row.module_id,
        batch_key=row.batch_key,
        question_type=QuestionType(row.question_type),
        difficulty=Difficulty(row.difficulty),
        question_data=row.question_data,
        is_approved=row.is_approved,
        review_status=ReviewStatus(row.review_status),
        source=QuestionSource(row.source),
        quiz_position=row.quiz_position,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


async def list_quizzes(
    engine: AsyncEngine, owner_id: str, *, offset: int, limit: int
) -> tuple[list[QuizSummary], int]:
    counts = (
        sa.select(_question.c.quiz_id, sa.func.count().label("n"))
        .where(_question.c.source == QuestionSource.GENERATED.value)
        .group_by(_question.c.quiz_id)
        .subquery()
    )
    batch = (
        sa.func.jsonb_array_elements(_module.c.batches)
        .table_valued(sa.column("value", JSONB))
        .alias("b")
    )
    targets = (
        sa.select(
            _module.c.quiz_id,
            sa.func.sum(sa.cast(batch.c.value["count"].astext, sa.Integer)).label("n"),
        )
        .select_from(_module.join(batch, sa.true()))
        .group_by(_module.c.quiz_id)
        .subquery()
    )
    query = (
        sa.select(
            _quiz,
            sa.func.coalesce(counts.c.n, 0).label("questions_saved"),
            sa.func.coalesce(targets.c.n, 0).label("questions_target"),
        )
        .outerjoin(counts, counts.c.quiz_id == _quiz.c.id)
        .outerjoin(targets, targets.c.quiz_id == _quiz.c.id)
        .where(_quiz.c.owner_id == owner_id)
        .order_by(_quiz.c.created_at.desc(), _quiz.c.id)
        .offset(offset)
        .limit(limit)
    )
    async with snapshot(engine) as conn:
        total = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(_quiz).where(_quiz.c.owner_id == owner_id)
            )
        ).scalar_one()
        rows = await conn.execute(query)
        summaries = [
            QuizSummary(
                id=row.id,
                title=row.title,
                status=QuizStatus(row.status),
                questions_saved=row.questions_saved,
                questions_target=row.questions_target,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            for row in rows
        ]
    return summaries, int(total)


async def list_questions(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    where: QuestionFilter,
    *,
    offset: int,
    limit: int,
) -> tuple[list[QuestionPublic], int]:
    conditions = [_question.c.quiz_id == quiz_id]
    if where.module_id is not None:
        conditions.append(_question.c.module_id == where.module_id)
    if where.batch_key is not None:
        conditions.append(_question.c.batch_key == where.batch_key)
    if where.question_type is not None:
        conditions.append(_question.c.question_type == where.question_type.value)
    if where.is_approved is not None:
        conditions.append(_question.c.is_approved == where.is_approved)
    if where.review_status is not None:
        conditions.append(_question.c.review_status == where.review_status.value)
    if where.source is not None:
        conditions.append(_question.c.source == where.source.value)
    async with snapshot(engine) as conn:
        total = (
            await conn.execute(sa.select(sa.func.count()).select_from(_question).where(*conditions))
        ).scalar_one()
        rows = await conn.execute(
            sa.select(_question)
            .where(*conditions)
            .order_by(*review_order())
            .offset(offset)
            .limit(limit)
        )
        return [_record(row) for row in rows], int(total)


async def get_question(
    engine: AsyncEngine, quiz_id: uuid.UUID, question_id: uuid.UUID
) -> QuestionPublic:
    async with single_statement(engine) as conn:
        row = (
            await conn.execute(
                sa.select(_question).where(
                    _question.c.quiz_id == quiz_id, _question.c.id == question_id
                )
            )
        ).first()
    if row is None:
        raise QuestionNotFoundError(f"quiz {quiz_id} has no question {question_id}")
    return _record(row)


def _checked(question_type: QuestionType, question_data: dict[str, Any]) -> dict[str, Any]:
    """The question JSON as stored, if it passes its type's rules."""
    try:
        question = QUESTION_MODELS[question_type].model_validate(question_data)
    except ValidationError as exc:
        raise InvalidQuestionError(describe_problems(exc)) from None
    return question.model_dump(mode="json")


async def update_question(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    question_id: uuid.UUID,
    *,
    question_data: dict[str, Any] | None = None,
    is_approved: bool | None = None,
    decision: Literal["reject", "restore"] | None = None,
    expected_versions: Collection[int] | None = None,
) -> QuestionPublic:
    """Change a question's data (validated like LLM output) and/or its review status.

    New data that differs from the stored data clears the approval, unless
    `is_approved` is given too (then it says what the new data's approval is);
    a rejected question stays rejected. `is_approved=True` approves (a rejected
    question too), `False` makes an approved question pending. `decision`
    "reject" rejects the question, "restore" makes a rejected one pending (any
    other is left as it is).
    A call that changes something bumps `version` once; one that changes
    nothing (the same data, an approved question approved again) leaves the
    row as it is. With `expected_versions`, the question's current version
    must be one of them, else `QuestionChangedError` and nothing is changed.
    The row is locked from the check to the write, so of two edits based on
    the same version exactly one is saved.
    """
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                sa.select(_question)
                .where(_question.c.quiz_id == quiz_id, _question.c.id == question_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise QuestionNotFoundError(f"quiz {quiz_id} has no question {question_id}")
        current = _record(row)
        if expected_versions is not None and current.version not in expected_versions:
            raise QuestionChangedError(current)
        values: dict[str, Any] = {}
        if question_data is not None:
            data = _checked(current.question_type, question_data)
            if data != current.question_data:
                values["question_data"] = data
                values["normalized_text"] = normalize_text(data["question_text"])
                values["text_hash"] = text_hash(data["question_text"])
        status = _new_status(current.review_status, bool(values), is_approved, decision)
        if status is not current.review_status:
            values["review_status"] = status.value
            values["is_approved"] = status is ReviewStatus.APPROVED
        if not values:
            return current
        values["version"] = _question.c.version + 1
        values["updated_at"] = datetime.now(UTC)
        try:
            updated = (
                await conn.execute(
                    _question.update()
                    .where(_question.c.id == question_id)
                    .values(**values)
                    .returning(*_question.c)
                )
            ).one()
        except sa.exc.IntegrityError as exc:
            raise DuplicateQuestionError(
                "another question of this quiz already has this text"
            ) from exc
        return _record(updated)


def _new_status(
    status: ReviewStatus,
    data_changed: bool,
    is_approved: bool | None,
    decision: Literal["reject", "restore"] | None,
) -> ReviewStatus:
    if decision == "reject":
        return ReviewStatus.REJECTED
    if decision == "restore":
        return ReviewStatus.PENDING if status is ReviewStatus.REJECTED else status
    if is_approved:
        return ReviewStatus.APPROVED
    if status is ReviewStatus.APPROVED and (is_approved is False or data_changed):
        return ReviewStatus.PENDING
    return status

"""Review decisions beyond one question's edit: add a question by hand, reorder, count.

A question written by hand (`source` "manual") is checked by the same rules as an
edit (its type's model, no other question of the quiz with the same text) and
belongs to the quiz but to no batch (`batch_key` NULL): generation progress,
which counts saved batches, never counts it. It starts pending, after the
quiz's last question.

The review order is quiz-level (`quiz_position`): `reorder_questions` takes the
whole order, `move_question` swaps a question with its neighbour. Both renumber
the quiz's questions 0, 1, 2... under the quiz row's lock, so two reorders take
turns. Moving does not change a question's version (its data and review status
are what the version stands for).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quizgen.db.review import (
    QuestionPublic,
    QuestionSource,
    ReviewStatus,
    _checked,
    _record,
    review_order,
)
from quizgen.db.tables import QuestionRow, QuizModuleRow, QuizRow
from quizgen.domain import Difficulty, QuestionType
from quizgen.errors import (
    DuplicateQuestionError,
    InvalidQuestionError,
    QuestionNotFoundError,
    QuizNotFoundError,
    ReviewError,
)
from quizgen.questions import normalize_text, text_hash

__all__ = [
    "OrderMismatchError",
    "ReviewCounts",
    "add_question",
    "move_question",
    "reorder_questions",
    "review_counts",
]

_quiz = QuizRow.__table__  # type: ignore[attr-defined]
_question = QuestionRow.__table__  # type: ignore[attr-defined]
_module = QuizModuleRow.__table__  # type: ignore[attr-defined]


class OrderMismatchError(ReviewError):
    """A new order that does not name every question of the quiz exactly once."""

    def __init__(self, missing: int, unknown: int, repeated: int) -> None:
        super().__init__(
            "the order must name every question of the quiz exactly once "
            f"({missing} missing, {unknown} unknown, {repeated} repeated)"
        )
        self.missing, self.unknown, self.repeated = missing, unknown, repeated


class ReviewCounts(BaseModel):
    """How many of the quiz's questions are approved, pending, rejected; to_export = approved."""

    model_config = ConfigDict(frozen=True)

    approved: int = 0
    pending: int = 0
    rejected: int = 0
    to_export: int = 0


async def review_counts(engine: AsyncEngine, quiz_id: uuid.UUID) -> ReviewCounts:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(_question.c.review_status, sa.func.count())
            .where(_question.c.quiz_id == quiz_id)
            .group_by(_question.c.review_status)
        )
        counts = {status: int(n) for status, n in rows}
    approved = counts.get(ReviewStatus.APPROVED.value, 0)
    return ReviewCounts(
        approved=approved,
        pending=counts.get(ReviewStatus.PENDING.value, 0),
        rejected=counts.get(ReviewStatus.REJECTED.value, 0),
        to_export=approved,
    )


async def _lock_quiz(conn: AsyncConnection, quiz_id: uuid.UUID) -> None:
    # NO KEY UPDATE: batches saving meanwhile (their foreign keys take KEY SHARE) go on.
    found = await conn.execute(
        sa.select(_quiz.c.id).where(_quiz.c.id == quiz_id).with_for_update(key_share=False)
    )
    if found.first() is None:
        raise QuizNotFoundError(f"quiz {quiz_id} does not exist")


async def add_question(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    *,
    module_id: str,
    question_type: QuestionType,
    difficulty: Difficulty,
    question_data: dict[str, Any],
) -> QuestionPublic:
    """Save a question written by hand (pending, last in review order).

    `InvalidQuestionError` when it breaks its type's rules or names a module the
    quiz does not have; `DuplicateQuestionError` when the quiz already has its text.
    """
    data = _checked(question_type, question_data)
    digest = text_hash(data["question_text"])
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await _lock_quiz(conn, quiz_id)
        module = await conn.execute(
            sa.select(_module.c.module_id).where(
                _module.c.quiz_id == quiz_id, _module.c.module_id == module_id
            )
        )
        if module.first() is None:
            raise InvalidQuestionError(f"module_id: the quiz has no module {module_id!r}")
        taken = await conn.execute(
            sa.select(_question.c.id).where(
                _question.c.quiz_id == quiz_id, _question.c.text_hash == digest
            )
        )
        if taken.first() is not None:
            raise DuplicateQuestionError("another question of this quiz already has this text")
        last = (
            await conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(_question.c.quiz_position) + 1, 0)).where(
                    _question.c.quiz_id == quiz_id
                )
            )
        ).scalar_one()
        try:
            row = (
                await conn.execute(
                    _question.insert()
                    .values(
                        id=uuid.uuid4(),
                        quiz_id=quiz_id,
                        module_id=module_id,
                        batch_key=None,
                        position=0,
                        question_type=question_type.value,
                        difficulty=difficulty.value,
                        question_data=data,
                        normalized_text=normalize_text(data["question_text"]),
                        text_hash=digest,
                        is_approved=False,
                        review_status=ReviewStatus.PENDING.value,
                        source=QuestionSource.MANUAL.value,
                        quiz_position=last,
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(*_question.c)
                )
            ).one()
        except sa.exc.IntegrityError as exc:
            # A batch saved the same text a moment ago.
            raise DuplicateQuestionError(
                "another question of this quiz already has this text"
            ) from exc
    return _record(row)


async def _renumber(conn: AsyncConnection, quiz_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    if not ids:
        return
    numbered = sa.values(
        sa.column("id", sa.Uuid), sa.column("n", sa.Integer), name="numbered"
    ).data([(qid, n) for n, qid in enumerate(ids)])
    await conn.execute(
        _question.update()
        .where(_question.c.quiz_id == quiz_id, _question.c.id == numbered.c.id)
        .values(quiz_position=numbered.c.n)
    )


async def _current_order(conn: AsyncConnection, quiz_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await conn.execute(
        sa.select(_question.c.id).where(_question.c.quiz_id == quiz_id).order_by(*review_order())
    )
    return [qid for (qid,) in rows]


async def reorder_questions(
    engine: AsyncEngine, quiz_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Put the quiz's questions in the order of `ids`, which must name each exactly once
    (else `OrderMismatchError` and nothing changes). Returns the new order."""
    async with engine.begin() as conn:
        await _lock_quiz(conn, quiz_id)
        current = await _current_order(conn, quiz_id)
        wanted = set(ids)
        have = set(current)
        if wanted != have or len(ids) != len(wanted):
            raise OrderMismatchError(
                missing=len(have - wanted),
                unknown=len(wanted - have),
                repeated=len(ids) - len(wanted),
            )
        await _renumber(conn, quiz_id, ids)
    return list(ids)


async def move_question(
    engine: AsyncEngine, quiz_id: uuid.UUID, question_id: uuid.UUID, steps: int
) -> list[uuid.UUID]:
    """Move a question `steps` places later (negative: earlier) in the review order,
    stopping at either end. Returns the new order."""
    async with engine.begin() as conn:
        await _lock_quiz(conn, quiz_id)
        order = await _current_order(conn, quiz_id)
        if question_id not in order:
            raise QuestionNotFoundError(f"quiz {quiz_id} has no question {question_id}")
        old = order.index(question_id)
        new = max(0, min(len(order) - 1, old + steps))
        order.insert(new, order.pop(old))
        await _renumber(conn, quiz_id, order)
    return order

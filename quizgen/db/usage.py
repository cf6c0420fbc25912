"""What a teacher uses, for the quotas: questions per day, rounds running, questions held."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quizgen.db.engine import single_statement
from quizgen.db.tables import GenerationUsageRow, QuizModuleRow, QuizRow
from quizgen.domain import QuizStatus

__all__ = [
    "count_running_rounds_in",
    "held_questions",
    "lock_day_in",
    "reserve_questions_in",
]

_usage = GenerationUsageRow.__table__  # type: ignore[attr-defined]
_quiz = QuizRow.__table__  # type: ignore[attr-defined]
_module = QuizModuleRow.__table__  # type: ignore[attr-defined]


async def lock_day_in(conn: AsyncConnection, owner: str, day: date) -> int:
    """The questions the owner's rounds took on `day`, with that row locked for the rest of
    the caller's transaction: the owner's triggers are decided one after the other, so two
    at once cannot both slip under a limit."""
    await conn.execute(
        insert(_usage).values(owner_id=owner, day=day, questions=0).on_conflict_do_nothing()
    )
    used = await conn.scalar(
        sa.select(_usage.c.questions)
        .where(_usage.c.owner_id == owner, _usage.c.day == day)
        .with_for_update()
    )
    return int(used or 0)


async def reserve_questions_in(conn: AsyncConnection, owner: str, day: date, count: int) -> None:
    """Add `count` to the owner's day, inside the caller's transaction (the trigger's lock)."""
    await conn.execute(
        insert(_usage)
        .values(owner_id=owner, day=day, questions=count)
        .on_conflict_do_update(
            index_elements=[_usage.c.owner_id, _usage.c.day],
            set_={"questions": _usage.c.questions + count},
        )
    )


async def count_running_rounds_in(conn: AsyncConnection, owner: str, excluding: uuid.UUID) -> int:
    """The owner's other quizzes that are generating now."""
    running = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(_quiz)
        .where(
            _quiz.c.owner_id == owner,
            _quiz.c.status == QuizStatus.GENERATING_QUESTIONS.value,
            _quiz.c.id != excluding,
        )
    )
    return int(running or 0)


async def held_questions(engine: AsyncEngine, owner: str) -> int:
    """The question targets of all the owner's quizzes, added up."""
    batch = (
        sa.func.jsonb_array_elements(_module.c.batches)
        .table_valued(sa.column("value", JSONB))
        .alias("batch")
    )
    total = (
        sa.select(sa.func.coalesce(sa.func.sum(batch.c.value["count"].as_integer()), 0))
        .select_from(_module.join(_quiz, _quiz.c.id == _module.c.quiz_id))
        .join(batch, sa.true())
        .where(_quiz.c.owner_id == owner)
    )
    async with single_statement(engine) as conn:
        return int(await conn.scalar(total) or 0)

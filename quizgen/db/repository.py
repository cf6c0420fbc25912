"""The quiz itself: create, read (whole, or one module's context), lock, change status.

Typed functions over an `AsyncEngine` (one transaction each, so a caller
never sees half of a write), and `..._in` versions over a connection for
callers that compose a transaction of their own (`quizgen.db.rounds`). The
other tables have modules of their own in `quizgen.db` (see its `__init__`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quizgen.db.attempts import attempts_json, metadata_from, saved_json
from quizgen.db.engine import single_statement
from quizgen.db.json_rows import json_rows
from quizgen.db.tables import QuizModuleRow, QuizRow, utc_now
from quizgen.domain import (
    BatchSpec,
    FailureReason,
    GenerationMetadata,
    Language,
    ModuleSpec,
    QuizSpec,
    QuizStatus,
    Tone,
)
from quizgen.errors import QuizNotFoundError

__all__ = [
    "ModuleContext",
    "QuizLock",
    "QuizRecord",
    "create_quiz",
    "get_quiz",
    "get_quiz_in",
    "locked_quiz",
    "module_context",
    "module_query",
    "write_status",
]

_quiz = QuizRow.__table__  # type: ignore[attr-defined]
_module = QuizModuleRow.__table__  # type: ignore[attr-defined]


class QuizRecord(BaseModel):
    """A quiz as stored: its spec plus where generation stands.

    `generation_metadata` is assembled from the attempt rows and the saved
    batches (see `quizgen.db.attempts`), never stored as one document.
    """

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    owner_id: str
    spec: QuizSpec
    status: QuizStatus
    failure_reason: FailureReason | None
    failure_message: str | None
    generation_metadata: GenerationMetadata
    created_at: datetime
    updated_at: datetime


class ModuleContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    module: ModuleSpec
    language: Language
    tone: Tone
    llm_model: str | None
    temperature: float | None


async def create_quiz(engine: AsyncEngine, owner_id: str, spec: QuizSpec) -> uuid.UUID:
    quiz_id = uuid.uuid4()
    now = utc_now()
    async with engine.begin() as conn:
        await conn.execute(
            _quiz.insert().values(
                id=quiz_id,
                owner_id=owner_id,
                title=spec.title,
                language=spec.language.value,
                tone=spec.tone.value,
                status=QuizStatus.CREATED.value,
                llm_model=spec.llm_model,
                temperature=spec.temperature,
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            _module.insert(),
            [
                {
                    "quiz_id": quiz_id,
                    "module_id": module.module_id,
                    "position": position,
                    "name": module.name,
                    "content": module.content,
                    "batches": [b.model_dump(mode="json") for b in module.batches],
                }
                for position, module in enumerate(spec.modules)
            ],
        )
    return quiz_id


def _module_spec(row: Any) -> ModuleSpec:
    return ModuleSpec(
        module_id=row.module_id,
        name=row.name,
        content=row.content,
        batches=[BatchSpec.model_validate(b) for b in row.batches],
    )


async def get_quiz(engine: AsyncEngine, quiz_id: uuid.UUID) -> QuizRecord:
    async with single_statement(engine) as conn:
        return await get_quiz_in(conn, quiz_id)


# The quiz with its modules, saved batches and attempts, as one statement: a
# quiz is read on every API request about it, and four queries cost four round trips.
_MODULE_COLUMNS = [_module.c.module_id, _module.c.name, _module.c.content, _module.c.batches]
_modules = json_rows(_MODULE_COLUMNS, _module.c.quiz_id == _quiz.c.id, _module.c.position)
_READ_QUIZ = sa.select(
    _quiz,
    _modules.label("modules"),
    saved_json(_quiz.c.id).label("saved"),
    attempts_json(_quiz.c.id).label("attempts"),
)


async def get_quiz_in(
    conn: AsyncConnection, quiz_id: uuid.UUID, *, for_update: bool = False
) -> QuizRecord:
    """The quiz in the caller's transaction; `for_update` locks its row until commit."""
    query = _READ_QUIZ.where(_quiz.c.id == quiz_id)
    if for_update:
        # NO KEY UPDATE: enough to serialise status changes, and it leaves
        # draft writers (KEY SHARE, for their foreign key) unblocked. Only the
        # quiz row is locked: the subqueries in the select list lock nothing.
        query = query.with_for_update(of=_quiz, key_share=True)
    quiz = (await conn.execute(query)).first()
    if quiz is None:
        raise QuizNotFoundError(f"quiz {quiz_id} does not exist")
    spec = QuizSpec(
        title=quiz.title,
        language=Language(quiz.language),
        tone=Tone(quiz.tone),
        modules=[ModuleSpec.model_validate(m) for m in quiz.modules],
        llm_model=quiz.llm_model,
        temperature=quiz.temperature,
    )
    return QuizRecord(
        id=quiz.id,
        owner_id=quiz.owner_id,
        spec=spec,
        status=QuizStatus(quiz.status),
        failure_reason=FailureReason(quiz.failure_reason) if quiz.failure_reason else None,
        failure_message=quiz.failure_message,
        generation_metadata=metadata_from(quiz.attempts, quiz.saved, spec),
        created_at=quiz.created_at,
        updated_at=quiz.updated_at,
    )


def module_query(quiz_id: uuid.UUID, module_id: str) -> sa.Select[Any]:
    """The module's row with the quiz-wide settings (callers may add columns)."""
    return (
        sa.select(_module, _quiz.c.language, _quiz.c.tone, _quiz.c.llm_model, _quiz.c.temperature)
        .join(_quiz, _quiz.c.id == _module.c.quiz_id)
        .where(_module.c.quiz_id == quiz_id, _module.c.module_id == module_id)
    )


def module_context(row: Any) -> ModuleContext:
    """A `module_query` row as the generator's view of the module."""
    return ModuleContext(
        module=_module_spec(row),
        language=Language(row.language),
        tone=Tone(row.tone),
        llm_model=row.llm_model,
        temperature=row.temperature,
    )


async def write_status(
    conn: AsyncConnection,
    quiz_id: uuid.UUID,
    status: QuizStatus,
    reason: FailureReason | None = None,
    message: str | None = None,
    at: datetime | None = None,
) -> None:
    """Every status change of a quiz goes through here, inside the caller's transaction.

    A failure reason belongs to the status it explains: a change without one clears it.
    """
    await conn.execute(
        _quiz.update()
        .where(_quiz.c.id == quiz_id)
        .values(
            status=status.value,
            failure_reason=reason.value if reason else None,
            failure_message=message,
            updated_at=at or utc_now(),
        )
    )


class QuizLock:
    """The quiz, read with its row locked for the rest of a transaction (`locked_quiz`)."""

    def __init__(self, conn: AsyncConnection, quiz: QuizRecord) -> None:
        self._conn = conn
        self.quiz = quiz
        self.status = quiz.status

    @property
    def connection(self) -> AsyncConnection:
        """The transaction holding the lock, for writes that must commit with it."""
        return self._conn

    async def set_status(self, status: QuizStatus) -> None:
        """Change the status (clearing the failure reason: it explained the old one)."""
        await write_status(self._conn, self.quiz.id, status)
        self.status = status

    async def delete(self) -> None:
        """Remove the quiz; its modules, questions, drafts and attempts go with it (cascade)."""
        await self._conn.execute(_quiz.delete().where(_quiz.c.id == self.quiz.id))


@asynccontextmanager
async def locked_quiz(engine: AsyncEngine, quiz_id: uuid.UUID) -> AsyncIterator[QuizLock]:
    """Read the quiz and hold its row while the caller decides and acts.

    A status change made through the lock commits only if the block ends
    without an exception, so "claim, then ask Temporal" is all or nothing, and
    two callers deciding at once are served one after the other. The read is
    `get_quiz_in`'s one statement: deciding needs the whole quiz (owner, spec,
    saved batches), and reading it under the lock makes a second read needless.
    """
    async with engine.begin() as conn:
        yield QuizLock(conn, await get_quiz_in(conn, quiz_id, for_update=True))

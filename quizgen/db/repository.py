"""Every read and write of quiz data, as typed functions over an `AsyncEngine`.

Activities and the API call these; nothing else touches the tables. Each
function is one transaction, so a caller never sees half of a write.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quizgen.db.tables import QuestionRow, QuizModuleRow, QuizRow, SavedBatchRow
from quizgen.domain import (
    BatchSpec,
    Difficulty,
    FailureReason,
    GenerationMetadata,
    Language,
    ModuleSpec,
    QuestionType,
    QuizSpec,
    QuizStatus,
    Tone,
)
from quizgen.errors import QuizNotFoundError, QuizStateConflictError
from quizgen.questions import normalize_text

__all__ = [
    "ModuleContext",
    "QuizRecord",
    "SaveBatchRequest",
    "SaveBatchResult",
    "StatusLock",
    "create_quiz",
    "get_quiz",
    "load_module",
    "locked_status",
    "question_texts_by_module",
    "save_batch",
    "saved_batch_keys",
    "update_quiz_status",
]

_quiz = QuizRow.__table__  # type: ignore[attr-defined]
_module = QuizModuleRow.__table__  # type: ignore[attr-defined]
_saved = SavedBatchRow.__table__  # type: ignore[attr-defined]
_question = QuestionRow.__table__  # type: ignore[attr-defined]


class QuizRecord(BaseModel):
    """A quiz as stored: its spec plus where generation stands."""

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


class SaveBatchRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    quiz_id: uuid.UUID
    batch_key: str
    module_id: str
    question_type: QuestionType
    difficulty: Difficulty
    questions: list[dict[str, Any]]


class SaveBatchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    # False when the batch had been saved before: nothing was written this time.
    inserted: bool
    question_ids: list[uuid.UUID]
    # Indexes of questions whose text another batch of the quiz saved first;
    # when non-empty nothing was written and the batch must replace them.
    duplicate_indexes: list[int] = []


def _now() -> datetime:
    return datetime.now(UTC)


async def create_quiz(engine: AsyncEngine, owner_id: str, spec: QuizSpec) -> uuid.UUID:
    quiz_id = uuid.uuid4()
    now = _now()
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
                generation_metadata=GenerationMetadata(
                    total_questions_target=spec.question_target
                ).model_dump(mode="json"),
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
    async with engine.connect() as conn:
        quiz = (await conn.execute(sa.select(_quiz).where(_quiz.c.id == quiz_id))).first()
        if quiz is None:
            raise QuizNotFoundError(f"quiz {quiz_id} does not exist")
        modules = await conn.execute(
            sa.select(_module).where(_module.c.quiz_id == quiz_id).order_by(_module.c.position)
        )
        spec = QuizSpec(
            title=quiz.title,
            language=Language(quiz.language),
            tone=Tone(quiz.tone),
            modules=[_module_spec(row) for row in modules],
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
        generation_metadata=GenerationMetadata.model_validate(quiz.generation_metadata),
        created_at=quiz.created_at,
        updated_at=quiz.updated_at,
    )


async def load_module(engine: AsyncEngine, quiz_id: uuid.UUID, module_id: str) -> ModuleContext:
    """One module with the quiz-wide settings a generator needs (not the whole quiz)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(
                    _module, _quiz.c.language, _quiz.c.tone, _quiz.c.llm_model, _quiz.c.temperature
                )
                .join(_quiz, _quiz.c.id == _module.c.quiz_id)
                .where(_module.c.quiz_id == quiz_id, _module.c.module_id == module_id)
            )
        ).first()
    if row is None:
        raise QuizNotFoundError(f"quiz {quiz_id} has no module {module_id!r}")
    return ModuleContext(
        module=_module_spec(row),
        language=Language(row.language),
        tone=Tone(row.tone),
        llm_model=row.llm_model,
        temperature=row.temperature,
    )


async def question_texts_by_module(engine: AsyncEngine, quiz_id: uuid.UUID) -> dict[str, list[str]]:
    """Normalised texts of the quiz's saved questions, per module (for duplicate checks)."""
    texts: dict[str, list[str]] = {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(_question.c.module_id, _question.c.normalized_text)
            .where(_question.c.quiz_id == quiz_id)
            .order_by(_question.c.created_at, _question.c.position)
        )
        for module_id, text in rows:
            texts.setdefault(module_id, []).append(text)
    return texts


async def saved_batch_keys(engine: AsyncEngine, quiz_id: uuid.UUID) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(_saved.c.batch_key).where(_saved.c.quiz_id == quiz_id))
        return {key for (key,) in rows}


async def _lock_quiz(conn: AsyncConnection, quiz_id: uuid.UUID) -> None:
    # Serialises saves of one quiz, so two batches cannot both pass the
    # duplicate-text check with the same question.
    found = await conn.execute(sa.select(_quiz.c.id).where(_quiz.c.id == quiz_id).with_for_update())
    if found.first() is None:
        raise QuizNotFoundError(f"quiz {quiz_id} does not exist")


async def _ids_of_batch(conn: AsyncConnection, quiz_id: uuid.UUID, key: str) -> list[uuid.UUID]:
    rows = await conn.execute(
        sa.select(_question.c.id)
        .where(_question.c.quiz_id == quiz_id, _question.c.batch_key == key)
        .order_by(_question.c.position)
    )
    return [qid for (qid,) in rows]


class _DuplicateTexts(Exception):
    def __init__(self, indexes: list[int]) -> None:
        self.indexes = indexes


async def save_batch(engine: AsyncEngine, request: SaveBatchRequest) -> SaveBatchResult:
    """Write all of a batch's questions, or none; a second save of a batch writes nothing."""
    try:
        return await _save_batch(engine, request)
    except _DuplicateTexts as clash:
        return SaveBatchResult(inserted=False, question_ids=[], duplicate_indexes=clash.indexes)


async def _save_batch(engine: AsyncEngine, request: SaveBatchRequest) -> SaveBatchResult:
    texts = [normalize_text(q["question_text"]) for q in request.questions]
    now = _now()
    async with engine.begin() as conn:
        await _lock_quiz(conn, request.quiz_id)
        claimed = await conn.execute(
            insert(_saved)
            .values(
                quiz_id=request.quiz_id,
                batch_key=request.batch_key,
                question_count=len(request.questions),
                saved_at=now,
            )
            .on_conflict_do_nothing()
            .returning(_saved.c.batch_key)
        )
        if claimed.first() is None:
            ids = await _ids_of_batch(conn, request.quiz_id, request.batch_key)
            return SaveBatchResult(inserted=False, question_ids=ids)

        taken = await conn.execute(
            sa.select(_question.c.normalized_text).where(
                _question.c.quiz_id == request.quiz_id, _question.c.normalized_text.in_(texts)
            )
        )
        clashes = {text for (text,) in taken}
        if clashes:
            # Raising rolls back the claim on the batch key too: nothing is written.
            raise _DuplicateTexts([i for i, t in enumerate(texts) if t in clashes])

        ids = [uuid.uuid4() for _ in request.questions]
        await conn.execute(
            _question.insert(),
            [
                {
                    "id": qid,
                    "quiz_id": request.quiz_id,
                    "module_id": request.module_id,
                    "batch_key": request.batch_key,
                    "position": position,
                    "question_type": request.question_type.value,
                    "difficulty": request.difficulty.value,
                    "question_data": data,
                    "normalized_text": text,
                    "is_approved": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for position, (qid, data, text) in enumerate(
                    zip(ids, request.questions, texts, strict=True)
                )
            ],
        )
    return SaveBatchResult(inserted=True, question_ids=ids)


class StatusLock:
    """The quiz row, locked for the rest of a transaction (see `locked_status`)."""

    def __init__(self, conn: AsyncConnection, quiz_id: uuid.UUID, status: QuizStatus) -> None:
        self._conn = conn
        self._quiz_id = quiz_id
        self.status = status

    async def set(self, status: QuizStatus) -> None:
        """Change the status; a failure reason belongs to the status it explained."""
        await self._conn.execute(
            _quiz.update()
            .where(_quiz.c.id == self._quiz_id)
            .values(
                status=status.value, failure_reason=None, failure_message=None, updated_at=_now()
            )
        )
        self.status = status


@asynccontextmanager
async def locked_status(engine: AsyncEngine, quiz_id: uuid.UUID) -> AsyncIterator[StatusLock]:
    """Hold the quiz row (`FOR UPDATE`) while the caller decides and acts.

    A status change made through the lock commits only if the block ends
    without an exception, so "claim, then ask Temporal" is all or nothing, and
    two callers deciding at once are served one after the other.
    """
    async with engine.begin() as conn:
        status = (
            await conn.execute(
                sa.select(_quiz.c.status).where(_quiz.c.id == quiz_id).with_for_update()
            )
        ).scalar_one_or_none()
        if status is None:
            raise QuizNotFoundError(f"quiz {quiz_id} does not exist")
        yield StatusLock(conn, quiz_id, QuizStatus(status))


async def update_quiz_status(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    status: QuizStatus,
    *,
    failure_reason: FailureReason | None = None,
    failure_message: str | None = None,
    metadata: GenerationMetadata | None = None,
    allowed_from: Collection[QuizStatus] | None = None,
) -> None:
    """Set the status (and metadata); with `allowed_from`, only from those statuses.

    Raises `QuizStateConflictError` when the quiz is in another status, so a
    late or stray writer never overwrites a newer decision (e.g. `published`).
    """
    values: dict[str, Any] = {
        "status": status.value,
        "failure_reason": failure_reason.value if failure_reason else None,
        "failure_message": failure_message,
        "updated_at": _now(),
    }
    if metadata is not None:
        values["generation_metadata"] = metadata.model_dump(mode="json")
    query = _quiz.update().where(_quiz.c.id == quiz_id).values(**values)
    if allowed_from is not None:
        query = query.where(_quiz.c.status.in_([s.value for s in allowed_from]))
    async with engine.begin() as conn:
        updated = await conn.execute(query.returning(_quiz.c.id))
        if updated.first() is not None:
            return
        current = (
            await conn.execute(sa.select(_quiz.c.status).where(_quiz.c.id == quiz_id))
        ).scalar_one_or_none()
    if current is None:
        raise QuizNotFoundError(f"quiz {quiz_id} does not exist")
    raise QuizStateConflictError(f"quiz {quiz_id} is {current}; cannot change it to {status.value}")

"""The schema and the repository against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db import repository as repo
from quizgen.db.engine import make_engine
from quizgen.db.tables import metadata
from quizgen.domain import (
    BatchSpec,
    Difficulty,
    FailureReason,
    GenerationMetadata,
    ModuleSpec,
    QuestionType,
    QuizSpec,
    QuizStatus,
)
from tests.conftest import create_database, drop_database
from tests.support.migrations import downgrade, upgrade

TABLES = {"quiz", "quiz_module", "saved_batch", "question"}


def _spec() -> QuizSpec:
    return QuizSpec(
        title="Biology",
        modules=[
            ModuleSpec(
                module_id="m1",
                name="Cells",
                content="Cells are the basic unit of life.",
                batches=[BatchSpec(question_type=QuestionType.TRUE_FALSE, count=3)],
            )
        ],
    )


def _questions(prefix: str, n: int = 3) -> list[dict[str, object]]:
    return [
        {"question_text": f"{prefix} statement {i}", "correct_answer": True, "explanation": ""}
        for i in range(n)
    ]


def _request(quiz_id: uuid.UUID, key: str, prefix: str = "A") -> repo.SaveBatchRequest:
    return repo.SaveBatchRequest(
        quiz_id=quiz_id,
        batch_key=key,
        module_id="m1",
        question_type=QuestionType.TRUE_FALSE,
        difficulty=Difficulty.MEDIUM,
        questions=_questions(prefix),
    )


async def _count(engine: AsyncEngine, quiz_id: uuid.UUID) -> int:
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT count(*) FROM question WHERE quiz_id = :q"), {"q": quiz_id}
        )
        return int(result.scalar_one())


async def _table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names)


async def _schema_diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), metadata)
            )
    finally:
        await engine.dispose()


def test_migrations_upgrade_an_empty_database_and_downgrade_again(
    postgres_server_url: str,
) -> None:
    url = create_database(postgres_server_url)
    try:
        assert asyncio.run(_table_names(url)) == set()
        upgrade(url)
        assert asyncio.run(_table_names(url)) == TABLES | {"alembic_version"}
        # The tables the code uses are exactly what the migrations built.
        assert asyncio.run(_schema_diff(url)) == []
        downgrade(url)
        assert asyncio.run(_table_names(url)) == {"alembic_version"}
        upgrade(url)
        assert asyncio.run(_table_names(url)) >= TABLES
    finally:
        drop_database(url)


async def test_quiz_round_trips_with_its_modules(engine: AsyncEngine) -> None:
    spec = _spec()
    quiz_id = await repo.create_quiz(engine, "teacher-1", spec)
    record = await repo.get_quiz(engine, quiz_id)
    assert record.spec == spec
    assert record.owner_id == "teacher-1"
    assert record.status is QuizStatus.CREATED
    assert record.generation_metadata.total_questions_target == 3
    context = await repo.load_module(engine, quiz_id, "m1")
    assert context.module == spec.modules[0]
    assert (context.language, context.tone) == (spec.language, spec.tone)


async def test_status_update_stores_reason_and_metadata(engine: AsyncEngine) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", _spec())
    metadata_in = GenerationMetadata(failed_batches=["m1_true_false_3_medium"])
    await repo.update_quiz_status(
        engine,
        quiz_id,
        QuizStatus.FAILED,
        failure_reason=FailureReason.NO_BATCHES_SUCCEEDED,
        failure_message="no batch reached its target",
        metadata=metadata_in,
    )
    record = await repo.get_quiz(engine, quiz_id)
    assert record.status is QuizStatus.FAILED
    assert record.failure_reason is FailureReason.NO_BATCHES_SUCCEEDED
    assert record.generation_metadata == metadata_in


async def test_saving_a_batch_twice_stores_its_questions_once(engine: AsyncEngine) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", _spec())
    first = await repo.save_batch(engine, _request(quiz_id, "m1_true_false_3_medium"))
    second = await repo.save_batch(engine, _request(quiz_id, "m1_true_false_3_medium"))
    assert first.inserted and not second.inserted
    assert second.question_ids == first.question_ids
    assert await _count(engine, quiz_id) == 3
    assert await repo.saved_batch_keys(engine, quiz_id) == {"m1_true_false_3_medium"}


async def test_concurrent_saves_from_two_connections_store_once(
    engine: AsyncEngine, database_url: str
) -> None:
    other = make_engine(database_url)
    try:
        quiz_id = await repo.create_quiz(engine, "teacher-1", _spec())
        key = "m1_true_false_3_medium"
        results = await asyncio.gather(
            *(repo.save_batch(e, _request(quiz_id, key)) for e in (engine, other, engine, other))
        )
    finally:
        await other.dispose()
    assert sum(r.inserted for r in results) == 1
    assert await _count(engine, quiz_id) == 3
    assert len({tuple(r.question_ids) for r in results}) == 1


async def test_a_batch_repeating_another_batchs_question_writes_nothing(
    engine: AsyncEngine,
) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", _spec())
    await repo.save_batch(engine, _request(quiz_id, "m1_true_false_3_easy", prefix="A"))
    clash = _request(quiz_id, "m1_true_false_3_hard", prefix="B")
    clash = clash.model_copy(
        update={
            "questions": [
                *clash.questions[:2],
                {**clash.questions[2], "question_text": "A  statement 1!"},
            ]
        }
    )
    result = await repo.save_batch(engine, clash)
    assert not result.inserted
    assert result.duplicate_indexes == [2]
    assert await _count(engine, quiz_id) == 3
    assert "m1_true_false_3_hard" not in await repo.saved_batch_keys(engine, quiz_id)


async def test_a_question_cannot_exist_outside_a_saved_batch(engine: AsyncEngine) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", _spec())
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO question (id, quiz_id, module_id, batch_key, position,"
                    " question_type, difficulty, question_data, normalized_text, is_approved,"
                    " created_at, updated_at) VALUES (:id, :q, 'm1', 'nope', 0, 'true_false',"
                    " 'easy', '{}', 'x', false, now(), now())"
                ),
                {"id": uuid.uuid4(), "q": quiz_id},
            )

"""The schema's migrations against a real PostgreSQL: up, down, and what a downgrade rebuilds."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.migrations import downgrade, upgrade
from deploy.local.postgres import create_database, drop_database
from quizgen.db import drafts, rounds
from quizgen.db import repository as repo
from quizgen.db.engine import make_engine
from quizgen.db.tables import metadata
from quizgen.domain import (
    BatchRef,
    BatchStatus,
    Difficulty,
    QuestionType,
    TokenUsage,
)
from quizgen.questions import text_hash
from tests.support.batches import one_module_quiz, save_questions, true_false_questions
from tests.support.batches import ref as batch_ref

pytestmark = pytest.mark.fast

TABLES = {
    "quiz",
    "quiz_module",
    "saved_batch",
    "question",
    "draft_question",
    "generation_attempt",
    "ended_session",
    "generation_usage",
    "canvas_connection",
    "canvas_export",
    "canvas_export_item",
    "quiz_source",
}


def _ref(difficulty: Difficulty = Difficulty.MEDIUM) -> BatchRef:
    return batch_ref("m1", QuestionType.TRUE_FALSE, 3, difficulty)


@pytest.fixture
def url(postgres_server_url: str) -> Iterator[str]:
    """An empty database of the test's own (no migration run yet)."""
    url = create_database(postgres_server_url)
    yield url
    drop_database(url)


@asynccontextmanager
async def _engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _table_names(url: str) -> set[str]:
    async with _engine(url) as engine, engine.connect() as conn:
        names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    return set(names)


async def _schema_diff(url: str) -> list[object]:
    async with _engine(url) as engine, engine.connect() as conn:
        return await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata)
        )


def test_migrations_upgrade_an_empty_database_and_downgrade_again(url: str) -> None:
    assert asyncio.run(_table_names(url)) == set()
    upgrade(url)
    assert asyncio.run(_table_names(url)) == TABLES | {"alembic_version"}
    # The tables the code uses are exactly what the migrations built.
    assert asyncio.run(_schema_diff(url)) == []
    downgrade(url)
    assert asyncio.run(_table_names(url)) == {"alembic_version"}
    upgrade(url)
    assert asyncio.run(_table_names(url)) >= TABLES


def test_downgrading_past_0003_rebuilds_the_metadata_document_the_earlier_release_reads(
    url: str,
) -> None:
    upgrade(url)
    quiz_id = asyncio.run(_quiz_with_one_recorded_round(url))
    downgrade(url, "0002")
    [document] = asyncio.run(_column(url, "SELECT generation_metadata FROM quiz"))
    assert "cached_prompt_tokens" not in json.dumps(document)
    assert document["successful_batches"] == ["m1_true_false_3_medium"]
    assert document["total_questions_saved"] == document["total_questions_target"] == 3
    [attempt] = document["generation_attempts"]
    assert attempt["tokens"] == {"prompt_tokens": 10, "completion_tokens": 5}
    assert document["tokens"] == attempt["tokens"]
    upgrade(url)
    record = asyncio.run(_get(url, quiz_id))
    assert [a.attempt_number for a in record.generation_metadata.generation_attempts] == [1]


async def _quiz_with_one_recorded_round(url: str) -> uuid.UUID:
    async with _engine(url) as engine:
        quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
        await save_questions(engine, quiz_id, _ref(), true_false_questions("A"))
        await rounds.begin_round(engine, quiz_id)
        tokens = TokenUsage(prompt_tokens=10, completion_tokens=5, cached_prompt_tokens=4)
        result = _ref().result(BatchStatus.SUCCEEDED, generated_count=3, llm_calls=1, tokens=tokens)
        await rounds.record_round(
            engine, quiz_id, round_id="r1", started_at=datetime.now(UTC), results=[result]
        )
        return quiz_id


async def _column(url: str, sql: str) -> list[object]:
    return [row[0] for row in await _rows(url, sql)]


async def _get(url: str, quiz_id: uuid.UUID) -> repo.QuizRecord:
    async with _engine(url) as engine:
        return await repo.get_quiz(engine, quiz_id)


def test_downgrades_that_would_lose_sessions_or_drafts_refuse_unless_forced(url: str) -> None:
    upgrade(url)
    asyncio.run(_execute(url, "INSERT INTO ended_session VALUES ('n', now() + interval '1 hour')"))
    with pytest.raises(RuntimeError, match="revive signed-out review sessions"):
        downgrade(url, "0003")
    downgrade(url, "0003", force=True)
    quiz_id = asyncio.run(_quiz_with_a_draft(url))
    with pytest.raises(RuntimeError, match="delete drafts"):
        downgrade(url, "0002")
    assert asyncio.run(_column(url, "SELECT count(*) FROM draft_question")) == [1]
    downgrade(url, "0002", force=True)
    assert asyncio.run(_column(url, "SELECT id FROM quiz")) == [quiz_id]


async def _execute(url: str, sql: str, params: dict[str, object] | None = None) -> None:
    async with _engine(url) as engine, engine.begin() as conn:
        await conn.execute(sa.text(sql), params or {})


async def _quiz_with_a_draft(url: str) -> uuid.UUID:
    async with _engine(url) as engine:
        quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
        await drafts.add_drafts(engine, quiz_id, _ref(), true_false_questions("A", 1), [])
        return quiz_id


def test_0007_recomputes_the_hashes_of_texts_with_invisible_characters(url: str) -> None:
    upgrade(url)
    quiz_id = asyncio.run(_quiz_with_one_recorded_round(url))
    # Rows as the earlier rule saved them: the soft hyphen was a word break.
    legacy = "A state\u00adment 2"
    old = hashlib.sha256(b"a state ment 2").hexdigest()
    clash = "A state\u200bment 0"  # the same text as question 0 under the new rule
    asyncio.run(_legacy_text(url, quiz_id, "A statement 2", legacy, old))
    asyncio.run(_legacy_text(url, quiz_id, "A statement 1", clash, "f" * 64))
    downgrade(url, "0006")
    upgrade(url)
    hashes = dict(
        asyncio.run(_rows(url, "SELECT question_data->>'question_text', text_hash FROM question"))
    )
    assert hashes[legacy] == text_hash(legacy) == text_hash("A statement 2")
    assert hashes[clash] == "f" * 64, "a clash keeps its old hash; nothing is deleted"
    assert hashes["A statement 0"] == text_hash("A statement 0")


async def _legacy_text(url: str, quiz_id: uuid.UUID, text: str, new: str, digest: str) -> None:
    await _execute(
        url,
        "UPDATE question SET question_data = jsonb_set(question_data, '{question_text}', "
        "to_jsonb(CAST(:new AS text))), text_hash = :digest "
        "WHERE quiz_id = :quiz AND question_data->>'question_text' = :text",
        {"new": new, "digest": digest, "quiz": quiz_id, "text": text},
    )


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    async with _engine(url) as engine, engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(sa.text(sql))]


def test_0008_backfills_review_status_and_order_and_guards_its_downgrade(url: str) -> None:
    upgrade(url)
    quiz_id = asyncio.run(_quiz_with_one_recorded_round(url))
    asyncio.run(_execute(url, "UPDATE question SET quiz_position = 0"))
    asyncio.run(
        _execute(
            url,
            "UPDATE question SET is_approved = true, review_status = 'approved' WHERE position = 2",
        )
    )
    downgrade(url, "0007")
    upgrade(url)
    rows = asyncio.run(
        _rows(url, "SELECT position, quiz_position, review_status, source FROM question")
    )
    assert sorted(rows) == [
        (0, 0, "pending", "generated"),
        (1, 1, "pending", "generated"),
        (2, 2, "approved", "generated"),
    ]
    asyncio.run(
        _execute(
            url,
            "INSERT INTO question (id, quiz_id, module_id, batch_key, position, "
            "question_type, difficulty, question_data, normalized_text, text_hash, "
            "is_approved, version, created_at, updated_at, source) VALUES (:id, :quiz, "
            "'m1', NULL, 0, 'true_false', 'easy', '{}', 'x', :hash, false, 1, now(), "
            "now(), 'manual')",
            {"id": uuid.uuid4(), "quiz": quiz_id, "hash": "e" * 64},
        )
    )
    # A generated question needs its batch; one written by hand has none.
    for source, batch in (("generated", None), ("manual", "m1_true_false_3_medium")):
        with pytest.raises(sa.exc.IntegrityError, match="ck_question_source_batch"):
            asyncio.run(
                _execute(
                    url,
                    "INSERT INTO question (id, quiz_id, module_id, batch_key, position, "
                    "question_type, difficulty, question_data, normalized_text, "
                    "text_hash, is_approved, version, created_at, updated_at, source) "
                    "VALUES (:id, :quiz, 'm1', :batch, 5, 'true_false', 'easy', '{}', "
                    "'y', :hash, false, 1, now(), now(), :source)",
                    {
                        "id": uuid.uuid4(),
                        "quiz": quiz_id,
                        "batch": batch,
                        "hash": "d" * 64,
                        "source": source,
                    },
                )
            )
    with pytest.raises(RuntimeError, match="delete questions written by hand"):
        downgrade(url, "0007")
    assert asyncio.run(_column(url, "SELECT count(*) FROM question")) == [4]
    downgrade(url, "0007", force=True)
    assert asyncio.run(_column(url, "SELECT count(*) FROM question")) == [3]

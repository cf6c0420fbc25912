"""The schema and the repository against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db import drafts, rounds
from quizgen.db import repository as repo
from quizgen.db.batch_context import load_batch_context
from quizgen.db.engine import make_engine
from quizgen.domain import (
    BatchRef,
    BatchStatus,
    Difficulty,
    QuestionType,
    QuizStatus,
    TokenUsage,
)
from quizgen.validation import Rejection, validate_output
from tests.support.batches import one_module_quiz, save_questions, true_false_questions
from tests.support.batches import ref as batch_ref
from tests.support.flows import saved_batch_keys

pytestmark = pytest.mark.fast


def _ref(difficulty: Difficulty = Difficulty.MEDIUM) -> BatchRef:
    return batch_ref("m1", QuestionType.TRUE_FALSE, 3, difficulty)


async def _count(engine: AsyncEngine, quiz_id: uuid.UUID) -> int:
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT count(*) FROM question WHERE quiz_id = :q"), {"q": quiz_id}
        )
        return int(result.scalar_one())


async def test_quiz_round_trips_with_its_modules(engine: AsyncEngine) -> None:
    spec = one_module_quiz()
    quiz_id = await repo.create_quiz(engine, "teacher-1", spec)
    record = await repo.get_quiz(engine, quiz_id)
    assert record.spec == spec
    assert record.owner_id == "teacher-1"
    assert record.status is QuizStatus.CREATED
    assert record.generation_metadata.total_questions_target == 3
    context = (await load_batch_context(engine, quiz_id, _ref())).module
    assert context.module == spec.modules[0]
    assert (context.language, context.tone) == (spec.language, spec.tone)


async def test_saving_a_batch_twice_stores_its_questions_once(engine: AsyncEngine) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
    first = await save_questions(engine, quiz_id, _ref(), true_false_questions("A"))
    second = await save_questions(engine, quiz_id, _ref(), true_false_questions("A"))
    assert first.inserted and not second.inserted
    assert second.saved and second.question_ids == first.question_ids
    assert await _count(engine, quiz_id) == 3
    assert await saved_batch_keys(engine, quiz_id) == {"m1_true_false_3_medium"}
    # The drafts became questions: none are left behind.
    assert await drafts.count_drafts(engine, quiz_id) == {}


async def test_concurrent_saves_from_two_connections_store_once(
    engine: AsyncEngine, database_url: str
) -> None:
    other = make_engine(database_url)
    try:
        quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
        await drafts.add_drafts(engine, quiz_id, _ref(), true_false_questions("A"), [])
        results = await asyncio.gather(
            *(drafts.save_batch(e, quiz_id, _ref()) for e in (engine, other, engine, other))
        )
    finally:
        await other.dispose()
    assert sum(r.inserted for r in results) == 1
    assert all(r.saved for r in results)
    assert await _count(engine, quiz_id) == 3
    assert len({tuple(r.question_ids) for r in results}) == 1


async def test_a_batch_repeating_another_batchs_question_drops_the_draft_and_saves_nothing(
    engine: AsyncEngine,
) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
    await save_questions(engine, quiz_id, _ref(Difficulty.EASY), true_false_questions("A"))
    clash = [
        *true_false_questions("B")[:2],
        {**true_false_questions("B")[2], "question_text": "A  statement 1!"},
    ]
    result = await save_questions(engine, quiz_id, _ref(Difficulty.HARD), clash)
    assert not result.saved
    assert (result.missing, result.duplicates_dropped) == (1, 1)
    assert await _count(engine, quiz_id) == 3
    assert "m1_true_false_3_hard" not in await saved_batch_keys(engine, quiz_id)
    # The two distinct drafts wait for a third; then the batch saves.
    assert await drafts.count_drafts(engine, quiz_id) == {"m1_true_false_3_hard": 2}
    await drafts.add_drafts(
        engine, quiz_id, _ref(Difficulty.HARD), true_false_questions("C")[:1], []
    )
    assert (await drafts.save_batch(engine, quiz_id, _ref(Difficulty.HARD))).inserted


async def test_concurrent_saves_of_batches_sharing_a_text_store_it_once_and_the_loser_replaces_it(
    engine: AsyncEngine, database_url: str
) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
    easy, hard = _ref(Difficulty.EASY), _ref(Difficulty.HARD)
    shared = {**true_false_questions("A")[1], "question_text": "A  statement 1!"}
    await drafts.add_drafts(engine, quiz_id, easy, true_false_questions("A"), [])
    await drafts.add_drafts(engine, quiz_id, hard, [*true_false_questions("B")[:2], shared], [])
    other = make_engine(database_url)
    try:
        first, second = await asyncio.gather(
            drafts.save_batch(engine, quiz_id, easy), drafts.save_batch(other, quiz_id, hard)
        )
    finally:
        await other.dispose()
    assert sorted([first.saved, second.saved]) == [False, True]
    loser, outcome = (hard, second) if first.saved else (easy, first)
    assert (outcome.missing, outcome.duplicates_dropped) == (1, 1)
    async with engine.connect() as conn:
        stored = await conn.execute(
            sa.text("SELECT count(*) FROM question WHERE quiz_id = :q AND normalized_text = :t"),
            {"q": quiz_id, "t": "a statement 1"},
        )
        assert stored.scalar_one() == 1
    assert await _count(engine, quiz_id) == 3
    # The loser keeps its other drafts and needs one more question to save.
    await drafts.add_drafts(engine, quiz_id, loser, true_false_questions("C")[:1], [])
    assert (await drafts.save_batch(engine, quiz_id, loser)).inserted
    assert await _count(engine, quiz_id) == 6


async def test_drafts_never_exceed_the_batch_target_and_repeat_no_text(engine: AsyncEngine) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
    # A retried activity writes the same answer again, and a bigger one.
    assert await drafts.add_drafts(engine, quiz_id, _ref(), true_false_questions("A", 2), []) == 2
    assert await drafts.add_drafts(engine, quiz_id, _ref(), true_false_questions("A", 2), []) == 2
    assert await drafts.add_drafts(engine, quiz_id, _ref(), true_false_questions("B", 5), []) == 3


async def test_an_answer_with_a_nul_question_keeps_its_other_questions(
    engine: AsyncEngine,
) -> None:
    """PostgreSQL refuses U+0000 even inside JSON: the bad question must not reach it."""
    quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
    answer = [
        *true_false_questions("A", 2),
        {**true_false_questions("B", 1)[0], "question_text": "Is water\x00 wet?"},
    ]
    report = validate_output(QuestionType.TRUE_FALSE, json.dumps({"questions": answer}))
    [rejected] = report.rejected
    assert rejected.reason == "text contains the NUL character (U+0000)"
    assert rejected.question is None
    assert await drafts.add_drafts(engine, quiz_id, _ref(), report.valid, report.rejected) == 2


async def test_long_non_latin_questions_save(engine: AsyncEngine) -> None:
    """A B-tree over the text itself refused these (index rows over ~2.7 KB)."""
    quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
    batch = batch_ref("m1", QuestionType.TRUE_FALSE, 20, Difficulty.MEDIUM)
    words = ["Фотосинтез", "превращает", "световую", "энергию", "Blåbær", "æøå", "ΑΒΓΔ"]
    questions = []
    for i in range(20):
        text = f"{i} " + " ".join(words[(i + j) % len(words)] for j in range(400))
        questions.append({"question_text": text[:1900], "correct_answer": True, "explanation": ""})
    assert all(len(q["question_text"]) == 1900 for q in questions)
    result = await save_questions(engine, quiz_id, batch, questions)
    assert result.inserted and len(result.question_ids) == 20


async def test_a_question_cannot_exist_outside_a_saved_batch(engine: AsyncEngine) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO question (id, quiz_id, module_id, batch_key, position,"
                    " question_type, difficulty, question_data, normalized_text, text_hash,"
                    " is_approved, created_at, updated_at) VALUES (:id, :q, 'm1', 'nope', 0,"
                    " 'true_false', 'easy', '{}', 'x', 'x', false, now(), now())"
                ),
                {"id": uuid.uuid4(), "q": quiz_id},
            )


async def test_a_quiz_is_read_in_one_statement_with_modules_saves_and_attempts(
    engine: AsyncEngine, database_url: str
) -> None:
    """The API reads the quiz on every request about it: one round trip, not one per table."""
    first, second = (
        one_module_quiz().modules[0],
        one_module_quiz().modules[0].model_copy(update={"module_id": "m0"}),
    )
    spec = one_module_quiz().model_copy(update={"modules": [first, second]})
    quiz_id = await repo.create_quiz(engine, "teacher-1", spec)
    await rounds.begin_round(engine, quiz_id)
    await save_questions(engine, quiz_id, _ref(), true_false_questions("A"))
    other = batch_ref("m0", QuestionType.TRUE_FALSE, 3, Difficulty.MEDIUM)
    tokens = TokenUsage(prompt_tokens=10, completion_tokens=5, cached_prompt_tokens=2)
    started = datetime(2026, 11, 28, 9, 30, 1, 123456, tzinfo=UTC)
    await rounds.record_round(
        engine,
        quiz_id,
        round_id="r1",
        started_at=started,
        results=[
            _ref().result(BatchStatus.SUCCEEDED, generated_count=3, llm_calls=1, tokens=tokens),
            other.result(
                BatchStatus.FAILED, generated_count=1, llm_calls=2, tokens=tokens, error="short"
            ),
        ],
    )

    statements: list[str] = []
    reader = make_engine(database_url)
    sa.event.listen(reader.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        record = await repo.get_quiz(reader, quiz_id)
    finally:
        await reader.dispose()

    assert len(statements) == 1, statements
    assert [m.module_id for m in record.spec.modules] == ["m1", "m0"]  # the order created
    assert record.spec == spec
    meta = record.generation_metadata
    assert meta.successful_batches == [_ref().batch_key]
    assert meta.failed_batches == [other.batch_key]
    assert meta.total_questions_saved == 3 and meta.total_questions_target == 6
    [attempt] = meta.generation_attempts
    assert attempt.started_at == started
    assert attempt.batch_results[other.batch_key].error == "short"
    assert meta.tokens == tokens + tokens


async def test_an_answer_completing_its_batch_is_saved_with_the_drafts_unless_a_text_collides(
    engine: AsyncEngine,
) -> None:
    quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
    await save_questions(engine, quiz_id, _ref(), true_false_questions("A"))
    hard, easy = _ref(Difficulty.HARD), _ref(Difficulty.EASY)

    # One stored draft and an answer of two complete the batch: saved in one transaction.
    await drafts.add_drafts(engine, quiz_id, hard, true_false_questions("B", 1), [_rejection()])
    outcome = await drafts.save_with_answer(engine, quiz_id, hard, true_false_questions("C", 2))
    assert outcome.saved and len(outcome.question_ids) == 3
    async with engine.connect() as conn:
        texts = await conn.execute(
            sa.text(
                "SELECT question_data->>'question_text' FROM question"
                " WHERE quiz_id = :q AND batch_key = :b ORDER BY position"
            ),
            {"q": quiz_id, "b": hard.batch_key},
        )
        assert [t for (t,) in texts] == ["B statement 0", "C statement 0", "C statement 1"]
    # A batch with only a rejected draft, completed by the repair's answer.
    two = batch_ref("m1", QuestionType.TRUE_FALSE, 2, Difficulty.EASY)
    await drafts.add_drafts(engine, quiz_id, two, [], [_rejection()])
    assert (await drafts.save_with_answer(engine, quiz_id, two, true_false_questions("E", 2))).saved
    assert await _draft_rows(engine, quiz_id) == 0  # rejected drafts are not left behind

    # An answer repeating another batch's saved text writes nothing at all: the caller
    # stores it as drafts and saves the usual way, which drops and replaces the repeat.
    repeat = [*true_false_questions("D", 2), true_false_questions("A")[0]]
    assert not (await drafts.save_with_answer(engine, quiz_id, easy, repeat)).saved
    assert await _draft_rows(engine, quiz_id) == 0
    saved = {_ref().batch_key, hard.batch_key, two.batch_key}
    assert await saved_batch_keys(engine, quiz_id) == saved
    assert await _count(engine, quiz_id) == 8


def _rejection() -> Rejection:
    return Rejection(index=0, reason="bad", question={"question_text": "?"})


async def _draft_rows(engine: AsyncEngine, quiz_id: uuid.UUID) -> int:
    """Every draft row of the quiz, rejected ones included (count_drafts counts valid ones)."""
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT count(*) FROM draft_question WHERE quiz_id = :q"), {"q": quiz_id}
        )
        return int(result.scalar_one())

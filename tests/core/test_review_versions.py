"""Question versions in the database layer: what bumps them, what clears an approval, and
that the version check and the write are one step (a row lock), against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.db.review import QuestionChangedError
from quizgen.errors import DuplicateQuestionError, InvalidQuestionError
from tests.support.batches import one_module_quiz, save_questions, true_false_questions
from tests.support.batches import ref as batch_ref

pytestmark = pytest.mark.fast


async def _questions(engine: AsyncEngine) -> tuple[uuid.UUID, list[uuid.UUID]]:
    quiz_id = await repo.create_quiz(engine, "teacher-1", one_module_quiz())
    saved = await save_questions(engine, quiz_id, batch_ref(), true_false_questions("Cells"))
    return quiz_id, saved.question_ids


def _tf(text: str) -> dict[str, object]:
    return {"question_text": text, "correct_answer": True, "explanation": ""}


async def test_versions_count_changes_and_new_data_clears_the_approval(
    engine: AsyncEngine,
) -> None:
    quiz_id, [qid, other, _] = await _questions(engine)
    update = review.update_question
    stored = await review.get_question(engine, quiz_id, qid)
    assert (stored.version, stored.is_approved) == (1, False)

    approved = await update(engine, quiz_id, qid, is_approved=True)
    assert (approved.version, approved.is_approved) == (2, True)
    # Nothing to change: the row, its version and its time stay as they are.
    for unchanged in (
        await update(engine, quiz_id, qid, is_approved=True),
        await update(engine, quiz_id, qid, question_data=dict(stored.question_data)),
        await update(engine, quiz_id, qid),
    ):
        assert unchanged == approved
    edited = await update(engine, quiz_id, qid, question_data=_tf("Cells can divide."))
    assert (edited.version, edited.is_approved) == (3, False)
    assert edited.updated_at > approved.updated_at
    both = await update(engine, quiz_id, qid, question_data=_tf("Cells grow."), is_approved=True)
    assert (both.version, both.is_approved) == (4, True)

    # Refused edits change nothing, not even the version.
    with pytest.raises(InvalidQuestionError):
        await update(engine, quiz_id, qid, question_data={"question_text": "No answer."})
    taken = (await review.get_question(engine, quiz_id, other)).question_data["question_text"]
    with pytest.raises(DuplicateQuestionError):
        await update(engine, quiz_id, qid, question_data=_tf(taken))
    with pytest.raises(QuestionChangedError) as caught:
        await update(engine, quiz_id, qid, is_approved=False, expected_versions={3})
    assert caught.value.current == both
    assert await review.get_question(engine, quiz_id, qid) == both
    # The versions it names include the current one: the change is made.
    unapproved = await update(engine, quiz_id, qid, is_approved=False, expected_versions={1, 4})
    assert (unapproved.version, unapproved.is_approved) == (5, False)
    assert (await review.get_question(engine, quiz_id, other)).version == 1


async def test_the_version_is_checked_under_the_rows_lock(engine: AsyncEngine) -> None:
    """An edit based on version 1 that arrives while another change of version 1 is being
    written waits for it, then is refused: it never overwrites what it did not see."""
    quiz_id, [qid, *_] = await _questions(engine)
    async with engine.connect() as holder:
        transaction = await holder.begin()
        await holder.execute(
            sa.text("SELECT 1 FROM question WHERE id = :id FOR UPDATE"), {"id": qid}
        )
        late = asyncio.create_task(
            review.update_question(
                engine, quiz_id, qid, question_data=_tf("Cells are late."), expected_versions={1}
            )
        )
        await asyncio.sleep(0.3)
        assert not late.done()  # waiting for the row
        await holder.execute(
            sa.text(
                "UPDATE question SET version = version + 1, question_data = :data WHERE id = :id"
            ),
            {"id": qid, "data": '{"question_text": "Cells were first.", "correct_answer": true}'},
        )
        await transaction.commit()
    with pytest.raises(QuestionChangedError) as caught:
        await late
    assert caught.value.current.version == 2
    stored = await review.get_question(engine, quiz_id, qid)
    assert stored.question_data["question_text"] == "Cells were first."


async def test_concurrent_edits_of_one_version_save_exactly_one(engine: AsyncEngine) -> None:
    quiz_id, [qid, *_] = await _questions(engine)
    results = await asyncio.gather(
        *(
            review.update_question(
                engine, quiz_id, qid, question_data=_tf(f"Cells edit {n}."), expected_versions={1}
            )
            for n in range(4)
        ),
        return_exceptions=True,
    )
    saved = [r for r in results if isinstance(r, review.QuestionPublic)]
    refused = [r for r in results if isinstance(r, QuestionChangedError)]
    assert len(saved) == 1 and len(refused) == 3
    stored = await review.get_question(engine, quiz_id, qid)
    assert stored == saved[0] and stored.version == 2

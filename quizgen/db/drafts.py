"""Drafts: a batch's LLM output between the first call and the save.

The generate activity writes each answer's valid questions here (and its
rejected ones, for the next repair prompt); `save_batch` moves a complete
batch into `question` in one transaction. An answer that completes its batch
skips the drafts: `save_with_answer` saves it with the stored ones directly.
Workflows only ever see counts, so no question body enters Temporal history,
and drafts outlive any workflow run: a later run (after continue-as-new, a
termination, a closed run) asks the LLM only for what is missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quizgen.db.engine import single_statement
from quizgen.db.tables import DraftQuestionRow, QuestionRow, SavedBatchRow, utc_now
from quizgen.domain import BatchRef
from quizgen.errors import QuizNotFoundError
from quizgen.questions import normalize_text, text_hash
from quizgen.validation import Rejection

__all__ = [
    "SaveOutcome",
    "add_drafts",
    "count_drafts",
    "count_drafts_in",
    "save_batch",
    "save_with_answer",
]

_draft = DraftQuestionRow.__table__  # type: ignore[attr-defined]
_saved = SavedBatchRow.__table__  # type: ignore[attr-defined]
_question = QuestionRow.__table__  # type: ignore[attr-defined]


class SaveOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    saved: bool
    # False when the batch had been saved before: nothing was written this time.
    inserted: bool = False
    question_ids: list[uuid.UUID] = []
    # Not saved: how many more valid questions the batch needs (after dropping
    # drafts whose text another batch of the quiz saved first).
    missing: int = 0
    duplicates_dropped: int = 0


async def _lock_batch(conn: AsyncConnection, quiz_id: uuid.UUID, batch_key: str) -> None:
    # Draft writers of one batch take turns, so a retried activity whose first
    # attempt is still writing cannot push the batch past its target.
    await conn.execute(
        sa.select(
            sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(f"{quiz_id}/{batch_key}", 0))
        )
    )


async def add_drafts(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    batch: BatchRef,
    valid: Sequence[dict[str, Any]],
    rejected: Sequence[Rejection],
) -> int:
    """Keep an answer's valid questions (up to the batch's target) and its rejections.

    The previous answer's rejections are replaced (they were just repaired or
    given up). Returns how many valid drafts the batch has now.
    """
    now = utc_now()
    try:
        async with engine.begin() as conn:
            await _lock_batch(conn, quiz_id, batch.batch_key)
            saved = await conn.execute(
                sa.select(_saved.c.batch_key).where(
                    _saved.c.quiz_id == quiz_id, _saved.c.batch_key == batch.batch_key
                )
            )
            if saved.first() is not None:
                # A late or repeated call after the save: drafts would only be litter.
                return batch.count
            mine = (_draft.c.quiz_id == quiz_id) & (_draft.c.batch_key == batch.batch_key)
            await conn.execute(_draft.delete().where(mine, _draft.c.rejection.is_not(None)))
            last = await conn.execute(
                sa.select(sa.func.count(), sa.func.max(_draft.c.position)).where(mine)
            )
            have, position = last.one()
            position = -1 if position is None else position
            room = max(batch.count - have, 0)
            rows: list[dict[str, Any]] = []
            for question in valid[:room]:
                position += 1
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "position": position,
                        "question_data": question,
                        "text_hash": text_hash(question["question_text"]),
                        "rejection": None,
                    }
                )
            for rejection in rejected:
                position += 1
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "position": position,
                        "question_data": rejection.question,
                        "text_hash": None,
                        "rejection": rejection.reason,
                    }
                )
            if rows:
                await conn.execute(
                    insert(_draft)
                    .values(
                        [
                            {
                                **row,
                                "quiz_id": quiz_id,
                                "batch_key": batch.batch_key,
                                "created_at": now,
                            }
                            for row in rows
                        ]
                    )
                    .on_conflict_do_nothing()
                )
            total = await conn.execute(
                sa.select(sa.func.count()).where(mine, _draft.c.rejection.is_(None))
            )
            return int(total.scalar_one())
    except IntegrityError as err:
        # The only foreign key is the quiz: it was deleted meanwhile.
        raise QuizNotFoundError(f"quiz {quiz_id} does not exist") from err


async def count_drafts(engine: AsyncEngine, quiz_id: uuid.UUID) -> dict[str, int]:
    async with single_statement(engine) as conn:
        return await count_drafts_in(conn, quiz_id)


async def count_drafts_in(conn: AsyncConnection, quiz_id: uuid.UUID) -> dict[str, int]:
    """Valid drafts per batch key (batches without drafts are absent)."""
    rows = await conn.execute(
        sa.select(_draft.c.batch_key, sa.func.count())
        .where(_draft.c.quiz_id == quiz_id, _draft.c.rejection.is_(None))
        .group_by(_draft.c.batch_key)
    )
    return {key: count for key, count in rows}


class _Collision(Exception):
    """Some drafts' texts were saved by another batch first (rolls the save back)."""

    def __init__(self, hashes: set[str]) -> None:
        self.hashes = hashes


async def save_batch(engine: AsyncEngine, quiz_id: uuid.UUID, batch: BatchRef) -> SaveOutcome:
    """Move a complete batch's drafts into `question`, all or nothing; idempotent.

    A second save of a saved batch writes nothing. Saves of different batches
    run side by side: the unique index on (quiz, text hash) decides which of
    two colliding texts is kept. The batch that loses writes nothing, drops
    the colliding drafts and must replace them (`missing` says how many).
    """
    try:
        return await _save_batch(engine, quiz_id, batch)
    except _Collision as collision:
        async with engine.begin() as conn:
            await _lock_batch(conn, quiz_id, batch.batch_key)
            mine = (_draft.c.quiz_id == quiz_id) & (_draft.c.batch_key == batch.batch_key)
            await conn.execute(
                _draft.delete().where(mine, _draft.c.text_hash.in_(collision.hashes))
            )
            have = await conn.execute(
                sa.select(sa.func.count()).where(mine, _draft.c.rejection.is_(None))
            )
            kept = min(int(have.scalar_one()), batch.count)
        return SaveOutcome(
            saved=False, missing=batch.count - kept, duplicates_dropped=len(collision.hashes)
        )


async def save_with_answer(
    engine: AsyncEngine, quiz_id: uuid.UUID, batch: BatchRef, answer: Sequence[dict[str, Any]]
) -> SaveOutcome:
    """Save the batch's stored drafts and an answer's valid questions (not stored as
    drafts) together, in one transaction, when together they complete it.

    The common case, a call that completes its batch, then costs one transaction
    instead of two (drafts, then the save). Anything short of a save (fewer
    drafts than the caller read, a text another batch holds) writes nothing and
    returns `saved=False`: the caller stores the answer as drafts and saves the
    usual way, which replaces what collided.
    """
    try:
        return await _save_batch(engine, quiz_id, batch, answer)
    except _Collision:
        return SaveOutcome(saved=False)


class _Draft(NamedTuple):
    question_data: dict[str, Any]
    text_hash: str


async def _save_batch(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    batch: BatchRef,
    answer: Sequence[dict[str, Any]] = (),
) -> SaveOutcome:
    now = utc_now()
    async with engine.begin() as conn:
        # No draft of this batch is written while it is being saved (and two
        # saves of one batch take turns).
        await _lock_batch(conn, quiz_id, batch.batch_key)
        already = await conn.execute(
            sa.select(_saved.c.batch_key).where(
                _saved.c.quiz_id == quiz_id, _saved.c.batch_key == batch.batch_key
            )
        )
        if already.first() is not None:
            earlier = await conn.execute(
                sa.select(_question.c.id)
                .where(_question.c.quiz_id == quiz_id, _question.c.batch_key == batch.batch_key)
                .order_by(_question.c.position)
            )
            return SaveOutcome(saved=True, question_ids=[qid for (qid,) in earlier])

        mine = (_draft.c.quiz_id == quiz_id) & (_draft.c.batch_key == batch.batch_key)
        # All the batch's drafts, rejected ones too: whether any exist tells
        # whether there is anything to delete once the batch is saved.
        stored = list(
            await conn.execute(
                sa.select(_draft.c.question_data, _draft.c.text_hash, _draft.c.rejection)
                .where(mine)
                .order_by(_draft.c.position)
            )
        )
        drafts = [_Draft(data, hashed) for data, hashed, rejection in stored if rejection is None]
        drafts += [_Draft(q, text_hash(q["question_text"])) for q in answer]
        drafts = drafts[: batch.count]
        if len(drafts) < batch.count:
            return SaveOutcome(saved=False, missing=batch.count - len(drafts))
        try:
            await conn.execute(
                _saved.insert().values(
                    quiz_id=quiz_id,
                    batch_key=batch.batch_key,
                    question_count=batch.count,
                    saved_at=now,
                )
            )
        except IntegrityError as err:
            raise QuizNotFoundError(f"quiz {quiz_id} does not exist") from err
        ids = [uuid.uuid4() for _ in drafts]
        # The batch goes after the quiz's questions in review order (two batches
        # saving at once may share places: ties are ordered by batch key).
        after = (
            await conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(_question.c.quiz_position) + 1, 0)).where(
                    _question.c.quiz_id == quiz_id
                )
            )
        ).scalar_one()
        inserted = await conn.execute(
            insert(_question)
            .values(
                [
                    {
                        "id": qid,
                        "quiz_id": quiz_id,
                        "module_id": batch.module_id,
                        "batch_key": batch.batch_key,
                        "position": position,
                        "quiz_position": after + position,
                        "question_type": batch.question_type.value,
                        "difficulty": batch.difficulty.value,
                        "question_data": draft.question_data,
                        "normalized_text": normalize_text(draft.question_data["question_text"]),
                        "text_hash": draft.text_hash,
                        "is_approved": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for position, (qid, draft) in sorted(
                        enumerate(zip(ids, drafts, strict=True)),
                        # Every save inserts texts in one global order (their hash), so
                        # two saves waiting on each other's uncommitted texts cannot
                        # wait in a cycle; `position` keeps the batch's own order.
                        key=lambda item: item[1][1].text_hash,
                    )
                ]
            )
            # A text another batch holds (committed, or committing now: the
            # index makes us wait for it) is skipped, then reported.
            .on_conflict_do_nothing(constraint="uq_question_quiz_text_hash")
            .returning(_question.c.text_hash)
        )
        written = {h for (h,) in inserted}
        if len(written) < len(drafts):
            # Raising rolls back everything this save wrote.
            raise _Collision({d.text_hash for d in drafts} - written)
        if stored:
            await conn.execute(_draft.delete().where(mine))
    return SaveOutcome(saved=True, inserted=True, question_ids=ids)

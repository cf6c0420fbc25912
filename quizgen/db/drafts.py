"""Drafts: a batch's LLM output between the first call and the save.

The generate activity writes each answer's valid questions here (and its
rejected ones, for the next repair prompt); `save_batch` moves a complete
batch into `question` in one transaction. Workflows only ever see counts, so
no question body enters Temporal history, and drafts outlive any workflow run:
a later run (after continue-as-new, a termination, a closed run) asks the LLM
only for what is missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quizgen.db.engine import single_statement
from quizgen.db.json_rows import json_rows
from quizgen.db.repository import ModuleContext, module_context, module_query
from quizgen.db.tables import DraftQuestionRow, QuestionRow, SavedBatchRow, utc_now
from quizgen.domain import BatchRef
from quizgen.errors import QuizModuleNotFoundError, QuizNotFoundError
from quizgen.questions import normalize_text, text_hash
from quizgen.validation import DUPLICATE_REASON, Rejection

__all__ = [
    "BatchContext",
    "SaveOutcome",
    "add_drafts",
    "count_drafts",
    "draft_counts",
    "load_batch_context",
    "save_batch",
]

_draft = DraftQuestionRow.__table__  # type: ignore[attr-defined]
_saved = SavedBatchRow.__table__  # type: ignore[attr-defined]
_question = QuestionRow.__table__  # type: ignore[attr-defined]


class BatchContext(BaseModel):
    """Everything one LLM call of a batch needs, read in one transaction."""

    model_config = ConfigDict(frozen=True)

    module: ModuleContext
    # Question texts of the batch's valid drafts, oldest first.
    draft_texts: list[str]
    # Rejected candidates of the batch's last answer, for the repair prompt.
    rejected: list[Rejection]
    # Saved question texts of the same module (or, after a repeat, the quiz) and type,
    # oldest first.
    similar_texts: list[str]
    # text_hash of every saved question of the quiz (for the duplicate check).
    saved_hashes: set[str]
    # The batch itself is saved already (e.g. by an attempt that died after its commit).
    saved: bool


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


async def load_batch_context(
    engine: AsyncEngine, quiz_id: uuid.UUID, batch: BatchRef
) -> BatchContext:
    """Read before every LLM call: one statement (two after a repeat, see below)."""
    module_id, batch_key = batch.module_id, batch.batch_key
    same_type = [
        _question.c.quiz_id == quiz_id,
        _question.c.question_type == batch.question_type.value,
    ]
    query = module_query(quiz_id, module_id).add_columns(
        json_rows(
            [_draft.c.question_data, _draft.c.rejection],
            sa.and_(_draft.c.quiz_id == quiz_id, _draft.c.batch_key == batch_key),
            _draft.c.position,
        ).label("drafts"),
        _similar_texts(*same_type, _question.c.module_id == module_id).label("similar"),
        sa.select(sa.func.array_agg(_question.c.text_hash))
        .where(_question.c.quiz_id == quiz_id)
        .scalar_subquery()
        .label("hashes"),
        sa.exists()
        .where(_saved.c.quiz_id == quiz_id, _saved.c.batch_key == batch_key)
        .label("saved"),
    )
    async with single_statement(engine) as conn:
        row = (await conn.execute(query)).first()
        if row is None:
            raise QuizModuleNotFoundError(f"quiz {quiz_id} has no module {module_id!r}")
        draft_texts: list[str] = []
        rejected: list[Rejection] = []
        for draft in row.drafts:
            data, rejection = draft["question_data"], draft["rejection"]
            if rejection is None:
                draft_texts.append(data["question_text"])
            else:
                rejected.append(Rejection(index=len(rejected), reason=rejection, question=data))
        similar_texts: list[str] = row.similar or []
        # Only questions of the same module and type can plausibly repeat this
        # batch's; a rarer cross-batch duplicate is caught by the duplicate check
        # (all the quiz's hashes) or the save's unique index. Once the batch's
        # last answer did repeat another module, its type's questions from the
        # whole quiz are listed (modules with overlapping content do that), and
        # so are the drafts of the batches still running beside it: batches of
        # such modules would otherwise keep racing for the same next texts.
        if any(r.reason == DUPLICATE_REASON for r in rejected):
            # Batch keys are `{module}_{type}_{count}_{difficulty}`; module ids hold no "_".
            like_type = "%\\_" + batch.question_type.value.replace("_", "\\_") + "\\_%"
            running = (
                sa.select(sa.func.array_agg(aggregate_order_by(_draft_text, _draft.c.created_at)))
                .where(
                    _draft.c.quiz_id == quiz_id,
                    _draft.c.batch_key != batch_key,
                    _draft.c.batch_key.like(like_type, escape="\\"),
                    _draft.c.rejection.is_(None),
                )
                .scalar_subquery()
            )
            widened = (await conn.execute(sa.select(_similar_texts(*same_type), running))).one()
            similar_texts = (widened[0] or []) + (widened[1] or [])
    return BatchContext(
        module=module_context(row),
        draft_texts=draft_texts,
        rejected=rejected,
        similar_texts=similar_texts,
        saved_hashes=set(row.hashes or ()),
        saved=row.saved,
    )


_question_text = _question.c.question_data["question_text"].astext
_draft_text = _draft.c.question_data["question_text"].astext


def _similar_texts(*where: sa.ColumnElement[bool]) -> sa.ScalarSelect[Any]:
    """Saved question texts matching `where`, oldest first, as one array (NULL if none)."""
    ordered = aggregate_order_by(_question_text, _question.c.created_at, _question.c.position)
    return sa.select(sa.func.array_agg(ordered)).where(*where).scalar_subquery()


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
        return await draft_counts(conn, quiz_id)


async def draft_counts(conn: AsyncConnection, quiz_id: uuid.UUID) -> dict[str, int]:
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


async def _save_batch(engine: AsyncEngine, quiz_id: uuid.UUID, batch: BatchRef) -> SaveOutcome:
    now = utc_now()
    async with engine.begin() as conn:
        # No draft of this batch is written while it is being saved (and two
        # saves of one batch take turns).
        await _lock_batch(conn, quiz_id, batch.batch_key)
        earlier = await conn.execute(
            sa.select(_question.c.id)
            .where(_question.c.quiz_id == quiz_id, _question.c.batch_key == batch.batch_key)
            .order_by(_question.c.position)
        )
        already = await conn.execute(
            sa.select(_saved.c.batch_key).where(
                _saved.c.quiz_id == quiz_id, _saved.c.batch_key == batch.batch_key
            )
        )
        if already.first() is not None:
            return SaveOutcome(saved=True, question_ids=[qid for (qid,) in earlier])

        mine = (_draft.c.quiz_id == quiz_id) & (_draft.c.batch_key == batch.batch_key)
        drafts = list(
            await conn.execute(
                sa.select(_draft.c.id, _draft.c.question_data, _draft.c.text_hash)
                .where(mine, _draft.c.rejection.is_(None))
                .order_by(_draft.c.position)
                .limit(batch.count)
            )
        )
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
        await conn.execute(_draft.delete().where(mine))
    return SaveOutcome(saved=True, inserted=True, question_ids=ids)

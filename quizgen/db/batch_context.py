"""What one LLM call of a batch reads first: its module, drafts and what to avoid."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quizgen.db.engine import single_statement
from quizgen.db.json_rows import json_rows
from quizgen.db.repository import ModuleContext, module_context, module_query
from quizgen.db.tables import DraftQuestionRow, QuestionRow, SavedBatchRow
from quizgen.domain import BatchRef
from quizgen.errors import QuizModuleNotFoundError
from quizgen.validation import DUPLICATE_REASON, Rejection

__all__ = ["BatchContext", "load_batch_context"]

_draft = DraftQuestionRow.__table__  # type: ignore[attr-defined]
_saved = SavedBatchRow.__table__  # type: ignore[attr-defined]
_question = QuestionRow.__table__  # type: ignore[attr-defined]


class BatchContext(BaseModel):
    """Everything one LLM call of a batch needs, read in one statement (two after a repeat)."""

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


async def load_batch_context(
    engine: AsyncEngine, quiz_id: uuid.UUID, batch: BatchRef
) -> BatchContext:
    """Read before every LLM call: one statement (two after a repeat, see below)."""
    module_id, batch_key = batch.module_id, batch.batch_key
    query = module_query(quiz_id, module_id).add_columns(
        json_rows(
            [_draft.c.question_data, _draft.c.rejection],
            sa.and_(_draft.c.quiz_id == quiz_id, _draft.c.batch_key == batch_key),
            _draft.c.position,
        ).label("drafts"),
        _similar_texts(
            _question.c.quiz_id == quiz_id,
            _question.c.question_type == batch.question_type.value,
            _question.c.module_id == module_id,
        ).label("similar"),
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
            similar_texts = await _quiz_wide_texts(conn, quiz_id, batch)
    return BatchContext(
        module=module_context(row),
        draft_texts=draft_texts,
        rejected=rejected,
        similar_texts=similar_texts,
        saved_hashes=set(row.hashes or ()),
        saved=row.saved,
    )


async def _quiz_wide_texts(conn: AsyncConnection, quiz_id: uuid.UUID, batch: BatchRef) -> list[str]:
    """The type's saved texts from the whole quiz, then the drafts of its other batches."""
    # Batch keys are `{module}_{type}_{count}_{difficulty}`; module ids hold no "_".
    like_type = "%\\_" + batch.question_type.value.replace("_", "\\_") + "\\_%"
    running = (
        sa.select(sa.func.array_agg(aggregate_order_by(_draft_text, _draft.c.created_at)))
        .where(
            _draft.c.quiz_id == quiz_id,
            _draft.c.batch_key != batch.batch_key,
            _draft.c.batch_key.like(like_type, escape="\\"),
            _draft.c.rejection.is_(None),
        )
        .scalar_subquery()
    )
    saved = _similar_texts(
        _question.c.quiz_id == quiz_id, _question.c.question_type == batch.question_type.value
    )
    texts, drafts = (await conn.execute(sa.select(saved, running))).one()
    return [*(texts or []), *(drafts or [])]


_question_text = _question.c.question_data["question_text"].astext
_draft_text = _draft.c.question_data["question_text"].astext


def _similar_texts(*where: sa.ColumnElement[bool]) -> sa.ScalarSelect[Any]:
    """Saved question texts matching `where`, oldest first, as one array (NULL if none)."""
    ordered = aggregate_order_by(_question_text, _question.c.created_at, _question.c.position)
    return sa.select(sa.func.array_agg(ordered)).where(*where).scalar_subquery()

"""Saving a batch of given questions the way the activities do: drafts first, then the save."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db import drafts
from quizgen.domain import BatchRef, BatchSpec, Difficulty, ModuleSpec, QuestionType


def ref(
    module_id: str = "m1",
    question_type: QuestionType = QuestionType.TRUE_FALSE,
    count: int = 3,
    difficulty: Difficulty = Difficulty.MEDIUM,
) -> BatchRef:
    module = ModuleSpec(
        module_id=module_id,
        name=module_id,
        content="x",
        batches=[BatchSpec(question_type=question_type, count=count, difficulty=difficulty)],
    )
    return BatchRef.of(module, module.batches[0])


async def save_questions(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    batch: BatchRef,
    questions: Sequence[dict[str, Any]],
) -> drafts.SaveOutcome:
    await drafts.add_drafts(engine, quiz_id, batch, questions, [])
    return await drafts.save_batch(engine, quiz_id, batch)

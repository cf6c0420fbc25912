"""Saving a batch of given questions the way the activities do: drafts first, then the save."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db import drafts
from quizgen.domain import BatchRef, BatchSpec, Difficulty, ModuleSpec, QuestionType, QuizSpec


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


def one_module_quiz() -> QuizSpec:
    """A quiz of one module `m1` with one true/false batch of 3 (the batch of `ref()`)."""
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


def true_false_questions(prefix: str, n: int = 3) -> list[dict[str, object]]:
    """`n` valid true/false questions whose texts start with `prefix`."""
    return [
        {"question_text": f"{prefix} statement {i}", "correct_answer": True, "explanation": ""}
        for i in range(n)
    ]

"""Waiting on a local stack until a quiz's round has been recorded (tests, bench)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db import repository as repo
from quizgen.domain import QuizStatus

__all__ = ["SETTLED", "wait_for_attempts"]

SETTLED = frozenset(
    {QuizStatus.READY_FOR_REVIEW, QuizStatus.READY_FOR_REVIEW_PARTIAL, QuizStatus.FAILED}
)


async def wait_for_attempts(
    engine: AsyncEngine, quiz_id: uuid.UUID, attempts: int, within_seconds: float = 60.0
) -> repo.QuizRecord:
    """Wait until the quiz has recorded `attempts` rounds and settled."""
    deadline = asyncio.get_running_loop().time() + within_seconds
    while True:
        record = await repo.get_quiz(engine, quiz_id)
        done = len(record.generation_metadata.generation_attempts) >= attempts
        if done and record.status in SETTLED:
            return record
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"quiz {quiz_id} did not finish round {attempts} in {within_seconds}s"
            )
        await asyncio.sleep(0.2)

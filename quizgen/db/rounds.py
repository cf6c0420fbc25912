"""The two writes that open and close a generation round, each one transaction.

`begin_round` reads the quiz under its row lock and claims it
(`generating_questions`); `record_round` appends the round's attempt and
settles the status from what PostgreSQL has saved, not from what a workflow
believes. Both are safe to retry: a recorded round is recognised by its id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db.attempts import append_attempt
from quizgen.db.drafts import count_drafts_in
from quizgen.db.repository import QuizRecord, get_quiz_in, write_status
from quizgen.domain import (
    GENERATABLE,
    BatchResult,
    BatchStatus,
    FailureReason,
    QuizStatus,
    RoundOutcome,
)
from quizgen.errors import QuizStateConflictError, cap_message

__all__ = ["RoundEnd", "RoundStart", "begin_round", "record_round"]


class RoundStart(BaseModel):
    model_config = ConfigDict(frozen=True)

    quiz: QuizRecord
    # Valid drafts per unsaved batch key.
    drafts: dict[str, int]


class RoundEnd(BaseModel):
    model_config = ConfigDict(frozen=True)

    # The quiz's status in the database after the round (settled by this call,
    # or someone else's decision, such as `published`, left standing).
    status: QuizStatus
    saved_batch_keys: list[str]
    # The batch results this call appended as a new attempt (none when the round
    # was recorded before, e.g. by an earlier try of the same activity): for metrics.
    appended: list[BatchResult] = []


async def begin_round(engine: AsyncEngine, quiz_id: uuid.UUID) -> RoundStart:
    """Mark the quiz `generating_questions` and return it as it stands, drafts included."""
    async with engine.begin() as conn:
        quiz = await get_quiz_in(conn, quiz_id, for_update=True)
        if quiz.status not in GENERATABLE:
            raise QuizStateConflictError(
                f"quiz {quiz_id} is {quiz.status.value}; it cannot be generated again"
            )
        if quiz.status is not QuizStatus.GENERATING_QUESTIONS:
            await write_status(conn, quiz_id, QuizStatus.GENERATING_QUESTIONS)
            quiz = quiz.model_copy(
                update={
                    "status": QuizStatus.GENERATING_QUESTIONS,
                    "failure_reason": None,
                    "failure_message": None,
                }
            )
        drafts = await count_drafts_in(conn, quiz_id)
    return RoundStart(quiz=quiz, drafts=drafts)


async def record_round(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    *,
    round_id: str,
    started_at: datetime,
    results: Sequence[BatchResult],
    stopped: str | None = None,
) -> RoundEnd:
    """Append the round (if any batch ran) and settle the status from the saved batches.

    `stopped` says why a round ended early (cancelled, an activity gave up);
    a quiz left with no saved batch is then `failed` for that reason.
    """
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        quiz = await get_quiz_in(conn, quiz_id, for_update=True)
        saved = set(quiz.generation_metadata.successful_batches)
        # A batch can save just before its run is stopped or lost, before its
        # result reached the workflow: the database has the last word.
        results = [_saved_result(r) if r.batch_key in saved else r for r in results]
        appended = bool(results) and await append_attempt(
            conn, quiz_id, round_id, started_at, now, results
        )
        new = list(results) if appended else []
        if quiz.status is not QuizStatus.GENERATING_QUESTIONS:
            # Settled already (this call is a retry) or moved on by someone else.
            return RoundEnd(status=quiz.status, saved_batch_keys=sorted(saved), appended=new)
        total = sum(1 for _ in quiz.spec.batches())
        status = RoundOutcome.of(len(saved), total - len(saved)).quiz_status()
        reason, message = None, None
        if status is QuizStatus.FAILED:
            reason = FailureReason.INTERNAL_ERROR if stopped else FailureReason.NO_BATCHES_SUCCEEDED
            message = cap_message(stopped or _no_batch_message(results))
        await write_status(conn, quiz_id, status, reason, message, at=now)
    return RoundEnd(status=status, saved_batch_keys=sorted(saved), appended=new)


def _saved_result(result: BatchResult) -> BatchResult:
    return result.model_copy(
        update={
            "status": BatchStatus.SUCCEEDED,
            "generated_count": result.target_count,
            "error": None,
        }
    )


def _no_batch_message(results: Sequence[BatchResult]) -> str:
    errors = [r.error or r.batch_key for r in results if r.status is not BatchStatus.SUCCEEDED]
    return "no batch reached its target: " + ("; ".join(errors) or "no batch has run yet")

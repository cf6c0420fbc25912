"""Database activities: plan a round, save a batch, record a round's outcome."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from quizgen.contracts import BatchRef, QuizPlan, RecordRoundInput, SaveBatchInput, SaveBatchOutput
from quizgen.db import repository as repo
from quizgen.domain import QuizStatus
from quizgen.errors import QuizNotFoundError
from quizgen.names import RECORD_ROUND_ACTIVITY, SAVE_BATCH_ACTIVITY, START_ROUND_ACTIVITY

__all__ = ["PersistenceActivities"]


def _not_found(err: QuizNotFoundError) -> ApplicationError:
    # Retrying cannot make a deleted quiz appear.
    return ApplicationError(str(err), type="QuizNotFound", non_retryable=True)


class PersistenceActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name=START_ROUND_ACTIVITY)
    async def start_round(self, quiz_id: uuid.UUID) -> QuizPlan:
        """Mark the quiz `generating_questions`; list its batches and the saved ones."""
        try:
            quiz = await repo.get_quiz(self._engine, quiz_id)
            await repo.update_quiz_status(
                self._engine,
                quiz_id,
                QuizStatus.GENERATING_QUESTIONS,
                metadata=quiz.generation_metadata,
            )
        except QuizNotFoundError as err:
            raise _not_found(err) from err
        saved = await repo.saved_batch_keys(self._engine, quiz_id)
        return QuizPlan(
            batches=[BatchRef.of(module, batch) for module, batch in quiz.spec.batches()],
            saved_batch_keys=sorted(saved),
        )

    @activity.defn(name=SAVE_BATCH_ACTIVITY)
    async def save_batch(self, input: SaveBatchInput) -> SaveBatchOutput:
        try:
            result = await repo.save_batch(
                self._engine,
                repo.SaveBatchRequest(
                    quiz_id=input.quiz_id,
                    batch_key=input.batch.batch_key,
                    module_id=input.batch.module_id,
                    question_type=input.batch.question_type,
                    difficulty=input.batch.difficulty,
                    questions=input.questions,
                ),
            )
        except QuizNotFoundError as err:
            raise _not_found(err) from err
        return SaveBatchOutput(
            inserted=result.inserted,
            question_count=len(result.question_ids),
            duplicate_indexes=result.duplicate_indexes,
        )

    @activity.defn(name=RECORD_ROUND_ACTIVITY)
    async def record_round(self, input: RecordRoundInput) -> None:
        try:
            await repo.update_quiz_status(
                self._engine,
                input.quiz_id,
                input.status,
                failure_reason=input.failure_reason,
                failure_message=input.failure_message,
                metadata=input.metadata,
            )
        except QuizNotFoundError as err:
            raise _not_found(err) from err

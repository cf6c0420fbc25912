"""Database activities: plan a round, save a batch, record a round's outcome."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from quizgen.contracts import BatchRef, QuizPlan, RecordRoundInput, SaveBatchInput, SaveBatchOutput
from quizgen.db import repository as repo
from quizgen.domain import GENERATABLE, QuizStatus
from quizgen.errors import QuizNotFoundError, QuizStateConflictError
from quizgen.names import (
    RECORD_ROUND_ACTIVITY,
    SAVE_BATCH_ACTIVITY,
    SAVED_BATCHES_ACTIVITY,
    START_ROUND_ACTIVITY,
)

__all__ = ["PersistenceActivities"]

log = logging.getLogger(__name__)


def _not_found(err: QuizNotFoundError) -> ApplicationError:
    # Retrying cannot make a deleted quiz appear.
    return ApplicationError(str(err), type="QuizNotFound", non_retryable=True)


class PersistenceActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name=START_ROUND_ACTIVITY)
    async def start_round(self, quiz_id: uuid.UUID) -> QuizPlan:
        """Mark the quiz `generating_questions`; list its batches, the saved ones, the metadata."""
        try:
            quiz = await repo.get_quiz(self._engine, quiz_id)
            await repo.update_quiz_status(
                self._engine,
                quiz_id,
                QuizStatus.GENERATING_QUESTIONS,
                metadata=quiz.generation_metadata,
                allowed_from=GENERATABLE,
            )
        except QuizNotFoundError as err:
            raise _not_found(err) from err
        except QuizStateConflictError as err:
            # E.g. the quiz was published meanwhile: generating again would be wrong.
            raise ApplicationError(str(err), type="QuizNotGeneratable", non_retryable=True) from err
        saved = await repo.saved_batch_keys(self._engine, quiz_id)
        return QuizPlan(
            batches=[BatchRef.of(module, batch) for module, batch in quiz.spec.batches()],
            saved_batch_keys=sorted(saved),
            metadata=quiz.generation_metadata,
        )

    @activity.defn(name=SAVED_BATCHES_ACTIVITY)
    async def saved_batches(self, quiz_id: uuid.UUID) -> list[str]:
        """The batch keys PostgreSQL has saved: the final word on what succeeded."""
        return sorted(await repo.saved_batch_keys(self._engine, quiz_id))

    @activity.defn(name=SAVE_BATCH_ACTIVITY)
    async def save_batch(self, input: SaveBatchInput) -> SaveBatchOutput:
        if len(input.questions) != input.batch.count:
            # Invariant 1 holds here too, whatever a caller sends.
            raise ApplicationError(
                f"batch {input.batch.batch_key} has {len(input.questions)} questions, "
                f"not {input.batch.count}; only complete batches are saved",
                type="IncompleteBatch",
                non_retryable=True,
            )
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
                allowed_from={QuizStatus.GENERATING_QUESTIONS},
            )
        except QuizNotFoundError as err:
            raise _not_found(err) from err
        except QuizStateConflictError as err:
            # Someone moved the quiz on (e.g. published it); their decision stands.
            log.warning("round outcome not recorded: %s", err)

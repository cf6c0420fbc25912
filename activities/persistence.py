"""Database activities: open a round, save a batch, record a round's outcome.

Each is one transaction in `quizgen.db` and safe to retry; Temporal retries
them for minutes (workflows/_policies.py), so a database restart delays a
round instead of failing it.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities import metrics
from activities._errors import temporal_errors
from quizgen.contracts import (
    BatchRef,
    BatchState,
    QuizPlan,
    RecordRoundInput,
    RoundRecorded,
    SaveBatchInput,
    SaveBatchOutput,
)
from quizgen.db import drafts, rounds
from quizgen.domain import BatchStatus
from quizgen.names import (
    RECORD_ROUND_ACTIVITY,
    SAVE_BATCH_ACTIVITY,
    START_ROUND_ACTIVITY,
)
from quizgen.progress import progress_from_records

__all__ = ["PersistenceActivities"]

log = logging.getLogger(__name__)


class PersistenceActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name=START_ROUND_ACTIVITY)
    async def start_round(self, quiz_id: uuid.UUID) -> QuizPlan:
        """Mark the quiz `generating_questions`; say where each of its batches stands."""
        # A quiz deleted, or published meanwhile: generating again would be wrong.
        with temporal_errors():
            start = await rounds.begin_round(self._engine, quiz_id)
        quiz = start.quiz
        progress = progress_from_records(
            quiz.spec, quiz.status, quiz.generation_metadata, start.drafts
        )
        refs = [BatchRef.of(module, batch) for module, batch in quiz.spec.batches()]
        return QuizPlan(
            title=quiz.spec.title,
            batches=[
                BatchState(
                    ref=ref,
                    # A batch that failed before is pending again: this round runs it.
                    status=BatchStatus.SUCCEEDED
                    if batch.status is BatchStatus.SUCCEEDED
                    else BatchStatus.PENDING,
                    attempts=batch.attempts,
                    last_error=batch.last_error,
                    drafts=start.drafts.get(ref.batch_key, 0),
                )
                for ref, batch in zip(refs, progress.batches, strict=True)
            ],
        )

    @activity.defn(name=SAVE_BATCH_ACTIVITY)
    async def save_batch(self, input: SaveBatchInput) -> SaveBatchOutput:
        with temporal_errors():
            outcome = await drafts.save_batch(self._engine, input.quiz_id, input.batch)
        metrics.record_questions_saved(outcome)
        return SaveBatchOutput(
            saved=outcome.saved,
            missing=outcome.missing,
            duplicates_dropped=outcome.duplicates_dropped,
        )

    @activity.defn(name=RECORD_ROUND_ACTIVITY)
    async def record_round(self, input: RecordRoundInput) -> RoundRecorded:
        with temporal_errors():
            end = await rounds.record_round(
                self._engine,
                input.quiz_id,
                round_id=input.round_id,
                started_at=input.started_at,
                results=input.results,
                stopped=input.stopped,
            )
        metrics.record_batches(end.appended)
        return RoundRecorded(status=end.status, saved_batch_keys=end.saved_batch_keys)

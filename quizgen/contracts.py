"""The typed input and output of every workflow, activity and query.

Workflows import this module (through `imports_passed_through`), so it holds
pure data only. Everything here enters Temporal history, so it carries ids,
counts, token numbers and short reasons, never question bodies or module
content (invariant 7): a batch travels as a `BatchRef`, its questions stay in
PostgreSQL (drafts, then questions), and activities load them there.

The Canvas workflows' payloads (the export, the extraction) are in
`quizgen/canvas_contracts.py`, under the same rules.

Compatibility: the models ignore unknown fields (`quizgen.domain.Payload`),
so a field removed in a new release does not break a running workflow whose
history still carries it; a new field needs a default (a rename is both).
When a field's meaning changes, re-record tests/histories and drain running
workflows first (see docs/architecture.md, "Compatibility").
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from quizgen.domain import (
    BatchRef,
    BatchResult,
    BatchStatus,
    Payload,
    QuizStatus,
    TokenUsage,
    progress_message,
)

__all__ = [
    "BatchFailure",
    "BatchProgress",
    "BatchRef",
    "BatchState",
    "GenerateBatchInput",
    "GenerateQuestionsInput",
    "GeneratedQuestions",
    "GenerationConfig",
    "QuizPlan",
    "QuizProgress",
    "QuizWorkflowInput",
    "QuizWorkflowResult",
    "RecordRoundInput",
    "RoundRecorded",
    "SaveBatchInput",
    "SaveBatchOutput",
]


class GenerationConfig(Payload):
    """Behaviour knobs, read from settings by whoever starts the workflow.

    Its defaults are the settings' defaults too (`quizgen.settings`).
    """

    max_concurrent_batches: Annotated[int, Field(ge=1)] = 20
    repair_rounds: Annotated[int, Field(ge=0)] = 3
    # How long a quiz with unfinished batches waits for `retry_failed_batches`;
    # None: for as long as the quiz exists (its workflow is an entity).
    retry_wait: timedelta | None = None
    llm_call_timeout: timedelta = timedelta(minutes=5)
    # Short, so that the calls of a killed worker are re-issued within ~10 s.
    llm_heartbeat_timeout: timedelta = timedelta(seconds=6)
    llm_max_attempts: Annotated[int, Field(ge=1)] = 30
    # LLM calls are retried for this long (an outage of minutes is absorbed).
    llm_retry_window: timedelta = timedelta(minutes=10)
    db_call_timeout: timedelta = timedelta(seconds=30)
    db_max_attempts: Annotated[int, Field(ge=1)] = 40
    # Continue-as-new after this many rounds even if the SDK does not suggest it
    # yet (keeps histories short; tests use it to exercise continue-as-new).
    rounds_per_run: Annotated[int | None, Field(ge=1)] = None

    @property
    def db_retry_window(self) -> timedelta:
        # Long enough to ride out a database restart or failover.
        return timedelta(minutes=10)

    @property
    def batch_timeout(self) -> timedelta:
        """An upper bound on one batch run: every LLM and DB call exhausting its retries.

        Without it a batch stuck on a bug (its workflow task failing forever)
        would keep the quiz in `generating_questions`; with it, only that batch fails.
        """
        calls = 1 + self.repair_rounds
        llm = calls * (self.llm_retry_window + self.llm_call_timeout)
        db = calls * (self.db_retry_window + self.db_call_timeout)
        return llm + db + timedelta(minutes=5)


class BatchState(BaseModel):
    """Where one batch stands: from `start_round`, then kept up to date by the quiz workflow."""

    # Mutable (the quiz workflow updates it), otherwise a Payload.
    model_config = ConfigDict(extra="ignore")

    ref: BatchRef
    status: BatchStatus = BatchStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    # Valid questions of the batch kept as drafts in PostgreSQL (not saved yet).
    drafts: int = 0

    @property
    def generated_count(self) -> int:
        if self.status is BatchStatus.SUCCEEDED:
            return self.ref.count
        return self.drafts


class QuizPlan(Payload):
    """Output of `start_round`: every batch of the quiz as PostgreSQL has it."""

    batches: list[BatchState]
    # For the Web UI's description of the run (Temporal user metadata).
    title: str = ""


class QuizWorkflowInput(Payload):
    quiz_id: uuid.UUID
    config: GenerationConfig = GenerationConfig()
    # Set by continue-as-new: a retry was asked for, so run a round at once.
    retry_requested: bool = False


class QuizWorkflowResult(Payload):
    status: QuizStatus
    questions_saved: int
    questions_target: int
    failed_batches: list[str]


class GenerateBatchInput(Payload):
    quiz_id: uuid.UUID
    batch: BatchRef
    config: GenerationConfig
    # Valid drafts the batch already has in PostgreSQL.
    drafts: int = 0


class BatchFailure(Payload):
    """The details of a failed batch's `ApplicationError`: what it had achieved."""

    reason: str
    generated_count: int
    tokens: TokenUsage
    llm_calls: int


class GenerateQuestionsInput(Payload):
    quiz_id: uuid.UUID
    batch: BatchRef
    # How many questions to ask for (the activity never asks for more than
    # the batch is missing, whatever this says).
    count: int
    call_index: int


class GeneratedQuestions(Payload):
    # Valid drafts the batch has after this call.
    drafts: int
    # The drafts reached the target and the activity saved the batch.
    saved: bool = False
    # What went wrong with the answer, in one short line (None: nothing).
    problem: str | None
    tokens: TokenUsage
    # Valid questions of this answer that other batches of the quiz had saved
    # first (batches of modules with overlapping content race for the same
    # texts): the provider delivered them, so they do not make the call futile.
    collisions: int = 0
    # The answer was unreadable or some of its questions broke a rule: a repair
    # call can fix that, so a short first answer of this kind is not futile.
    # True when absent (answers from workers older than this field).
    repairable: bool = True


class SaveBatchInput(Payload):
    quiz_id: uuid.UUID
    batch: BatchRef


class SaveBatchOutput(Payload):
    saved: bool
    # Not saved: how many more valid questions the batch needs.
    missing: int = 0
    duplicates_dropped: int = 0


class RecordRoundInput(Payload):
    quiz_id: uuid.UUID
    # Unique per round across all runs, so a retried record is recognised.
    round_id: str
    started_at: datetime
    results: list[BatchResult]
    # Why the round ended early (cancelled, an activity gave up), if it did.
    stopped: str | None = None


class RoundRecorded(Payload):
    """The quiz after the round, as PostgreSQL settled it."""

    status: QuizStatus
    saved_batch_keys: list[str]


class BatchProgress(Payload):
    batch_key: str
    status: BatchStatus
    target_count: int
    generated_count: int
    attempts: int
    last_error: str | None


class QuizProgress(Payload):
    status: QuizStatus
    questions_saved: int
    questions_target: int
    questions_remaining: int
    message: str
    batches: list[BatchProgress]

    @classmethod
    def of(cls, status: QuizStatus, batches: list[BatchProgress]) -> QuizProgress:
        saved = sum(b.target_count for b in batches if b.status is BatchStatus.SUCCEEDED)
        target = sum(b.target_count for b in batches)
        return cls(
            status=status,
            questions_saved=saved,
            questions_target=target,
            questions_remaining=target - saved,
            message=progress_message(saved, target),
            batches=batches,
        )

"""The typed input and output of every workflow, activity and query.

Workflows import this module (through `imports_passed_through`), so it holds
pure data only. Everything here enters Temporal history, so it carries ids,
counts, token numbers and short reasons, never question bodies or module
content (invariant 7): a batch travels as a `BatchRef`, its questions stay in
PostgreSQL (drafts, then questions), and activities load them there.

Compatibility: the models ignore unknown fields (`quizgen.domain.Payload`),
so a field removed in a new release does not break a running workflow whose
history still carries it; a new field needs a default (a rename is both).
When a field's meaning changes, re-record tests/histories and drain running
workflows first (see docs/architecture.md, "Compatibility").
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from quizgen.domain import (
    BatchRef,
    BatchResult,
    BatchStatus,
    ExportState,
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
    "CanvasQuizRef",
    "ExportAction",
    "ExportConfig",
    "ExportFinished",
    "ExportItemInput",
    "ExportPlan",
    "ExportProgress",
    "ExportStateChange",
    "ExportWorkflowInput",
    "ExportWorkflowResult",
    "ExtractSourceInput",
    "ExtractionConfig",
    "ExtractionFinished",
    "ExtractionOutcome",
    "ExtractionPlan",
    "ExtractionProgress",
    "ExtractionStopped",
    "ExtractionWorkflowInput",
    "GenerateBatchInput",
    "GenerateQuestionsInput",
    "GeneratedQuestions",
    "GenerationConfig",
    "ItemExported",
    "ItemOutcome",
    "QuizPlan",
    "QuizProgress",
    "QuizWorkflowInput",
    "QuizWorkflowResult",
    "RecordRoundInput",
    "RoundRecorded",
    "SaveBatchInput",
    "SaveBatchOutput",
    "SourceExtracted",
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


# -- the export to Canvas New Quizzes (workflows/export.py, activities/export.py)


class ExportConfig(Payload):
    """How an export talks to Canvas, read from settings when it starts."""

    # Item calls in flight at once (Canvas throttles per token: a few suffice).
    concurrency: Annotated[int, Field(ge=1, le=50)] = 8
    canvas_call_timeout: timedelta = timedelta(seconds=20)
    # How long a throttled, failing or unreachable Canvas is retried before the export fails.
    canvas_retry_window: timedelta = timedelta(minutes=30)


class ExportAction(StrEnum):
    EXPORT = "export"
    # Compensation: delete the Canvas quiz the export made, forget its items.
    UNDO = "undo"


class ExportWorkflowInput(Payload):
    """Where the export goes (course, title, points) is in PostgreSQL (`canvas_export`)."""

    quiz_id: uuid.UUID
    action: ExportAction = ExportAction.EXPORT
    config: ExportConfig = ExportConfig()


class ExportPlan(Payload):
    """Output of `begin_export`: the approved questions, in the quiz's order."""

    question_ids: list[uuid.UUID]
    title: str = ""


class CanvasQuizRef(Payload):
    canvas_quiz_id: str
    url: str


class ExportItemInput(Payload):
    quiz_id: uuid.UUID
    question_id: uuid.UUID
    # 1-based place in the Canvas quiz.
    position: int


class ItemOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # Created by an earlier attempt whose answer was lost, found in Canvas by its title.
    FOUND = "found"
    # No longer approved when its turn came: not exported.
    SKIPPED = "skipped"


class ItemExported(Payload):
    question_id: uuid.UUID
    outcome: ItemOutcome


class ExportFinished(Payload):
    """Output of `finish_export`: the Canvas quiz as it was left."""

    exported: int
    # Items of questions no longer approved, deleted from the Canvas quiz.
    removed: int = 0
    # Items moved to their place in the quiz's order.
    moved: int = 0
    url: str = ""
    # Approved questions not in Canvas at their current version (approved or edited while
    # the export ran): the quiz is not published, the workflow sends them first.
    missing: int = 0


class ExportStateChange(Payload):
    quiz_id: uuid.UUID
    state: ExportState
    message: Annotated[str, Field(max_length=2000)]


class ExportProgress(Payload):
    """The `export_progress` query: where a running export stands."""

    state: ExportState
    exported: int
    total: int
    message: str | None = None

    @property
    def sentence(self) -> str:
        return f"{self.exported} of {self.total} questions exported"


class ExportWorkflowResult(Payload):
    state: ExportState
    exported: int
    total: int
    canvas_quiz_id: str | None = None


# -- the extraction of Canvas pages and PDFs (workflows/extraction.py, activities/extraction.py)


class ExtractionConfig(ExportConfig):
    """As an export's Canvas calls; fewer at once (each may download up to 10 MB)."""

    concurrency: Annotated[int, Field(ge=1, le=50)] = 4


class ExtractionWorkflowInput(Payload):
    quiz_id: uuid.UUID
    config: ExtractionConfig = ExtractionConfig()


class ExtractionPlan(Payload):
    """Output of `begin_extraction`: the sources not extracted yet."""

    source_ids: list[Annotated[str, Field(max_length=80)]]
    title: str = ""


class ExtractSourceInput(Payload):
    quiz_id: uuid.UUID
    source_id: Annotated[str, Field(max_length=80)]


class ExtractionOutcome(StrEnum):
    EXTRACTED = "extracted"
    # Extracted by an earlier attempt or run: not fetched again.
    ALREADY = "already"
    # The reason is kept with the source, in plain words.
    FAILED = "failed"


class SourceExtracted(Payload):
    source_id: str
    outcome: ExtractionOutcome
    chars: int = 0
    # Why it failed, in plain words (about the file, never its text).
    reason: Annotated[str | None, Field(max_length=500)] = None


class ExtractionFinished(Payload):
    """Output of `finish_extraction`: the modules' text composed, the quiz's status."""

    status: QuizStatus
    modules_ready: int
    modules_empty: int
    extracted: int
    failed: int


class ExtractionStopped(Payload):
    quiz_id: uuid.UUID
    message: Annotated[str, Field(max_length=2000)]
    # False: the run only waits for a reconnect (the message says so); "" clears it.
    stopped: bool = True


class ExtractionProgress(Payload):
    """The `extraction_progress` query."""

    total: int
    extracted: int
    failed: int
    waiting_for_canvas: bool = False

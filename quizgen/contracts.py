"""The typed input and output of every workflow, activity and query.

Workflows import this module (through `imports_passed_through`), so it holds
pure data only. Payloads stay small: a batch travels as a `BatchRef` (ids and
counts, never module content); activities load content from the database.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from quizgen.domain import (
    BatchResult,
    BatchSpec,
    BatchStatus,
    Difficulty,
    FailureReason,
    GenerationMetadata,
    ModuleSpec,
    QuestionType,
    QuizStatus,
    TokenUsage,
    batch_key,
    progress_message,
)
from quizgen.settings import Settings
from quizgen.validation import Rejection

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
    "SaveBatchInput",
    "SaveBatchOutput",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GenerationConfig(_Frozen):
    """Behaviour knobs, read from settings by whoever starts the workflow."""

    max_concurrent_batches: Annotated[int, Field(ge=1)] = 10
    repair_rounds: Annotated[int, Field(ge=0)] = 3
    retry_wait: timedelta = timedelta(days=7)
    llm_call_timeout: timedelta = timedelta(minutes=5)
    llm_heartbeat_timeout: timedelta = timedelta(seconds=30)
    llm_max_attempts: Annotated[int, Field(ge=1)] = 5
    db_call_timeout: timedelta = timedelta(seconds=30)
    db_max_attempts: Annotated[int, Field(ge=1)] = 10
    # Continue-as-new after this many rounds even if the SDK does not suggest it
    # yet (keeps histories short; tests use it to exercise continue-as-new).
    rounds_per_run: Annotated[int | None, Field(ge=1)] = None

    @property
    def batch_timeout(self) -> timedelta:
        """An upper bound on one batch run: every LLM and DB attempt timing out, plus slack.

        Without it a batch stuck on a bug (its workflow task failing forever)
        would keep the quiz in `generating_questions`; with it, only that batch fails.
        """
        llm = (1 + self.repair_rounds) * self.llm_max_attempts * (self.llm_call_timeout * 1.5)
        db = self.db_max_attempts * (self.db_call_timeout + timedelta(seconds=30)) * 2
        return llm + db + timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings: Settings) -> GenerationConfig:
        return cls(
            max_concurrent_batches=settings.max_concurrent_batches,
            repair_rounds=settings.batch_repair_rounds,
            retry_wait=settings.retry_wait,
            llm_call_timeout=settings.llm_call_timeout,
            llm_heartbeat_timeout=settings.llm_heartbeat_timeout,
            llm_max_attempts=settings.llm_max_attempts,
        )


class BatchRef(_Frozen):
    """A batch by identity and size: what workflows pass around instead of content."""

    batch_key: str
    module_id: str
    question_type: QuestionType
    count: int
    difficulty: Difficulty

    @classmethod
    def of(cls, module: ModuleSpec, batch: BatchSpec) -> BatchRef:
        return cls(
            batch_key=batch_key(
                module.module_id, batch.question_type, batch.count, batch.difficulty
            ),
            module_id=module.module_id,
            question_type=batch.question_type,
            count=batch.count,
            difficulty=batch.difficulty,
        )

    def result(
        self,
        status: BatchStatus,
        *,
        generated_count: int,
        llm_calls: int,
        tokens: TokenUsage,
        error: str | None = None,
    ) -> BatchResult:
        """This batch's outcome in one round, as the generation metadata records it."""
        return BatchResult(
            batch_key=self.batch_key,
            module_id=self.module_id,
            question_type=self.question_type,
            difficulty=self.difficulty,
            target_count=self.count,
            generated_count=generated_count,
            status=status,
            error=error,
            llm_calls=llm_calls,
            tokens=tokens,
        )


class BatchState(BaseModel):
    """The quiz workflow's record of one batch, carried across continue-as-new."""

    model_config = ConfigDict(extra="forbid")

    ref: BatchRef
    status: BatchStatus = BatchStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    # Valid questions of a failed run, handed to the next run so that it only
    # asks the LLM for what is missing (they are not saved: a batch saves whole).
    kept_questions: list[dict[str, Any]] = []
    tokens: TokenUsage = TokenUsage()

    @property
    def generated_count(self) -> int:
        if self.status is BatchStatus.SUCCEEDED:
            return self.ref.count
        return len(self.kept_questions)


class QuizPlan(_Frozen):
    """Output of `start_round`: every batch of the quiz, which are saved, and the metadata.

    A new run of the quiz workflow (after an earlier one closed) takes the
    stored metadata over, so its rounds extend the quiz's history of attempts.
    """

    batches: list[BatchRef]
    saved_batch_keys: list[str]
    metadata: GenerationMetadata = GenerationMetadata()


class QuizWorkflowInput(_Frozen):
    quiz_id: uuid.UUID
    config: GenerationConfig = GenerationConfig()
    # Set only by continue-as-new.
    carried_batches: list[BatchState] | None = None
    carried_metadata: GenerationMetadata | None = None
    retry_requested: bool = False


class QuizWorkflowResult(_Frozen):
    status: QuizStatus
    questions_saved: int
    questions_target: int
    failed_batches: list[str]


class GenerateBatchInput(_Frozen):
    quiz_id: uuid.UUID
    batch: BatchRef
    config: GenerationConfig
    kept_questions: list[dict[str, Any]] = []


class BatchFailure(_Frozen):
    """The details of a failed batch's `ApplicationError`: what it had achieved."""

    reason: str
    kept_questions: list[dict[str, Any]]
    tokens: TokenUsage
    llm_calls: int


class GenerateQuestionsInput(_Frozen):
    quiz_id: uuid.UUID
    batch: BatchRef
    count: int
    call_index: int
    avoid_texts: list[str] = []
    repair: list[Rejection] = []


class GeneratedQuestions(_Frozen):
    valid: list[dict[str, Any]]
    rejected: list[Rejection]
    output_error: str | None
    tokens: TokenUsage


class SaveBatchInput(_Frozen):
    quiz_id: uuid.UUID
    batch: BatchRef
    questions: list[dict[str, Any]]


class SaveBatchOutput(_Frozen):
    inserted: bool
    question_count: int
    duplicate_indexes: list[int] = []


class RecordRoundInput(_Frozen):
    quiz_id: uuid.UUID
    status: QuizStatus
    failure_reason: FailureReason | None = None
    failure_message: str | None = None
    metadata: GenerationMetadata | None = None


class BatchProgress(_Frozen):
    batch_key: str
    status: BatchStatus
    target_count: int
    generated_count: int
    attempts: int
    last_error: str | None


class QuizProgress(_Frozen):
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

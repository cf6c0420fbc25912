"""The quiz as a teacher specifies it, and the records that describe generation.

Everything here is plain pydantic so that the API, the activities and the
(deterministic) workflows can all import it: no I/O, no clocks, no randomness.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from quizgen.module_ids import module_id_for
from quizgen.text import require_visible_text

__all__ = [
    "EXPORTABLE",
    "GENERATABLE",
    "MAX_BATCHES_PER_MODULE",
    "MAX_MODULES",
    "MAX_MODULE_CONTENT_CHARS",
    "MAX_QUESTIONS_PER_BATCH",
    "MAX_QUIZ_CONTENT_CHARS",
    "REVIEWABLE",
    "BatchRef",
    "BatchResult",
    "BatchSpec",
    "BatchStatus",
    "Difficulty",
    "ExportState",
    "FailureReason",
    "GenerationAttempt",
    "GenerationMetadata",
    "Language",
    "ModuleSpec",
    "NoNul",
    "Payload",
    "QuestionType",
    "QuizSpec",
    "QuizStatus",
    "RoundOutcome",
    "TokenUsage",
    "Tone",
    "batch_key",
    "module_id_for",
    "no_nul",
    "progress_message",
]

# Limits a teacher's request must respect; the API reports them as 422s.
MAX_QUESTIONS_PER_BATCH = 20
MAX_BATCHES_PER_MODULE = 4
MAX_MODULES = 20
MAX_MODULE_CONTENT_CHARS = 100_000
MAX_QUIZ_CONTENT_CHARS = 500_000

# Module ids end up inside batch keys and Temporal workflow ids, so they are
# kept to characters that are safe in both and never contain the separator "_".
MODULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"


def no_nul(value: str) -> str:
    """PostgreSQL cannot store U+0000 in text: refuse it where input enters."""
    if "\x00" in value:
        raise ValueError("text must not contain the NUL character (U+0000)")
    return value


# Refuses NUL in text from outside (teachers, LLMs). It goes after any length
# Field in an Annotated chain, so pydantic keeps its "String should have..." wording.
NoNul = AfterValidator(no_nul)


def _json_number(value: object) -> object:
    # true or "2" is a mistake in the request, not a number; 2.0 is a fine 2.
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number")
    return value


Number = BeforeValidator(_json_number)


class QuestionType(StrEnum):
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    FILL_IN_BLANK = "fill_in_blank"
    MATCHING = "matching"
    CATEGORIZATION = "categorization"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Language(StrEnum):
    ENGLISH = "en"
    NORWEGIAN = "no"


class Tone(StrEnum):
    ACADEMIC = "academic"
    CASUAL = "casual"
    ENCOURAGING = "encouraging"
    PROFESSIONAL = "professional"


class QuizStatus(StrEnum):
    CREATED = "created"
    EXTRACTING_CONTENT = "extracting_content"
    GENERATING_QUESTIONS = "generating_questions"
    READY_FOR_REVIEW = "ready_for_review"
    READY_FOR_REVIEW_PARTIAL = "ready_for_review_partial"
    EXPORTING_TO_CANVAS = "exporting_to_canvas"
    PUBLISHED = "published"
    FAILED = "failed"


# The statuses a generation round may start from (a published quiz is never regenerated).
GENERATABLE = frozenset(
    {
        QuizStatus.CREATED,
        QuizStatus.GENERATING_QUESTIONS,
        QuizStatus.READY_FOR_REVIEW,
        QuizStatus.READY_FOR_REVIEW_PARTIAL,
        QuizStatus.FAILED,
    }
)


# The statuses a quiz may be exported from (and goes back to when an export fails or is
# undone); a published quiz may be exported again, which updates its Canvas quiz.
REVIEWABLE = frozenset({QuizStatus.READY_FOR_REVIEW, QuizStatus.READY_FOR_REVIEW_PARTIAL})
EXPORTABLE = REVIEWABLE | {QuizStatus.PUBLISHED}


class ExportState(StrEnum):
    """Where a quiz's export to Canvas stands (`canvas_export.state`)."""

    RUNNING = "running"
    # Canvas refused the teacher's token: the export waits until they reconnect.
    WAITING_FOR_CANVAS = "waiting_for_canvas"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNDOING = "undoing"


class FailureReason(StrEnum):
    """Why a quiz ended a round as `failed` (stored next to the status)."""

    NO_BATCHES_SUCCEEDED = "no_batches_succeeded"
    # A round was stopped (cancelled, an activity gave up) before any batch saved.
    INTERNAL_ERROR = "internal_error"
    # Extraction gave no module any usable text (each source says why).
    NO_CONTENT_EXTRACTED = "no_content_extracted"


class BatchStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RoundOutcome(StrEnum):
    """The result of one generation round over all batches still to do."""

    SUCCESS = "success"
    PARTIAL_SUCCESS = "partial_success"
    FAILED = "failed"

    @classmethod
    def of(cls, succeeded: int, failed: int) -> RoundOutcome:
        if succeeded == 0:
            return cls.FAILED
        return cls.SUCCESS if failed == 0 else cls.PARTIAL_SUCCESS

    def quiz_status(self) -> QuizStatus:
        return {
            RoundOutcome.SUCCESS: QuizStatus.READY_FOR_REVIEW,
            RoundOutcome.PARTIAL_SUCCESS: QuizStatus.READY_FOR_REVIEW_PARTIAL,
            RoundOutcome.FAILED: QuizStatus.FAILED,
        }[self]


def batch_key(
    module_id: str, question_type: QuestionType, count: int, difficulty: Difficulty
) -> str:
    """`{module_id}_{question_type}_{count}_{difficulty}`: stable, used in workflow ids."""
    return f"{module_id}_{question_type.value}_{count}_{difficulty.value}"


def progress_message(saved: int, target: int) -> str:
    """The sentence shown everywhere progress is shown."""
    remaining = max(target - saved, 0)
    return f"{saved} questions generated successfully ({remaining} remaining)"


class _Frozen(BaseModel):
    """What a teacher sends: unknown fields are a mistake, refused with a readable error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Payload(BaseModel):
    """What crosses Temporal (workflow and activity inputs and outputs) and is stored.

    Unknown fields are ignored, so a field removed in a new release does not
    break a running workflow whose history still carries it; a new field needs
    a default (docs/architecture.md, "Compatibility").
    """

    model_config = ConfigDict(frozen=True, extra="ignore")


class BatchSpec(_Frozen):
    question_type: QuestionType
    count: Annotated[int, Field(ge=1, le=MAX_QUESTIONS_PER_BATCH), Number]
    difficulty: Difficulty = Difficulty.MEDIUM


class ModuleSpec(_Frozen):
    module_id: Annotated[str, Field(pattern=MODULE_ID_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200), NoNul]
    content: Annotated[str, Field(min_length=1, max_length=MAX_MODULE_CONTENT_CHARS), NoNul]
    batches: Annotated[list[BatchSpec], Field(min_length=1, max_length=MAX_BATCHES_PER_MODULE)]

    @field_validator("name", "content")
    @classmethod
    def _has_text(cls, value: str, info: ValidationInfo) -> str:
        # Only checked: a name or content is stored as written (see quizgen.text).
        return require_visible_text(value, str(info.field_name))

    @model_validator(mode="after")
    def _one_batch_per_type_and_difficulty(self) -> Self:
        seen: set[tuple[QuestionType, Difficulty]] = set()
        for batch in self.batches:
            pair = (batch.question_type, batch.difficulty)
            if pair in seen:
                raise ValueError(
                    f"module {self.module_id!r} asks twice for {batch.question_type.value} "
                    f"questions of difficulty {batch.difficulty.value}; merge them into one batch"
                )
            seen.add(pair)
        return self


class QuizSpec(_Frozen):
    """What a teacher asks for: the quiz and, per module, the batches to generate."""

    title: Annotated[str, Field(min_length=1, max_length=200), NoNul]
    language: Language = Language.ENGLISH
    tone: Tone = Tone.ACADEMIC
    modules: Annotated[list[ModuleSpec], Field(min_length=1, max_length=MAX_MODULES)]
    llm_model: Annotated[str, Field(min_length=1, max_length=100), NoNul] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0), Number] | None = None

    @field_validator("title")
    @classmethod
    def _title_has_text(cls, value: str) -> str:
        return require_visible_text(value, "title")

    @model_validator(mode="after")
    def _modules_are_distinct_and_bounded(self) -> Self:
        ids = [m.module_id for m in self.modules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"module_id must be unique within a quiz; repeated: {duplicates}")
        total = sum(len(m.content) for m in self.modules)
        if total > MAX_QUIZ_CONTENT_CHARS:
            raise ValueError(
                f"the modules' content totals {total} characters; "
                f"a quiz may have at most {MAX_QUIZ_CONTENT_CHARS}"
            )
        return self

    def batches(self) -> Iterator[tuple[ModuleSpec, BatchSpec]]:
        for module in self.modules:
            for batch in module.batches:
                yield module, batch

    @property
    def question_target(self) -> int:
        return sum(batch.count for _, batch in self.batches())


class TokenUsage(Payload):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Of prompt_tokens, those the provider served from its prompt cache (billed lower).
    cached_prompt_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_prompt_tokens=self.cached_prompt_tokens + other.cached_prompt_tokens,
        )


class BatchResult(Payload):
    """What one batch achieved in one round (the memo's `batch_results` entry)."""

    batch_key: str
    module_id: str
    question_type: QuestionType
    difficulty: Difficulty
    target_count: int
    generated_count: int
    status: BatchStatus
    error: str | None = None
    llm_calls: int = 0
    tokens: TokenUsage = TokenUsage()


class GenerationAttempt(Payload):
    """One generation round: which batches ran and how each ended."""

    attempt_number: int
    started_at: datetime
    finished_at: datetime
    overall_status: RoundOutcome
    batch_results: dict[str, BatchResult]
    tokens: TokenUsage = TokenUsage()


class GenerationMetadata(Payload):
    """Stored on the quiz; complete and true after every round."""

    generation_attempts: list[GenerationAttempt] = []
    successful_batches: list[str] = []
    failed_batches: list[str] = []
    total_questions_saved: int = 0
    total_questions_target: int = 0
    tokens: TokenUsage = TokenUsage()


class BatchRef(Payload):
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

"""What clients send and receive. Table models never leave the database layer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from quizgen.contracts import QuizProgress
from quizgen.db.repository import QuizRecord
from quizgen.db.review import QuestionPublic, QuizSummary
from quizgen.db.review_changes import ReviewCounts
from quizgen.domain import (
    MODULE_ID_PATTERN,
    BatchSpec,
    Difficulty,
    FailureReason,
    GenerationMetadata,
    Language,
    QuestionType,
    QuizSpec,
    QuizStatus,
    Tone,
)

__all__ = [
    "GenerationAccepted",
    "ModulePublic",
    "QuestionCreate",
    "QuestionOrder",
    "QuestionPublic",
    "QuestionUpdate",
    "QuestionsPage",
    "QuizCreate",
    "QuizPublic",
    "QuizzesPage",
    "ReviewCounts",
]

# More than a quiz can hold (20 modules x 4 batches x 20 questions, and some by hand).
MAX_ORDERED_QUESTIONS = 10_000


class QuizCreate(QuizSpec):
    """A quiz as a teacher asks for it: modules with their content and batches."""


class ModulePublic(BaseModel):
    module_id: str
    name: str
    content_chars: int
    batches: list[BatchSpec]


class QuizPublic(BaseModel):
    id: uuid.UUID
    title: str
    language: Language
    tone: Tone
    llm_model: str | None
    temperature: float | None
    status: QuizStatus
    failure_reason: FailureReason | None
    failure_message: str | None
    modules: list[ModulePublic]
    progress: QuizProgress
    generation_metadata: GenerationMetadata
    # The questions by review status; to_export (= approved) is what an export takes.
    review: ReviewCounts
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: QuizRecord, progress: QuizProgress, review: ReviewCounts) -> QuizPublic:
        spec = record.spec
        return cls(
            id=record.id,
            title=spec.title,
            language=spec.language,
            tone=spec.tone,
            llm_model=spec.llm_model,
            temperature=spec.temperature,
            status=record.status,
            failure_reason=record.failure_reason,
            failure_message=record.failure_message,
            modules=[
                ModulePublic(
                    module_id=m.module_id,
                    name=m.name,
                    content_chars=len(m.content),
                    batches=m.batches,
                )
                for m in spec.modules
            ],
            progress=progress,
            generation_metadata=record.generation_metadata,
            review=review,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class QuizzesPage(BaseModel):
    data: list[QuizSummary]
    count: int


class GenerationAccepted(BaseModel):
    quiz_id: uuid.UUID
    status: QuizStatus
    batch_keys: list[str]
    message: str


class QuestionsPage(BaseModel):
    data: list[QuestionPublic]
    count: int


class QuestionUpdate(BaseModel):
    """An edit: the new question JSON (checked by the same rules as generated ones)."""

    model_config = ConfigDict(extra="forbid")

    question_data: Annotated[dict[str, Any] | None, Field(max_length=50)] = None
    is_approved: StrictBool | None = None


class QuestionCreate(BaseModel):
    """A question written by hand: checked by the same rules as generated ones."""

    model_config = ConfigDict(extra="forbid")

    module_id: Annotated[str, Field(max_length=64, pattern=MODULE_ID_PATTERN)]
    question_type: QuestionType
    difficulty: Difficulty = Difficulty.MEDIUM
    question_data: Annotated[dict[str, Any], Field(max_length=50)]


class QuestionOrder(BaseModel):
    """The quiz's questions in their new review order: every id exactly once."""

    model_config = ConfigDict(extra="forbid")

    question_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_ORDERED_QUESTIONS)]

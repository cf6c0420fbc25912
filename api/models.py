"""What clients send and receive. Table models never leave the database layer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from quizgen.contracts import QuizProgress
from quizgen.db.repository import QuizRecord
from quizgen.db.review import QuestionPublic, QuizSummary
from quizgen.domain import (
    BatchSpec,
    FailureReason,
    GenerationMetadata,
    Language,
    QuizSpec,
    QuizStatus,
    Tone,
)

__all__ = [
    "GenerationAccepted",
    "ModulePublic",
    "QuestionPublic",
    "QuestionUpdate",
    "QuestionsPage",
    "QuizCreate",
    "QuizPublic",
    "QuizzesPage",
]


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
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: QuizRecord, progress: QuizProgress) -> QuizPublic:
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

"""The one interface every question generator implements.

A provider turns a `GenerationRequest` into raw text (JSON, untrusted) plus
token usage. It does not validate: `quizgen.validation` does that for every
provider alike, so offline, OpenAI and fault-injected output take one path.
Providers raise `TransientProviderError` / `PermanentProviderError` from
`quizgen.errors`; the activity maps those to Temporal retry semantics.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from quizgen.domain import Difficulty, Language, QuestionType, TokenUsage, Tone
from quizgen.validation import Rejection

__all__ = ["GenerationRequest", "GenerationResponse", "QuestionProvider"]


class GenerationRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    batch_key: str
    module_id: str
    module_name: str
    content: str
    question_type: QuestionType
    difficulty: Difficulty
    language: Language
    tone: Tone
    # How many *new* questions are wanted in this call (the batch may already hold some).
    count: int = Field(ge=1)
    # 0 for a batch's first call in a round, then 1, 2, ... for repair/top-up calls.
    call_index: int = 0
    # Temporal's attempt number of the activity making the call (1 = first try).
    attempt: int = 1
    # Question texts the batch (or quiz) already has: a provider must not repeat them.
    avoid_texts: list[str] = []
    # Invalid questions from an earlier answer, with reasons, for the provider to fix.
    repair: list[Rejection] = []
    model: str | None = None
    temperature: float | None = None


class GenerationResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    raw: str
    usage: TokenUsage = TokenUsage()
    # False when the provider's usage report was missing or malformed: `usage` is then
    # zero, and the call is counted as one of unknown usage (the answer is used all the same).
    usage_known: bool = True
    # Why the answer held no output (no choices, no text): `raw` is then empty, which
    # validation reports as unreadable output, for the batch to repair with a new call.
    output_problem: str | None = None


class QuestionProvider(Protocol):
    async def generate(self, request: GenerationRequest) -> GenerationResponse: ...

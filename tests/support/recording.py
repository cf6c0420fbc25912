"""Test instruments at the boundaries: recording generator calls, failing after a commit."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.generation import GenerationActivities
from quizgen.contracts import GeneratedQuestions, GenerateQuestionsInput
from quizgen.llm.base import GenerationRequest, GenerationResponse, QuestionProvider
from quizgen.names import GENERATE_QUESTIONS_ACTIVITY


class RecordingProvider:
    def __init__(self, inner: QuestionProvider) -> None:
        self.inner = inner
        self.requests: list[GenerationRequest] = []

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.requests.append(request)
        return await self.inner.generate(request)

    def calls_per_batch(self) -> Counter[str]:
        return Counter(r.batch_key for r in self.requests)


class CommitThenFailOnce(GenerationActivities):
    """The real generate activity, but its first attempt for each batch dies after the
    batch's save has committed.

    This is what a lost connection or a killed worker looks like from Temporal's
    side: the write happened, the activity did not report it.
    """

    def __init__(self, engine: AsyncEngine, provider: QuestionProvider) -> None:
        super().__init__(engine, provider)
        self.outcomes: list[tuple[str, int, bool]] = []

    @activity.defn(name=GENERATE_QUESTIONS_ACTIVITY)
    async def generate_questions(self, input: GenerateQuestionsInput) -> GeneratedQuestions:
        output = await super().generate_questions(input)
        attempt = activity.info().attempt
        self.outcomes.append((input.batch.batch_key, attempt, output.saved))
        if attempt == 1 and output.saved:
            raise RuntimeError("connection lost after commit (injected by the test)")
        return output

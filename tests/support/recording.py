"""Test instruments at the boundaries: recording generator calls, failing after a commit."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.llm.base import GenerationRequest, GenerationResponse, QuestionProvider
from activities.persistence import PersistenceActivities
from quizgen.contracts import SaveBatchInput, SaveBatchOutput
from quizgen.names import SAVE_BATCH_ACTIVITY


class RecordingProvider:
    def __init__(self, inner: QuestionProvider) -> None:
        self.inner = inner
        self.requests: list[GenerationRequest] = []

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.requests.append(request)
        return await self.inner.generate(request)

    def calls_per_batch(self) -> Counter[str]:
        return Counter(r.batch_key for r in self.requests)


class CommitThenFailOnce(PersistenceActivities):
    """The real save activity, but its first attempt for each batch dies after committing.

    This is what a lost connection or a killed worker looks like from Temporal's
    side: the write happened, the activity did not report it.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.outcomes: list[tuple[str, bool]] = []

    @activity.defn(name=SAVE_BATCH_ACTIVITY)
    async def save_batch(self, input: SaveBatchInput) -> SaveBatchOutput:
        output = await super().save_batch(input)
        self.outcomes.append((input.batch.batch_key, output.inserted))
        if activity.info().attempt == 1:
            raise RuntimeError("connection lost after commit (injected by the test)")
        return output

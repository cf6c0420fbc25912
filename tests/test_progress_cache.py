"""The API's short cache of live progress never shows a new round the last round's answer.

Real Temporal dev server, PostgreSQL and workers; the API's own trigger and progress code
(`api.generation`) with the gateway it uses.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from activities.llm.base import GenerationRequest, GenerationResponse, QuestionProvider
from activities.llm.faults import FaultInjectingProvider
from activities.llm.offline import OfflineProvider
from api.generation import current_progress, trigger_generation
from quizgen.contracts import QuizProgress
from quizgen.db import repository as repo
from quizgen.domain import BatchStatus
from quizgen.orchestration import TemporalGateway
from quizgen.settings import Settings
from tests.support.api import api_settings
from tests.support.flows import (
    FOUR_BATCHES,
    keys_of,
    make_quiz,
    plan_breaking,
    running_worker,
    wait_for_attempts,
)
from tests.support.temporal import server_address

OWNER = "teacher"  # make_quiz's


class Gate:
    """Holds every call until released, and says when the first one arrived."""

    def __init__(self, inner: QuestionProvider) -> None:
        self.inner = inner
        self.called = asyncio.Event()
        self.release = asyncio.Event()

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.called.set()
        await self.release.wait()
        return await self.inner.generate(request)


async def test_a_retry_is_never_shown_the_last_rounds_cached_progress(
    database_url: str, temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    settings = api_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
    )
    # Answers kept for an hour: within it only a new version of the quiz asks afresh,
    # so the retry below starting "within the second" is certain, not a race.
    gateway = TemporalGateway(settings, progress_ttl=3600)
    batches = FOUR_BATCHES[:2]
    keys = keys_of(batches)
    broken = keys[0]
    quiz_id = await make_quiz(engine, batches)

    # Round 1: the broken batch fails at once, the other waits at its LLM call.
    first = Gate(OfflineProvider())
    faulty = FaultInjectingProvider(first, plan_breaking(keys, [broken]))
    async with running_worker(temporal_env.client, engine, faulty, task_queue):
        await trigger_generation(engine, gateway, OWNER, quiz_id)
        round_1 = await repo.get_quiz(engine, quiz_id)
        async with asyncio.timeout(30):
            await first.called.wait()
            while True:
                seen = await _ask(settings, quiz_id, round_1.updated_at)
                if _status(seen, broken) is BatchStatus.FAILED:
                    break
                await asyncio.sleep(0.05)
        # What a reader is shown mid-round, and what the gateway now holds.
        cached = await gateway.live_progress(quiz_id, round_1.updated_at)
        assert _status(cached, broken) is BatchStatus.FAILED
        first.release.set()
        await wait_for_attempts(engine, quiz_id, 1)

    gate = Gate(OfflineProvider())
    async with running_worker(temporal_env.client, engine, gate, task_queue):
        await trigger_generation(engine, gateway, OWNER, quiz_id)
        async with asyncio.timeout(30):
            await gate.called.wait()
        # The retried batch is at its LLM call: that is what a reader must be shown.
        quiz = await repo.get_quiz(engine, quiz_id)
        progress = await current_progress(engine, gateway, quiz)
        gate.release.set()
        await wait_for_attempts(engine, quiz_id, 2)
    assert _status(progress, broken) is BatchStatus.RUNNING


async def _ask(settings: Settings, quiz_id: uuid.UUID, version: datetime) -> QuizProgress | None:
    """The live progress as a gateway without a cache sees it."""
    return await TemporalGateway(settings, progress_ttl=0).live_progress(quiz_id, version)


def _status(progress: QuizProgress | None, batch_key: str) -> BatchStatus | None:
    if progress is None:
        return None
    return {b.batch_key: b.status for b in progress.batches}.get(batch_key)

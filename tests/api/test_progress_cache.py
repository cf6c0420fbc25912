"""Live progress as the API shows it: its short cache never shows a new round the last
round's answer, and it never counts fewer saved questions than PostgreSQL holds.

Real Temporal dev server, PostgreSQL and workers; the API's own trigger and progress code
(`api.lifecycle`) with the gateway it uses.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from api.lifecycle import current_progress, trigger_generation
from deploy.local.api import local_settings
from deploy.local.temporal import server_address
from deploy.local.waiting import wait_for_attempts
from quizgen.contracts import QuizProgress
from quizgen.db import repository as repo
from quizgen.domain import BatchRef, BatchStatus, QuizStatus
from quizgen.llm.base import GenerationRequest, GenerationResponse, QuestionProvider
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from quizgen.settings import Settings
from quizgen.temporal_client import TemporalGateway
from quizgen.validation import validate_output
from tests.support.batches import save_questions
from tests.support.flows import (
    FOUR_BATCHES,
    keys_of,
    make_quiz,
    plan_breaking,
    question_rows,
    running_worker,
)

OWNER = "teacher"  # make_quiz's


class Gate:
    """Holds every call until released, and says when the first one arrived."""

    def __init__(self, inner: QuestionProvider) -> None:
        self.inner = inner
        self.called = asyncio.Event()
        self.release = asyncio.Event()
        self.requests: list[GenerationRequest] = []

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.requests.append(request)
        self.called.set()
        await self.release.wait()
        return await self.inner.generate(request)


async def test_a_retry_is_never_shown_the_last_rounds_cached_progress(
    database_url: str, temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    settings = local_settings(
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
        await trigger_generation(engine, gateway, settings, OWNER, quiz_id)
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
        await trigger_generation(engine, gateway, settings, OWNER, quiz_id)
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


async def test_progress_counts_a_batch_saved_before_the_workflow_heard_of_it(
    database_url: str, temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    """A save commits seconds before the parent workflow takes in its child's completion
    (and a restarted worker replays from before it): the saved rows win."""
    settings = local_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
    )
    gateway = TemporalGateway(settings, progress_ttl=0)
    batches = FOUR_BATCHES[:2]
    quiz_id = await make_quiz(engine, batches)
    gate = Gate(OfflineProvider())
    async with running_worker(temporal_env.client, engine, gate, task_queue):
        await trigger_generation(engine, gateway, settings, OWNER, quiz_id)
        async with asyncio.timeout(30):
            await gate.called.wait()
        # One batch's questions commit while both its LLM call and the workflow wait:
        # the save the workflow will only hear of later.
        request = gate.requests[0]
        quiz = await repo.get_quiz(engine, quiz_id)
        [ref] = [
            r
            for r in (BatchRef.of(m, b) for m, b in quiz.spec.batches())
            if r.batch_key == request.batch_key
        ]
        answer = await OfflineProvider().generate(request)
        valid = validate_output(request.question_type, answer.raw).valid
        assert (await save_questions(engine, quiz_id, ref, valid)).saved

        quiz = await repo.get_quiz(engine, quiz_id)
        live = await gateway.live_progress(quiz_id, quiz.updated_at)
        shown = await current_progress(engine, gateway, quiz)
        gate.release.set()
        await wait_for_attempts(engine, quiz_id, 1)

    assert _status(live, ref.batch_key) is BatchStatus.RUNNING  # what the workflow knew
    assert _status(shown, ref.batch_key) is BatchStatus.SUCCEEDED
    assert shown.questions_saved == ref.count
    assert f"{ref.count} questions generated successfully" in shown.message
    # The held call then finds its batch saved: nothing twice, the quiz complete.
    final = await repo.get_quiz(engine, quiz_id)
    assert final.status is QuizStatus.READY_FOR_REVIEW
    assert len(await question_rows(engine, quiz_id)) == final.spec.question_target

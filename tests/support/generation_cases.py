"""The shared pieces of the generation tests: a 4-batch quiz, start/retry, a partial round."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.contracts import GenerationConfig
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from tests.support.flows import (
    FOUR_BATCHES,
    TEST_CONFIG,
    keys_of,
    make_quiz,
    plan_breaking,
    running_worker,
)
from tests.support.recording import RecordingProvider

__all__ = ["KEYS", "TARGETS", "partial_round", "retry", "start"]

KEYS = keys_of(FOUR_BATCHES)

TARGETS = {key: batch[2] for key, batch in zip(KEYS, FOUR_BATCHES, strict=True)}


async def start(env: WorkflowEnvironment, quiz_id: uuid.UUID, task_queue: str) -> None:
    await temporal_client.start_generation(
        env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
    )


async def retry(env: WorkflowEnvironment, quiz_id: uuid.UUID, task_queue: str) -> None:
    await temporal_client.request_retry(
        env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
    )


async def partial_round(
    env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    broken: str,
    config: GenerationConfig = TEST_CONFIG,
) -> tuple[uuid.UUID, RecordingProvider]:
    """Run a 4-batch quiz whose batch `broken` fails; return after round 1 settled."""
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    faulty = RecordingProvider(
        FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, [broken]))
    )
    async with running_worker(env.client, engine, faulty, task_queue):
        await temporal_client.start_generation(
            env.client, quiz_id, task_queue=task_queue, config=config
        )
        await wait_for_attempts(engine, quiz_id, 1)
    return quiz_id, faulty

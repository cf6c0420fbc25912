"""Generation across runs: a closed workflow's quiz carried on by a new run, a finished
quiz started again, a cancelled round. Real Temporal dev server and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.contracts import QuizWorkflowResult
from quizgen.db import repository as repo
from quizgen.domain import QuizStatus
from quizgen.llm.offline import OfflineProvider
from quizgen.names import (
    quiz_workflow_id,
)
from tests.support.flows import (
    FOUR_BATCHES,
    TEST_CONFIG,
    make_quiz,
    question_rows,
    running_worker,
    saved_batch_count,
    saved_batch_keys,
    wait_until,
)
from tests.support.generation_cases import KEYS, TARGETS, partial_round, retry
from tests.support.recording import RecordingProvider


async def test_a_retry_after_the_workflow_closed_starts_a_run_that_continues_the_quiz(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    broken = KEYS[2]
    impatient = TEST_CONFIG.model_copy(update={"retry_wait": timedelta(seconds=1)})
    quiz_id, _ = await partial_round(temporal_env, engine, task_queue, broken, impatient)
    handle = temporal_env.client.get_workflow_handle(
        quiz_workflow_id(quiz_id), result_type=QuizWorkflowResult
    )
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        async with asyncio.timeout(60):
            closed = await handle.result()  # nobody asked for a retry within retry_wait
    assert closed.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert closed.failed_batches == [broken]

    healthy = RecordingProvider(OfflineProvider())
    async with running_worker(temporal_env.client, engine, healthy, task_queue):
        await retry(temporal_env, quiz_id, task_queue)
        record = await wait_for_attempts(engine, quiz_id, 2)
    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert set(healthy.calls_per_batch()) == {broken}
    # The new run extended the stored metadata instead of starting it afresh.
    assert [a.attempt_number for a in record.generation_metadata.generation_attempts] == [1, 2]
    assert record.generation_metadata.total_questions_saved == sum(TARGETS.values())


async def test_starting_a_finished_quiz_again_changes_nothing(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    recording = RecordingProvider(OfflineProvider())
    async with running_worker(temporal_env.client, engine, recording, task_queue):
        first = await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
        )
        async with asyncio.timeout(60):
            await first.result()
        before = await repo.get_quiz(engine, quiz_id)
        again = await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
        )
        async with asyncio.timeout(60):
            result = await again.result()
    after = await repo.get_quiz(engine, quiz_id)
    assert again.result_run_id != first.result_run_id
    assert result.status is QuizStatus.READY_FOR_REVIEW
    assert after.status is QuizStatus.READY_FOR_REVIEW
    assert after.generation_metadata == before.generation_metadata
    assert sum(recording.calls_per_batch().values()) == len(KEYS)
    assert len(await question_rows(engine, quiz_id)) == sum(TARGETS.values())


async def test_cancelling_mid_round_never_leaves_the_quiz_generating(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    slow = OfflineProvider(latency_seconds=1.0)
    one_at_a_time = TEST_CONFIG.model_copy(update={"max_concurrent_batches": 1})
    async with running_worker(temporal_env.client, engine, slow, task_queue):
        handle = await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=one_at_a_time
        )
        await wait_until(lambda: saved_batch_count(engine, quiz_id), at_least=1)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            async with asyncio.timeout(60):
                await handle.result()
    record = await repo.get_quiz(engine, quiz_id)
    saved = await saved_batch_keys(engine, quiz_id)
    assert 1 <= len(saved) < len(KEYS)
    assert record.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert {r.batch_key for r in await question_rows(engine, quiz_id)} == saved
    # The stopped round is recorded like any other: status, metadata and rows agree.
    meta = record.generation_metadata
    [attempt] = meta.generation_attempts
    assert set(attempt.batch_results) == set(KEYS)
    assert set(meta.successful_batches) == saved
    assert set(meta.failed_batches) == set(KEYS) - saved
    assert meta.total_questions_saved == len(await question_rows(engine, quiz_id))
    stopped = [attempt.batch_results[k] for k in set(KEYS) - saved]
    assert all(r.error and "generation stopped" in r.error for r in stopped)

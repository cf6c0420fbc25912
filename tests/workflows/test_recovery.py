"""Statuses that heal, outages that are absorbed, and deleting a quiz.

The HTTP API in-process, a real Temporal dev server and PostgreSQL, workers of
the test's own. Each scenario is a fault an operator meets for real: a run
that dies between saving and recording, a terminated run, a run cancelled
before it read the quiz, a provider down for a minute.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.persistence import PersistenceActivities
from deploy.local.api import ALICE, BOB, api_client, auth, local_settings
from deploy.local.fake_openai import FakeOpenAI
from deploy.local.temporal import server_address
from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.contracts import QuizPlan, RecordRoundInput, RoundRecorded
from quizgen.db import drafts
from quizgen.db import repository as repo
from quizgen.db.engine import make_engine
from quizgen.domain import QuizStatus
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from quizgen.llm.openai_provider import OpenAIProvider
from quizgen.names import RECORD_ROUND_ACTIVITY, START_ROUND_ACTIVITY, quiz_workflow_id
from quizgen.settings import FaultKind, Settings
from tests.support.api_flows import create_quiz, get_quiz, wait_for_quiz
from tests.support.flows import (
    FOUR_BATCHES,
    TEST_CONFIG,
    force_status,
    keys_of,
    make_quiz,
    plan_breaking,
    question_rows,
    running_worker,
    saved_batch_keys,
    wait_until,
)
from tests.support.pg_gate import PostgresGate, Refusal

KEYS = keys_of(FOUR_BATCHES)
TARGET = sum(b[2] for b in FOUR_BATCHES)


async def _trigger(client: httpx.AsyncClient, quiz_id: uuid.UUID | str) -> httpx.Response:
    return await client.post(f"/quizzes/{quiz_id}/generate-questions", headers=auth(ALICE))


class RecordingAlwaysFails(PersistenceActivities):
    """The database refuses the round's outcome (down for longer than the retries last)."""

    @activity.defn(name=RECORD_ROUND_ACTIVITY)
    async def record_round(self, input: RecordRoundInput) -> RoundRecorded:
        raise RuntimeError("the database is down (injected by the test)")


class StartRoundNeverAnswers(PersistenceActivities):
    """`start_round` hangs before touching the database, until the test releases it."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(name=START_ROUND_ACTIVITY)
    async def start_round(self, quiz_id: uuid.UUID) -> QuizPlan:
        self.entered.set()
        await self.release.wait()
        raise RuntimeError("released without reading the quiz (test)")


async def test_a_round_whose_outcome_was_never_recorded_heals_on_the_next_trigger(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    client: httpx.AsyncClient,
) -> None:
    quiz = await create_quiz(client, ALICE, FOUR_BATCHES)
    quiz_id = uuid.UUID(quiz["id"])
    gives_up_fast = TEST_CONFIG.model_copy(update={"db_max_attempts": 2})
    broken_db = RecordingAlwaysFails(engine)
    async with running_worker(
        temporal_env.client, engine, OfflineProvider(), task_queue, persistence=broken_db
    ):
        handle = await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=gives_up_fast
        )
        with pytest.raises(WorkflowFailureError):
            async with asyncio.timeout(60):
                await handle.result()
    stuck = await repo.get_quiz(engine, quiz_id)
    assert stuck.status is QuizStatus.GENERATING_QUESTIONS
    assert len(await question_rows(engine, quiz_id)) == TARGET

    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        response = await _trigger(client, quiz_id)
        assert response.status_code == 202, response.text
        healed = await wait_for_quiz(client, ALICE, str(quiz_id), attempts=0)
    assert healed["status"] == "ready_for_review"
    meta = healed["generation_metadata"]
    assert sorted(meta["successful_batches"]) == sorted(KEYS)
    assert meta["failed_batches"] == []
    assert meta["total_questions_saved"] == meta["total_questions_target"] == TARGET
    assert (
        healed["progress"]["message"] == f"{TARGET} questions generated successfully (0 remaining)"
    )
    assert len(await question_rows(engine, quiz_id)) == TARGET


async def test_a_run_terminated_right_after_the_trigger_is_completed_by_the_next_trigger(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    client: httpx.AsyncClient,
) -> None:
    quiz = await create_quiz(client, ALICE, FOUR_BATCHES)
    async with running_worker(
        temporal_env.client, engine, OfflineProvider(latency_seconds=0.3), task_queue
    ):
        assert (await _trigger(client, quiz["id"])).status_code == 202
        await temporal_env.client.get_workflow_handle(quiz_workflow_id(quiz["id"])).terminate(
            reason="operator terminated it (test)"
        )
        assert (await get_quiz(client, ALICE, quiz["id"]))["status"] == "generating_questions"
        response = await _trigger(client, quiz["id"])
        assert response.status_code == 202, response.text
        done = await wait_for_quiz(client, ALICE, quiz["id"], {"ready_for_review"}, attempts=0)
    assert done["progress"]["questions_saved"] == TARGET
    rows = await question_rows(engine, uuid.UUID(quiz["id"]))
    assert len(rows) == TARGET == len({r.normalized_text for r in rows})


async def _partial_quiz_with_a_closed_workflow(
    env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> uuid.UUID:
    """A quiz whose round ended partial, its entity workflow then terminated."""
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, [KEYS[0]]))
    async with running_worker(env.client, engine, faulty, task_queue):
        handle = await temporal_client.start_generation(
            env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
        )
        await wait_for_attempts(engine, quiz_id, 1)
    await handle.terminate(reason="closing the entity so that a new run starts (test)")
    return quiz_id


async def _cancel_a_new_run_before_it_reads_the_quiz(
    env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, quiz_id: uuid.UUID
) -> None:
    hanging = StartRoundNeverAnswers(engine)
    async with running_worker(
        env.client, engine, OfflineProvider(), task_queue, persistence=hanging
    ):
        handle = await temporal_client.request_retry(
            env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
        )
        async with asyncio.timeout(30):
            await hanging.entered.wait()
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            async with asyncio.timeout(30):
                await handle.result()
        hanging.release.set()


async def test_a_new_run_cancelled_before_it_read_the_quiz_changes_nothing(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    quiz_id = await _partial_quiz_with_a_closed_workflow(temporal_env, engine, task_queue)
    before = await repo.get_quiz(engine, quiz_id)
    assert before.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    await _cancel_a_new_run_before_it_reads_the_quiz(temporal_env, engine, task_queue, quiz_id)
    after = await repo.get_quiz(engine, quiz_id)
    assert after.status is before.status
    assert after.generation_metadata == before.generation_metadata
    assert after.updated_at == before.updated_at


async def test_a_run_stopped_before_it_read_a_quiz_left_generating_settles_it(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    """A trigger (or a start_round that committed) said `generating_questions`; the run is
    cancelled before it has the plan: the status is settled from the database, not left."""
    quiz_id = await _partial_quiz_with_a_closed_workflow(temporal_env, engine, task_queue)
    before = await repo.get_quiz(engine, quiz_id)
    await force_status(engine, quiz_id, QuizStatus.GENERATING_QUESTIONS)
    await _cancel_a_new_run_before_it_reads_the_quiz(temporal_env, engine, task_queue, quiz_id)
    after = await repo.get_quiz(engine, quiz_id)
    assert after.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert after.generation_metadata == before.generation_metadata


async def test_a_provider_down_for_a_minute_mid_round_needs_no_retry_by_the_user(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    patient = TEST_CONFIG.model_copy(
        update={
            "max_concurrent_batches": 1,
            "llm_max_attempts": 30,
            "llm_retry_window": timedelta(minutes=5),
        }
    )
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    async with FakeOpenAI() as server:
        provider = OpenAIProvider(_openai_settings(server))
        try:
            async with running_worker(temporal_env.client, engine, provider, task_queue):
                await temporal_client.start_generation(
                    temporal_env.client, quiz_id, task_queue=task_queue, config=patient
                )
                await wait_until(lambda: _saved(engine, quiz_id), at_least=1)
                server.outage(60)
                record = await wait_for_attempts(engine, quiz_id, 1, within_seconds=240)
        finally:
            await provider._client.close()
    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert len(record.generation_metadata.generation_attempts) == 1
    refused = [r for r in server.requests if r.status == 503]
    assert refused, "the outage was seen by the worker"
    assert max(r.received_at for r in refused) - min(r.received_at for r in refused) > 30


def _openai_settings(server: FakeOpenAI) -> Settings:
    values: dict[str, Any] = {
        "llm_provider": "openai",
        "openai_base_url": server.base_url,
        "openai_api_key": server.api_key,
        "llm_call_timeout": timedelta(seconds=10),
    }
    return Settings(_env_file=None, **values)


async def _saved(engine: AsyncEngine, quiz_id: uuid.UUID) -> int:
    return len(await saved_batch_keys(engine, quiz_id))


async def test_deleting_a_quiz_between_rounds_closes_its_workflow_and_removes_everything(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    client: httpx.AsyncClient,
) -> None:
    quiz = await create_quiz(client, ALICE, FOUR_BATCHES[:2])
    quiz_id = uuid.UUID(quiz["id"])
    keys = KEYS[:2]
    short = FaultInjectingProvider(
        OfflineProvider(), plan_breaking(keys, [keys[0]], FaultKind.SHORT)
    )
    async with running_worker(temporal_env.client, engine, short, task_queue):
        assert (await _trigger(client, quiz_id)).status_code == 202
        await wait_for_quiz(client, ALICE, str(quiz_id), {"ready_for_review_partial"})
    handle = temporal_env.client.get_workflow_handle(quiz_workflow_id(quiz_id))
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    assert await drafts.count_drafts(engine, quiz_id) != {}

    assert (await client.delete(f"/quizzes/{quiz_id}", headers=auth(BOB))).status_code == 404
    response = await client.delete(f"/quizzes/{quiz_id}", headers=auth(ALICE))
    assert response.status_code == 204, response.text
    assert (await client.get(f"/quizzes/{quiz_id}", headers=auth(ALICE))).status_code == 404
    assert (await client.delete(f"/quizzes/{quiz_id}", headers=auth(ALICE))).status_code == 404
    assert (await handle.describe()).status is WorkflowExecutionStatus.TERMINATED
    assert await question_rows(engine, quiz_id) == []
    assert await drafts.count_drafts(engine, quiz_id) == {}


async def test_deleting_a_quiz_while_a_round_runs_is_refused(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    client: httpx.AsyncClient,
) -> None:
    quiz = await create_quiz(client, ALICE, FOUR_BATCHES)
    slow = OfflineProvider(latency_seconds=0.5)
    async with running_worker(temporal_env.client, engine, slow, task_queue):
        assert (await _trigger(client, quiz["id"])).status_code == 202
        response = await client.delete(f"/quizzes/{quiz['id']}", headers=auth(ALICE))
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "conflict"
        await wait_for_quiz(client, ALICE, quiz["id"], {"ready_for_review"})
    response = await client.delete(f"/quizzes/{quiz['id']}", headers=auth(ALICE))
    assert response.status_code == 204, response.text
    with pytest.raises(RPCError):
        # A completed workflow needs no closing; the quiz is gone all the same.
        await temporal_env.client.get_workflow_handle(quiz_workflow_id(quiz["id"])).terminate()


async def test_the_database_refusing_connections_for_half_a_minute_mid_round_needs_no_retry(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    database_url: str,
    task_queue: str,
) -> None:
    patient = TEST_CONFIG.model_copy(update={"max_concurrent_batches": 1, "db_max_attempts": 40})
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    async with PostgresGate() as gate:
        gated_url = gate.url_for(database_url)
        gated = make_engine(gated_url)
        settings = local_settings(
            database_url=gated_url,
            temporal_address=server_address(temporal_env),
            temporal_task_queue=task_queue,
        )
        try:
            slow = OfflineProvider(latency_seconds=0.5)
            async with (
                api_client(settings) as client,
                running_worker(temporal_env.client, gated, slow, task_queue),
            ):
                await temporal_client.start_generation(
                    temporal_env.client, quiz_id, task_queue=task_queue, config=patient
                )
                await wait_until(lambda: _saved(engine, quiz_id), at_least=1)
                gate.refuse(Refusal.STARTING_UP)
                refused_at = asyncio.get_running_loop().time()
                # While it refuses, the API says so (503 with the error JSON), route by route.
                for method, path in [
                    ("GET", f"/quizzes/{quiz_id}"),
                    ("GET", "/quizzes"),
                    ("GET", f"/quizzes/{quiz_id}/questions"),
                    ("POST", f"/quizzes/{quiz_id}/generate-questions"),
                    ("DELETE", f"/quizzes/{quiz_id}"),
                ]:
                    response = await client.request(method, path, headers=auth(ALICE))
                    assert response.status_code == 503, (method, path, response.text)
                    assert response.json()["error"]["code"] == "service_unavailable"
                assert gate.refused > 0
                await asyncio.sleep(30 - (asyncio.get_running_loop().time() - refused_at))
                assert (await repo.get_quiz(engine, quiz_id)).status is (
                    QuizStatus.GENERATING_QUESTIONS
                )
                gate.allow()
                record = await wait_for_attempts(engine, quiz_id, 1, within_seconds=120)
        finally:
            await gated.dispose()
    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert len(record.generation_metadata.generation_attempts) == 1
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == TARGET == len({r.normalized_text for r in rows})

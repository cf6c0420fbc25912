"""The HTTP API end to end when Temporal is down: 503, nothing half-written, then it works
again; progress is shown promptly while no worker runs; health and readiness. The app
in-process, a Temporal dev server of the test's own and PostgreSQL, workers of the test's
own running the offline LLM."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, api_client, auth, local_settings
from quizgen.domain import Difficulty, QuestionType, batch_key
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from quizgen.names import quiz_workflow_id
from tests.support.api import error_of
from tests.support.api_cases import ONE_BATCH, generate
from tests.support.api_flows import all_questions, create_quiz, dev_server, get_quiz, wait_for_quiz
from tests.support.flows import plan_breaking, running_worker

# --- 7. Temporal down: 503, nothing half-written, then it works again ------------------------


async def test_temporal_down_answers_503_and_recovers(
    database_url: str, engine: AsyncEngine, task_queue: str, tmp_path: Path
) -> None:
    async with dev_server(tmp_path / "temporal.db") as server:
        settings = local_settings(
            database_url=database_url,
            temporal_address=server.address,
            temporal_task_queue=task_queue,
        )
        async with api_client(settings) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text

            await server.stop()
            # PostgreSQL alone is enough to create and show a quiz.
            quiz_id = (await create_quiz(client, ALICE, ONE_BATCH))["id"]
            error = error_of(await generate(client, quiz_id), 503, "service_unavailable")
            assert "Temporal is unavailable" in error["message"]
            deleting = await client.delete(f"/quizzes/{quiz_id}", headers=auth(ALICE))
            error = error_of(deleting, 503, "service_unavailable")
            assert "nothing was changed" in error["message"]
            quiz = await get_quiz(client, ALICE, quiz_id)
            assert quiz["status"] == "created"
            assert quiz["generation_metadata"]["generation_attempts"] == []
            assert quiz["progress"]["questions_saved"] == 0
            error = error_of(await client.get("/readyz"), 503, "service_unavailable")
            assert error["details"] == {"database": True, "temporal": False}
            assert "Temporal" in error["message"]
            assert (await client.get("/healthz")).status_code == 200

            # The same server comes back (same port, same database file).
            await server.start()
            worker_client = await server.connect()
            with pytest.raises(RPCError) as missing:
                await worker_client.get_workflow_handle(quiz_workflow_id(quiz_id)).describe()
            assert missing.value.status is RPCStatusCode.NOT_FOUND
            async with running_worker(worker_client, engine, OfflineProvider(), task_queue):
                started = await generate(client, quiz_id)
                assert started.status_code == 202, started.text
                quiz = await wait_for_quiz(client, ALICE, quiz_id)
            assert quiz["status"] == "ready_for_review"
            assert len(await all_questions(client, ALICE, quiz_id)) == ONE_BATCH[0][2]
            assert (await client.get("/readyz")).status_code == 200


async def test_temporal_down_is_reported_promptly(
    database_url: str, task_queue: str, tmp_path: Path
) -> None:
    async with dev_server(tmp_path / "temporal.db") as server:
        settings = local_settings(
            database_url=database_url,
            temporal_address=server.address,
            temporal_task_queue=task_queue,
        )
        async with api_client(settings) as client:
            assert (await client.get("/readyz")).status_code == 200
            await server.stop()
            quiz_id = (await create_quiz(client, ALICE, ONE_BATCH))["id"]
            async with asyncio.timeout(3):
                response = await generate(client, quiz_id)
            error_of(response, 503, "service_unavailable")


async def test_progress_is_shown_promptly_while_no_worker_runs(
    client: httpx.AsyncClient,
) -> None:
    quiz_id = (await create_quiz(client, ALICE, ONE_BATCH))["id"]
    # Started, but no worker polls this test's task queue (all workers down or busy).
    assert (await generate(client, quiz_id)).status_code == 202
    started = time.monotonic()
    async with asyncio.timeout(2):
        quiz = await get_quiz(client, ALICE, quiz_id)
    assert quiz["status"] == "generating_questions"
    assert time.monotonic() - started < 2


async def test_a_retried_batch_is_shown_waiting_not_failed_before_the_workflow_answers(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    batches = [*ONE_BATCH, ("cells", QuestionType.MULTIPLE_CHOICE, 2, Difficulty.HARD)]
    keys = [batch_key(*b) for b in batches]
    quiz_id = (await create_quiz(client, ALICE, batches))["id"]
    faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(keys, [keys[1]]))
    async with running_worker(temporal_env.client, engine, faulty, task_queue):
        assert (await generate(client, quiz_id)).status_code == 202
        partial = await wait_for_quiz(client, ALICE, quiz_id)
    assert partial["status"] == "ready_for_review_partial"

    # The retry is accepted, but no worker answers for the workflow yet.
    assert (await generate(client, quiz_id)).status_code == 202
    quiz = await get_quiz(client, ALICE, quiz_id)
    assert quiz["status"] == "generating_questions"
    shown = {b["batch_key"]: b for b in quiz["progress"]["batches"]}
    assert shown[keys[0]]["status"] == "succeeded"
    assert shown[keys[1]]["status"] == "pending"
    assert shown[keys[1]]["attempts"] == 1
    assert shown[keys[1]]["last_error"]  # why the last attempt failed, still there


# --- 8. health ------------------------------------------------------------------------------


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": True, "temporal": True}

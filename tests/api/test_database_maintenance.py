"""PostgreSQL refusing connections mid-round: every route and page answers 503, and the
round then ends in its true status. Each way of refusing:

- for real, the way an operator closes a database: `ALTER DATABASE ... ALLOW_CONNECTIONS
  false`, then `pg_terminate_backend` on its sessions (new connections get FATAL 55000,
  pooled ones find their backend gone), on a database of the test's own;
- through a `PostgresGate` in front of the server for both the API and the worker: starting
  up, shutting down, too many clients, not accepting connections, nothing listening, reset.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, api_client, auth, local_settings
from deploy.local.migrations import upgrade
from deploy.local.postgres import create_database, drop_database, run_admin_sql
from deploy.local.temporal import server_address
from quizgen.db.engine import make_engine
from quizgen.llm.offline import OfflineProvider
from tests.support.api import error_of
from tests.support.api_cases import UNAVAILABLE, database_requests, generate
from tests.support.api_flows import all_questions, create_quiz, get_quiz, wait_for_quiz
from tests.support.flows import FOUR_BATCHES, running_worker
from tests.support.pg_gate import PostgresGate, Refusal
from tests.support.web import csrf_of, sign_in

TARGET = sum(count for _, _, count, _ in FOUR_BATCHES)


@pytest.fixture
async def own_database(postgres_server_url: str) -> AsyncIterator[str]:
    url = await asyncio.to_thread(create_database, postgres_server_url)
    await asyncio.to_thread(upgrade, url)
    yield url
    await asyncio.to_thread(drop_database, url)  # WITH (FORCE): closed or not


async def close_for_maintenance(url: str) -> None:
    name = make_url(url).database
    await run_admin_sql(url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    await run_admin_sql(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )


async def reopen(url: str) -> None:
    await run_admin_sql(url, f'ALTER DATABASE "{make_url(url).database}" ALLOW_CONNECTIONS true')


def page_requests(quiz_id: str, question_id: str) -> list[tuple[str, str]]:
    """(method, path) of every review page that reads or writes the database."""
    quiz = f"/ui/quizzes/{quiz_id}"
    return [
        ("GET", "/ui/quizzes"),
        ("GET", "/ui/quizzes/new"),
        ("GET", quiz),
        ("GET", f"{quiz}/live"),
        ("GET", f"{quiz}/questions"),
        ("GET", f"{quiz}/questions/{question_id}/edit"),
        ("POST", f"{quiz}/generate"),
        ("POST", f"{quiz}/questions/approve"),
        ("POST", f"{quiz}/questions/{question_id}/approve"),
        ("POST", f"{quiz}/questions/{question_id}/edit"),
        ("POST", "/ui/quizzes/new"),
        ("POST", "/ui/sign-out"),
    ]


class Outage(Protocol):
    async def begin(self) -> None: ...
    async def end(self) -> None: ...


class Maintenance:
    def __init__(self, url: str) -> None:
        self.url = url

    async def begin(self) -> None:
        await close_for_maintenance(self.url)

    async def end(self) -> None:
        await reopen(self.url)


class Refused:
    def __init__(self, gate: PostgresGate, refusal: Refusal) -> None:
        self.gate, self.refusal = gate, refusal

    async def begin(self) -> None:
        self.gate.refuse(self.refusal)

    async def end(self) -> None:
        self.gate.allow()


WAYS = ["maintenance", *(refusal.name.lower() for refusal in Refusal)]


@pytest.mark.parametrize("way", WAYS)
async def test_postgres_refusing_connections_mid_round(
    way: str, own_database: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with PostgresGate() as gate:
        outage: Outage
        if way == "maintenance":
            url, outage = own_database, Maintenance(own_database)
        else:
            url, outage = gate.url_for(own_database), Refused(gate, Refusal[way.upper()])
        await _refused_mid_round(url, outage, temporal_env, task_queue)


async def _refused_mid_round(
    database_url: str, outage: Outage, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    settings = local_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
        max_concurrent_batches=1,
    )
    worker_engine: AsyncEngine = make_engine(database_url)
    slow = OfflineProvider(latency_seconds=0.3)
    try:
        async with (
            api_client(settings) as client,
            running_worker(temporal_env.client, worker_engine, slow, task_queue),
        ):
            assert (await sign_in(client, ALICE)).status_code == 303
            quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
            assert (await generate(client, quiz_id)).status_code == 202
            question_id = await _first_saved_question(client, quiz_id)
            csrf = csrf_of(await client.get(f"/ui/quizzes/{quiz_id}"))

            await outage.begin()
            try:
                await _everything_answers_503(client, quiz_id, question_id, csrf)
                # The round is stopped at the database, not lost: still generating.
                await asyncio.sleep(2)
                await _everything_answers_503(client, quiz_id, question_id, csrf)
            finally:
                await outage.end()

            quiz = await wait_for_quiz(client, ALICE, quiz_id, within_seconds=120)
            assert quiz["status"] == "ready_for_review", quiz["generation_metadata"]
            assert quiz["progress"]["questions_saved"] == TARGET
            assert len(await all_questions(client, ALICE, quiz_id)) == TARGET
    finally:
        await worker_engine.dispose()


async def _first_saved_question(client: httpx.AsyncClient, quiz_id: str) -> str:
    async with asyncio.timeout(30):
        while True:
            quiz = await get_quiz(client, ALICE, quiz_id)
            assert quiz["status"] == "generating_questions", "the round ended too soon"
            if questions := await all_questions(client, ALICE, quiz_id):
                return str(questions[0]["id"])
            await asyncio.sleep(0.05)


async def _everything_answers_503(
    client: httpx.AsyncClient, quiz_id: str, question_id: str, csrf: str
) -> None:
    for method, path, body in database_requests(quiz_id):
        response = await client.request(method, path, json=body, headers=auth(ALICE))
        assert error_of(response, 503, "service_unavailable")["message"] == UNAVAILABLE, path
    for method, path in page_requests(quiz_id, question_id):
        data = {"csrf_token": csrf} if method == "POST" else None
        page = await client.request(method, path, data=data, follow_redirects=False)
        assert page.status_code == 503, f"{method} {path}: {page.status_code}"
        assert page.headers["content-type"].startswith("text/html"), path
    ready = await client.get("/readyz")
    assert error_of(ready, 503, "service_unavailable")["details"]["database"] is False

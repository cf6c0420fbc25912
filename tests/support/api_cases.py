"""Shared by the HTTP API tests (tests/api/): a one-batch quiz, triggering a generation, a
quiz generated completely through the API by a worker of the test's own running the
offline LLM, and every route that needs the database."""

from __future__ import annotations

import uuid
from collections.abc import Coroutine, Sequence
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, auth
from quizgen.domain import Difficulty, QuestionType
from quizgen.llm.offline import OfflineProvider
from tests.support.api_flows import all_questions, create_quiz, quiz_body, wait_for_quiz
from tests.support.flows import Batch, running_worker

ONE_BATCH: list[Batch] = [("cells", QuestionType.TRUE_FALSE, 3, Difficulty.EASY)]

Json = dict[str, Any]

UNAVAILABLE = "the database is unavailable; try again shortly"


def database_requests(quiz_id: str) -> list[tuple[str, str, Json | None]]:
    """(method, path, JSON body) of every API route that needs PostgreSQL to answer."""
    question = uuid.uuid4()
    return [
        ("GET", "/quizzes", None),
        ("POST", "/quizzes", quiz_body(ONE_BATCH)),
        ("GET", f"/quizzes/{quiz_id}", None),
        ("POST", f"/quizzes/{quiz_id}/generate-questions", None),
        ("DELETE", f"/quizzes/{quiz_id}", None),
        ("GET", f"/quizzes/{quiz_id}/questions", None),
        ("PATCH", f"/quizzes/{quiz_id}/questions/{question}", {"is_approved": True}),
        ("POST", f"/quizzes/{quiz_id}/questions/{question}/approve", None),
        ("POST", f"/quizzes/{quiz_id}/questions/{question}/reject", None),
        ("POST", f"/quizzes/{quiz_id}/questions/{question}/restore", None),
        ("GET", f"/quizzes/{quiz_id}/questions/{question}", None),
        ("PUT", f"/quizzes/{quiz_id}/questions/order", {"question_ids": [str(question)]}),
        ("GET", f"/quizzes/{quiz_id}/export.zip", None),
        ("GET", "/canvas/connection", None),
        ("DELETE", "/canvas/connection", None),
    ]


def generate(
    client: httpx.AsyncClient, quiz_id: str, token: str = ALICE
) -> Coroutine[Any, Any, httpx.Response]:
    return client.post(f"/quizzes/{quiz_id}/generate-questions", headers=auth(token))


async def generated_quiz(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    batches: Sequence[Batch],
) -> tuple[Json, list[Json]]:
    """A quiz of Alice's, generated completely through the API; with its questions."""
    quiz = await create_quiz(client, ALICE, batches)
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        assert (await generate(client, quiz["id"])).status_code == 202
        quiz = await wait_for_quiz(client, ALICE, quiz["id"])
    assert quiz["status"] == "ready_for_review"
    return quiz, await all_questions(client, ALICE, quiz["id"])

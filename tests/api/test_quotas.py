"""What one teacher may spend: allowed models, questions held, rounds at once, questions a day.

Through the API in-process, on the test's dev server, with no worker: a triggered round stays
`generating_questions`, which is what the concurrency limit counts. Each test has teachers of
its own: the run's database is shared, and so would be their quotas.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import api_client, auth, local_settings
from deploy.local.temporal import server_address
from quizgen.domain import Difficulty, QuestionType
from tests.support.api import error_of
from tests.support.api_cases import generate
from tests.support.api_flows import create_quiz, quiz_body
from tests.support.flows import Batch

SIX: list[Batch] = [("cells", QuestionType.TRUE_FALSE, 6, Difficulty.EASY)]
FOUR: list[Batch] = [("cells", QuestionType.TRUE_FALSE, 4, Difficulty.EASY)]
ONE: list[Batch] = [("cells", QuestionType.TRUE_FALSE, 1, Difficulty.EASY)]


@dataclass
class Api:
    client: httpx.AsyncClient
    alice: str  # tokens
    bob: str

    async def quiz(self, token: str, batches: list[Batch]) -> str:
        return str((await create_quiz(self.client, token, batches))["id"])

    async def trigger(self, token: str, quiz_id: str) -> httpx.Response:
        return await generate(self.client, quiz_id, token)


@pytest.fixture
async def api(
    request: pytest.FixtureRequest,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
) -> AsyncIterator[Api]:
    """The API with the settings of the test's `quotas` marker, and two new teachers."""
    marker = request.node.get_closest_marker("quotas")
    alice, bob = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    settings = local_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
        api_tokens=f"a-{uuid.uuid4().hex}:{alice},b-{uuid.uuid4().hex}:{bob}",
        **(marker.kwargs if marker else {}),
    )
    async with api_client(settings) as client:
        yield Api(client, alice, bob)


@pytest.mark.quotas(llm_model="gpt-4o-mini", llm_allowed_models="o3")
async def test_a_model_not_allowed_here_is_refused_with_the_allowed_ones(api: Api) -> None:
    body = {**quiz_body(FOUR), "llm_model": "gpt-5-pro-max"}
    refused = await api.client.post("/quizzes", json=body, headers=auth(api.alice))
    error = error_of(refused, 422, "unprocessable")
    assert "'gpt-5-pro-max' is not allowed" in error["message"]
    assert error["details"] == {"allowed_models": ["gpt-4o-mini", "o3"]}
    for model in ("o3", "gpt-4o-mini"):
        body = {**quiz_body(FOUR), "llm_model": model}
        created = await api.client.post("/quizzes", json=body, headers=auth(api.alice))
        assert created.status_code == 201, created.text
    listed = (await api.client.get("/quizzes", headers=auth(api.alice))).json()
    assert listed["count"] == 2


@pytest.mark.quotas(quota_questions_per_day=10)
async def test_the_daily_quota_refuses_the_question_past_it_with_the_reset_time(api: Api) -> None:
    first, second = await api.quiz(api.alice, SIX), await api.quiz(api.alice, SIX)
    assert (await api.trigger(api.alice, first)).status_code == 202  # 6 of 10
    refused = await api.trigger(api.alice, second)  # 6 more: 12 > 10
    error = error_of(refused, 429, "too_many_requests")
    details = error["details"]
    assert (details["limit"], details["max"], details["used"]) == ("questions_per_day", 10, 6)
    midnight = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(), UTC)
    assert details["resets_at"] == midnight.isoformat()
    assert f"resets at {midnight:%Y-%m-%d %H:%M} UTC" in error["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 86_400
    # Nothing of the refused round was started or counted.
    quiz = (await api.client.get(f"/quizzes/{second}", headers=auth(api.alice))).json()
    assert quiz["status"] == "created"
    # Four more fit exactly (the 10th question); the 11th does not.
    assert (await api.trigger(api.alice, await api.quiz(api.alice, FOUR))).status_code == 202
    eleventh = await api.trigger(api.alice, await api.quiz(api.alice, ONE))
    assert error_of(eleventh, 429, "too_many_requests")["details"]["used"] == 10
    # Another teacher's day is their own.
    assert (await api.trigger(api.bob, await api.quiz(api.bob, SIX))).status_code == 202


@pytest.mark.quotas(quota_questions_per_day=10)
async def test_two_triggers_at_once_cannot_both_slip_under_the_daily_quota(api: Api) -> None:
    quizzes = [await api.quiz(api.alice, SIX) for _ in range(2)]
    answers = await asyncio.gather(*(api.trigger(api.alice, quiz) for quiz in quizzes))
    assert sorted(a.status_code for a in answers) == [202, 429]


@pytest.mark.quotas(quota_concurrent_rounds=1)
async def test_rounds_at_once_are_limited_per_teacher(api: Api) -> None:
    first, second = await api.quiz(api.alice, FOUR), await api.quiz(api.alice, FOUR)
    assert (await api.trigger(api.alice, first)).status_code == 202
    refused = await api.trigger(api.alice, second)
    error = error_of(refused, 429, "too_many_requests")
    assert error["details"] == {"limit": "concurrent_rounds", "max": 1, "used": 1}
    assert refused.headers["Retry-After"] == "60"
    assert (await api.trigger(api.bob, await api.quiz(api.bob, FOUR))).status_code == 202


@pytest.mark.quotas(quota_questions_held=10)
async def test_the_questions_a_teacher_holds_are_limited(api: Api) -> None:
    await api.quiz(api.alice, SIX)
    refused = await api.client.post("/quizzes", json=quiz_body(SIX), headers=auth(api.alice))
    error = error_of(refused, 429, "too_many_requests")
    assert error["details"] == {"limit": "questions_held", "max": 10, "used": 6}
    assert "delete a quiz to make room" in error["message"]
    assert "Retry-After" not in refused.headers
    fits = await api.client.post("/quizzes", json=quiz_body(FOUR), headers=auth(api.alice))
    assert fits.status_code == 201

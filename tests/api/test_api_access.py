"""The HTTP API end to end, who may see what: requests without a valid token are refused,
another user's quiz is not found, and the list of quizzes shows only the caller's own, page
by page. The app in-process, a real Temporal dev server and PostgreSQL, workers of the
test's own running the offline LLM."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, BOB, TOKENS, api_client, auth
from quizgen.settings import Settings
from tests.support.api import error_of
from tests.support.api_cases import ONE_BATCH, Json, generated_quiz
from tests.support.api_flows import all_questions, create_quiz, get_quiz, quiz_body

# --- 4. auth -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param({}, "Authorization: Bearer", id="no-token"),
        pytest.param(auth("not-a-token-of-anyone-at-all"), "not valid", id="wrong-token"),
        pytest.param({"Authorization": f"Basic {ALICE}"}, "Bearer", id="basic-scheme"),
        pytest.param({"Authorization": "Bearer"}, "Bearer", id="empty-bearer"),
    ],
)
async def test_requests_without_a_valid_token_are_refused(
    client: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    quiz_id = (await create_quiz(client, ALICE, ONE_BATCH))["id"]
    requests = [
        client.get("/quizzes", headers=headers),
        client.post("/quizzes", json=quiz_body(ONE_BATCH), headers=headers),
        # An existing quiz is not revealed: 401, not 200 or 404.
        client.get(f"/quizzes/{quiz_id}", headers=headers),
        client.post(f"/quizzes/{quiz_id}/generate-questions", headers=headers),
        client.get(f"/quizzes/{quiz_id}/questions", headers=headers),
    ]
    for response in await asyncio.gather(*requests):
        error = error_of(response, 401, "unauthorized")
        assert message in error["message"]
        assert response.headers["WWW-Authenticate"] == "Bearer"
    # Nothing happened to Alice's quiz.
    assert (await get_quiz(client, ALICE, quiz_id))["status"] == "created"


async def test_another_users_quiz_is_not_found(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz, [question, *_] = await generated_quiz(client, temporal_env, engine, task_queue, ONE_BATCH)
    quiz_id, question_id = quiz["id"], question["id"]
    untouched = await create_quiz(client, ALICE, ONE_BATCH)
    edit = {"question_data": {**question["question_data"], "question_text": "Bob was here?"}}

    attempts = [
        client.get(f"/quizzes/{quiz_id}", headers=auth(BOB)),
        client.get(f"/quizzes/{quiz_id}/questions", headers=auth(BOB)),
        client.post(f"/quizzes/{quiz_id}/generate-questions", headers=auth(BOB)),
        client.post(f"/quizzes/{untouched['id']}/generate-questions", headers=auth(BOB)),
        client.patch(f"/quizzes/{quiz_id}/questions/{question_id}", json=edit, headers=auth(BOB)),
        client.post(f"/quizzes/{quiz_id}/questions/{question_id}/approve", headers=auth(BOB)),
    ]
    for response in await asyncio.gather(*attempts):
        error = error_of(response, 404, "not_found")
        # Indistinguishable from a quiz that does not exist.
        assert error["message"].startswith("quiz ") and error["message"].endswith("not found")

    assert (await get_quiz(client, ALICE, untouched["id"]))["status"] == "created"
    after = await get_quiz(client, ALICE, quiz_id)
    assert after["generation_metadata"] == quiz["generation_metadata"]
    [same] = [q for q in await all_questions(client, ALICE, quiz_id) if q["id"] == question_id]
    assert same["question_data"] == question["question_data"]
    assert same["is_approved"] is False


async def test_list_quizzes_shows_only_the_callers_own_page_by_page(
    settings: Settings,
) -> None:
    # Two users of this test's own, so the counts are exact whatever else the database holds.
    carol, dave = "carol-token-0123456789", "dave-token-0123456789a"
    own_users = settings.model_copy(
        update={"api_tokens": SecretStr(f"{TOKENS},carol:{carol},dave:{dave}")}
    )
    async with api_client(own_users) as client:
        carols = [
            (await create_quiz(client, carol, ONE_BATCH, f"Carol {i}"))["id"] for i in range(3)
        ]
        daves = (await create_quiz(client, dave, ONE_BATCH, "Dave"))["id"]
        alices = (await create_quiz(client, ALICE, ONE_BATCH, "Alice"))["id"]

        async def page(token: str, **params: int) -> Json:
            response = await client.get("/quizzes", params=params, headers=auth(token))
            assert response.status_code == 200, response.text
            body: Json = response.json()
            return body

        first = await page(carol, limit=2)
        second = await page(carol, offset=2, limit=2)
        assert first["count"] == second["count"] == 3
        # Newest first, no overlap, nothing missing.
        assert [q["id"] for q in first["data"] + second["data"]] == carols[::-1]
        assert [q["title"] for q in first["data"]] == ["Carol 2", "Carol 1"]
        assert all(q["status"] == "created" and q["questions_saved"] == 0 for q in first["data"])
        assert (await page(carol, offset=3))["data"] == []

        dave_page = await page(dave)
        assert dave_page["count"] == 1
        assert [q["id"] for q in dave_page["data"]] == [daves]
        alice_ids = {q["id"] for q in (await page(ALICE, limit=100))["data"]}
        assert alices in alice_ids
        assert alice_ids.isdisjoint({*carols, daves})

        for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
            response = await client.get("/quizzes", params=params, headers=auth(carol))
            error_of(response, 422, "invalid_request")

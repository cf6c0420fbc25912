"""The HTTP API end to end, reviewing questions: filtering, paging, editing and approving
the questions of a quiz, and what is not found. The app in-process, a real Temporal dev
server and PostgreSQL, workers of the test's own running the offline LLM."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, auth
from quizgen.domain import Difficulty, QuestionType
from tests.support.api import error_of
from tests.support.api_cases import ONE_BATCH, Json, generate, generated_quiz
from tests.support.api_flows import all_questions, create_quiz
from tests.support.flows import Batch, keys_of

# --- 6. reviewing questions ---------------------------------------------------------------

REVIEW_BATCHES: list[Batch] = [
    ("cells", QuestionType.MULTIPLE_CHOICE, 3, Difficulty.EASY),
    ("cells", QuestionType.TRUE_FALSE, 2, Difficulty.MEDIUM),
    ("leaves", QuestionType.MULTIPLE_CHOICE, 2, Difficulty.HARD),
]


async def test_questions_can_be_filtered_paged_edited_and_approved(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz, questions = await generated_quiz(client, temporal_env, engine, task_queue, REVIEW_BATCHES)
    base = f"/quizzes/{quiz['id']}/questions"
    headers = auth(ALICE)
    assert len(questions) == 7
    assert not any(q["is_approved"] for q in questions)

    async def listing(**params: Any) -> Json:
        response = await client.get(base, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    # Filters.
    cells = await listing(module_id="cells")
    assert cells["count"] == 5 and {q["module_id"] for q in cells["data"]} == {"cells"}
    mc_key = keys_of(REVIEW_BATCHES)[0]
    by_key = await listing(batch_key=mc_key)
    assert by_key["count"] == 3 and {q["batch_key"] for q in by_key["data"]} == {mc_key}
    mc = await listing(question_type="multiple_choice")
    assert mc["count"] == 5 and {q["question_type"] for q in mc["data"]} == {"multiple_choice"}
    both = await listing(module_id="leaves", question_type="multiple_choice")
    assert both["count"] == 2 and {q["difficulty"] for q in both["data"]} == {"hard"}
    assert (await listing(module_id="nowhere"))["count"] == 0
    assert (await listing(is_approved="false"))["count"] == 7
    assert (await listing(is_approved="true"))["count"] == 0
    # Pages: stable order, no overlap, count is the total.
    pages = [await listing(offset=offset, limit=3) for offset in (0, 3, 6)]
    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    assert {p["count"] for p in pages} == {7}
    assert [q["id"] for p in pages for q in p["data"]] == [q["id"] for q in questions]
    for params in ({"limit": 0}, {"limit": 201}, {"question_type": "essay"}):
        error_of(await client.get(base, params=params, headers=headers), 422, "invalid_request")

    first, second = by_key["data"][0], by_key["data"][1]
    url = f"{base}/{first['id']}"

    # A valid edit is saved.
    changed = {**first["question_data"], "question_text": "Which organelle makes ATP?"}
    response = await client.patch(url, json={"question_data": changed}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["question_data"] == changed
    [stored] = (await listing(batch_key=mc_key, limit=1))["data"]
    assert stored["id"] == first["id"] and stored["question_data"] == changed

    # Edits that break a rule change nothing.
    bad_edits = [
        ({**changed, "correct_answer": "E"}, "correct_answer"),
        ({**changed, "option_b": changed["option_a"]}, "options must be distinct"),
        ({**changed, "hint": "look it up"}, "hint"),
        ({k: v for k, v in changed.items() if k != "option_d"}, "option_d"),
        # Same text as another question (case and punctuation do not make it new).
        (
            {**changed, "question_text": second["question_data"]["question_text"].upper() + "!"},
            "already has this text",
        ),
    ]
    for data, problem in bad_edits:
        response = await client.patch(url, json={"question_data": data}, headers=headers)
        error = error_of(response, 422, "unprocessable")
        assert "not changed" in error["message"] and problem in error["message"]
    response = await client.patch(url, json={"question_data": changed, "x": 1}, headers=headers)
    error_of(response, 422, "invalid_request")
    [stored] = (await listing(batch_key=mc_key, limit=1))["data"]
    assert stored["question_data"] == changed

    # Approving.
    response = await client.post(f"{url}/approve", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["is_approved"] is True
    approved = await listing(is_approved="true")
    assert approved["count"] == 1 and approved["data"][0]["id"] == first["id"]
    assert (await listing(is_approved="false"))["count"] == 6

    # Unknown questions.
    missing = "00000000-0000-4000-8000-000000000000"
    for response in (
        await client.patch(f"{base}/{missing}", json={"is_approved": True}, headers=headers),
        await client.post(f"{base}/{missing}/approve", headers=headers),
    ):
        assert missing in error_of(response, 404, "not_found")["message"]
    response = await client.patch(f"{base}/not-a-uuid", json={}, headers=headers)
    error_of(response, 422, "invalid_request")
    # Nothing was added or removed by any of it.
    assert len(await all_questions(client, ALICE, quiz["id"])) == 7


async def test_a_question_of_another_quiz_is_not_found(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    _, [question, *_] = await generated_quiz(client, temporal_env, engine, task_queue, ONE_BATCH)
    other = await create_quiz(client, ALICE, ONE_BATCH)
    url = f"/quizzes/{other['id']}/questions/{question['id']}"
    error_of(await client.post(f"{url}/approve", headers=auth(ALICE)), 404, "not_found")


async def test_unknown_quiz_and_route(client: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    error = error_of(await client.get(f"/quizzes/{missing}", headers=auth(ALICE)), 404, "not_found")
    assert missing in error["message"]
    error_of(await generate(client, missing), 404, "not_found")
    error_of(await client.get("/quizzes/nope", headers=auth(ALICE)), 422, "invalid_request")
    error_of(await client.get("/nowhere", headers=auth(ALICE)), 404, "not_found")
    error_of(await client.delete("/quizzes", headers=auth(ALICE)), 405, "method_not_allowed")

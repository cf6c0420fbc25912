"""The HTTP API end to end, reviewing questions: filtering, paging, editing and approving
the questions of a quiz, what is not found, and versions (an edit clears the approval,
ETag and If-Match, 412 for a stale version). The app in-process, a real Temporal dev
server and PostgreSQL, workers of the test's own running the offline LLM."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, BOB, auth
from quizgen.db import repository as repo
from quizgen.domain import Difficulty, QuestionType
from tests.support.api import error_of
from tests.support.api_cases import ONE_BATCH, Json, generate, generated_quiz
from tests.support.api_flows import all_questions, create_quiz
from tests.support.batches import one_module_quiz, save_questions, true_false_questions
from tests.support.batches import ref as batch_ref
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


# --- 7. versions: edits clear approval, ETag and If-Match -----------------------------------


async def _seeded_question(engine: AsyncEngine) -> tuple[str, list[str]]:
    """A quiz of alice's with one saved true/false batch: its questions' URLs."""
    quiz_id = await repo.create_quiz(engine, "alice", one_module_quiz())
    saved = await save_questions(engine, quiz_id, batch_ref(), true_false_questions("Cells"))
    return f"/quizzes/{quiz_id}/questions", [str(q) for q in saved.question_ids]


def _tf(text: str) -> Json:
    return {"question_text": text, "correct_answer": False, "explanation": ""}


async def test_a_question_has_a_version_as_its_etag_and_an_edit_clears_its_approval(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    base, [qid, *_] = await _seeded_question(engine)
    url, headers = f"{base}/{qid}", auth(ALICE)

    async def state() -> tuple[Json, str]:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body, response.headers["etag"]

    body, etag = await state()
    # The contract's fields stay; `version` is added, and is the ETag.
    assert {"id", "module_id", "batch_key", "question_type", "difficulty"} <= set(body)
    assert {"question_data", "is_approved", "version"} <= set(body)
    assert (body["version"], etag, body["is_approved"]) == (1, '"1"', False)
    listed = (await client.get(base, headers=headers)).json()["data"]
    assert {q["id"]: q["version"] for q in listed}[qid] == 1

    approved = await client.post(f"{url}/approve", headers=headers)
    assert approved.status_code == 200 and approved.headers["etag"] == '"2"'
    assert approved.json()["is_approved"] is True and approved.json()["version"] == 2
    # Approving again, or sending the same data, changes nothing: the version stays.
    again = await client.post(f"{url}/approve", headers=headers)
    assert again.headers["etag"] == '"2"'
    same = await client.patch(url, json={"question_data": body["question_data"]}, headers=headers)
    assert same.status_code == 200 and same.json()["is_approved"] is True
    assert same.json()["version"] == 2

    # New data clears the approval ...
    edited = await client.patch(
        url, json={"question_data": _tf("Cells can divide.")}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["is_approved"] is False and edited.headers["etag"] == '"3"'
    assert (await state())[0]["is_approved"] is False
    # ... unless the same request approves the new data.
    both = {"question_data": _tf("Cells can grow."), "is_approved": True}
    response = await client.patch(url, json=both, headers=headers)
    assert response.json()["is_approved"] is True and response.json()["version"] == 4
    # Taking an approval back is a change too.
    response = await client.patch(url, json={"is_approved": False}, headers=headers)
    assert response.json()["is_approved"] is False and response.headers["etag"] == '"5"'

    missing = "00000000-0000-4000-8000-000000000000"
    error_of(await client.get(f"{base}/{missing}", headers=headers), 404, "not_found")
    error_of(await client.get(url, headers=auth(BOB)), 404, "not_found")


async def test_if_match_with_a_stale_version_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    base, [qid, *_] = await _seeded_question(engine)
    url, headers = f"{base}/{qid}", auth(ALICE)

    first = await client.patch(
        url, json={"question_data": _tf("Cells are small.")}, headers={**headers, "If-Match": '"1"'}
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2 and first.headers["etag"] == '"2"'

    stale = {**headers, "If-Match": '"1"'}
    late_edit = await client.patch(
        url, json={"question_data": _tf("Cells are big.")}, headers=stale
    )
    error = error_of(late_edit, 412, "precondition_failed")
    assert error["details"] == {"version": 2, "etag": '"2"'}
    error_of(await client.post(f"{url}/approve", headers=stale), 412, "precondition_failed")
    current = (await client.get(url, headers=headers)).json()
    assert current["question_data"]["question_text"] == "Cells are small."
    assert (current["version"], current["is_approved"]) == (2, False)

    # The forms RFC 9110 allows: weak, a list, `*`; a bare number is taken too.
    for if_match, version in [('W/"2"', 3), ('"9", "3"', 4), ("*", 5), ("5", 6)]:
        body = {"is_approved": version % 2 == 1}
        response = await client.patch(url, json=body, headers={**headers, "If-Match": if_match})
        assert response.status_code == 200, (if_match, response.text)
        assert response.headers["etag"] == f'"{version}"'
    approved = await client.post(f"{url}/approve", headers={**headers, "If-Match": '"6"'})
    assert approved.status_code == 200 and approved.json()["version"] == 7
    # A tag that is no version of ours matches nothing; a header that is no tag is a 400.
    for if_match in ('"seven"', '""', '"1", W/"6"'):
        response = await client.patch(
            url, json={"is_approved": False}, headers={**headers, "If-Match": if_match}
        )
        error_of(response, 412, "precondition_failed")
    for if_match in ("seven", '"7', '*, "7"'):
        response = await client.post(f"{url}/approve", headers={**headers, "If-Match": if_match})
        error_of(response, 400, "bad_request")
    final = (await client.get(url, headers=headers)).json()
    assert (final["version"], final["is_approved"]) == (7, True)


async def test_of_two_edits_based_on_one_version_exactly_one_is_saved(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    base, [qid, *_] = await _seeded_question(engine)
    url, headers = f"{base}/{qid}", auth(ALICE)
    texts = ["Cells were seen by Hooke.", "Cells were named by Hooke."]
    responses = await asyncio.gather(
        *(
            client.patch(
                url, json={"question_data": _tf(text)}, headers={**headers, "If-Match": '"1"'}
            )
            for text in texts
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 412]
    [winner] = [r for r in responses if r.status_code == 200]
    [loser] = [r for r in responses if r.status_code == 412]
    error_of(loser, 412, "precondition_failed")
    stored = (await client.get(url, headers=headers)).json()
    assert stored["question_data"] == winner.json()["question_data"]
    assert stored["version"] == 2

    # Without If-Match both are saved, as before: the last one wins.
    responses = await asyncio.gather(
        *(client.patch(url, json={"question_data": _tf(t + "!")}, headers=headers) for t in texts)
    )
    assert [r.status_code for r in responses] == [200, 200]
    assert (await client.get(url, headers=headers)).json()["version"] == 4

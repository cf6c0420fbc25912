"""The HTTP API deciding what goes out: reject and restore (kept, counted, versioned), add a
question by hand (same rules, no batch, not counted as generated), reorder, and the
quiz's review counts. Questions are saved straight into PostgreSQL; the app in-process."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.api import ALICE, BOB, auth
from quizgen.db import repository as repo
from quizgen.domain import BatchSpec, ModuleSpec, QuestionType, QuizSpec
from tests.support.api import error_of
from tests.support.api_flows import all_questions, get_quiz
from tests.support.web import QUESTIONS, SAMPLE, quiz_with_questions

Json = dict[str, Any]
HEADERS = auth(ALICE)


async def _post(
    client: httpx.AsyncClient, quiz_id: object, qid: object, action: str, **headers: str
) -> httpx.Response:
    return await client.post(
        f"/quizzes/{quiz_id}/questions/{qid}/{action}", headers={**HEADERS, **headers}
    )


async def test_rejected_questions_are_kept_counted_and_can_be_restored(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    quiz = await get_quiz(client, ALICE, str(quiz_id))
    assert quiz["review"] == {"approved": 0, "pending": 5, "rejected": 0, "to_export": 0}
    first, second, *_ = await all_questions(client, ALICE, str(quiz_id))
    assert first["review_status"] == "pending" and first["source"] == "generated"

    assert (await _post(client, quiz_id, first["id"], "approve")).status_code == 200
    rejected = await _post(client, quiz_id, second["id"], "reject")
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["review_status"] == "rejected" and body["is_approved"] is False
    assert body["version"] == second["version"] + 1
    assert rejected.headers["ETag"] == f'"{body["version"]}"'
    quiz = await get_quiz(client, ALICE, str(quiz_id))
    assert quiz["review"] == {"approved": 1, "pending": 3, "rejected": 1, "to_export": 1}
    # Kept and still counted as generated.
    assert len(await all_questions(client, ALICE, str(quiz_id))) == 5
    assert quiz["generation_metadata"]["total_questions_saved"] == 5
    assert quiz["progress"]["message"].startswith("5 questions generated successfully")

    # Rejecting an approved question takes its approval away; twice changes nothing.
    again = (await _post(client, quiz_id, first["id"], "reject")).json()
    assert again["review_status"] == "rejected" and not again["is_approved"]
    assert (await _post(client, quiz_id, first["id"], "reject")).json() == again
    listed = await all_questions(client, ALICE, str(quiz_id), review_status="rejected")
    assert {q["id"] for q in listed} == {first["id"], second["id"]}
    assert len(await all_questions(client, ALICE, str(quiz_id), review_status="pending")) == 3
    error_of(
        await client.get(
            f"/quizzes/{quiz_id}/questions", params={"review_status": "gone"}, headers=HEADERS
        ),
        422,
        "invalid_request",
    )

    # A stale If-Match is refused and nothing changes.
    stale = await _post(client, quiz_id, first["id"], "restore", **{"If-Match": '"1"'})
    error_of(stale, 412, "precondition_failed")
    current = f'"{again["version"]}"'
    restored = await _post(client, quiz_id, first["id"], "restore", **{"If-Match": current})
    assert restored.status_code == 200, restored.text
    assert restored.json()["review_status"] == "pending"
    assert restored.json()["version"] == again["version"] + 1
    # Restoring a question that is not rejected leaves it as it is.
    assert (await _post(client, quiz_id, first["id"], "restore")).json() == restored.json()

    # An edit leaves a rejected question rejected; approving it approves it.
    data = {**second["question_data"], "explanation": "Edited while rejected."}
    edited = await client.patch(
        f"/quizzes/{quiz_id}/questions/{second['id']}",
        json={"question_data": data},
        headers=HEADERS,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["review_status"] == "rejected"
    approved = (await _post(client, quiz_id, second["id"], "approve")).json()
    assert approved["review_status"] == "approved" and approved["is_approved"] is True
    # Restoring a question that is not rejected leaves it as it is, approved too.
    assert (await _post(client, quiz_id, second["id"], "restore")).json() == approved

    # Another teacher's quiz is not found.
    error_of(await _post(client, quiz_id, first["id"], "reject", **auth(BOB)), 404, "not_found")
    error_of(await _post(client, quiz_id, uuid.uuid4(), "reject"), 404, "not_found")


def _manual(question_type: str, text: str, module_id: str = "m1") -> Json:
    data = {**QUESTIONS[question_type], "question_text": text}
    return {"module_id": module_id, "question_type": question_type, "question_data": data}


async def test_a_teacher_adds_questions_by_hand_checked_by_the_same_rules(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    base = f"/quizzes/{quiz_id}/questions"
    before = await get_quiz(client, ALICE, str(quiz_id))
    added = []
    for n, question_type in enumerate(QUESTIONS):
        text = f"Written by hand, question {n} [blank_1]."
        if question_type != "fill_in_blank":
            text = text.replace(" [blank_1]", "")
        body = _manual(question_type, text)
        if question_type == "fill_in_blank":
            body["question_data"]["blanks"] = [{"position": 1, "correct_answer": "x"}]
        response = await client.post(base, json=body, headers=HEADERS)
        assert response.status_code == 201, response.text
        question = response.json()
        assert question["source"] == "manual" and question["batch_key"] is None
        assert question["review_status"] == "pending" and question["version"] == 1
        assert response.headers["ETag"] == '"1"'
        added.append(question["id"])
    listed = await all_questions(client, ALICE, str(quiz_id))
    assert [q["id"] for q in listed][-5:] == added, "hand-written questions come last"
    assert len(await all_questions(client, ALICE, str(quiz_id), source="manual")) == 5

    after = await get_quiz(client, ALICE, str(quiz_id))
    assert after["review"]["pending"] == 10
    # Generation progress counts generated questions only.
    assert after["progress"] == before["progress"]
    assert after["generation_metadata"]["total_questions_saved"] == 5
    listing = (await client.get("/quizzes", headers=HEADERS, params={"limit": 100})).json()
    [summary] = [q for q in listing["data"] if q["id"] == str(quiz_id)]
    assert summary["questions_saved"] == 5

    # The same rules as generated questions, each named in the 422.
    duplicate = _manual("true_false", "Photosynthesis\u200b releases  OXYGEN.")
    error = error_of(await client.post(base, json=duplicate, headers=HEADERS), 422, "unprocessable")
    assert "already has this text" in error["message"]
    wrong = _manual("multiple_choice", "Which one is wrong?")
    wrong["question_data"]["correct_answer"] = "E"
    error = error_of(await client.post(base, json=wrong, headers=HEADERS), 422, "unprocessable")
    assert "correct_answer" in error["message"]
    nowhere = _manual("true_false", "A question of no module.", module_id="nowhere")
    error = error_of(await client.post(base, json=nowhere, headers=HEADERS), 422, "unprocessable")
    assert "no module 'nowhere'" in error["message"]
    extra = {**_manual("true_false", "Extra field."), "source": "generated"}
    error_of(await client.post(base, json=extra, headers=HEADERS), 422, "invalid_request")
    other = _manual("true_false", "Bob's question.")
    error_of(await client.post(base, json=other, headers=auth(BOB)), 404, "not_found")
    assert len(await all_questions(client, ALICE, str(quiz_id))) == 10

    # A hand-written question is reviewed like any other.
    rejected = (await _post(client, quiz_id, added[0], "reject")).json()
    assert rejected["review_status"] == "rejected"


async def test_the_review_order_is_set_whole_and_checked(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    url = f"/quizzes/{quiz_id}/questions/order"
    questions = await all_questions(client, ALICE, str(quiz_id))
    ids = [q["id"] for q in questions]
    versions = {q["id"]: q["version"] for q in questions}
    wanted = [ids[2], ids[0], ids[4], ids[1], ids[3]]
    response = await client.put(url, json={"question_ids": wanted}, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert response.json() == {"question_ids": wanted}
    now = await all_questions(client, ALICE, str(quiz_id))
    assert [q["id"] for q in now] == wanted
    assert [q["quiz_position"] for q in now] == [0, 1, 2, 3, 4]
    assert {q["id"]: q["version"] for q in now} == versions, "moving is not an edit"
    # Filters keep the order.
    paged = await all_questions(client, ALICE, str(quiz_id), limit=2)
    assert [q["id"] for q in paged] == wanted

    for bad, counts in (
        (wanted[:-1], {"missing": 1, "unknown": 0, "repeated": 0}),
        ([*wanted, wanted[0]], {"missing": 0, "unknown": 0, "repeated": 1}),
        ([*wanted[:-1], str(uuid.uuid4())], {"missing": 1, "unknown": 1, "repeated": 0}),
    ):
        error = error_of(
            await client.put(url, json={"question_ids": bad}, headers=HEADERS), 409, "conflict"
        )
        assert error["details"] == counts
    assert [q["id"] for q in await all_questions(client, ALICE, str(quiz_id))] == wanted
    error_of(
        await client.put(url, json={"question_ids": wanted}, headers=auth(BOB)), 404, "not_found"
    )
    error_of(await client.put(url, json={"ids": wanted}, headers=HEADERS), 422, "invalid_request")


async def test_a_quiz_without_questions_counts_nothing_and_orders_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    batches = [BatchSpec(question_type=QuestionType.TRUE_FALSE, count=1)]
    module = ModuleSpec(module_id="m1", name="M", content=SAMPLE, batches=batches)
    spec = QuizSpec(title="Empty", modules=[module])
    quiz_id = await repo.create_quiz(engine, "alice", spec)
    quiz = await get_quiz(client, ALICE, str(quiz_id))
    assert quiz["review"] == {"approved": 0, "pending": 0, "rejected": 0, "to_export": 0}
    response = await client.put(
        f"/quizzes/{quiz_id}/questions/order", json={"question_ids": []}, headers=HEADERS
    )
    assert response.status_code == 200 and response.json() == {"question_ids": []}

"""`GET /quizzes/{id}/export.zip`: the quiz's approved questions as a QTI 1.2 package."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, BOB, auth
from tests.support.api import error_of
from tests.support.api_cases import generated_quiz
from tests.support.flows import FOUR_BATCHES
from tests.support.qti_reader import read_package


async def test_the_package_holds_the_approved_questions_in_review_order(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz, questions = await generated_quiz(client, temporal_env, engine, task_queue, FOUR_BATCHES)
    chosen = questions[:3]
    for question in chosen:
        approve = f"/quizzes/{quiz['id']}/questions/{question['id']}/approve"
        assert (await client.post(approve, headers=auth(ALICE))).status_code == 200

    answer = await client.get(f"/quizzes/{quiz['id']}/export.zip", headers=auth(ALICE))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith('attachment; filename="')
    package = read_package(answer.content)
    assert package.assessment_title == quiz["title"]
    texts = [item.data["question_text"] for item in package.items]
    assert texts == [q["question_data"]["question_text"] for q in chosen]

    everything = await client.get(
        f"/quizzes/{quiz['id']}/export.zip", params={"include": "all"}, headers=auth(ALICE)
    )
    assert len(read_package(everything.content).items) == len(questions)

    # Another teacher's quiz is not theirs to download.
    error_of(
        await client.get(f"/quizzes/{quiz['id']}/export.zip", headers=auth(BOB)), 404, "not_found"
    )
    bad = await client.get(
        f"/quizzes/{quiz['id']}/export.zip", params={"format": "docx"}, headers=auth(ALICE)
    )
    error_of(bad, 422, "invalid_request")

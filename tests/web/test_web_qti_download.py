"""The quiz page's download link: the approved questions as a QTI 1.2 package."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.api import ALICE, BOB, auth
from tests.support.qti_reader import read_package
from tests.support.web import quiz_with_questions, sign_in


async def test_the_page_offers_the_approved_questions_as_a_qti_package(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    questions = (await client.get(f"/quizzes/{quiz_id}/questions", headers=auth(ALICE))).json()
    first = questions["data"][0]
    approve = f"/quizzes/{quiz_id}/questions/{first['id']}/approve"
    assert (await client.post(approve, headers=auth(ALICE))).status_code == 200

    assert (await sign_in(client, ALICE)).status_code == 303
    page = await client.get(f"/ui/quizzes/{quiz_id}")
    assert f'href="/ui/quizzes/{quiz_id}/export.zip"' in page.text
    download = await client.get(f"/ui/quizzes/{quiz_id}/export.zip")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    [item] = read_package(download.content).items
    assert item.data["question_text"] == first["question_data"]["question_text"]


async def test_another_teachers_package_is_a_missing_page(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    assert (await sign_in(client, BOB)).status_code == 303
    answer = await client.get(f"/ui/quizzes/{quiz_id}/export.zip")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")

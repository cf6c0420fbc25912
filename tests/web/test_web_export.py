"""The quiz page's Canvas export over HTTP, against the real stack: the API in-process, a
worker and the Canvas stand-in (tests/support/exports.py), driven through the /ui pages
with a signed-in session and CSRF-checked forms.

Not connected: a "Connect Canvas" link that comes back to the quiz. Connected: the course
picker (or a course-id input when Canvas cannot list courses), an export that the page
follows to "Open in Canvas", a failed export's reason and its retry, an undo, an expired
token's "reconnect Canvas", refusals said as notices, and a post without CSRF refused.
"""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE
from quizgen.domain import QuestionType
from tests.support.api_flows import get_quiz
from tests.support.exports import (
    HEADERS,
    ExportStack,
    export_stack,
    exportable_quiz,
    numbered_questions,
)
from tests.support.web import csrf_of, sign_in

WAIT_SECONDS = 60.0


@pytest.fixture
async def stack(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[ExportStack]:
    async with export_stack(engine, database_url, temporal_env, task_queue) as running:
        assert (await sign_in(running.api, ALICE)).status_code == 303
        yield running


async def _quiz(stack: ExportStack, n: int = 3) -> uuid.UUID:
    cases = [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(n)]
    return await exportable_quiz(stack.engine, "alice", cases)


async def _page(stack: ExportStack, quiz_id: uuid.UUID, query: str = "") -> httpx.Response:
    page = await stack.api.get(f"/ui/quizzes/{quiz_id}{query}")
    assert page.status_code == 200, page.text
    return page


async def _post(
    stack: ExportStack, quiz_id: uuid.UUID, action: str = "", **fields: str
) -> httpx.Response:
    """Post one of the section's forms with the page's CSRF token; returns the redirect."""
    csrf = csrf_of(await _page(stack, quiz_id))
    response = await stack.api.post(
        f"/ui/quizzes/{quiz_id}/export{action}", data={"csrf_token": csrf, **fields}
    )
    assert response.status_code == 303, response.text
    return response


def _notice(response: httpx.Response) -> str:
    match = re.search(r"notice=(\w+)$", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


async def _live_until(
    stack: ExportStack, quiz_id: uuid.UUID, text: str, within: float = WAIT_SECONDS
) -> str:
    """The polled fragment, once it shows `text` and has stopped asking to be polled."""
    async with asyncio.timeout(within):
        while True:
            live = await stack.api.get(f"/ui/quizzes/{quiz_id}/export/live")
            assert live.status_code == 200, live.text
            shown = html.unescape(live.text)
            if text in shown and 'data-polling="false"' in live.text:
                return shown
            await asyncio.sleep(0.1)


async def test_not_connected_offers_the_connect_link_back_to_the_quiz(stack: ExportStack) -> None:
    quiz_id = await _quiz(stack)
    assert (await stack.api.delete("/canvas/connection", headers=HEADERS)).status_code == 204
    page = await _page(stack, quiz_id)
    assert "Export to Canvas" in page.text
    assert f'href="/ui/canvas?next=/ui/quizzes/{quiz_id}"' in page.text
    assert ">Connect Canvas</a>" in page.text
    assert 'name="course_id"' not in page.text
    # The QTI download stays next to it.
    assert f'href="/ui/quizzes/{quiz_id}/export.zip"' in page.text
    # A post anyway is refused in words, and nothing starts.
    refused = await _post(stack, quiz_id, course_id=str(stack.course))
    assert _notice(refused) == "export_not_connected"
    shown = await _page(stack, quiz_id, "?notice=export_not_connected")
    assert "Connect Canvas first." in shown.text
    assert (await stack.api.get(f"/quizzes/{quiz_id}/export", headers=HEADERS)).status_code == 404
    # In Norwegian too.
    norsk = await _page(stack, quiz_id, "?lang=no")
    assert "Eksporter til Canvas" in norsk.text and ">Koble til Canvas</a>" in norsk.text


async def test_the_form_exports_and_the_page_follows_it_to_the_canvas_link(
    stack: ExportStack,
) -> None:
    quiz_id = await _quiz(stack, 6)
    page = await _page(stack, quiz_id)
    # The course picker lists the courses Canvas says Alice teaches; the title defaults.
    assert f'<option value="{stack.course}">Biology 101</option>' in page.text
    assert 'name="title" maxlength="255" value="Export me"' in page.text
    assert 'name="points_per_question"' in page.text and 'value="1"' in page.text
    stack.canvas.latency = 0.1  # slow enough to see it running
    try:
        started = await _post(
            stack, quiz_id, course_id=str(stack.course), title="Cells", points_per_question="2"
        )
        assert _notice(started) == "export_started"
        running = await _page(stack, quiz_id, "?notice=export_started")
        assert "The export to Canvas has started." in running.text
        assert re.search(r"\d of 6 questions exported", running.text)
        assert 'data-polling="true"' in running.text or "In Canvas" in running.text
        assert ">Cancel export</button>" in running.text or "In Canvas" in running.text
        shown = await _live_until(stack, quiz_id, "Open in Canvas")
    finally:
        stack.canvas.latency = 0.0
    done = await stack.status(quiz_id)
    assert done["state"] == "published"
    assert "6 of 6 questions exported" in shown
    assert f'href="{done["canvas_quiz_url"]}"' in shown
    assert "“Cells” to Canvas course" in shown and "2 points per question" in shown
    assert ">Export again</button>" in shown and ">Undo export</button>" in shown
    page = await _page(stack, quiz_id)
    assert "Published" in page.text and f'href="{done["canvas_quiz_url"]}"' in page.text
    assert stack.canvas.quizzes(stack.course)[0]["title"] == "Cells"

    # Export again from the page: no new Canvas quiz.
    again = await _post(stack, quiz_id, "/retry")
    assert _notice(again) == "export_retried"
    await stack.wait_for_state(quiz_id, "published", "failed")
    assert len(stack.canvas.quizzes(stack.course)) == 1

    # Undo deletes it from Canvas and gives the quiz back to review.
    undo = await _post(stack, quiz_id, "/undo")
    assert _notice(undo) == "export_undoing"
    await stack.wait_until_undone(quiz_id)
    assert stack.canvas.quizzes(stack.course) == []
    assert (await get_quiz(stack.api, ALICE, str(quiz_id)))["status"] == "ready_for_review"
    page = await _page(stack, quiz_id)
    assert 'name="course_id"' in page.text and "Open in Canvas" not in page.text


async def test_a_failed_export_shows_the_reason_and_retries(stack: ExportStack) -> None:
    quiz_id = await _quiz(stack)
    elsewhere = stack.canvas.add_course("Not mine")
    started = await _post(stack, quiz_id, course_id=str(elsewhere))
    assert _notice(started) == "export_started"
    shown = await _live_until(stack, quiz_id, "Export failed")
    assert "check that you are a teacher of it" in shown
    assert ">Retry export</button>" in shown and ">Undo export</button>" in shown
    assert (await get_quiz(stack.api, ALICE, str(quiz_id)))["status"] == "ready_for_review"
    # The page offers another course too; exporting there publishes.
    assert f'<option value="{stack.course}">Biology 101</option>' in shown
    retried = await _post(stack, quiz_id, "/retry")  # same course: fails the same way
    assert _notice(retried) == "export_retried"
    assert (await stack.wait_for_state(quiz_id, "failed"))["course_id"] == str(elsewhere)
    await _post(stack, quiz_id, course_id=str(stack.course))
    shown = await _live_until(stack, quiz_id, "Open in Canvas")
    assert "3 of 3 questions exported" in shown


async def test_refusals_are_notices_and_a_post_without_csrf_changes_nothing(
    stack: ExportStack,
) -> None:
    none_approved = await exportable_quiz(
        stack.engine,
        "alice",
        [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(2)],
        approve=False,
    )
    refused = await _post(stack, none_approved, course_id=str(stack.course))
    assert _notice(refused) == "export_none_approved"
    page = await _page(stack, none_approved, "?notice=export_none_approved")
    assert "no approved question to export" in page.text
    assert "Traceback" not in page.text
    # Bad form values are refused before anything starts.
    assert _notice(await _post(stack, none_approved, course_id="")) == "export_no_course"
    assert (
        _notice(await _post(stack, none_approved, course_id="1", points_per_question="lots"))
        == "export_bad_points"
    )
    # Nothing to undo, retry or cancel.
    assert _notice(await _post(stack, none_approved, "/undo")) == "export_not_exported"
    assert _notice(await _post(stack, none_approved, "/retry")) == "export_no_course"
    assert _notice(await _post(stack, none_approved, "/cancel")) == "export_not_running"

    quiz_id = await _quiz(stack)
    for action in ("", "/retry", "/undo", "/cancel"):
        forged = await stack.api.post(
            f"/ui/quizzes/{quiz_id}/export{action}", data={"course_id": str(stack.course)}
        )
        assert forged.status_code == 403, (action, forged.text)
    assert (await stack.api.get(f"/quizzes/{quiz_id}/export", headers=HEADERS)).status_code == 404
    assert stack.canvas.quizzes(stack.course) == []
    # Another teacher's quiz is not found.
    other = await _post(stack, quiz_id, course_id=str(stack.course))
    assert _notice(other) == "export_started"
    missing = await stack.api.get(f"/ui/quizzes/{uuid.uuid4()}/export/live")
    assert missing.status_code == 404
    await stack.wait_for_state(quiz_id, "published", "failed")


async def test_canvas_unreachable_gives_a_course_id_input(stack: ExportStack) -> None:
    quiz_id = await _quiz(stack)
    stack.canvas.fail_next(1, 503)
    page = await _page(stack, quiz_id)
    assert "Canvas could not be reached to list your courses" in page.text
    assert '<input id="export-course" name="course_id"' in page.text
    started = await _post(stack, quiz_id, course_id=str(stack.course))
    assert _notice(started) == "export_started"
    await _live_until(stack, quiz_id, "Open in Canvas")


async def test_an_expired_token_asks_to_reconnect_canvas(stack: ExportStack) -> None:
    quiz_id = await _quiz(stack, 8)
    stack.canvas.latency = 0.2
    try:
        await _post(stack, quiz_id, course_id=str(stack.course))
        stack.canvas.expire(stack.token)
        await stack.wait_for_state(quiz_id, "waiting_for_canvas")
    finally:
        stack.canvas.latency = 0.0
    page = await _page(stack, quiz_id)
    assert "Canvas refused the saved token: " in html.unescape(page.text)
    assert f'<a href="/ui/canvas?next=/ui/quizzes/{quiz_id}">reconnect Canvas</a>' in page.text
    assert ">Cancel export</button>" in page.text and 'data-polling="true"' in page.text
    cancelled = await _post(stack, quiz_id, "/cancel")
    assert _notice(cancelled) == "export_cancelled"
    shown = await _live_until(stack, quiz_id, "Export cancelled")
    assert ">Retry export</button>" in shown

"""Content in from Canvas through the /ui pages, against the real stack (API in-process, a
worker, the Canvas stand-in serving tests/support/course_files.py's sample course) with a
signed-in session and CSRF-checked forms.

"New quiz from Canvas": the course, then its modules' items (pages and PDFs with their
size, the rest disabled with the reason), a quiz created from the picks; the quiz page's
"Content from Canvas" section followed live until each item settles (extracted with its
size, failed with its reason); "Retry extraction" after the stand-in's 403 page is fixed
extracts only that item; a module's text previewed and trimmed; refusals in words; posts
without CSRF refused.
"""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE
from quizgen.db import repository as repo
from tests.support.course_files import LESSON_TITLE, SampleCourse, add_sample_course
from tests.support.exports import HEADERS, ExportStack, export_stack
from tests.support.web import csrf_of, sign_in

WAIT_SECONDS = 90.0
FORBIDDEN_TITLE = "Lærerens notater"


@pytest.fixture
async def stack(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[ExportStack]:
    async with export_stack(engine, database_url, temporal_env, task_queue) as running:
        assert (await sign_in(running.api, ALICE)).status_code == 303
        yield running


def _course(stack: ExportStack) -> tuple[SampleCourse, str]:
    sample = add_sample_course(stack.canvas, stack.course)
    forbidden = stack.canvas.add_page(
        stack.course,
        FORBIDDEN_TITLE,
        "<h1>Notater</h1><p>Bare for læreren.</p>",
        module_id=sample.module,
    )
    stack.canvas.forbid_page(stack.course, forbidden)
    return sample, forbidden


async def _get(stack: ExportStack, path: str) -> httpx.Response:
    page = await stack.api.get(path)
    assert page.status_code == 200, page.text
    return page


def _module_index(page: str, value: str) -> str:
    match = re.search(rf'name="modules-(\d+)-items" value="{re.escape(value)}"', page)
    assert match, f"no checkbox for {value}"
    return match.group(1)


async def _sources(stack: ExportStack, quiz_id: str) -> dict[str, Any]:
    response = await stack.api.get(f"/quizzes/{quiz_id}/sources", headers=HEADERS)
    assert response.status_code == 200, response.text
    return {s["title"]: s for s in response.json()["data"]}


async def _live_until_settled(stack: ExportStack, quiz_id: str) -> str:
    """The polled section, once it has stopped asking to be polled."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            live = await _get(stack, f"/ui/quizzes/{quiz_id}/sources/live")
            if 'data-polling="false"' in live.text:
                return html.unescape(live.text)
            assert 'data-polling="true"' in live.text
            await asyncio.sleep(0.1)


async def _pick_and_create(stack: ExportStack, sample: SampleCourse, forbidden: str) -> str:
    start = await _get(stack, "/ui/quizzes/new")
    assert 'href="/ui/quizzes/new/canvas"' in start.text
    courses = await _get(stack, "/ui/quizzes/new/canvas")
    assert f'href="/ui/quizzes/new/canvas?course={stack.course}">Biology 101</a>' in courses.text

    picker = await _get(stack, f"/ui/quizzes/new/canvas?course={stack.course}")
    shown = html.unescape(picker.text)
    page_url = sample.pages[LESSON_TITLE]
    m = _module_index(picker.text, f"Page:{page_url}")
    good, scanned = sample.files["fotosyntese.pdf"], sample.files["skannet.pdf"]
    assert re.search(r"fotosyntese\.pdf <span class=\"help\">PDF · \d+\.\d kB</span>", shown)
    # Not pickable, each with its reason: too big, and an item type quizgen does not read.
    big = sample.files["for-stor.pdf"]
    assert f'value="File:{big}"' not in picker.text
    assert re.search(r"for-stor\.pdf.*?not supported: larger than the \d+ MB limit", shown, re.S)
    assert "not supported: links to other sites are not fetched" in shown

    fields: dict[str, Any] = {
        "csrf_token": csrf_of(picker),
        "course_id": str(stack.course),
        "title": "Biologi fra Canvas",
        "language": "no",
        f"modules-{m}-name": "Uke 1",
        f"modules-{m}-items": [
            f"Page:{page_url}",
            f"Page:{forbidden}",
            f"File:{good}",
            f"File:{scanned}",
        ],
        f"modules-{m}-batches-0-question_type": "true_false",
        f"modules-{m}-batches-0-count": "2",
    }
    # Nothing picked: the form again, saying so; a bad count next to its field.
    none = await stack.api.post("/ui/quizzes/new/canvas", data={**fields, f"modules-{m}-items": []})
    assert none.status_code == 422 and "Pick at least one page or PDF." in none.text
    bad = await stack.api.post(
        "/ui/quizzes/new/canvas", data={**fields, f"modules-{m}-batches-0-count": "x"}
    )
    assert bad.status_code == 422 and f'id="modules-{m}-batches-0-count-error"' in bad.text
    created = await stack.api.post("/ui/quizzes/new/canvas", data=fields)
    assert created.status_code == 303, created.text
    match = re.fullmatch(
        r"/ui/quizzes/([0-9a-f-]{36})\?notice=extracting", created.headers["location"]
    )
    assert match, created.headers["location"]
    return match.group(1)


async def test_pick_create_watch_retry_and_edit_a_modules_text(stack: ExportStack) -> None:
    sample, forbidden = _course(stack)
    quiz_id = await _pick_and_create(stack, sample, forbidden)

    page = await _get(stack, f"/ui/quizzes/{quiz_id}")
    assert "Innhold fra Canvas" in page.text  # the quiz is Norwegian
    assert f'data-live-url="/ui/quizzes/{quiz_id}/sources/live?lang=no"' in page.text
    settled = await _live_until_settled(stack, quiz_id)
    assert "2 av 4 elementer hentet, 2 feilet" in settled
    assert re.search(rf"{re.escape(LESSON_TITLE)}</th>.*?Hentet.*?\d[\d,]* tegn", settled, re.S)
    assert re.search(r"fotosyntese\.pdf</th>.*?Hentet.*?tegn, 3 sider", settled, re.S)
    assert re.search(rf"{FORBIDDEN_TITLE}</th>.*?Feilet.*?403", settled, re.S)
    assert re.search(r"skannet\.pdf</th>.*?Feilet.*?no text layer", settled, re.S)
    assert ">Prøv uttrekket på nytt</button>" in settled
    before = await _sources(stack, quiz_id)
    assert before[FORBIDDEN_TITLE]["status"] == "failed"

    # Fix the page in Canvas and retry: only the failed items run again.
    stack.canvas.forbid_page(stack.course, forbidden, False)
    csrf = csrf_of(await _get(stack, f"/ui/quizzes/{quiz_id}"))
    retried = await stack.api.post(f"/ui/quizzes/{quiz_id}/extract", data={"csrf_token": csrf})
    assert retried.status_code == 303
    assert retried.headers["location"].endswith("notice=content_retried")
    shown = await _get(stack, f"/ui/quizzes/{quiz_id}?notice=content_retried&lang=en")
    assert "The failed items are being extracted again." in shown.text
    settled = await _live_until_settled(stack, quiz_id)
    assert "3 of 4 items extracted, 1 failed" in html.unescape(
        (await _get(stack, f"/ui/quizzes/{quiz_id}/sources/live?lang=en")).text
    )
    after = await _sources(stack, quiz_id)
    assert after[FORBIDDEN_TITLE]["status"] == "extracted"
    assert after["skannet.pdf"]["status"] == "failed"
    for title in (LESSON_TITLE, "fotosyntese.pdf"):  # kept, not extracted again
        assert after[title]["updated_at"] == before[title]["updated_at"]

    # Preview the module's text and trim it.
    module_id = after[LESSON_TITLE]["module_id"]
    link = f"/ui/quizzes/{quiz_id}/modules/{module_id}/text"
    assert f'href="{link}"' in settled
    preview = await _get(stack, link)
    assert "Fotosyntese &amp; celler" in preview.text and "Bare for læreren." in preview.text
    assert "skripttekst" not in preview.text
    csrf = csrf_of(preview)
    empty = await stack.api.post(link, data={"csrf_token": csrf, "content": "   "})
    assert empty.status_code == 422 and 'id="module-text-error"' in empty.text
    saved = await stack.api.post(link, data={"csrf_token": csrf, "content": "Bare fotosyntese."})
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("notice=content_text_saved")
    quiz = await repo.get_quiz(stack.engine, uuid.UUID(quiz_id))
    (module,) = [m for m in quiz.spec.modules if m.module_id == module_id]
    assert module.content == "Bare fotosyntese."


async def test_without_a_connection_and_without_csrf_nothing_happens(stack: ExportStack) -> None:
    sample, forbidden = _course(stack)
    picker = await _get(stack, f"/ui/quizzes/new/canvas?course={stack.course}")
    m = _module_index(picker.text, f"Page:{sample.pages[LESSON_TITLE]}")
    fields = {
        "course_id": str(stack.course),
        "title": "Forged",
        f"modules-{m}-items": f"Page:{sample.pages[LESSON_TITLE]}",
        f"modules-{m}-batches-0-question_type": "true_false",
    }
    forged = await stack.api.post("/ui/quizzes/new/canvas", data=fields)
    assert forged.status_code == 403
    wrong = await stack.api.post("/ui/quizzes/new/canvas", data={**fields, "csrf_token": "x"})
    assert wrong.status_code == 403
    listed = await stack.api.get("/quizzes", headers=HEADERS)
    assert "Forged" not in [q["title"] for q in listed.json()["data"]]

    # An item not in the course (a forged value) is refused next to the module.
    odd = await stack.api.post(
        "/ui/quizzes/new/canvas",
        data={**fields, "csrf_token": csrf_of(picker), f"modules-{m}-items": "Page:nope"},
    )
    assert odd.status_code == 422 and "is no longer in the course" in odd.text

    # A quiz made through the API: its retry needs CSRF too.
    quiz_id = await _pick_and_create(stack, sample, forbidden)
    await _live_until_settled(stack, quiz_id)
    refused = await stack.api.post(f"/ui/quizzes/{quiz_id}/extract", data={})
    assert refused.status_code == 403
    assert (await _sources(stack, quiz_id))[FORBIDDEN_TITLE]["status"] == "failed"

    # Not connected: the links go to the Canvas page and back to the picker.
    assert (await stack.api.delete("/canvas/connection", headers=HEADERS)).status_code == 204
    start = await _get(stack, "/ui/quizzes/new")
    assert 'href="/ui/canvas?next=/ui/quizzes/new/canvas"' in start.text
    page = await _get(stack, "/ui/quizzes/new/canvas")
    assert "Connect Canvas first" in page.text
    assert 'href="/ui/canvas?next=/ui/quizzes/new/canvas">Connect Canvas</a>' in page.text

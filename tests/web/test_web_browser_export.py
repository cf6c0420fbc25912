"""The Canvas export in headless Chromium against the real stack: the API served by uvicorn
on a real port, a worker, PostgreSQL and the Canvas stand-in (over real HTTP).

A teacher approves some questions, rejects one and adds one by hand, connects Canvas by
pasting a token on the Canvas page (which brings them back to the quiz), exports, watches
"X of Y questions exported" move without a reload, and opens the Canvas link; the QTI
package still downloads. axe-core finds no serious problem on the export section.

Skipped, saying so, when Chromium is not installed (`apt-get install chromium`).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from api import create_app
from deploy.local.api import ALICE, local_settings, serving
from deploy.local.canvas import CanvasStandIn
from deploy.local.temporal import server_address
from quizgen.db import canvas_connections as connections
from quizgen.db import repository as repo
from quizgen.domain import QuestionType, QuizStatus
from quizgen.llm.offline import OfflineProvider
from tests.support.browser import CHROMIUM, serious_violations
from tests.support.exports import CANVAS_SETTINGS, exportable_quiz, numbered_questions
from tests.support.flows import running_worker

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not found (apt-get install chromium, or set CHROMIUM): browser tests skipped",
)

WAIT_MS = 60_000


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        await browser.close()


async def _no_serious_violations(page: Any) -> None:
    violations = await serious_violations(page)
    assert violations == [], "\n".join(violations)


async def test_a_teacher_reviews_connects_canvas_and_exports_in_the_browser(
    browser: Any,
    engine: AsyncEngine,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    cases = [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(4)]
    quiz_id = await exportable_quiz(engine, "alice", cases, approve=False)
    await connections.delete_connection(engine, "alice")  # the run's database is shared
    async with CanvasStandIn() as canvas:
        course = canvas.add_course("Biology 101", "BIO101")
        canvas_token = canvas.add_user("Ada Teacher", teacher_of=[course])
        settings = local_settings(
            database_url=database_url,
            temporal_address=server_address(temporal_env),
            temporal_task_queue=task_queue,
            canvas_base_url=canvas.base_url,
            **CANVAS_SETTINGS,
        )
        worker = running_worker(
            temporal_env.client,
            engine,
            OfflineProvider(),
            task_queue,
            database_url=database_url,
            canvas_base_url=canvas.base_url,
            **CANVAS_SETTINGS,
        )
        async with serving(create_app(settings)) as base, worker:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = await context.new_page()
            await page.goto(f"{base}/ui/quizzes")
            await page.get_by_label("API token").fill(ALICE)
            await page.get_by_label("API token").press("Enter")
            await page.wait_for_load_state()
            quiz_url = f"{base}/ui/quizzes/{quiz_id}"

            # Review: approve three, reject the fourth, add one by hand and approve it.
            await page.goto(f"{quiz_url}/questions")
            for _ in range(3):
                await page.get_by_role("button", name="Approve", exact=True).first.click()
                await page.get_by_text("Approved.", exact=True).wait_for()
            pending = page.locator("article.question:not(.approved)")
            await pending.get_by_role("button", name="Reject", exact=True).click()
            await page.locator("article.question.rejected").wait_for()
            await page.get_by_role("link", name="Add a question").click()
            await page.select_option("#choose-type", "true_false")
            await page.get_by_role("button", name="Choose this type").click()
            await page.fill("#question_text", "Chlorophyll is green because it reflects green.")
            await page.fill("#explanation", "It absorbs red and blue light and reflects green.")
            await page.get_by_role("button", name="Add the question").click()
            await page.get_by_text("The question was added.").wait_for()
            added = page.locator("article.question:not(.approved):not(.rejected)")
            await added.get_by_role("button", name="Approve", exact=True).click()
            await page.get_by_text("Approved.", exact=True).wait_for()

            # Not connected: the quiz page links to the Canvas page, which comes back here.
            await page.goto(quiz_url)
            await page.get_by_role("heading", name="Export to Canvas").wait_for()
            await page.get_by_role("link", name="Connect Canvas").click()
            assert page.url == f"{base}/ui/canvas?next=/ui/quizzes/{quiz_id}"
            await page.get_by_label("Canvas access token").fill(canvas_token)
            await page.get_by_role("button", name="Connect", exact=True).click()
            await page.wait_for_url(quiz_url)

            # Export; the page follows the progress without reloading.
            await page.get_by_label("Course").select_option(str(course))
            await page.get_by_label("Title in Canvas").fill("Photosynthesis, exported")
            await _no_serious_violations(page)
            canvas.latency = 0.15
            await page.get_by_role("button", name="Export to Canvas").click()
            await page.get_by_text("The export to Canvas has started.").wait_for()
            loaded_at = page.url
            navigations: list[str] = []
            page.on("framenavigated", lambda frame: navigations.append(frame.url))
            await page.get_by_text("of 4 questions exported").first.wait_for()
            link = page.get_by_role("link", name="Open in Canvas")
            await link.wait_for(timeout=WAIT_MS)
            canvas.latency = 0.0
            assert navigations == [], "the page reloaded instead of updating itself"
            assert page.url == loaded_at
            await page.get_by_text("4 of 4 questions exported").first.wait_for()
            # The quiz's status badge was redrawn too.
            await page.locator(".badge", has_text="Published").wait_for()
            (canvas_quiz,) = canvas.quizzes(course)
            href = await link.get_attribute("href")
            assert href is not None and href.startswith(canvas.base_url)
            assert href.endswith(f"/courses/{course}/assignments/{canvas_quiz['id']}")
            assert canvas_quiz["title"] == "Photosynthesis, exported"
            assert len(canvas.quiz_items(course, canvas_quiz["id"])) == 4
            quiz = await repo.get_quiz(engine, uuid.UUID(str(quiz_id)))
            assert quiz.status is QuizStatus.PUBLISHED
            await _no_serious_violations(page)

            # The QTI package still downloads from the same section.
            async with page.expect_download() as info:
                await page.get_by_role("link", name="Download the approved questions").click()
            download = await info.value
            path = await download.path()
            with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as package:
                assert package.namelist()

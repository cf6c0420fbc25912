"""Sign in with Canvas, make a quiz from a Canvas course and sign out, in headless Chromium:
the API served by uvicorn on a real port, the Canvas stand-in's authorize page over real
HTTP, a Temporal worker (offline LLM) extracting and generating.

The teacher clicks "Sign in with Canvas", authorizes at Canvas, lands on their quizzes
signed in as `canvas-<id>` and sees Canvas connected. From the new-quiz page they follow
"New quiz from Canvas pages and PDFs", pick the course, tick the sample course's lesson
page, its text PDF and its scanned PDF, and create the quiz. The quiz page's "Content from
Canvas" section follows the extraction without reloading (the scanned PDF fails: no text
layer); "Generate Questions" then runs and the page follows the round to "Ready for
review". Signing out revokes the token at the stand-in.

Skipped, saying so, when Chromium is not installed (`apt-get install chromium`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from api import create_app
from deploy.local.api import local_settings, serving
from deploy.local.canvas import CanvasStandIn
from deploy.local.temporal import server_address
from quizgen.db import canvas_connections as connections
from quizgen.db import repository as repo
from quizgen.domain import QuizStatus
from quizgen.llm.offline import OfflineProvider
from tests.support.browser import CHROMIUM
from tests.support.course_files import LESSON_TITLE, add_sample_course
from tests.support.flows import running_worker

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not found (apt-get install chromium, or set CHROMIUM): browser tests skipped",
)

KEY = Fernet.generate_key().decode()
WAIT_MS = 60_000
PICKED = (LESSON_TITLE, "fotosyntese.pdf", "skannet.pdf")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        await browser.close()


def _starting_with(title: str) -> re.Pattern[str]:
    """A checkbox's accessible name: the item's title, then its kind and size."""
    return re.compile(rf"^{re.escape(title)}\b")


async def test_a_teacher_signs_in_with_canvas_makes_a_quiz_and_signs_out_in_the_browser(
    browser: Any,
    engine: AsyncEngine,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    async with CanvasStandIn() as canvas:
        course = canvas.add_course("Biology 101", "BIO101")
        user_id = canvas.user(canvas.add_user("Ada Teacher", teacher_of=[course])).id
        add_sample_course(canvas, course)
        client_id, secret = canvas.oauth.add_client("(set below)")
        canvas_settings: dict[str, Any] = {
            "canvas_base_url": canvas.base_url,
            "canvas_token_keys": KEY,
            "canvas_client_id": client_id,
            "canvas_client_secret": secret,
        }
        settings = local_settings(
            database_url=database_url,
            temporal_address=server_address(temporal_env),
            temporal_task_queue=task_queue,
            **canvas_settings,
        )
        async with serving(create_app(settings)) as base:
            # The developer key's redirect URI: this API's callback (its port known now).
            canvas.oauth.clients[client_id].redirect_uri = f"{base}/ui/oauth/canvas/callback"
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            await page.goto(f"{base}/ui/quizzes")
            await page.get_by_role("link", name="Sign in with Canvas").click()
            await page.get_by_role("heading", name="Log in to Canvas").wait_for()
            await page.get_by_label("Who are you?").select_option(str(user_id))
            await page.get_by_role("button", name="Authorize").click()
            await page.wait_for_url(f"{base}/ui/quizzes")
            owner = f"canvas-{user_id}"
            sign_out = page.get_by_role("button", name=f"Sign out ({owner})")
            await sign_out.wait_for()

            await page.get_by_role("link", name="Canvas", exact=True).click()
            await page.get_by_text("Connected as Ada Teacher").wait_for()
            stored = await connections.get_connection(engine, owner)
            assert stored is not None and stored.refresh_token_ciphertext is not None

            # New quiz from Canvas: the course, then the items, a module name and a batch.
            await page.goto(f"{base}/ui/quizzes/new")
            await page.get_by_role("link", name="New quiz from Canvas pages and PDFs").click()
            await page.get_by_role("heading", name="1. Pick a course").wait_for()
            await page.get_by_role("link", name="Biology 101").click()
            await page.get_by_role("heading", name="2. Pick pages and PDFs from").wait_for()
            await page.get_by_label("Title").fill("Fotosyntese fra Canvas")
            for title in PICKED:
                await page.get_by_role("checkbox", name=_starting_with(title)).check()
            await page.get_by_label("Name in the quiz").fill("Uke 1")
            await page.select_option("#modules-0-batches-0-question_type", "true_false")
            await page.fill("#modules-0-batches-0-count", "2")
            await page.get_by_role("button", name="Create quiz and extract the text").click()
            await page.get_by_text(
                "The quiz is created; the text of its pages and files is being extracted."
            ).wait_for()
            quiz_id = uuid.UUID(page.url.split("?")[0].rsplit("/", 1)[1])
            sources = page.locator("section.sources")
            await sources.get_by_role("heading", name="Content from Canvas").wait_for()
            # No worker yet: every item waits, and the page polls.
            summary = sources.locator(".sources-summary")
            await summary.filter(has_text="0 of 3 items extracted, 0 failed").wait_for()
            await page.locator(".badge", has_text="Reading content").wait_for()
            generate = page.get_by_role("button", name="Generate Questions")
            assert await generate.count() == 0  # nothing to generate from yet
            await page.wait_for_load_state()  # app.js has run (and dropped the notice)
            loaded_at = page.url
            navigations: list[str] = []
            page.on("framenavigated", lambda frame: navigations.append(frame.url))

            async with running_worker(
                temporal_env.client,
                engine,
                OfflineProvider(latency_seconds=1.0),  # a round the page can be seen following
                task_queue,
                database_url=database_url,
                **canvas_settings,
            ):
                # The section follows the extraction without a reload.
                settled = "2 of 3 items extracted, 1 failed"
                await summary.filter(has_text=settled).wait_for(timeout=WAIT_MS)
                # Screen readers hear it too.
                assert await page.locator("#sources-sentence").inner_text() == settled
                for title in (LESSON_TITLE, "fotosyntese.pdf"):
                    row = sources.locator("tr", has=page.get_by_role("rowheader", name=title))
                    await row.locator(".badge", has_text="Extracted").wait_for()
                scanned = sources.locator(
                    "tr", has=page.get_by_role("rowheader", name="skannet.pdf")
                )
                await scanned.locator(".badge", has_text="Failed").wait_for()
                assert "no text layer" in await scanned.locator("td.reason").inner_text()
                # The quiz's own region is redrawn once extraction ends: the button appears.
                await generate.wait_for(timeout=WAIT_MS)
                assert navigations == [], "the page reloaded instead of updating itself"
                assert page.url == loaded_at

                # Generate, and follow the round to ready for review, again without a reload.
                # (app.js drops the notice from the address once loaded: catch the load.)
                async with page.expect_navigation(url=re.compile(r"\?notice=started$")):
                    await generate.click()
                await page.get_by_text("Generating", exact=True).wait_for()
                started_at = len(navigations)
                await page.locator(".badge", has_text="Ready for review").wait_for(timeout=WAIT_MS)
                assert navigations[started_at:] == [], "the page reloaded while generating"
                await page.get_by_text(
                    "2 questions generated successfully (0 remaining)"
                ).first.wait_for()
            quiz = await repo.get_quiz(engine, quiz_id)
            assert quiz.status is QuizStatus.READY_FOR_REVIEW
            assert quiz.owner_id == owner

            async with page.expect_navigation(url=f"{base}/ui/sign-in?notice=signed_out"):
                await sign_out.click()
            assert len(canvas.oauth.revoked) == 1
            assert canvas.oauth.revoked[0] not in canvas.registry.tokens
            assert await connections.get_connection(engine, owner) is None
            await page.goto(f"{base}/ui/quizzes")
            await page.wait_for_url(f"{base}/ui/sign-in")
            await context.close()

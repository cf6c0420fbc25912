"""The review pages in headless Chromium against the real stack: dev server, PostgreSQL,
a worker with fault injection, and the API served by uvicorn on a real port.

A teacher signs in, creates a quiz through the form, generates it (a double
click), watches live progress reach partial with the failed batch's reason,
retries only that batch, reviews, approves and edits questions. axe-core finds
no serious accessibility problem on the list, quiz and question pages.

Skipped, saying so, when Chromium is not installed (`apt-get install chromium`).
With QUIZGEN_SCREENSHOTS=dir (`./dev screenshots`) it saves the README's pictures.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from api import create_app
from deploy.local.api import ALICE, BOB, serving
from quizgen.db import repository as repo
from quizgen.domain import Difficulty, QuestionType, QuizStatus, batch_key
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from quizgen.settings import Settings
from tests.support.browser import CHROMIUM, SCREENSHOTS, serious_violations
from tests.support.flows import plan_breaking, running_worker

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not found (apt-get install chromium, or set CHROMIUM): browser tests skipped",
)

MODULE = "photosynthesis-basics"  # the id the form derives from the module's name
BATCHES = [
    (QuestionType.MULTIPLE_CHOICE, 3, Difficulty.EASY),
    (QuestionType.TRUE_FALSE, 2, Difficulty.MEDIUM),
    (QuestionType.FILL_IN_BLANK, 2, Difficulty.HARD),
]
KEYS = [batch_key(MODULE, *b) for b in BATCHES]
BROKEN = KEYS[1]
CONTENT = (
    "Photosynthesis is the process by which green plants turn light energy into chemical "
    "energy. It takes place in the chloroplasts, which contain the pigment chlorophyll. "
    "In the light-dependent reactions, water is split and oxygen is released. In the Calvin "
    "cycle, carbon dioxide is fixed into glucose using ATP and NADPH. The stomata on the "
    "leaves let carbon dioxide in and oxygen out. Plants store glucose as starch."
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


async def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def _no_serious_violations(page: Any) -> None:
    violations = await serious_violations(page)
    assert violations == [], "\n".join(violations)


async def _sign_in(page: Any, base: str, token: str) -> None:
    await page.goto(f"{base}/ui/quizzes")
    assert page.url == f"{base}/ui/sign-in"
    # By keyboard: type the token and press Enter.
    await page.get_by_label("API token").fill(token)
    await page.get_by_label("API token").press("Enter")
    await page.wait_for_load_state()


async def test_a_teacher_generates_retries_and_reviews_a_quiz_in_the_browser(
    browser: Any,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with serving(create_app(settings)) as base:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()

        # A wrong token is refused; the right one signs in, and appears in no address.
        await _sign_in(page, base, "wrong-token-0123456789")
        await page.get_by_text("That token is not valid.").wait_for()
        await _no_serious_violations(page)
        await _sign_in(page, base, ALICE)
        assert page.url == f"{base}/ui/quizzes"
        await page.get_by_role("heading", name="Your quizzes").wait_for()

        # Create the quiz through the form.
        await page.get_by_role("link", name="New quiz").first.click()
        await _no_serious_violations(page)
        await page.get_by_label("Title").fill("Photosynthesis in the browser")
        await page.get_by_label("Module name").fill("Photosynthesis basics")
        await page.get_by_label("Content").fill(CONTENT)
        for row, (question_type, count, difficulty) in enumerate(BATCHES):
            prefix = f"#modules-0-batches-{row}"
            await page.select_option(f"{prefix}-question_type", question_type.value)
            await page.fill(f"{prefix}-count", str(count))
            await page.select_option(f"{prefix}-difficulty", difficulty.value)
        await page.get_by_role("button", name="Create quiz", exact=True).click()
        await page.get_by_text("The quiz was created.").wait_for()
        quiz_url = page.url.split("?")[0]
        quiz_id = quiz_url.rsplit("/", 1)[1]
        await page.get_by_text("0 questions generated successfully (7 remaining)").first.wait_for()
        await _no_serious_violations(page)

        faulty = FaultInjectingProvider(
            OfflineProvider(latency_seconds=1.0), plan_breaking(KEYS, [BROKEN])
        )
        async with running_worker(temporal_env.client, engine, faulty, task_queue):
            # A double click starts one round, and the page then follows it without reloading.
            await page.get_by_role("button", name="Generate Questions").dblclick()
            await page.get_by_text("Generating", exact=True).wait_for()
            loaded_at = page.url
            navigations: list[str] = []
            page.on("framenavigated", lambda frame: navigations.append(frame.url))
            await page.get_by_role("button", name="Retry Failed Batches").wait_for(timeout=WAIT_MS)
            assert navigations == [], "the page reloaded instead of updating itself"
            assert page.url == loaded_at
        await page.get_by_text("5 questions generated successfully (2 remaining)").first.wait_for()
        failed_row = page.locator(f'tr[data-batch="{BROKEN}"]')
        assert "Failed" in await failed_row.inner_text()
        assert "injected permanent fault" in await failed_row.locator("td.reason").inner_text()
        await page.locator(".badge", has_text="Partly ready").wait_for()
        quiz = await repo.get_quiz(engine, uuid.UUID(quiz_id))
        assert quiz.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
        assert len(quiz.generation_metadata.generation_attempts) == 1
        await _no_serious_violations(page)
        await _shot(page, "quiz-partial")

        # The LLM is healthy again: retry only the failed batch.
        async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
            await page.get_by_role("button", name="Retry Failed Batches").click()
            await page.locator(".badge", has_text="Ready for review").wait_for(timeout=WAIT_MS)
        await page.get_by_text("7 questions generated successfully (0 remaining)").first.wait_for()
        assert await page.get_by_role("button", name=re.compile("Generate|Retry")).count() == 0
        quiz = await repo.get_quiz(engine, uuid.UUID(quiz_id))
        [_, second] = quiz.generation_metadata.generation_attempts
        assert list(second.batch_results) == [BROKEN]
        await _shot(page, "quiz-ready")

        await page.get_by_role("link", name="Quizzes", exact=True).click()
        await page.get_by_role("link", name="Photosynthesis in the browser").wait_for()
        await _no_serious_violations(page)
        await page.get_by_role("link", name="Photosynthesis in the browser").click()

        # Review: approve one question, then an invalid edit is refused inline.
        await page.get_by_role("link", name="Review questions").click()
        await page.get_by_text("7 questions").first.wait_for()
        await _no_serious_violations(page)
        await page.get_by_role("button", name="Approve", exact=True).first.click()
        await page.get_by_text("Approved.", exact=True).wait_for()
        assert await page.locator("article.question.approved").count() == 1
        await _shot(page, "questions")

        await page.select_option("#f-type", "multiple_choice")
        await page.get_by_role("button", name="Filter").click()
        await page.get_by_text("3 questions").first.wait_for()
        await page.get_by_role("link", name="Edit").first.click()
        option_a = await page.get_by_label("Option A").input_value()
        await page.get_by_label("Option B").fill(option_a)
        await page.get_by_role("button", name="Save").click()
        await page.get_by_text("The question was not changed.").wait_for()
        assert "options must be distinct" in await page.locator("main").inner_text()
        await _no_serious_violations(page)

        # On a phone the quiz page needs no sideways scrolling.
        await page.set_viewport_size({"width": 375, "height": 800})
        await page.goto(quiz_url)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0

        # Another teacher cannot reach the quiz.
        other = await (await browser.new_context()).new_page()
        await _sign_in(other, base, BOB)
        await other.goto(quiz_url)
        await other.get_by_text("This page does not exist.").wait_for()
        assert "Photosynthesis in the browser" not in await other.content()

    # The tokens were never logged (the access log has every address the browser used).
    assert "/ui/sign-in" in caplog.text
    assert ALICE not in caplog.text and BOB not in caplog.text

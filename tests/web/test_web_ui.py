"""The Temporal Web UI, in headless Chromium, shows what a quiz's run is: its summary,
its current details (where the round stands), and readable batch children.

Runs its own dev server with the Web UI on. Skipped when Chromium is missing.
With QUIZGEN_SCREENSHOTS=dir (`./dev screenshots`) it saves `temporal-ui.png`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from deploy.local.temporal import TEMPORAL_CLI
from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.db import repository as repo
from quizgen.domain import BatchRef, QuizSpec
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from quizgen.names import SEARCH_ATTRIBUTES, quiz_workflow_id
from tests.support.browser import CHROMIUM, SCREENSHOTS
from tests.support.flows import (
    FOUR_BATCHES,
    TEST_CONFIG,
    keys_of,
    plan_breaking,
    quiz_spec,
    running_worker,
)
from workflows.quiz import batch_summary

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not found (apt-get install chromium, or set CHROMIUM): browser tests skipped",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def ui_server(tmp_path: Path) -> AsyncIterator[tuple[WorkflowEnvironment, str]]:
    ui_port = _free_port()
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(TEMPORAL_CLI),
        dev_server_database_filename=str(tmp_path / "ui.db"),
        ui=True,
        ui_port=ui_port,
    )
    yield env, f"http://127.0.0.1:{ui_port}"
    await env.shutdown()


async def test_the_web_ui_says_what_each_run_is(
    ui_server: tuple[WorkflowEnvironment, str], engine: AsyncEngine, task_queue: str
) -> None:
    from playwright.async_api import async_playwright

    env, ui = ui_server
    keys = keys_of(FOUR_BATCHES)
    spec = quiz_spec(FOUR_BATCHES).model_copy(update={"title": "Photosynthesis, week 3"})
    quiz_id = await repo.create_quiz(engine, "teacher", spec)
    faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(keys, [keys[2]]))
    async with running_worker(env.client, engine, faulty, task_queue):
        await temporal_client.start_generation(
            env.client,
            quiz_id,
            task_queue=task_queue,
            config=TEST_CONFIG,
            summary=temporal_client.workflow_summary(spec),
        )
        await wait_for_attempts(engine, quiz_id, 1)
        # The page reads the current details through a query: keep the worker up.
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = await browser.new_page(viewport={"width": 1400, "height": 1300})
            await _open(page, f"{ui}/namespaces/default/workflows/{quiz_workflow_id(quiz_id)}")
            # The timeline names every batch child by its summary.
            for ref in (_ref(spec, key) for key in keys):
                await page.get_by_text(batch_summary(ref)).first.wait_for()
            if SCREENSHOTS is not None:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SCREENSHOTS / "temporal-ui.png"))
            # The run's own summary and where it stands, under "User Metadata"
            # (rendered as markdown in frames of their own).
            await page.get_by_text("User Metadata", exact=True).first.click()
            await _frames_show(
                page, temporal_client.workflow_summary(spec), "Waiting for the", keys[2]
            )
            if SCREENSHOTS is not None:
                await page.screenshot(path=str(SCREENSHOTS / "temporal-ui-details.png"))
            await browser.close()


async def _frames_show(page: Any, *texts: str) -> None:
    """Wait until the page's frames, together, show every text."""
    async with asyncio.timeout(30):
        while True:
            shown = " ".join([await frame.inner_text("body") for frame in page.frames])
            if all(text in shown for text in texts):
                return
            await asyncio.sleep(0.3)


async def _open(page: Any, url: str) -> None:
    await page.goto(url)
    await page.wait_for_load_state("load")


def _ref(spec: QuizSpec, key: str) -> BatchRef:
    return next(
        ref for ref in (BatchRef.of(m, b) for m, b in spec.batches()) if ref.batch_key == key
    )

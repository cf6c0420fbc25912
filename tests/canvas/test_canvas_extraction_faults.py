"""Extraction under faults: a worker SIGKILLed while 50 items are extracted loses nothing
and fetches again only what was in flight; throttling is waited out; no text, no token in
any history of the extraction."""

from __future__ import annotations

import asyncio
import collections
import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE
from deploy.local.processes import worker_process
from deploy.local.temporal import server_address
from quizgen.db import repository as repo
from quizgen.names import extraction_workflow_id
from tests.support.api_flows import get_quiz
from tests.support.exports import HEADERS, KEY, ExportStack, export_stack
from tests.support.histories import HISTORIES
from tests.support.history_scan import workflow_histories

Json = dict[str, Any]
BATCHES = [{"question_type": "true_false", "count": 2}]


def _page_html(n: int) -> str:
    return f"<h1>Kapittel {n}</h1><p>Unik setning nummer {n} om cellene og lyset.</p>"


async def _create(stack: ExportStack, urls: list[str]) -> str:
    response = await stack.api.post(
        "/quizzes/from-canvas",
        json={
            "title": "Femti sider",
            "course_id": str(stack.course),
            "modules": [
                {
                    "module_id": f"m{start // 25}",
                    "name": f"Del {start // 25}",
                    "items": [{"type": "Page", "page_url": u} for u in urls[start : start + 25]],
                    "batches": BATCHES,
                }
                for start in range(0, len(urls), 25)
            ],
        },
        headers=HEADERS,
    )
    assert response.status_code == 201, response.text
    quiz_id: str = response.json()["id"]
    return quiz_id


async def _extracted(stack: ExportStack, quiz_id: str) -> int:
    body = (await stack.api.get(f"/quizzes/{quiz_id}/sources", headers=HEADERS)).json()
    return sum(s["status"] == "extracted" for s in body["data"])


async def test_a_killed_worker_mid_extraction_loses_nothing_and_refetches_only_in_flight(
    engine: AsyncEngine,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    tmp_path: Path,
) -> None:
    async with export_stack(engine, database_url, temporal_env, task_queue, worker=False) as stack:
        canvas = stack.canvas
        urls = [canvas.add_page(stack.course, f"Kapittel {n}", _page_html(n)) for n in range(50)]
        canvas.latency = 0.1
        env = stack.worker_env
        address = server_address(temporal_env)
        quiz_id = await _create(stack, urls)
        async with worker_process(address, database_url, task_queue, tmp_path / "w1.log", env):
            async with asyncio.timeout(120):
                while await _extracted(stack, quiz_id) < 10:  # noqa: ASYNC110 - polling
                    await asyncio.sleep(0.05)
            # Leaving the block SIGKILLs the worker mid-extraction.
        killed_at = await _extracted(stack, quiz_id)
        assert 10 <= killed_at < 50, "the kill must land mid-extraction"
        async with worker_process(address, database_url, task_queue, tmp_path / "w2.log", env):
            async with asyncio.timeout(180):
                while (await get_quiz(stack.api, ALICE, quiz_id))["status"] == (  # noqa: ASYNC110
                    "extracting_content"
                ):
                    await asyncio.sleep(0.1)
        quiz = await get_quiz(stack.api, ALICE, quiz_id)
        assert quiz["status"] == "created", quiz
        assert await _extracted(stack, quiz_id) == 50

        # Every page's text once in its module; refetched: only what was in flight.
        record = await repo.get_quiz(engine, uuid.UUID(quiz_id))
        text = "\n".join(m.content for m in record.spec.modules)
        for n in range(50):
            assert text.count(f"Unik setning nummer {n} ") == 1, n
        fetches = collections.Counter(
            r.path for r in canvas.requests if r.method == "GET" and "/pages/" in r.path
        )
        assert set(fetches) == {f"/api/v1/courses/{stack.course}/pages/{u}" for u in urls}
        refetched = [path for path, n in fetches.items() if n > 1]
        # At most the items in flight when the worker died (4 at once, the default).
        assert len(refetched) <= 4, refetched


async def test_extraction_histories_hold_no_text_and_no_token(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        urls = [stack.canvas.add_page(stack.course, f"S{n}", _page_html(n)) for n in range(4)]
        stack.canvas.expire(stack.token)
        quiz_id = await _create(stack, urls)
        async with asyncio.timeout(60):
            while "reconnect Canvas" not in str(  # noqa: ASYNC110 - polling the API
                (await get_quiz(stack.api, ALICE, quiz_id)).get("failure_message")
            ):
                await asyncio.sleep(0.1)
        fresh = stack.canvas.issue_token(stack.canvas.user(stack.token).id)
        await stack.connect(fresh)
        async with asyncio.timeout(60):
            while (await get_quiz(stack.api, ALICE, quiz_id))["status"] == "extracting_content":  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert (await get_quiz(stack.api, ALICE, quiz_id))["status"] == "created"

    client = temporal_env.client
    workflow_id = extraction_workflow_id(quiz_id)
    runs = await workflow_histories(client, [workflow_id])
    assert runs
    text = b"\n".join(p for run in runs for p in run.payloads()).decode()
    assert "reconnect Canvas" in text, "the wait is in history, so the scan sees payloads"
    for n in range(4):
        assert f"Unik setning nummer {n}" not in text
    assert stack.token not in text and fresh not in text and KEY not in text
    if os.environ.get("QUIZGEN_RECORD_HISTORIES") == "1":
        for n, run in enumerate(runs, 1):
            (HISTORIES / f"extraction.run-{n}.json").write_text(run.history.to_json())


async def test_throttling_and_server_errors_fail_no_item(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        urls = [stack.canvas.add_page(stack.course, f"T{n}", _page_html(n)) for n in range(8)]
        stack.canvas.fail_next(3, 503)
        stack.canvas.throttle(5)
        quiz_id = await _create(stack, urls)
        async with asyncio.timeout(90):
            while (await get_quiz(stack.api, ALICE, quiz_id))["status"] == "extracting_content":  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert (await get_quiz(stack.api, ALICE, quiz_id))["status"] == "created"
        assert await _extracted(stack, quiz_id) == 8
        faults = {r.fault for r in stack.canvas.requests}
        assert {"fail", "throttle"} <= faults

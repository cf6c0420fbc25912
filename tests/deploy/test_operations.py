"""What operators see: the Web UI's summaries and details, every line of the CLI
cookbook (docs/operations.md) run against a real dev server, and the worker's
and the API's metrics after a real round."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api import create_app
from deploy.local.api import ALICE, auth, serving
from deploy.local.temporal import TEMPORAL_CLI, server_address
from quizgen.db import repository as repo
from quizgen.domain import BatchRef
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from quizgen.logs import JsonFormatter, QuizContext
from quizgen.names import batch_workflow_id, quiz_workflow_id
from quizgen.settings import Settings
from quizgen.temporal_client import workflow_summary
from tests.support.api_flows import create_quiz, wait_for_quiz
from tests.support.flows import (
    FOUR_BATCHES,
    keys_of,
    plan_breaking,
    quiz_spec,
    running_worker,
    saved_batch_keys,
)
from worker.app import metrics_runtime
from workflows.quiz import batch_summary

REPO = Path(__file__).resolve().parents[2]
KEYS = keys_of(FOUR_BATCHES)
BROKEN = KEYS[2]


def cookbook() -> list[str]:
    """The command lines of docs/operations.md's CLI cookbook, in order."""
    text = (REPO / "docs/operations.md").read_text()
    section = text.split("## CLI cookbook", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every sample of metric `name`, keyed by its labels."""
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def total(text: str, name: str, **labels: str) -> float:
    """The sum of `name` over all samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for key, v in _samples(text, name).items() if wanted <= key)


@pytest.fixture
async def metered_client(temporal_env: WorkflowEnvironment) -> AsyncIterator[tuple[Client, str]]:
    """A client (so a worker) whose runtime serves Prometheus metrics on a port of its own."""
    address = f"127.0.0.1:{_free_port()}"
    runtime = metrics_runtime(address)
    client = await Client.connect(
        server_address(temporal_env),
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
    yield client, f"http://{address}/metrics"


async def _cli(line: str, **env: str) -> str:
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        line,
        env={
            **os.environ,
            "PATH": f"{TEMPORAL_CLI.parent}:{os.environ['PATH']}",
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    text = out.decode()
    assert process.returncode == 0, f"{line!r} failed:\n{text}"
    return text


async def _cli_until(line: str, *needles: str, **env: str) -> str:
    """Run a listing until it shows every needle: visibility lags behind the workflow."""
    async with asyncio.timeout(20):
        while True:
            text = await _cli(line, **env)
            if all(n in text for n in needles):
                return text
            await asyncio.sleep(0.5)


async def test_summaries_cookbook_and_metrics_after_a_real_round(
    client: httpx.AsyncClient,
    metered_client: tuple[Client, str],
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    temporal, metrics_url = metered_client
    faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, [BROKEN]))
    quizzes = [
        (await create_quiz(client, ALICE, FOUR_BATCHES, title=title))["id"]
        for title in ("Cookbook quiz", "Cancelled quiz")
    ]
    # The faulty worker stays up through the cookbook's reading commands: queries
    # (progress, metadata) are answered by a worker, as they are in production.
    async with contextlib.AsyncExitStack() as faulty_worker:
        await faulty_worker.enter_async_context(
            running_worker(temporal, engine, faulty, task_queue)
        )
        for quiz_id in quizzes:
            started = await client.post(
                f"/quizzes/{quiz_id}/generate-questions", headers=auth(ALICE)
            )
            assert started.status_code == 202, started.text
        settled = [await wait_for_quiz(client, ALICE, q) for q in quizzes]
        assert [q["status"] for q in settled] == ["ready_for_review_partial"] * 2
        quiz, cancelled = quizzes

        # --- metrics: the worker's own counters agree with what the round stored -------------
        async with httpx.AsyncClient() as http:
            worker_text = (await http.get(metrics_url)).text
        saved = sum(q["progress"]["questions_saved"] for q in settled)
        assert total(worker_text, "quizgen_questions_saved_total") == saved
        assert total(worker_text, "quizgen_batches_total", outcome="succeeded") == 6
        assert total(worker_text, "quizgen_batches_total", outcome="failed") == 2
        assert total(worker_text, "quizgen_llm_calls_total", outcome="permanent_error") == 2
        ok_calls = sum(
            r["llm_calls"]
            for q in settled
            for r in q["generation_metadata"]["generation_attempts"][0]["batch_results"].values()
            if r["status"] == "succeeded"
        )
        assert total(worker_text, "quizgen_llm_calls_total", outcome="ok") == ok_calls
        prompt = sum(q["generation_metadata"]["tokens"]["prompt_tokens"] for q in settled)
        assert total(worker_text, "quizgen_llm_prompt_tokens_total") == prompt > 0
        assert total(worker_text, "quizgen_llm_call_seconds_count") == ok_calls + 2
        # The SDK's own metrics are served beside them.
        assert "temporal_workflow_completed_total" in worker_text

        api_text = (await client.get("/metrics")).text
        assert (
            total(
                api_text,
                "quizgen_api_requests_total",
                method="POST",
                route="/quizzes",
                status="201",
            )
            == 2
        )
        assert (
            total(
                api_text,
                "quizgen_api_requests_total",
                method="POST",
                route="/quizzes/{quiz_id}/generate-questions",
                status="202",
            )
            == 2
        )
        assert quiz not in api_text  # routes are templates, never a quiz's id

        # --- the Web UI's summaries ----------------------------------------------------------
        record = await repo.get_quiz(engine, uuid.UUID(quiz))
        parent = await temporal_env.client.get_workflow_handle(quiz_workflow_id(quiz)).describe()
        assert await parent.static_summary() == workflow_summary(record.spec)
        assert await parent.static_summary() == "Quiz “Cookbook quiz”: 4 batches, 14 questions"
        [broken_ref] = [
            ref
            for ref in (BatchRef.of(m, b) for m, b in quiz_spec(FOUR_BATCHES).batches())
            if ref.batch_key == BROKEN
        ]
        child = await temporal_env.client.get_workflow_handle(
            batch_workflow_id(quiz, BROKEN)
        ).describe()
        assert await child.static_summary() == batch_summary(broken_ref)

        # --- the cookbook, line by line --------------------------------------------------------
        lines = cookbook()
        assert [line.split()[2] for line in lines] == [
            "list",
            "query",
            "metadata",
            "list",
            "describe",
            "show",
            "signal",
            "cancel",
        ]
        env = {"TEMPORAL_ADDRESS": server_address(temporal_env), "QUIZ": quiz, "BATCH": BROKEN}
        await _cli_until(lines[0], quiz_workflow_id(quiz), quiz_workflow_id(cancelled), **env)
        progress = await _cli(lines[1], **env)
        assert "questions_remaining" in progress and BROKEN in progress
        metadata = await _cli(lines[2], **env)
        assert "Cookbook quiz" in metadata
        assert "Waiting for the `retry_failed_batches` signal to retry" in metadata
        assert BROKEN in metadata
        await _cli_until(lines[3], *(batch_workflow_id(quiz, key) for key in KEYS), **env)
        described = await _cli(lines[4], **env)
        assert "Failed" in described or "FAILED" in described
        assert batch_summary(broken_ref) in described
        shown = await _cli(lines[5], **env)
        assert "injected permanent fault" in shown

        await faulty_worker.aclose()
        async with running_worker(temporal, engine, OfflineProvider(), task_queue):
            await _cli(lines[6], **env)
            retried = await wait_for_quiz(client, ALICE, quiz, attempts=2)
            assert retried["status"] == "ready_for_review"
            assert (
                retried["progress"]["message"]
                == "14 questions generated successfully (0 remaining)"
            )

            await _cli(lines[7], **{**env, "QUIZ": cancelled})
            handle = temporal_env.client.get_workflow_handle(quiz_workflow_id(cancelled))
            async with asyncio.timeout(30):
                while (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:  # noqa: ASYNC110 - polling a server
                    await asyncio.sleep(0.2)
        assert (await handle.describe()).status is WorkflowExecutionStatus.CANCELED
        after = await repo.get_quiz(engine, uuid.UUID(cancelled))
        assert after.status.value == "ready_for_review_partial"
        assert await saved_batch_keys(engine, uuid.UUID(cancelled)) == {
            k for k in KEYS if k != BROKEN
        }


async def test_the_apis_log_lines_about_a_quiz_carry_its_id(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    """The real access log (uvicorn on a port), formatted as `LOG_FORMAT=json` does it."""
    quiz = await create_quiz(client, ALICE, FOUR_BATCHES)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(QuizContext())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        async with serving(create_app(settings)) as base, httpx.AsyncClient() as http:
            shown = await http.get(f"{base}/quizzes/{quiz['id']}", headers=auth(ALICE))
            assert shown.status_code == 200
            listed = await http.get(f"{base}/quizzes", headers=auth(ALICE))
            assert listed.status_code == 200
    finally:
        root.removeHandler(handler)
    entries = [json.loads(line) for line in lines.getvalue().splitlines()]
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    [about_quiz] = [e for e in access if f"/quizzes/{quiz['id']}" in e["message"]]
    assert about_quiz["quiz_id"] == quiz["id"]
    [listing] = [e for e in access if '"GET /quizzes HTTP' in e["message"]]
    assert "quiz_id" not in listing
    assert ALICE not in lines.getvalue()

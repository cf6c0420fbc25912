"""Part 5: what `GET /quizzes/{id}` costs while its quiz is generating, vs when it is idle.

Two quizzes of the same shape, through the API in-process: one `ready_for_review`
(generated first, with the fake LLM answering at once), one kept
`generating_questions` by a fake LLM that takes 2 s per answer. The worker is
a `python -m worker` subprocess (the real `openai` client against
`FakeOpenAI`), so answering the live-progress query happens in another process,
as in production. 200 sequential GETs (100 with --quick), alternating idle /
generating; p50 and p95 of each. The API keeps live progress for a short
while (`_PROGRESS_TTL` in `quizgen/temporal_client.py`), so most of those generating GETs
are answered from that cache. A second, spaced series (one idle and one
generating GET per TTL + 0.1 s, as a page polling once a second would) makes
every generating GET ask the workflow through the worker.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.harness import (
    Row,
    Stack,
    log,
    millis,
    new_queue,
    percentile,
    quiz_spec,
    ratio,
)
from bench.processes import quizgen_worker_process
from deploy.local.api import ALICE, api_client, auth, local_settings
from deploy.local.fake_openai import FakeOpenAI
from quizgen import temporal_client as api_temporal

PART = "5 reads"
# Slow enough that an 80-batch quiz is still generating after every timed GET
# (4 waves of 20 batches at the default caps).
QUESTIONS, LATENCY = 3, 8.0
# Past the API's live-progress cache (1 s today), so each generating GET queries the workflow.
SPACING = float(getattr(api_temporal, "_PROGRESS_TTL", 1.0)) + 0.1


async def _quiz(http: httpx.AsyncClient, batches: int) -> str:
    body = quiz_spec(batches, QUESTIONS, title="Read quiz").model_dump(
        mode="json", exclude_none=True
    )
    response = await http.post("/quizzes", json=body, headers=auth(ALICE))
    response.raise_for_status()
    quiz_id: str = response.json()["id"]
    triggered = await http.post(f"/quizzes/{quiz_id}/generate-questions", headers=auth(ALICE))
    if triggered.status_code != 202:
        raise RuntimeError(f"trigger answered {triggered.status_code}: {triggered.text[:300]}")
    return quiz_id


async def _get(http: httpx.AsyncClient, quiz_id: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await http.get(f"/quizzes/{quiz_id}", headers=auth(ALICE))
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return elapsed, body


def _running(body: dict[str, Any]) -> bool:
    return any(b["status"] == "running" for b in body["progress"]["batches"])


async def _until(http: httpx.AsyncClient, quiz_id: str, done: Any, within: float = 120.0) -> None:
    """Poll the quiz through the API until `done(body)`."""
    async with asyncio.timeout(within):
        while not done((await _get(http, quiz_id))[1]):  # noqa: ASYNC110 - polling an API
            await asyncio.sleep(0.1)


async def run(stack: Stack) -> list[Row]:
    gets = 100 if stack.quick else 200
    spaced_pairs = 5 if stack.quick else 10
    # Enough batches that the generating quiz outlasts the GETs (10 batches per 2 s wave).
    batches = 40 if stack.quick else 80
    queue = new_queue("reads")
    settings = local_settings(
        database_url=stack.database_url, temporal_address=stack.address, temporal_task_queue=queue
    )
    async with FakeOpenAI(delay=0.0) as server:
        worker = await quizgen_worker_process(
            stack,
            queue,
            LLM_PROVIDER="openai",
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY=server.api_key,
        )
        try:
            async with api_client(settings) as http:
                idle = await _quiz(http, batches)
                await _until(http, idle, lambda b: b["status"] == "ready_for_review")
                server.delay = LATENCY
                busy = await _quiz(http, batches)
                await _until(http, busy, _running)
                for _ in range(5):  # warm-up, off the clock
                    await _get(http, idle)
                    await _get(http, busy)
                spaced = await _series(http, idle, busy, spaced_pairs, SPACING)
                burst = await _series(http, idle, busy, gets // 2, 0.0)
        finally:
            await worker.kill()
    rows = []
    for name, series in (
        (f"{gets} sequential GETs, alternating", burst),
        (f"{spaced_pairs} pairs spaced {SPACING:.1f} s: no cached progress", spaced),
    ):
        log(f"reads {name}: {len(series.idle)} idle, {len(series.busy)} generating")
        left_out = f", {series.settled} after it settled left out" if series.settled else ""
        for pct in (50, 95) if series is burst else (50,):
            b, i = percentile(series.busy, pct), percentile(series.idle, pct)
            rows.append(
                Row(
                    part=PART,
                    measure=f"GET /quizzes/{{id}} p{pct}, {batches}-batch quiz: generating vs "
                    f"idle ({name})",
                    result=f"generating {millis(b)}",
                    baseline=f"idle (ready) {millis(i)}",
                    ratio=ratio(b, i),
                    ratio_label="generating / idle",
                    notes=f"{len(series.busy)} generating GETs ({series.live} showed running "
                    f"batches{left_out}); max {millis(max(series.busy))} vs "
                    f"{millis(max(series.idle))}",
                    data={"generating": series.busy, "idle": series.idle},
                )
            )
    return rows


@dataclass
class Series:
    idle: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    live: int = 0
    settled: int = 0


async def _series(
    http: httpx.AsyncClient, idle: str, busy: str, pairs: int, spacing: float
) -> Series:
    """`pairs` x (GET idle, GET generating), a pair every `spacing` seconds."""
    series = Series()
    for _ in range(pairs):
        series.idle.append((await _get(http, idle))[0])
        elapsed, body = await _get(http, busy)
        if body["status"] != "generating_questions":
            series.settled += 1
        else:
            series.busy.append(elapsed)
            series.live += _running(body)
        await asyncio.sleep(spacing)
    if not series.busy:
        raise RuntimeError("the generating quiz settled before any GET was timed")
    return series

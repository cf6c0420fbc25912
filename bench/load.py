"""Part 4: 50 quizzes triggered at once through the HTTP API, one worker process.

quizgen: 50 small quizzes (2 batches x 3 questions) are created through
`POST /quizzes`, then all 50 `POST /quizzes/{id}/generate-questions` are sent
at once (the API in-process over ASGI, its lifespan, engine and Temporal
client included); one `python -m worker` subprocess (offline provider) does
the work. Baseline: 50 `client.start_workflow` calls at once of the skeleton
parent of the same shape (2 children x 3 activities, i.e. as many workflows
and activities as the real quiz's round), served by a skeleton worker
subprocess (`python -m bench.skeleton_worker`). Alternated A B (A B).

Measured: each trigger's latency (p50, p95; and, before the bursts, 10 of
each one at a time, to tell the API's own cost from queueing), the time from the burst until
all 50 are done (`ready_for_review` / parent completed), and each worker's
peak RSS (VmHWM) over the part, with its RSS when idle.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowHandle

from bench.harness import (
    Row,
    Stack,
    log,
    median,
    millis,
    new_queue,
    percentile,
    quiz_spec,
    ratio,
    seconds,
)
from bench.processes import quizgen_worker_process, skeleton_worker_process
from bench.skeleton import SkeletonInput, SkeletonParent
from deploy.local.api import ALICE, api_client, auth, local_settings
from deploy.local.processes import WorkerProcess

PART = "4 load"
QUIZZES, BATCHES, QUESTIONS = 50, 2, 3
SOLO = 10
_BODY = quiz_spec(BATCHES, QUESTIONS, title="Load quiz").model_dump(mode="json", exclude_none=True)


async def _create(http: httpx.AsyncClient) -> str:
    response = await http.post("/quizzes", json=_BODY, headers=auth(ALICE))
    response.raise_for_status()
    quiz_id: str = response.json()["id"]
    return quiz_id


async def _trigger(http: httpx.AsyncClient, quiz_id: str) -> float:
    started = time.perf_counter()
    response = await http.post(f"/quizzes/{quiz_id}/generate-questions", headers=auth(ALICE))
    elapsed = time.perf_counter() - started
    if response.status_code != 202:
        raise RuntimeError(f"trigger answered {response.status_code}: {response.text[:300]}")
    return elapsed


async def _all_ready(engine: AsyncEngine, ids: list[str], within: float = 180.0) -> None:
    query = sa.text(
        "SELECT status, count(*) FROM quiz WHERE id = ANY(CAST(:ids AS uuid[])) GROUP BY status"
    )
    async with asyncio.timeout(within):
        while True:
            async with engine.connect() as conn:
                rows = (await conn.execute(query, {"ids": ids})).all()
            counts: dict[str, int] = {status: n for status, n in rows}
            if counts.get("ready_for_review", 0) == len(ids):
                return
            if bad := {
                s: n for s, n in counts.items() if s in ("failed", "ready_for_review_partial")
            }:
                raise RuntimeError(f"quizzes settled badly: {bad}")
            await asyncio.sleep(0.1)


async def _api_round(stack: Stack, http: httpx.AsyncClient) -> tuple[list[float], float]:
    ids = [await _create(http) for _ in range(QUIZZES)]
    started = time.perf_counter()
    latencies = await asyncio.gather(*(_trigger(http, quiz_id) for quiz_id in ids))
    await _all_ready(stack.engine, ids)
    return list(latencies), time.perf_counter() - started


async def _start_skeleton(stack: Stack, queue: str) -> tuple[float, WorkflowHandle[Any, int]]:
    shape = SkeletonInput(children=BATCHES, activities=3)
    begun = time.perf_counter()
    handle = await stack.client.start_workflow(
        SkeletonParent.run, shape, id=f"load-skel-{uuid.uuid4().hex}", task_queue=queue
    )
    return time.perf_counter() - begun, handle


async def _skeleton_round(stack: Stack, queue: str) -> tuple[list[float], float]:
    started = time.perf_counter()
    starts = await asyncio.gather(*(_start_skeleton(stack, queue) for _ in range(QUIZZES)))
    await asyncio.gather(*(handle.result() for _, handle in starts))
    return [latency for latency, _ in starts], time.perf_counter() - started


async def _one_at_a_time(
    stack: Stack, http: httpx.AsyncClient, queue: str
) -> tuple[list[float], list[float]]:
    """SOLO triggers and SOLO skeleton starts, alternating, nothing else going on."""
    api: list[float] = []
    raw: list[float] = []
    ids: list[str] = []
    handles = []
    for _ in range(SOLO):
        ids.append(await _create(http))
        api.append(await _trigger(http, ids[-1]))
        latency, handle = await _start_skeleton(stack, queue)
        raw.append(latency)
        handles.append(handle)
        await asyncio.sleep(0.2)
    await _all_ready(stack.engine, ids)
    await asyncio.gather(*(handle.result() for handle in handles))
    return api, raw


def _mib(kib: int | None) -> float:
    return (kib or 0) / 1024


def _memory(process: WorkerProcess, idle: int | None) -> str:
    return f"peak {_mib(process.peak_rss_kib()):.0f} MiB (idle {_mib(idle):.0f} MiB)"


async def run(stack: Stack) -> list[Row]:
    rounds = 1 if stack.quick else 3
    q_real, q_skel = new_queue("load"), new_queue("load-skel")
    real, skel = await asyncio.gather(
        quizgen_worker_process(stack, q_real), skeleton_worker_process(stack, q_skel)
    )
    settings = local_settings(
        database_url=stack.database_url,
        temporal_address=stack.address,
        temporal_task_queue=q_real,
    )
    api_lat: list[float] = []
    skel_lat: list[float] = []
    api_done: list[float] = []
    skel_done: list[float] = []
    try:
        async with api_client(settings) as http:
            # Warm up both paths (connections, first workflow tasks) off the clock.
            quiz_id = await _create(http)
            await _trigger(http, quiz_id)
            await _all_ready(stack.engine, [quiz_id])
            await stack.client.execute_workflow(
                SkeletonParent.run,
                SkeletonInput(children=1),
                id=uuid.uuid4().hex,
                task_queue=q_skel,
            )
            await asyncio.sleep(1.0)
            idle_real, idle_skel = real.rss_kib(), skel.rss_kib()
            solo_api, solo_raw = await _one_at_a_time(stack, http, q_skel)
            for _ in range(rounds):
                latencies, done = await _api_round(stack, http)
                api_lat += latencies
                api_done.append(done)
                latencies, done = await _skeleton_round(stack, q_skel)
                skel_lat += latencies
                skel_done.append(done)
                log(f"load: all ready {api_done[-1]:.2f} s vs skeleton {skel_done[-1]:.2f} s")
        mem_real, mem_skel = _memory(real, idle_real), _memory(skel, idle_skel)
        peak_real, peak_skel = real.peak_rss_kib() or 0, skel.peak_rss_kib() or 0
    finally:
        await real.stop()
        await skel.stop()
    shape = f"{QUIZZES} quizzes x {BATCHES} batches x {QUESTIONS} q at once"
    a, s = median(solo_api), median(solo_raw)
    rows = [
        Row(
            part=PART,
            measure=f"trigger latency one at a time ({SOLO} each, alternating; no burst)",
            result=f"API {millis(a)}",
            baseline=f"start_workflow {millis(s)}",
            ratio=ratio(a, s),
            ratio_label="API / raw start",
            notes=f"medians; the API's own cost per trigger without queueing "
            f"(+{(a - s) * 1000:.0f} ms)",
            data={"api": solo_api, "start_workflow": solo_raw},
        )
    ]
    for pct in (50, 95):
        a, s = percentile(api_lat, pct), percentile(skel_lat, pct)
        rows.append(
            Row(
                part=PART,
                measure=f"{shape}: trigger latency p{pct} (POST generate-questions vs "
                "raw start_workflow)",
                result=f"API {millis(a)}",
                baseline=f"start_workflow {millis(s)}",
                ratio=ratio(a, s),
                ratio_label="API / raw start",
                notes=f"{len(api_lat)} triggers over {rounds} round(s); max API "
                f"{millis(max(api_lat))} vs {millis(max(skel_lat))}",
                data={"api": api_lat, "start_workflow": skel_lat},
            )
        )
    a, s = median(api_done), median(skel_done)
    rows.append(
        Row(
            part=PART,
            measure=f"{shape}: burst to all done (one worker process each)",
            result=f"all ready_for_review {seconds(a)}",
            baseline=f"skeleton {seconds(s)}",
            ratio=ratio(a, s),
            ratio_label="quizgen / skeleton",
            notes=f"median of {rounds} A/B round(s): {', '.join(f'{v:.2f}' for v in api_done)} s "
            f"vs {', '.join(f'{v:.2f}' for v in skel_done)} s",
        )
    )
    rows.append(
        Row(
            part=PART,
            measure=f"{shape}: worker peak RSS (VmHWM)",
            result=f"python -m worker {mem_real}",
            baseline=f"skeleton worker {mem_skel}",
            ratio=ratio(peak_real, peak_skel),
            ratio_label="quizgen / skeleton",
            notes="same SDK and data converter in both; the difference is quizgen's imports "
            "(SQLAlchemy, openai, generator) and its per-task work",
            data={"quizgen_kib": peak_real, "skeleton_kib": peak_skel},
        )
    )
    return rows

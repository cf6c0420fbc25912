"""Part 10: a 200-question export to Canvas at 100 ms per Canvas call, against its ideal.

The real export (the API in-process: `POST /quizzes/{id}/export`; quizgen's workers in
this process, Canvas task queue included) against `deploy.local.canvas.CanvasStandIn`
with `latency = 0.1`, a quiz of 200 approved questions (generated offline, 10 batches x
20, then approved) and the default `CANVAS_EXPORT_CONCURRENCY` (8). Timed from the POST
to the end of the export workflow (state published). The Canvas calls made are counted
from the stand-in's `requests`, by kind.

Two ideals, computed from the calls actually made:

- naive: calls x latency / concurrency (every call in a slot of its own);
- critical path: the calls that cannot overlap (the quiz's create, the list of its
  items, the moves that put them in order) one after another, plus the item creates
  in waves of `concurrency`: (sequential + ceil(items / concurrency)) x latency.

And one baseline run side by side, alternated A B A B: the same Canvas calls (create
the quiz, the 200 items with 8 in flight, list them) made straight from this process
with quizgen's Canvas client: no Temporal, no database, no API.

Each run gets a fresh token of the teacher (Canvas throttles per token), so one run's
bucket does not slow the next; a throttled answer (403) is counted and shown.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cryptography.fernet import Fernet

from bench.harness import (
    Row,
    Stack,
    alternate,
    log,
    median,
    new_queue,
    pair_ratios,
    quiz_spec,
    ratio,
    real_workers,
    run_quiz,
    seconds,
    spread,
)
from deploy.local.api import ALICE, api_client, auth, local_settings
from deploy.local.canvas import CanvasStandIn, RecordedRequest
from quizgen.canvas.client import CanvasClient
from quizgen.canvas.items import new_quiz_item
from quizgen.contracts import GenerationConfig
from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.db.tables import QuestionRow
from quizgen.domain import QuizStatus
from quizgen.llm.offline import OfflineProvider

PART = "10 export"
BATCHES, PER_BATCH = 10, 20  # 200 questions
LATENCY = 0.1
OWNER, HEADERS = "alice", auth(ALICE)

_question = QuestionRow.__table__  # type: ignore[attr-defined]


async def approved_quiz(stack: Stack, queue: str) -> uuid.UUID:
    """A quiz of Alice's, generated offline, every question approved (ready_for_review)."""
    quiz_id = await repo.create_quiz(stack.engine, OWNER, quiz_spec(BATCHES, PER_BATCH))
    _, result = await run_quiz(stack, quiz_id, queue, GenerationConfig(max_concurrent_batches=10))
    if result.status is not QuizStatus.READY_FOR_REVIEW:
        raise RuntimeError(f"the quiz to export ended {result.status}")
    async with stack.engine.begin() as conn:
        await conn.execute(
            _question.update()
            .where(_question.c.quiz_id == quiz_id)
            .values(review_status="approved", is_approved=True, version=_question.c.version + 1)
        )
    return quiz_id


def kinds(requests: Sequence[RecordedRequest]) -> Counter[str]:
    """The calls by kind: quiz create, item create, item list, item move, other."""
    out: Counter[str] = Counter()
    for r in requests:
        if r.status == 403:
            out["throttled"] += 1
        if r.method == "POST" and r.path.endswith("/quizzes"):
            out["create quiz"] += 1
        elif r.method == "POST" and r.path.endswith("/items"):
            out["create item"] += 1
        elif r.method == "GET" and r.path.endswith("/items"):
            out["list items"] += 1
        elif r.method == "PATCH":
            out["move item"] += 1
        else:
            out[f"{r.method} other"] += 1
    return out


def phases(requests: Sequence[RecordedRequest], started: float, ended: float) -> list[float]:
    """Seconds (monotonic) from the POST to the quiz's create, the item creates' span, and
    from the last item create's arrival to the end (list, moves, publishing)."""
    items = [r.received_at for r in requests if r.method == "POST" and r.path.endswith("/items")]
    create = next(r.received_at for r in requests if r.method == "POST")
    return [create - started, max(items) - min(items), ended - max(items)]


def ideals(calls: Counter[str], concurrency: int) -> tuple[int, float, float]:
    """(all calls, naive ideal, critical-path ideal) in seconds."""
    total = sum(n for kind, n in calls.items() if kind != "throttled")
    parallel = calls["create item"]
    sequential = total - parallel
    naive = total * LATENCY / concurrency
    critical = (sequential + math.ceil(parallel / concurrency)) * LATENCY
    return total, naive, critical


def _kinds_text(calls: Counter[str]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(calls.items()))


async def run(stack: Stack) -> list[Row]:
    rounds = 2 if stack.quick else 3
    queue = new_queue("export")
    key = Fernet.generate_key().decode()
    canvas_settings: dict[str, Any] = {"canvas_token_keys": key}
    async with CanvasStandIn() as canvas:
        course = canvas.add_course("Biology 101", "BIO101")
        teacher = canvas.user(canvas.add_user("Ada Teacher", teacher_of=[course])).id
        settings = local_settings(
            database_url=stack.database_url,
            temporal_address=stack.address,
            temporal_task_queue=queue,
            canvas_base_url=canvas.base_url,
            **canvas_settings,
        )
        concurrency = settings.canvas_export_concurrency
        async with (
            real_workers(
                stack, OfflineProvider(), queue, canvas_base_url=canvas.base_url, **canvas_settings
            ),
            api_client(settings) as api,
        ):

            async def fresh_token() -> str:
                token = canvas.issue_token(teacher)
                answer = await api.put("/canvas/connection", json={"token": token}, headers=HEADERS)
                if answer.status_code != 200:
                    raise RuntimeError(f"PUT /canvas/connection: {answer.status_code}")
                return token

            async def exported() -> tuple[float, Counter[str]]:
                quiz_id = await approved_quiz(stack, queue)
                await fresh_token()
                first = len(canvas.requests)
                started = time.monotonic()
                answer = await api.post(
                    f"/quizzes/{quiz_id}/export", json={"course_id": str(course)}, headers=HEADERS
                )
                if answer.status_code != 202:
                    raise RuntimeError(f"POST export: {answer.status_code} {answer.text}")
                handle = stack.client.get_workflow_handle(f"quiz-{quiz_id}-export")
                await handle.result()
                ended = time.monotonic()
                split.append(phases(canvas.requests[first:], started, ended))
                elapsed = ended - started
                view = (await api.get(f"/quizzes/{quiz_id}/export", headers=HEADERS)).json()
                if view["state"] != "published" or view["exported"] != BATCHES * PER_BATCH:
                    raise RuntimeError(f"export ended {view['state']}: {view['progress']}")
                return elapsed, kinds(canvas.requests[first:])

            payloads: list[dict[str, Any]] = []
            split: list[list[float]] = []

            async def direct() -> tuple[float, Counter[str]]:
                token = canvas.issue_token(teacher)
                first = len(canvas.requests)
                started = time.perf_counter()
                quizzes = f"/api/quiz/v1/courses/{course}/quizzes"
                async with CanvasClient(canvas.base_url, token, timeout=20) as client:
                    made = await client.request("POST", quizzes, json={"quiz": {"title": "raw"}})
                    items = f"{quizzes}/{made['id']}/items"
                    slots = asyncio.Semaphore(concurrency)

                    async def one(payload: dict[str, Any]) -> None:
                        async with slots:
                            await client.request("POST", items, json=payload)

                    await asyncio.gather(*(one(p) for p in payloads))
                    listed = [item async for item in client.paginate(items)]
                elapsed = time.perf_counter() - started
                if len(listed) != len(payloads):
                    raise RuntimeError(f"direct run: {len(listed)} items of {len(payloads)}")
                return elapsed, kinds(canvas.requests[first:])

            # Warm up (first workflow tasks, connections) off the clock, at no latency;
            # the warm-up quiz's questions are the direct run's payloads.
            warm = await approved_quiz(stack, queue)
            page, _ = await review.list_questions(
                stack.engine, warm, review.QuestionFilter(), offset=0, limit=1000
            )
            payloads = [
                new_quiz_item(
                    q.question_type, q.question_data, position=i, points=1.0, question_id=str(q.id)
                )
                for i, q in enumerate(page, 1)
            ]
            await fresh_token()
            await api.post(
                f"/quizzes/{warm}/export", json={"course_id": str(course)}, headers=HEADERS
            )
            await stack.client.get_workflow_handle(f"quiz-{warm}-export").result()

            canvas.latency = LATENCY
            calls: dict[str, list[Counter[str]]] = {"export": [], "direct": []}

            def timed(
                name: str, case: Callable[[], Awaitable[tuple[float, Counter[str]]]]
            ) -> Callable[[], Awaitable[float]]:
                async def measured() -> float:
                    elapsed, counted = await case()
                    calls[name].append(counted)
                    return elapsed

                return measured

            times = await alternate(
                [("export", timed("export", exported)), ("direct", timed("direct", direct))],
                rounds,
            )
    before, items_span, after = (median([p[i] for p in split]) for i in range(3))
    for name, values in times.items():
        log(f"export {name}: {spread(values)}; calls {[_kinds_text(c) for c in calls[name]]}")
    e, d = median(times["export"]), median(times["direct"])
    e_calls = calls["export"][0]
    total, naive, critical = ideals(e_calls, concurrency)
    d_total, _, d_critical = ideals(calls["direct"][0], concurrency)
    shape = (
        f"{BATCHES * PER_BATCH} approved questions, Canvas stand-in {LATENCY * 1000:.0f} ms/call, "
        f"{concurrency} item calls at once"
    )
    throttled = sum(c["throttled"] for c in calls["export"] + calls["direct"])
    counted = (
        f"{total} Canvas calls per export ({_kinds_text(e_calls)}); "
        f"{throttled} throttled answers in all runs"
    )
    per_round_naive = ", ".join(f"{t / naive:.2f}" for t in times["export"])
    per_round_critical = ", ".join(f"{t / critical:.2f}" for t in times["export"])
    return [
        Row(
            part=PART,
            measure=f"{shape}: POST export to published vs naive ideal "
            f"(calls x latency / concurrency = {total} x {LATENCY} / {concurrency})",
            result=f"export {seconds(e)}",
            baseline=f"naive ideal {seconds(naive)}",
            ratio=ratio(e, naive),
            ratio_label="measured / naive ideal",
            notes=f"medians of {rounds} rounds; per-round {per_round_naive}; {counted}",
            data={"times": times, "calls": {k: [dict(c) for c in v] for k, v in calls.items()}},
        ),
        Row(
            part=PART,
            measure=f"{shape}: POST export to published vs critical-path ideal "
            f"({total - e_calls['create item']} sequential calls + "
            f"ceil({e_calls['create item']} / {concurrency}) waves, x {LATENCY} s)",
            result=f"export {seconds(e)}",
            baseline=f"critical path {seconds(critical)}",
            ratio=ratio(e, critical),
            ratio_label="measured / critical-path ideal",
            notes=f"per-round {per_round_critical}; where the time goes (medians): "
            f"{before:.2f} s from the POST to the quiz's create, {items_span:.2f} s of item "
            f"creates (ideal {math.ceil(e_calls['create item'] / concurrency) * LATENCY:.1f} s), "
            f"{after:.2f} s from the last item create to published",
        ),
        Row(
            part=PART,
            measure=f"{shape}: the export vs the same calls straight from one process "
            f"(quizgen's Canvas client, no Temporal/database/API; {d_total} calls)",
            result=f"export {seconds(e)}",
            baseline=f"direct {seconds(d)}",
            ratio=ratio(e, d),
            ratio_label="export / direct",
            notes=f"per-round {pair_ratios(times['export'], times['direct'])}; direct vs its "
            f"critical path {d_critical:.2f} s: {d / d_critical:.2f}x",
        ),
    ]

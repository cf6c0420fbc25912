"""Part 9: one teacher's huge quiz must not starve another's small one.

Teacher A starts a 1,600-question quiz (80 batches x 20); a moment later teacher B starts a
10-question quiz (2 batches x 5). The worker can make only `LLM_SLOTS` LLM calls at once
(`LLM_MAX_CONCURRENCY`), each taking `LATENCY` (offline provider), so A's 20 batches at a
time keep a backlog on the LLM task queue. Three cases, alternated A B C A B C:

- alone: B's quiz on an idle system;
- fair: B's quiz behind A's, each started with its teacher as the fairness key (what the API
  does, `quizgen.temporal_client.fairness_for`; the dev server runs with fairness on);
- fifo: the same, started without keys: the queue is first come, first served.

The goal: fair / alone <= 2. A's quiz is terminated after each run (its children with it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bench.harness import (
    Row,
    Stack,
    alternate,
    log,
    make_quiz,
    median,
    new_queue,
    pair_ratios,
    ratio,
    real_workers,
    seconds,
    spread,
)
from quizgen import temporal_client
from quizgen.contracts import GenerationConfig
from quizgen.domain import QuizStatus
from quizgen.llm.offline import OfflineProvider

PART = "9 fairness"
LATENCY, LLM_SLOTS = 0.5, 4
BIG, SMALL = (80, 20), (2, 5)  # (batches, questions per batch)
HEAD_START = 1.5  # seconds A's quiz runs before B's starts


async def run(stack: Stack) -> list[Row]:
    rounds = 1 if stack.quick else 3
    queue = new_queue("fair")
    config = GenerationConfig(max_concurrent_batches=20)
    provider = OfflineProvider(latency_seconds=LATENCY)
    async with real_workers(stack, provider, queue, llm_max_concurrency=LLM_SLOTS):

        async def small(owner: str | None) -> float:
            quiz_id = await make_quiz(stack.engine, *SMALL)
            started = time.perf_counter()
            handle = await temporal_client.start_generation(
                stack.client, quiz_id, task_queue=queue, config=config, owner=owner
            )
            result = await handle.result()
            if result.status is not QuizStatus.READY_FOR_REVIEW:
                raise RuntimeError(f"small quiz ended {result.status}")
            return time.perf_counter() - started

        def behind(keys: bool) -> Callable[[], Awaitable[float]]:
            async def case() -> float:
                big_id = await make_quiz(stack.engine, *BIG)
                big = await temporal_client.start_generation(
                    stack.client,
                    big_id,
                    task_queue=queue,
                    config=config,
                    owner="teacher-a" if keys else None,
                )
                try:
                    await asyncio.sleep(HEAD_START)
                    return await small("teacher-b" if keys else None)
                finally:
                    await big.terminate(reason="bench: the big quiz only makes the backlog")

            return case

        async def alone() -> float:
            return await small("teacher-b")

        await small("warm-up")  # first workflow tasks, sandbox, connections: off the clock
        times = await alternate(
            [("alone", alone), ("fair", behind(True)), ("fifo", behind(False))], rounds
        )
    for name, values in times.items():
        log(f"fairness {name}: {spread(values)}")
    a, f, o = (median(times[k]) for k in ("alone", "fair", "fifo"))
    shape = (
        f"{SMALL[0] * SMALL[1]}-question quiz behind a {BIG[0] * BIG[1]}-question one, "
        f"{LLM_SLOTS} LLM calls at once, {LATENCY} s each"
    )
    return [
        Row(
            part=PART,
            measure=f"{shape}: fairness keys vs alone",
            result=f"fair {seconds(f)}",
            baseline=f"alone {seconds(a)}",
            ratio=ratio(f, a),
            ratio_label="fair / alone (goal <= 2)",
            notes=f"medians of {rounds} rounds; "
            f"per-round {pair_ratios(times['fair'], times['alone'])}",
            data={k: v for k, v in times.items()},
        ),
        Row(
            part=PART,
            measure=f"{shape}: without keys (first come, first served) vs alone",
            result=f"fifo {seconds(o)}",
            baseline=f"alone {seconds(a)}",
            ratio=ratio(o, a),
            ratio_label="fifo / alone",
            notes=f"per-round {pair_ratios(times['fifo'], times['alone'])}",
        ),
    ]

"""Part 1: what quizgen costs on top of Temporal itself, with an instant LLM.

The real quiz (N batches x 3 questions, offline provider, 0 latency, default
GenerationConfig and worker settings) against the bare skeleton of the same
shape (N children x 3 no-op activities, at most 10 children at once like the
default `MAX_CONCURRENT_BATCHES`), on the same dev server, alternating A B A B.
Wall time runs from the start call to the parent workflow's completion (the
quiz workflow completes right after the round settled `ready_for_review`).
With the LLM taking no time, the ratio is the price of the database work,
validation, the extra round activities and the workflows' own logic.
"""

from __future__ import annotations

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
    run_quiz,
    run_skeleton,
    seconds,
    skeleton_worker,
    spread,
)
from bench.skeleton import SkeletonInput
from quizgen.contracts import GenerationConfig
from quizgen.domain import QuizStatus
from quizgen.llm.offline import OfflineProvider

PART = "1 overhead"
QUESTIONS = 3


async def run(stack: Stack) -> list[Row]:
    config = GenerationConfig()
    rounds = 1 if stack.quick else 3
    real_queue, skeleton_queue = new_queue("overhead"), new_queue("overhead-skel")
    rows: list[Row] = []
    async with (
        real_workers(stack, OfflineProvider(), real_queue),
        skeleton_worker(stack, skeleton_queue),
    ):
        for size in (20, 80):

            async def real(size: int = size) -> float:
                quiz_id = await make_quiz(stack.engine, size, QUESTIONS)
                elapsed, result = await run_quiz(stack, quiz_id, real_queue, config)
                if result.status is not QuizStatus.READY_FOR_REVIEW:
                    raise RuntimeError(f"quiz ended {result.status}: {result.failed_batches}")
                return elapsed

            async def skeleton(size: int = size) -> float:
                shape = SkeletonInput(
                    children=size, activities=3, max_concurrent=config.max_concurrent_batches
                )
                return await run_skeleton(stack, skeleton_queue, shape)

            # Warm up both (first workflow tasks, sandbox imports, DB pool) off the clock.
            await alternate([("real", lambda: real(4)), ("skel", lambda: skeleton(4))], 1)
            times = await alternate([("real", real), ("skel", skeleton)], rounds)
            r, s = median(times["real"]), median(times["skel"])
            log(
                f"overhead N={size}: real {spread(times['real'])}; skeleton {spread(times['skel'])}"
            )
            rows.append(
                Row(
                    part=PART,
                    measure=f"N={size} batches x {QUESTIONS} q, offline LLM 0 s, to completion",
                    result=f"real {seconds(r)}",
                    baseline=f"skeleton {seconds(s)}",
                    ratio=ratio(r, s),
                    ratio_label="real / skeleton",
                    notes=f"medians of {rounds} A/B rounds; per-round ratios "
                    f"{pair_ratios(times['real'], times['skel'])}; "
                    f"real per batch {r / size * 1000:.0f} ms vs {s / size * 1000:.0f} ms",
                    data={"size": size, "real_s": times["real"], "skeleton_s": times["skel"]},
                )
            )
    return rows

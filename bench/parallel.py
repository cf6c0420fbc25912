"""Part 2: how much of the possible parallelism a 20-batch quiz gets when each LLM call takes 1 s.

Three runs of the same shape (20 batches x 3 questions, one LLM call each),
alternated A B C A B C on one dev server, against `FakeOpenAI(delay=1.0)`
through the real `openai` client:

- defaults: `GenerationConfig()` and worker `Settings()` defaults as they are
  in the code today (`MAX_CONCURRENT_BATCHES`, `LLM_MAX_CONCURRENCY`; the
  table shows their values and the best time they allow);
- caps: `max_concurrent_batches=20` and `llm_max_concurrency=20`: at best 1 s;
- skeleton: 20 children at once, the first of each child's 3 activities
  sleeping 1 s: Temporal's own cost of the 1 s shape.

defaults / caps says what the default limits cost a quiz of this size;
caps / skeleton what the rest of quizgen costs once the limits are out of the way.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from bench.harness import (
    Row,
    Stack,
    alternate,
    fake_provider,
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
from deploy.local.fake_openai import FakeOpenAI
from quizgen.contracts import GenerationConfig
from quizgen.domain import QuizStatus
from quizgen.settings import Settings

PART = "2 parallel"
BATCHES, QUESTIONS, LATENCY, CAP = 20, 3, 1.0, 20


async def run(stack: Stack) -> list[Row]:
    rounds = 1 if stack.quick else 3
    defaults = Settings(_env_file=None)
    default_config, capped_config = GenerationConfig(), GenerationConfig(max_concurrent_batches=CAP)
    q_default, q_caps, q_skel = new_queue("par-def"), new_queue("par-caps"), new_queue("par-skel")
    async with (
        FakeOpenAI(delay=LATENCY) as server,
        real_workers(stack, fake_provider(server), q_default),
        real_workers(stack, fake_provider(server), q_caps, llm_max_concurrency=CAP),
        skeleton_worker(stack, q_skel),
    ):

        def real(queue: str, config: GenerationConfig) -> Callable[[], Awaitable[float]]:
            async def case() -> float:
                quiz_id = await make_quiz(stack.engine, BATCHES, QUESTIONS)
                elapsed, result = await run_quiz(stack, quiz_id, queue, config)
                if result.status is not QuizStatus.READY_FOR_REVIEW:
                    raise RuntimeError(f"quiz ended {result.status}: {result.failed_batches}")
                return elapsed

            return case

        async def skeleton() -> float:
            shape = SkeletonInput(children=BATCHES, max_concurrent=CAP, latency=LATENCY)
            return await run_skeleton(stack, q_skel, shape)

        cases = [
            ("defaults", real(q_default, default_config)),
            ("caps", real(q_caps, capped_config)),
            ("skeleton", skeleton),
        ]
        # Warm up every worker (first workflow tasks, sandbox, connections) off the clock.
        server.delay = 0.0
        warm = await make_quiz(stack.engine, 2, QUESTIONS)
        await run_quiz(stack, warm, q_default, default_config)
        warm = await make_quiz(stack.engine, 2, QUESTIONS)
        await run_quiz(stack, warm, q_caps, capped_config)
        await run_skeleton(stack, q_skel, SkeletonInput(children=2))
        server.delay = LATENCY
        first_call = len(server.requests)
        times = await alternate(cases, rounds)
        calls = len(server.requests) - first_call
    for name, values in times.items():
        log(f"parallel {name}: {spread(values)}")
    d, c, s = (median(times[k]) for k in ("defaults", "caps", "skeleton"))
    slots = min(defaults.llm_max_concurrency, default_config.max_concurrent_batches)
    best_default = math.ceil(BATCHES / slots) * LATENCY
    shape = f"{BATCHES} batches x {QUESTIONS} q, LLM {LATENCY:.0f} s/call"
    return [
        Row(
            part=PART,
            measure=f"{shape}: defaults ({default_config.max_concurrent_batches} batches, "
            f"{defaults.llm_max_concurrency} LLM calls at once) vs caps {CAP}/{CAP}",
            result=f"defaults {seconds(d)}",
            baseline=f"caps {seconds(c)}",
            ratio=ratio(d, c),
            ratio_label="defaults / caps",
            notes=f"medians of {rounds} rounds; per-round "
            f"{pair_ratios(times['defaults'], times['caps'])}; "
            f"lower bound with defaults {best_default:.0f} s (efficiency {best_default / d:.0%}); "
            f"{calls} LLM calls in all",
            data={k: v for k, v in times.items()},
        ),
        Row(
            part=PART,
            measure=f"{shape}: caps 20/20 vs skeleton (20 children at once, 1 s sleep)",
            result=f"caps {seconds(c)}",
            baseline=f"skeleton {seconds(s)}",
            ratio=ratio(c, s),
            ratio_label="caps / skeleton",
            notes=f"per-round {pair_ratios(times['caps'], times['skeleton'])}; lower bound 1 s "
            f"(caps efficiency {LATENCY / c:.0%}, skeleton {LATENCY / s:.0%})",
        ),
    ]

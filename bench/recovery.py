"""Part 6: what a worker SIGKILLed during LLM calls costs: re-issued calls and time.

Adapted from `bench/worker_kill.py`. Each run generates the same 8-batch quiz
(offline provider, 2 s per LLM call, 4 batches at once, default heartbeat
timeout) with a `python -m worker` subprocess of its own, already polling
when the clock starts. In a kill run the worker is SIGKILLed 1 s after its
first LLM call began (calls in flight) and a replacement is started at once
(its start-up is on the clock, as a supervisor's restart would be). Runs
alternate no-kill / kill. LLM calls are counted from the workers' log lines
"generating batch_key=": every one beyond the batch count is a call re-issued
because of the kill (the offline provider is never short, so a no-kill run
makes exactly one call per batch). The quiz's and batches' histories say
which timeouts the recovery waited for: LLM calls retried after their
heartbeat timeout, and workflow tasks that waited on the dead worker's sticky
queue until their schedule-to-start timeout.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

from temporalio.api.enums.v1 import EventType, TimeoutType

from bench.harness import (
    Row,
    Stack,
    log,
    make_quiz,
    median,
    new_queue,
    pair_ratios,
    quiz_spec,
    ratio,
    seconds,
    spread,
)
from bench.processes import quizgen_worker_process
from quizgen import temporal_client
from quizgen.contracts import BatchRef, GenerationConfig
from quizgen.domain import QuizStatus
from quizgen.names import batch_workflow_id, quiz_workflow_id

PART = "6 recovery"
BATCHES, QUESTIONS = 8, 4
CONFIG = GenerationConfig(max_concurrent_batches=4)
LLM_SECONDS = "2"
MARK = "generating batch_key="


async def _timeouts(stack: Stack, quiz_id: uuid.UUID) -> Counter[str]:
    """Timeouts recorded in the histories of the quiz workflow and its batches."""
    keys = [BatchRef.of(m, b).batch_key for m, b in quiz_spec(BATCHES, QUESTIONS).batches()]
    ids = [quiz_workflow_id(quiz_id), *(batch_workflow_id(quiz_id, k) for k in keys)]
    found: Counter[str] = Counter()
    for workflow_id in ids:
        history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                # Retried attempts are not events: the started one carries the last failure.
                started = event.activity_task_started_event_attributes
                info = started.last_failure.timeout_failure_info
                if started.attempt > 1 and started.last_failure.HasField("timeout_failure_info"):
                    kind = TimeoutType.Name(info.timeout_type)[13:].lower()
                    found[f"activity retried after {kind} timeout"] += 1
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                kind = TimeoutType.Name(event.workflow_task_timed_out_event_attributes.timeout_type)
                found[f"workflow task {kind[13:].lower()} timeout"] += 1
    return found


async def _run(stack: Stack, kill: bool) -> tuple[float, int, int, Counter[str]]:
    """Seconds to completion, LLM calls made, calls begun before the kill, timeouts seen."""
    queue = new_queue("kill" if kill else "nokill")
    quiz_id = await make_quiz(stack.engine, BATCHES, QUESTIONS)
    first = await quizgen_worker_process(stack, queue, LLM_OFFLINE_LATENCY_SECONDS=LLM_SECONDS)
    replacement = None
    begun = 0
    try:
        started = time.perf_counter()
        handle = await temporal_client.start_generation(
            stack.client, quiz_id, task_queue=queue, config=CONFIG
        )
        if kill:
            await first.wait_for_log(MARK)
            await asyncio.sleep(1.0)
            begun = first.count(MARK)
            await first.kill()
            replacement = await quizgen_worker_process(
                stack, queue, LLM_OFFLINE_LATENCY_SECONDS=LLM_SECONDS
            )
        async with asyncio.timeout(120):
            result = await handle.result()
        elapsed = time.perf_counter() - started
        if result.status is not QuizStatus.READY_FOR_REVIEW:
            raise RuntimeError(f"quiz ended {result.status}: {result.failed_batches}")
    finally:
        for process in (first, replacement):
            if process is not None:
                await process.kill()
    calls = first.count(MARK) + (replacement.count(MARK) if replacement else 0)
    return elapsed, calls, begun, await _timeouts(stack, quiz_id)


async def run(stack: Stack) -> list[Row]:
    pairs = 1 if stack.quick else 3
    base_s: list[float] = []
    kill_s: list[float] = []
    base_calls: list[int] = []
    kill_calls: list[int] = []
    begun: list[int] = []
    timeouts: list[str] = []
    for _ in range(pairs):
        elapsed, calls, _, _ = await _run(stack, kill=False)
        base_s.append(elapsed)
        base_calls.append(calls)
        elapsed, calls, before, seen = await _run(stack, kill=True)
        kill_s.append(elapsed)
        kill_calls.append(calls)
        begun.append(before)
        timeouts.append(" + ".join(f"{n} {kind}" for kind, n in sorted(seen.items())) or "none")
        log(f"recovery: no kill {base_s[-1]:.1f} s, kill {kill_s[-1]:.1f} s; calls {calls}")
    k, b = median(kill_s), median(base_s)
    reissued = [c - BATCHES for c in kill_calls]
    shape = f"{BATCHES} batches, offline LLM {LLM_SECONDS} s/call, 4 batches at once"
    return [
        Row(
            part=PART,
            measure=f"{shape}: time to ready, SIGKILL mid-calls + restart vs no kill",
            result=f"kill {seconds(k)}",
            baseline=f"no kill {seconds(b)}",
            ratio=ratio(k, b),
            ratio_label="kill / no kill",
            notes=f"median of {pairs} A/B pair(s): kill {spread(kill_s)} vs {spread(base_s)}; "
            f"per-pair {pair_ratios(kill_s, base_s)}; +{k - b:.1f} s "
            f"(heartbeat timeout {CONFIG.llm_heartbeat_timeout.total_seconds():.0f} s); "
            f"timeouts per kill run: {'; '.join(timeouts)}",
            data={"kill_s": kill_s, "no_kill_s": base_s, "timeouts": timeouts},
        ),
        Row(
            part=PART,
            measure=f"{shape}: LLM calls re-issued per kill",
            result=f"{median(reissued):.0f} re-issued ({', '.join(map(str, kill_calls))} calls)",
            baseline=f"no kill {', '.join(map(str, base_calls))} calls for {BATCHES} batches",
            ratio=ratio(median(kill_calls), median(base_calls)),
            ratio_label="calls kill / no kill",
            notes=f"calls begun before the kill: {', '.join(map(str, begun))} (in flight, "
            "lost with the worker and issued again)",
            data={"kill_calls": kill_calls, "no_kill_calls": base_calls, "begun": begun},
        ),
    ]

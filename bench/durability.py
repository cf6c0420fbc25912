"""Part 7: the durability tax: the same quiz with and without Temporal around the same code.

A 10-batch x 3-question quiz against `FakeOpenAI` (real `openai` client), at
0 s and 1 s per LLM call, alternating A B A B:

- in-process: quizgen's own activity methods (`PersistenceActivities.start_round`,
  `GenerationActivities.generate_questions`, `save_batch`, `record_round`) called
  directly in this process, every batch at once with `asyncio.gather`, the batch
  loop of `BatchGenerationWorkflow` (generate until the drafts reach the target,
  then save) in plain Python. The activities get their context from
  `temporalio.testing.ActivityEnvironment` (no server: `activity.info()` and
  `heartbeat()` work, heartbeats go nowhere), so the database, provider and
  validation work is exactly the real one;
- real: the same quiz through Temporal with quizgen's workers (in this process,
  default `GenerationConfig` and worker settings);
- skeleton: the least any design of one workflow per quiz and one child per
  batch costs on this server: a bare parent starting 10 children at once, each
  running one activity that sleeps the LLM latency (no database, no LLM).

real / in-process is what durability (workflows, task queues, history, retries)
costs in wall time; at 0 s the gap per batch is its fixed price per batch.
skeleton / in-process is the part of it that Temporal itself takes here, and
real / skeleton what quizgen adds on top.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from temporalio.testing import ActivityEnvironment

from activities.generation import GenerationActivities
from activities.persistence import PersistenceActivities
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
from quizgen.contracts import (
    BatchState,
    GenerateQuestionsInput,
    GenerationConfig,
    RecordRoundInput,
    SaveBatchInput,
)
from quizgen.db.engine import make_engine
from quizgen.domain import BatchResult, BatchStatus, QuizStatus, TokenUsage
from quizgen.llm.base import QuestionProvider
from quizgen.settings import Settings
from worker.app import pool_size

PART = "7 durability"
BATCHES, QUESTIONS = 10, 3


class InProcess:
    """One round of a quiz with the activity code called directly, no Temporal."""

    def __init__(self, stack: Stack, provider: QuestionProvider, config: GenerationConfig) -> None:
        # An engine like a worker's (`python -m worker` builds it this way).
        self.engine = make_engine(
            stack.database_url, pool_size=pool_size(Settings(_env_file=None)), pre_ping=False
        )
        self.persistence = PersistenceActivities(self.engine)
        self.generation = GenerationActivities(self.engine, provider)
        self.config = config
        self.env = ActivityEnvironment()

    async def round(self, quiz_id: uuid.UUID) -> QuizStatus:
        plan = await self.env.run(self.persistence.start_round, quiz_id)
        started = datetime.now(UTC)
        todo = [s for s in plan.batches if s.status is not BatchStatus.SUCCEEDED]
        results = await asyncio.gather(*(self._batch(quiz_id, s) for s in todo))
        recorded = await self.env.run(
            self.persistence.record_round,
            RecordRoundInput(
                quiz_id=quiz_id,
                round_id=f"in-process-{uuid.uuid4().hex}",
                started_at=started,
                results=list(results),
            ),
        )
        return recorded.status

    async def _batch(self, quiz_id: uuid.UUID, state: BatchState) -> BatchResult:
        ref, drafts, calls, tokens = state.ref, state.drafts, 0, TokenUsage()
        while True:
            if drafts >= ref.count:
                saved = await self.env.run(
                    self.persistence.save_batch, SaveBatchInput(quiz_id=quiz_id, batch=ref)
                )
                if saved.saved:
                    return ref.result(
                        BatchStatus.SUCCEEDED,
                        generated_count=ref.count,
                        llm_calls=calls,
                        tokens=tokens,
                    )
                drafts = ref.count - saved.missing
            if calls > self.config.repair_rounds:
                return ref.result(
                    BatchStatus.FAILED,
                    generated_count=drafts,
                    llm_calls=calls,
                    tokens=tokens,
                    error="short",
                )
            answer = await self.env.run(
                self.generation.generate_questions,
                GenerateQuestionsInput(
                    quiz_id=quiz_id, batch=ref, count=ref.count - drafts, call_index=calls
                ),
            )
            calls += 1
            tokens += answer.tokens
            drafts = answer.drafts


async def run(stack: Stack) -> list[Row]:
    rounds = 1 if stack.quick else 5
    config, settings = GenerationConfig(), Settings(_env_file=None)
    slots = min(config.max_concurrent_batches, settings.llm_max_concurrency)
    rows: list[Row] = []
    async with FakeOpenAI() as server:
        provider = fake_provider(server)
        baseline = InProcess(stack, provider, config)
        q_default, q_open = new_queue("dur"), new_queue("dur-open")
        q_skeleton = new_queue("dur-skel")
        capped = GenerationConfig(max_concurrent_batches=BATCHES)
        try:
            async with (
                real_workers(stack, provider, q_default),
                real_workers(stack, provider, q_open, llm_max_concurrency=BATCHES),
                skeleton_worker(stack, q_skeleton),
            ):

                async def in_process() -> float:
                    quiz_id = await make_quiz(stack.engine, BATCHES, QUESTIONS)
                    started = time.perf_counter()
                    status = await baseline.round(quiz_id)
                    elapsed = time.perf_counter() - started
                    if status is not QuizStatus.READY_FOR_REVIEW:
                        raise RuntimeError(f"in-process round ended {status}")
                    return elapsed

                def real(queue: str, cfg: GenerationConfig) -> Callable[[], Awaitable[float]]:
                    async def case() -> float:
                        quiz_id = await make_quiz(stack.engine, BATCHES, QUESTIONS)
                        elapsed, result = await run_quiz(stack, quiz_id, queue, cfg)
                        if result.status is not QuizStatus.READY_FOR_REVIEW:
                            raise RuntimeError(f"quiz ended {result.status}")
                        return elapsed

                    return case

                async def skeleton() -> float:
                    shape = SkeletonInput(
                        children=BATCHES, activities=1, max_concurrent=BATCHES, latency=server.delay
                    )
                    return await run_skeleton(stack, q_skeleton, shape)

                cases = [
                    ("in-process", in_process),
                    ("real", real(q_default, config)),
                    ("skeleton", skeleton),
                ]
                if slots < BATCHES:
                    # The defaults queue batches behind each other: show Temporal without that.
                    cases.append(("real, no cap", real(q_open, capped)))
                server.delay = 0.0
                await alternate(cases, 1)  # warm-up, off the clock
                by_latency: dict[float, dict[str, list[float]]] = {}
                for latency in (0.0, 1.0):
                    server.delay = latency
                    times = by_latency[latency] = await alternate(cases, rounds)
                    for name, values in times.items():
                        log(f"durability {latency:.0f} s {name}: {spread(values)}")
                    rows += _rows(latency, times, rounds, slots)
                rows.append(_estimate_row(by_latency[0.0], by_latency[1.0]))
        finally:
            await baseline.engine.dispose()
    return rows


def _rows(latency: float, times: dict[str, list[float]], rounds: int, slots: int) -> list[Row]:
    base = median(times["in-process"])
    out = []
    for name in [n for n in times if n != "in-process"]:
        value = median(times[name])
        notes = (
            f"medians of {rounds} rounds; per-round {pair_ratios(times[name], times['in-process'])}"
        )
        if latency == 0:
            notes += f"; gap {(value - base) / BATCHES * 1000:.0f} ms per batch"
        if name == "real":
            notes += f"; defaults run {slots} batches' LLM calls at once"
        out.append(
            Row(
                part=PART,
                measure=f"{BATCHES} batches x {QUESTIONS} q, LLM {latency:.0f} s/call: "
                f"{name} (Temporal) vs in-process",
                result=f"{name} {seconds(value)}",
                baseline=f"in-process {seconds(base)}",
                ratio=ratio(value, base),
                ratio_label=f"{name} / in-process",
                notes=notes,
                data={"latency": latency, name: times[name], "in_process": times["in-process"]},
            )
        )
    real, skeleton = median(times["real"]), median(times["skeleton"])
    out.append(
        Row(
            part=PART,
            measure=f"{BATCHES} batches x {QUESTIONS} q, LLM {latency:.0f} s/call: "
            "real vs skeleton (what quizgen adds to Temporal's own cost)",
            result=f"real {seconds(real)}",
            baseline=f"skeleton {seconds(skeleton)}",
            ratio=ratio(real, skeleton),
            ratio_label="real / skeleton",
            notes=f"per-round {pair_ratios(times['real'], times['skeleton'])}",
        )
    )
    return out


def _estimate_row(at_zero: dict[str, list[float]], at_one: dict[str, list[float]]) -> Row:
    """What one workflow per quiz and one child per batch could reach here, at 1 s per call.

    Temporal's own cost for the shape (the skeleton at 1 s) plus the work every
    design does whatever runs it: the database reads and writes and the CPU of
    a round, i.e. the in-process run with the LLM at 0 s. An estimate, not a
    bound: some of that work can overlap Temporal's waits.
    """
    skeleton, own_work = median(at_one["skeleton"]), median(at_zero["in-process"])
    in_process, real = median(at_one["in-process"]), median(at_one["real"])
    estimate = skeleton + own_work
    return Row(
        part=PART,
        measure=f"{BATCHES} batches x {QUESTIONS} q, LLM 1 s/call: estimate for any design of "
        "this shape (skeleton at 1 s + the in-process run's own work at 0 s) vs in-process",
        result=f"estimate {seconds(estimate)} = {seconds(skeleton)} + {seconds(own_work)}",
        baseline=f"in-process {seconds(in_process)}",
        ratio=ratio(estimate, in_process),
        ratio_label="estimate / in-process",
        notes=f"real is {real / estimate:.2f}x this estimate",
        data={"skeleton_1s": skeleton, "own_work_0s": own_work, "in_process_1s": in_process},
    )

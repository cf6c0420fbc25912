"""The durable core at full size: no question bodies in history, drafts that outlive runs,
an entity workflow the CLI can always reach, garbage-proof LLM answers.

Real Temporal dev server and PostgreSQL; the LLM is the offline generator (or
a synthetic one of real-LLM size), with faults injected around it.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from deploy.local.temporal import TEMPORAL_CLI, server_address
from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.contracts import GenerationConfig
from quizgen.db import drafts
from quizgen.domain import Difficulty, QuestionType, QuizStatus
from quizgen.llm.base import GenerationRequest, GenerationResponse, QuestionProvider
from quizgen.llm.faults import FaultInjectingProvider, FaultPlan
from quizgen.llm.offline import OfflineProvider
from quizgen.names import QUIZ_STATUS, RETRY_SIGNAL, quiz_workflow_id
from quizgen.settings import FaultKind
from tests.support.bulk import BulkProvider
from tests.support.flows import (
    FOUR_BATCHES,
    TEST_CONFIG,
    Batch,
    keys_of,
    make_quiz,
    plan_breaking,
    question_rows,
    running_worker,
    wait_for_status,
)
from tests.support.history_scan import quiz_histories
from tests.support.recording import RecordingProvider

KEYS = keys_of(FOUR_BATCHES)
TARGETS = {key: batch[2] for key, batch in zip(KEYS, FOUR_BATCHES, strict=True)}


class AnswerRecorder:
    """Keeps every raw answer the provider gave, to look for its texts in history."""

    def __init__(self, inner: QuestionProvider) -> None:
        self.inner = inner
        self.raw: list[str] = []

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        response = await self.inner.generate(request)
        self.raw.append(response.raw)
        return response

    def question_texts(self) -> set[str]:
        texts: set[str] = set()
        for raw in self.raw:
            try:
                questions = json.loads(raw)["questions"]
            except (ValueError, KeyError, TypeError):
                continue
            texts |= {q["question_text"] for q in questions if isinstance(q, dict)}
        return {t for t in texts if isinstance(t, str) and len(t) > 12}


async def test_no_question_text_or_body_reaches_any_history(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    """Short batches, repair, a retry and a continue-as-new: histories carry counts only."""
    keys = KEYS[:3]
    quiz_id = await make_quiz(engine, FOUR_BATCHES[:3])
    one_round_per_run = TEST_CONFIG.model_copy(update={"rounds_per_run": 1})
    first = AnswerRecorder(OfflineProvider())
    invalid = FaultInjectingProvider(first, plan_breaking(keys, [keys[0]], FaultKind.INVALID))
    short = FaultInjectingProvider(invalid, plan_breaking(keys, [keys[1]], FaultKind.SHORT))
    async with running_worker(temporal_env.client, engine, short, task_queue):
        await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=one_round_per_run
        )
        record = await wait_for_attempts(engine, quiz_id, 1)
    assert record.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert record.generation_metadata.failed_batches == [keys[1]]

    second = AnswerRecorder(OfflineProvider())
    async with running_worker(temporal_env.client, engine, second, task_queue):
        await temporal_client.request_retry(
            temporal_env.client, quiz_id, task_queue=task_queue, config=one_round_per_run
        )
        record = await wait_for_attempts(engine, quiz_id, 2)
    assert record.status is QuizStatus.READY_FOR_REVIEW

    histories = await quiz_histories(temporal_env.client, quiz_id, keys)
    quiz_runs = [h for h in histories if h.workflow_id == quiz_workflow_id(quiz_id)]
    assert len(quiz_runs) >= 2, "the retry ran in a new run (continue-as-new)"
    texts = first.question_texts() | second.question_texts()
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == sum(TARGETS[k] for k in keys)
    assert len(texts) > len(rows), "rejected and short answers are part of what is checked"
    payloads = [data.decode() for h in histories for data in h.payloads()]
    assert payloads
    assert not [p for p in payloads if "question_text" in p or '"explanation"' in p]
    leaked = {t for t in texts for p in payloads if t in p}
    assert leaked == set()


FULL_SIZE: list[Batch] = [
    (f"m{m:02d}", question_type, 20, difficulty)
    for m in range(20)
    for question_type in (QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE)
    for difficulty in (Difficulty.EASY, Difficulty.HARD)
]


async def test_a_full_size_quiz_of_long_questions_keeps_every_payload_small(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    """20 modules x 4 batches x 20 questions of ~1.5 KB, half the batches short at first."""
    keys = keys_of(FULL_SIZE)
    quiz_id = await make_quiz(engine, FULL_SIZE)
    config = TEST_CONFIG.model_copy(update={"max_concurrent_batches": 20, "rounds_per_run": 1})
    plan = FaultPlan(rate=0.5, seed="full-size", kinds=(FaultKind.SHORT,))
    short = set(plan.faulty_batches(keys))
    assert 25 <= len(short) <= 55
    fast = {"llm_max_concurrency": 20}
    provider = FaultInjectingProvider(BulkProvider(question_bytes=1500), plan)
    async with running_worker(temporal_env.client, engine, provider, task_queue, **fast):
        await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=config
        )
        record = await wait_for_attempts(engine, quiz_id, 1, within_seconds=240)
    assert record.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert set(record.generation_metadata.failed_batches) == short
    kept = await drafts.count_drafts(engine, quiz_id)
    assert set(kept) == short and all(0 < n < 20 for n in kept.values())

    async with running_worker(temporal_env.client, engine, BulkProvider(1500), task_queue, **fast):
        await temporal_client.request_retry(
            temporal_env.client, quiz_id, task_queue=task_queue, config=config
        )
        record = await wait_for_attempts(engine, quiz_id, 2, within_seconds=240)
    assert record.status is QuizStatus.READY_FOR_REVIEW
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == 1600 == len({r.normalized_text for r in rows})
    assert await drafts.count_drafts(engine, quiz_id) == {}

    histories = await quiz_histories(temporal_env.client, quiz_id, keys)
    largest = max(len(data) for h in histories for data in h.payloads())
    quiz_runs = [h for h in histories if h.workflow_id == quiz_workflow_id(quiz_id)]
    quiz_bytes = sum(h.size for h in quiz_runs)
    logging.getLogger(__name__).info(
        "full size: largest payload %d B, quiz workflow history %d B in %d runs",
        largest,
        quiz_bytes,
        len(quiz_runs),
    )
    assert len(quiz_runs) >= 2
    assert largest < 64 * 1024
    assert quiz_bytes < 1024 * 1024


async def test_the_cli_retry_signal_reaches_a_partial_quiz_after_its_worker_restarted(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    broken = KEYS[1]
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, [broken]))
    async with running_worker(temporal_env.client, engine, faulty, task_queue):
        # Default settings: no deadline on the wait for a retry.
        await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=GenerationConfig()
        )
        record = await wait_for_attempts(engine, quiz_id, 1)
        workflow_id = quiz_workflow_id(quiz_id)
        handle = temporal_env.client.get_workflow_handle(workflow_id)
        # The database settles first; the workflow upserts `QuizStatus` in the
        # workflow task that follows, which needs this worker: wait for it here.
        async with asyncio.timeout(30):
            while (  # noqa: ASYNC110 - polling the server
                (await handle.describe()).typed_search_attributes.get(QUIZ_STATUS)
                != QuizStatus.READY_FOR_REVIEW_PARTIAL.value
            ):
                await asyncio.sleep(0.1)
    assert record.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING

    address = server_address(temporal_env)
    # The dev server holds every test's quizzes: narrowed to this one, the listing is short.
    query = f"QuizStatus='{QuizStatus.READY_FOR_REVIEW_PARTIAL.value}' AND QuizId='{quiz_id}'"
    listing = ("workflow", "list", "--query", query, "--output", "json")
    listed = ""
    try:
        async with asyncio.timeout(30):
            # Visibility is eventually consistent: the list catches up within moments.
            while workflow_id not in (listed := await _cli(*listing, address=address)):  # noqa: ASYNC110
                await asyncio.sleep(0.5)
    except TimeoutError:
        pytest.fail(f"{workflow_id} not listed by {query}: {listed[-2000:]}")

    healthy = RecordingProvider(OfflineProvider())
    async with running_worker(temporal_env.client, engine, healthy, task_queue):
        await _cli(
            "workflow",
            "signal",
            "--workflow-id",
            workflow_id,
            "--name",
            RETRY_SIGNAL,
            address=address,
        )
        record = await wait_for_attempts(engine, quiz_id, 2)
        async with asyncio.timeout(30):
            await handle.result()
    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert set(healthy.calls_per_batch()) == {broken}
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED


async def _cli(*args: str, address: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(TEMPORAL_CLI),
        *args,
        "--address",
        address,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_drafts_outlive_a_terminated_run_and_the_retry_asks_only_for_the_rest(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    batches = FOUR_BATCHES[:2]
    keys = keys_of(batches)
    short_key = keys[0]
    target = TARGETS[short_key]
    quiz_id = await make_quiz(engine, batches)
    short = FaultInjectingProvider(
        OfflineProvider(), plan_breaking(keys, [short_key], FaultKind.SHORT)
    )
    async with running_worker(temporal_env.client, engine, short, task_queue):
        handle = await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
        )
        await wait_for_attempts(engine, quiz_id, 1)
    kept = (await drafts.count_drafts(engine, quiz_id))[short_key]
    assert 0 < kept < target
    await handle.terminate(reason="operator terminated the quiz's run (test)")

    healthy = RecordingProvider(OfflineProvider())
    async with running_worker(temporal_env.client, engine, healthy, task_queue):
        await temporal_client.request_retry(
            temporal_env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
        )
        record = await wait_for_attempts(engine, quiz_id, 2)
    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert [(r.batch_key, r.count) for r in healthy.requests] == [(short_key, target - kept)]
    saved = [r for r in await question_rows(engine, quiz_id) if r.batch_key == short_key]
    assert len(saved) == target


class GarbageOnce:
    """The first answer of a batch carries a 300-level-deep field and a lone surrogate."""

    def __init__(self, inner: QuestionProvider) -> None:
        self.inner = inner
        self.requests: list[GenerationRequest] = []

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.requests.append(request)
        response = await self.inner.generate(request)
        if request.call_index != 0:
            return response
        questions = json.loads(response.raw)["questions"]
        deep: object = "bottom"
        for _ in range(300):
            deep = {"deeper": deep}
        questions[0] = {**questions[0], "notes": deep}
        questions[1] = {**questions[1], "question_text": "Cells \ud800 divide by mitosis."}
        # ensure_ascii keeps the surrogate as the escape a real answer would carry.
        return GenerationResponse(raw=json.dumps({"questions": questions}), usage=response.usage)


async def test_a_deeply_nested_field_and_a_lone_surrogate_reject_only_their_questions(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    batch: list[Batch] = [FOUR_BATCHES[0]]
    key = keys_of(batch)[0]
    quiz_id = await make_quiz(engine, batch)
    garbage = GarbageOnce(OfflineProvider())
    caplog.set_level(logging.WARNING, logger="temporalio")
    async with running_worker(temporal_env.client, engine, garbage, task_queue):
        await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
        )
        record = await wait_for_status(engine, quiz_id, within_seconds=30)
    assert record.status is QuizStatus.READY_FOR_REVIEW
    [attempt] = record.generation_metadata.generation_attempts
    assert attempt.batch_results[key].llm_calls == 2
    first, top_up = garbage.requests
    assert (first.count, top_up.count) == (TARGETS[key], 2)
    reasons = sorted(r.reason for r in top_up.repair)
    assert reasons == [
        "text contains an invalid Unicode character (a lone surrogate)",
        "the question is nested more than 8 levels deep",
    ]
    assert len(await question_rows(engine, quiz_id)) == TARGETS[key]
    failed = [r.getMessage() for r in caplog.records if "activation" in r.getMessage().lower()]
    assert failed == []


async def test_thirty_failing_rounds_keep_every_payload_of_the_quiz_workflow_small(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    broken = KEYS[0]
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, [broken]))
    async with running_worker(temporal_env.client, engine, faulty, task_queue):
        await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
        )
        for round_number in range(1, 31):
            await wait_for_attempts(engine, quiz_id, round_number)
            if round_number < 30:
                await temporal_client.request_retry(
                    temporal_env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
                )
        record = await wait_for_attempts(engine, quiz_id, 30)
    assert record.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert len(record.generation_metadata.generation_attempts) == 30
    [quiz_run] = [
        h
        for h in await quiz_histories(temporal_env.client, quiz_id, [])
        if h.workflow_id == quiz_workflow_id(quiz_id)
    ]
    sizes = [len(data) for data in quiz_run.payloads()]
    assert len(sizes) > 30 * 3
    assert max(sizes) < 8 * 1024

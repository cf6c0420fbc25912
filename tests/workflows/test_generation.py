"""Durable generation end to end: real Temporal dev server, real PostgreSQL, offline LLM."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.temporal import TEMPORAL_CLI, server_address
from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.contracts import QuizWorkflowResult
from quizgen.db import repository as repo
from quizgen.domain import BatchStatus, FailureReason, QuizStatus
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from quizgen.names import (
    BATCHES_FAILED,
    QUESTIONS_SAVED,
    QUESTIONS_TARGET,
    QUIZ_ID,
    QUIZ_STATUS,
    RETRY_SIGNAL,
    quiz_workflow_id,
)
from quizgen.settings import FaultKind
from tests.support.flows import (
    FOUR_BATCHES,
    TEST_CONFIG,
    keys_of,
    make_quiz,
    plan_breaking,
    query_progress,
    question_rows,
    running_worker,
    wait_for_status,
)
from tests.support.generation_cases import KEYS, TARGETS, partial_round, retry, start
from tests.support.histories import record_histories
from tests.support.recording import CommitThenFailOnce, RecordingProvider


async def test_one_failing_batch_leaves_the_quiz_partial_and_everything_agrees(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    broken = KEYS[2]
    quiz_id, provider = await partial_round(temporal_env, engine, task_queue, broken)
    # Queries are answered by a worker: keep one polling while we ask.
    async with running_worker(temporal_env.client, engine, provider, task_queue):
        progress = await query_progress(temporal_env.client, quiz_id)

    record = await repo.get_quiz(engine, quiz_id)
    assert record.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    rows = await question_rows(engine, quiz_id)
    good = [k for k in KEYS if k != broken]
    assert len(rows) == sum(TARGETS[k] for k in good)
    assert {r.batch_key for r in rows} == set(good)

    meta = record.generation_metadata
    assert sorted(meta.successful_batches) == sorted(good)
    assert meta.failed_batches == [broken]
    assert meta.total_questions_saved == len(rows)
    assert meta.total_questions_target == sum(TARGETS.values())
    [attempt] = meta.generation_attempts
    failed_result = attempt.batch_results[broken]
    assert failed_result.status is BatchStatus.FAILED
    assert failed_result.error is not None and "injected permanent fault" in failed_result.error

    assert progress.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert progress.questions_saved == len(rows)
    assert progress.questions_remaining == TARGETS[broken]
    assert progress.message == (
        f"{len(rows)} questions generated successfully ({TARGETS[broken]} remaining)"
    )
    by_key = {b.batch_key: b for b in progress.batches}
    assert by_key[broken].status is BatchStatus.FAILED
    assert by_key[broken].last_error == failed_result.error

    description = await temporal_env.client.get_workflow_handle(
        quiz_workflow_id(quiz_id)
    ).describe()
    attrs = description.typed_search_attributes
    assert attrs.get(QUIZ_ID) == str(quiz_id)
    assert attrs.get(QUIZ_STATUS) == QuizStatus.READY_FOR_REVIEW_PARTIAL.value
    assert attrs.get(QUESTIONS_SAVED) == len(rows)
    assert attrs.get(QUESTIONS_TARGET) == sum(TARGETS.values())
    assert attrs.get(BATCHES_FAILED) == 1


async def test_retry_by_signal_regenerates_only_the_failed_batch(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    broken = KEYS[1]
    quiz_id, first = await partial_round(temporal_env, engine, task_queue, broken)
    before = {r.id: r.batch_key for r in await question_rows(engine, quiz_id)}

    healthy = RecordingProvider(OfflineProvider())
    async with running_worker(temporal_env.client, engine, healthy, task_queue):
        await retry(temporal_env, quiz_id, task_queue)
        record = await wait_for_attempts(engine, quiz_id, 2)
        # The workflow completes just after recording the round: let this worker see it through.
        async with asyncio.timeout(60):
            result = await temporal_env.client.get_workflow_handle(
                quiz_workflow_id(quiz_id), result_type=QuizWorkflowResult
            ).result()

    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert record.failure_reason is None
    assert set(healthy.calls_per_batch()) == {broken}
    assert set(first.calls_per_batch()) == set(KEYS)
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == sum(TARGETS.values())
    assert len({r.normalized_text for r in rows}) == len(rows)
    after = {r.id: r.batch_key for r in rows}
    assert {i: k for i, k in after.items() if k != broken} == before
    meta = record.generation_metadata
    assert [a.attempt_number for a in meta.generation_attempts] == [1, 2]
    assert list(meta.generation_attempts[1].batch_results) == [broken]
    assert meta.failed_batches == []
    assert result.status is QuizStatus.READY_FOR_REVIEW
    assert result.questions_saved == result.questions_target == len(rows)
    await record_histories(temporal_env.client, quiz_id, KEYS, "partial-then-retry")


async def test_all_batches_failing_fails_the_quiz_and_a_retry_completes_it(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    everything_broken = FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, KEYS))
    async with running_worker(temporal_env.client, engine, everything_broken, task_queue):
        await start(temporal_env, quiz_id, task_queue)
        record = await wait_for_attempts(engine, quiz_id, 1)
    assert record.status is QuizStatus.FAILED
    assert record.failure_reason is FailureReason.NO_BATCHES_SUCCEEDED
    assert record.failure_message and "injected permanent fault" in record.failure_message
    assert await question_rows(engine, quiz_id) == []

    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        await retry(temporal_env, quiz_id, task_queue)
        record = await wait_for_attempts(engine, quiz_id, 2)
    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert len(await question_rows(engine, quiz_id)) == sum(TARGETS.values())
    await record_histories(temporal_env.client, quiz_id, KEYS[:1], "all-failed-then-retry")


async def test_two_concurrent_starts_run_one_workflow(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    recording = RecordingProvider(OfflineProvider())
    async with running_worker(temporal_env.client, engine, recording, task_queue):
        handles = await asyncio.gather(
            *(
                temporal_client.start_generation(
                    temporal_env.client, quiz_id, task_queue=task_queue, config=TEST_CONFIG
                )
                for _ in range(5)
            )
        )
        record = await wait_for_attempts(engine, quiz_id, 1)
    assert len({h.first_execution_run_id for h in handles}) == 1
    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert len(record.generation_metadata.generation_attempts) == 1
    assert sorted(recording.calls_per_batch().values()) == [1, 1, 1, 1]
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == sum(TARGETS.values())


async def test_retry_from_the_temporal_cli_regenerates_only_the_failed_batch(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    broken = KEYS[3]
    quiz_id, _ = await partial_round(temporal_env, engine, task_queue, broken)
    before = {r.id for r in await question_rows(engine, quiz_id) if r.batch_key != broken}

    healthy = RecordingProvider(OfflineProvider())
    async with running_worker(temporal_env.client, engine, healthy, task_queue):
        cli = await asyncio.create_subprocess_exec(
            str(TEMPORAL_CLI),
            "workflow",
            "signal",
            "--workflow-id",
            quiz_workflow_id(quiz_id),
            "--name",
            RETRY_SIGNAL,
            "--address",
            server_address(temporal_env),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await cli.communicate()
        assert cli.returncode == 0, output.decode()
        record = await wait_for_attempts(engine, quiz_id, 2)

    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert set(healthy.calls_per_batch()) == {broken}
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == sum(TARGETS.values())
    assert len({r.normalized_text for r in rows}) == len(rows)
    assert before <= {r.id for r in rows}


async def test_a_signal_during_a_round_is_kept_for_after_it(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    broken = KEYS[0]
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    slow_and_broken = FaultInjectingProvider(
        OfflineProvider(latency_seconds=0.5), plan_breaking(KEYS, [broken])
    )
    async with running_worker(temporal_env.client, engine, slow_and_broken, task_queue):
        await start(temporal_env, quiz_id, task_queue)
        await wait_for_status(engine, quiz_id, {QuizStatus.GENERATING_QUESTIONS})
        await retry(temporal_env, quiz_id, task_queue)
        # The signal came during round 1: round 2 follows by itself, and fails the same way.
        record = await wait_for_attempts(engine, quiz_id, 2)
        progress = await query_progress(temporal_env.client, quiz_id)
    assert record.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert list(record.generation_metadata.generation_attempts[1].batch_results) == [broken]
    assert {b.batch_key: b.attempts for b in progress.batches}[broken] == 2


async def test_a_save_that_committed_before_failing_is_not_repeated(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    quiz_id = await make_quiz(engine, FOUR_BATCHES)
    recording = RecordingProvider(OfflineProvider())
    flaky = CommitThenFailOnce(engine, recording)
    async with running_worker(temporal_env.client, engine, recording, task_queue, generation=flaky):
        await start(temporal_env, quiz_id, task_queue)
        record = await wait_for_attempts(engine, quiz_id, 1)
    assert record.status is QuizStatus.READY_FOR_REVIEW
    # Every batch's first attempt saved and then "lost its connection"; the retry
    # found the batch saved: nothing written twice, and the LLM not asked again.
    assert sorted(flaky.outcomes) == sorted(
        [(key, 1, True) for key in KEYS] + [(key, 2, True) for key in KEYS]
    )
    assert recording.calls_per_batch() == dict.fromkeys(KEYS, 1)
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == sum(TARGETS.values())
    await record_histories(temporal_env.client, quiz_id, KEYS[:1], "save-retried-after-commit")


async def test_invalid_and_missing_questions_are_repaired_and_topped_up(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    batches = FOUR_BATCHES[:2]
    keys = keys_of(batches)
    quiz_id = await make_quiz(engine, batches)
    invalid = RecordingProvider(
        FaultInjectingProvider(OfflineProvider(), plan_breaking(keys, [keys[0]], FaultKind.INVALID))
    )
    malformed = FaultInjectingProvider(invalid, plan_breaking(keys, [keys[1]], FaultKind.MALFORMED))
    async with running_worker(temporal_env.client, engine, malformed, task_queue):
        await start(temporal_env, quiz_id, task_queue)
        record = await wait_for_attempts(engine, quiz_id, 1)
    assert record.status is QuizStatus.READY_FOR_REVIEW
    [attempt] = record.generation_metadata.generation_attempts
    assert attempt.batch_results[keys[0]].llm_calls == 2
    assert attempt.batch_results[keys[1]].llm_calls == 2
    repair_call = [r for r in invalid.requests if r.batch_key == keys[0]][1]
    target = TARGETS[keys[0]]
    # The second call asks only for the questions the first answer got wrong...
    broken = (target + 1) // 2  # every other question, from the first
    assert repair_call.count == broken == len(repair_call.repair)
    assert all("injected_fault" in r.reason for r in repair_call.repair)
    # ...and tells the generator which ones it already has.
    assert len(repair_call.avoid_texts) >= target - broken
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == sum(TARGETS[k] for k in keys)
    await record_histories(temporal_env.client, quiz_id, keys, "repair-and-top-up")


async def test_a_batch_that_falls_short_saves_nothing_and_its_retry_asks_only_for_the_rest(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    batches = FOUR_BATCHES[:2]
    keys = keys_of(batches)
    short_key = keys[0]
    target = TARGETS[short_key]
    quiz_id = await make_quiz(engine, batches)
    short = RecordingProvider(
        FaultInjectingProvider(OfflineProvider(), plan_breaking(keys, [short_key], FaultKind.SHORT))
    )
    async with running_worker(temporal_env.client, engine, short, task_queue):
        await start(temporal_env, quiz_id, task_queue)
        record = await wait_for_attempts(engine, quiz_id, 1)
    assert record.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    result = record.generation_metadata.generation_attempts[0].batch_results[short_key]
    # Each answer holds half of what was asked: 5 -> 2 is well-formed, follows the
    # rules and brings less than half, so the batch stops there instead of paying for
    # top-ups that the model (as this round shows) cannot fill.
    asked = [r.count for r in short.requests if r.batch_key == short_key]
    assert asked == [5]
    assert TEST_CONFIG.repair_rounds == 2
    kept = sum(n // 2 for n in asked)
    assert result.generated_count == kept < target
    assert result.error is not None and f"{kept} of {target} valid questions" in result.error
    assert {r.batch_key for r in await question_rows(engine, quiz_id)} == {keys[1]}

    healthy = RecordingProvider(OfflineProvider())
    async with running_worker(temporal_env.client, engine, healthy, task_queue):
        await retry(temporal_env, quiz_id, task_queue)
        record = await wait_for_attempts(engine, quiz_id, 2)
    assert record.status is QuizStatus.READY_FOR_REVIEW
    [retry_call] = healthy.requests
    assert (retry_call.batch_key, retry_call.count) == (short_key, target - kept)
    assert len(retry_call.avoid_texts) >= kept
    saved = [r for r in await question_rows(engine, quiz_id) if r.batch_key == short_key]
    assert len(saved) == target
    await record_histories(temporal_env.client, quiz_id, keys, "short-then-retry")


async def test_continue_as_new_carries_the_batch_state(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    broken = KEYS[0]
    one_round_per_run = TEST_CONFIG.model_copy(update={"rounds_per_run": 1})
    quiz_id, _ = await partial_round(temporal_env, engine, task_queue, broken, one_round_per_run)
    healthy = RecordingProvider(OfflineProvider())
    async with running_worker(temporal_env.client, engine, healthy, task_queue):
        await temporal_client.request_retry(
            temporal_env.client, quiz_id, task_queue=task_queue, config=one_round_per_run
        )
        record = await wait_for_attempts(engine, quiz_id, 2)
        progress = await query_progress(temporal_env.client, quiz_id)
    description = await temporal_env.client.get_workflow_handle(
        quiz_workflow_id(quiz_id)
    ).describe()
    assert description.run_id != description.raw_description.workflow_execution_info.first_run_id
    assert record.status is QuizStatus.READY_FOR_REVIEW
    assert set(healthy.calls_per_batch()) == {broken}
    assert {b.batch_key: b.attempts for b in progress.batches}[broken] == 2
    assert [a.attempt_number for a in record.generation_metadata.generation_attempts] == [1, 2]
    await record_histories(temporal_env.client, quiz_id, [], "continue-as-new")

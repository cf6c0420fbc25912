"""`QuizGenerationWorkflow`'s logic, against stub activities on the time-skipping test server.

Rounds and statuses, retries of failed batches only (in one run or across
continue-as-new), the progress query, a signal kept across a round, the
concurrency bound, Temporal's retries of the LLM activity, a cancelled round:
each decided by the real workflows, with PostgreSQL and the LLM played by
`StubBackend` (stubs.py). The batch workflow alone: test_batch_workflow_logic.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from quizgen.contracts import (
    GenerationConfig,
    QuizProgress,
    QuizWorkflowInput,
    QuizWorkflowResult,
)
from quizgen.domain import BatchStatus, QuestionType, QuizStatus
from quizgen.names import (
    BATCHES_FAILED,
    PROGRESS_QUERY,
    QUESTIONS_SAVED,
    QUESTIONS_TARGET,
    QUIZ_STATUS,
    QUIZ_WORKFLOW,
    RETRY_SIGNAL,
    quiz_workflow_id,
)
from tests.workflows.stubs import (
    PERMANENT_MESSAGE,
    TRANSIENT_DELAY,
    Call,
    Fault,
    StubBackend,
    make_ref,
)

pytestmark = pytest.mark.fast

QuizHandle = WorkflowHandle[Any, QuizWorkflowResult]


async def start_quiz(
    stub_client: Client, stub: StubBackend, stub_queue: str, **config: Any
) -> QuizHandle:
    return await stub_client.start_workflow(
        QUIZ_WORKFLOW,
        QuizWorkflowInput(quiz_id=stub.quiz_id, config=GenerationConfig(**config)),
        id=quiz_workflow_id(stub.quiz_id),
        task_queue=stub_queue,
        result_type=QuizWorkflowResult,
    )


async def progress_when(
    handle: QuizHandle, predicate: Callable[[QuizProgress], bool]
) -> QuizProgress:
    """Poll the `progress` query (in wall time: nothing awaits the result) until `predicate`."""
    for _ in range(200):
        progress: QuizProgress = await handle.query(PROGRESS_QUERY, result_type=QuizProgress)
        if progress.batches and predicate(progress):
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError(f"progress never matched; last: {progress}")


async def retry(handle: QuizHandle, stub: StubBackend) -> None:
    """Signal `retry_failed_batches`; return once the next round has read the quiz.

    Waits on the stub, not on a query: the time-skipping test server can lose a
    query that races a continue-as-new (the query times out, and the old run's
    history then ends without its close event, so `result()` never returns).
    """
    plans = stub.plans
    await handle.signal(RETRY_SIGNAL)
    for _ in range(200):
        if stub.plans > plans:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no round started after the retry signal")


def settled(progress: QuizProgress) -> bool:
    return progress.status is not QuizStatus.GENERATING_QUESTIONS


def max_attempts(progress: QuizProgress) -> int:
    return max(b.attempts for b in progress.batches)


async def result_of(handle: QuizHandle) -> QuizWorkflowResult:
    """The workflow's result (time skipped meanwhile), bounded in wall time."""
    return await asyncio.wait_for(handle.result(), timeout=10)


def by_key(progress: QuizProgress) -> dict[str, BatchStatus]:
    return {b.batch_key: b.status for b in progress.batches}


async def test_all_batches_succeed(stub_client: Client, stub: StubBackend, stub_queue: str) -> None:
    handle = await start_quiz(stub_client, stub, stub_queue)
    result = await result_of(handle)

    assert result == QuizWorkflowResult(
        status=QuizStatus.READY_FOR_REVIEW,
        questions_saved=12,
        questions_target=12,
        failed_batches=[],
    )
    # One LLM call per batch, asking for the whole batch; the call saved it.
    assert sorted(stub.calls, key=lambda c: c.batch_key) == sorted(
        (Call(ref.batch_key, ref.count, 0, 1) for ref in stub.refs), key=lambda c: c.batch_key
    )
    assert stub.saves == []
    assert stub.saved == set(stub.batch_keys())
    [recorded] = stub.rounds
    assert {r.batch_key: (r.status, r.generated_count, r.llm_calls) for r in recorded.results} == {
        ref.batch_key: (BatchStatus.SUCCEEDED, ref.count, 1) for ref in stub.refs
    }
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes[QUIZ_STATUS] == QuizStatus.READY_FOR_REVIEW.value
    assert (attributes[QUESTIONS_SAVED], attributes[QUESTIONS_TARGET]) == (12, 12)
    assert attributes[BATCHES_FAILED] == 0


@pytest.mark.parametrize("rounds_per_run", [None, 1], ids=["same-run", "continue-as-new"])
async def test_partial_then_retry_reruns_only_failed_batches(
    stub_client: Client, stub: StubBackend, stub_queue: str, rounds_per_run: int | None
) -> None:
    failing = stub.refs[1]
    stub.script[failing.batch_key] = [Fault.PERMANENT, Fault.PERMANENT]
    handle = await start_quiz(stub_client, stub, stub_queue, rounds_per_run=rounds_per_run)

    # The entity waits for the retry signal; the progress query answers meanwhile.
    waiting = await progress_when(handle, settled)
    assert waiting.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    assert (waiting.questions_saved, waiting.questions_remaining) == (9, 3)
    assert waiting.message == "9 questions generated successfully (3 remaining)"
    failed = next(b for b in waiting.batches if b.batch_key == failing.batch_key)
    assert (failed.status, failed.attempts) == (BatchStatus.FAILED, 1)
    assert failed.last_error is not None
    assert PERMANENT_MESSAGE in failed.last_error
    assert failed.last_error.startswith(f"batch {failing.batch_key}: the question generator failed")
    # A permanent error type is not retried by Temporal (the policy lists it).
    assert stub.calls_of(failing.batch_key) == [Call(failing.batch_key, 3, 0, 1)]
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes[QUIZ_STATUS] == QuizStatus.READY_FOR_REVIEW_PARTIAL.value
    assert attributes[BATCHES_FAILED] == 1

    # A retry that fails again: the quiz waits again, it does not loop.
    stub.calls.clear()
    await retry(handle, stub)
    again = await progress_when(handle, lambda p: settled(p) and max_attempts(p) == 2)
    assert again.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    await asyncio.sleep(0.2)
    assert stub.plans == 2
    await retry(handle, stub)
    result = await result_of(handle)

    assert result.status is QuizStatus.READY_FOR_REVIEW
    assert (result.questions_saved, result.failed_batches) == (12, [])
    assert stub.calls == [Call(failing.batch_key, 3, 0, 1)] * 2
    assert stub.plans == 3
    retries = stub.rounds[1:]
    assert [[(r.batch_key, r.status) for r in rnd.results] for rnd in retries] == [
        [(failing.batch_key, BatchStatus.FAILED)],
        [(failing.batch_key, BatchStatus.SUCCEEDED)],
    ]
    runs = {rnd.round_id.split("/")[0] for rnd in stub.rounds}
    assert len(runs) == (3 if rounds_per_run == 1 else 1)


async def test_no_batch_succeeds_fails_and_closes_after_retry_wait(
    skipping_env: WorkflowEnvironment, stub_client: Client, stub: StubBackend, stub_queue: str
) -> None:
    for key in stub.batch_keys():
        stub.script[key] = [Fault.PERMANENT]
    before = await skipping_env.get_current_time()
    handle = await start_quiz(stub_client, stub, stub_queue, retry_wait=timedelta(hours=2))
    result = await result_of(handle)

    assert result.status is QuizStatus.FAILED
    assert (result.questions_saved, result.questions_target) == (0, 12)
    assert result.failed_batches == sorted(stub.batch_keys())
    [recorded] = stub.rounds
    assert {r.status for r in recorded.results} == {BatchStatus.FAILED}
    assert all(r.error and PERMANENT_MESSAGE in r.error for r in recorded.results)
    # It waited (skipped) the whole retry window for a signal before closing.
    assert await skipping_env.get_current_time() - before >= timedelta(hours=2)
    assert len(stub.calls) == 3


async def test_progress_during_a_round_and_a_signal_kept_across_it(
    stub_client: Client, stub: StubBackend, stub_queue: str
) -> None:
    slow = stub.refs[2]
    gate = stub.gates[slow.batch_key] = asyncio.Event()
    stub.script[slow.batch_key] = [Fault.PERMANENT]
    handle = await start_quiz(stub_client, stub, stub_queue)

    others_done = await progress_when(
        handle, lambda p: sum(b.status is BatchStatus.SUCCEEDED for b in p.batches) == 2
    )
    assert others_done.status is QuizStatus.GENERATING_QUESTIONS
    assert by_key(others_done)[slow.batch_key] is BatchStatus.RUNNING
    assert others_done.message == "8 questions generated successfully (4 remaining)"
    # A retry asked for while the round runs is kept and acted on after it.
    await handle.signal(RETRY_SIGNAL)
    gate.set()
    result = await result_of(handle)

    assert result.status is QuizStatus.READY_FOR_REVIEW
    first, second = stub.rounds
    assert {r.batch_key: r.status for r in first.results}[slow.batch_key] is BatchStatus.FAILED
    assert [(r.batch_key, r.status) for r in second.results] == [
        (slow.batch_key, BatchStatus.SUCCEEDED)
    ]
    assert [c.call_index for c in stub.calls_of(slow.batch_key)] == [0, 0]


async def test_at_most_max_concurrent_batches_run_at_once(
    stub_client: Client, stub: StubBackend, stub_queue: str
) -> None:
    gates = {key: asyncio.Event() for key in stub.batch_keys()}
    stub.gates.update(gates)
    handle = await start_quiz(stub_client, stub, stub_queue, max_concurrent_batches=2)

    running = await progress_when(handle, lambda p: len(stub.calls) == 2)
    await asyncio.sleep(0.3)
    assert len(stub.calls) == 2
    assert list(by_key(running).values()).count(BatchStatus.PENDING) == 1
    for gate in gates.values():
        gate.set()
    assert (await result_of(handle)).status is QuizStatus.READY_FOR_REVIEW
    assert len(stub.calls) == 3


async def test_retry_asks_only_for_missing_questions(
    stub_client: Client, stub: StubBackend, stub_queue: str
) -> None:
    short = stub.refs[0] = make_ref("m1", QuestionType.MULTIPLE_CHOICE, 8)
    # Each call brings half of what it asks: not futile, but the repair rounds run out.
    stub.script[short.batch_key] = [4, 2]
    handle = await start_quiz(stub_client, stub, stub_queue, repair_rounds=1)

    waiting = await progress_when(handle, settled)
    assert waiting.status is QuizStatus.READY_FOR_REVIEW_PARTIAL
    stalled = next(b for b in waiting.batches if b.batch_key == short.batch_key)
    assert (stalled.status, stalled.generated_count) == (BatchStatus.FAILED, 6)
    assert stalled.last_error is not None
    assert "6 of 8 valid questions after 2 LLM calls" in stalled.last_error
    assert [(c.count, c.call_index) for c in stub.calls_of(short.batch_key)] == [(8, 0), (4, 1)]

    stub.calls.clear()
    await handle.signal(RETRY_SIGNAL)
    assert (await result_of(handle)).status is QuizStatus.READY_FOR_REVIEW
    # The next round starts from the 6 drafts PostgreSQL kept.
    assert stub.calls == [Call(short.batch_key, 2, 0, 1)]


async def test_transient_llm_error_is_retried_by_temporal(
    skipping_env: WorkflowEnvironment, stub_client: Client, stub: StubBackend, stub_queue: str
) -> None:
    flaky = stub.refs[0]
    stub.script[flaky.batch_key] = [Fault.TRANSIENT]
    before = await skipping_env.get_current_time()
    result = await result_of(await start_quiz(stub_client, stub, stub_queue))

    assert result.status is QuizStatus.READY_FOR_REVIEW
    # The same call, attempted twice by Temporal: one LLM call for the workflow.
    assert stub.calls_of(flaky.batch_key) == [
        Call(flaky.batch_key, flaky.count, 0, 1),
        Call(flaky.batch_key, flaky.count, 0, 2),
    ]
    [recorded] = stub.rounds
    assert {r.batch_key: r.llm_calls for r in recorded.results}[flaky.batch_key] == 1
    # The retry waited for the delay the error asked for (skipped, not slept).
    assert await skipping_env.get_current_time() - before >= TRANSIENT_DELAY


async def test_succeeded_batch_is_never_run_again(
    stub_client: Client, stub: StubBackend, stub_queue: str
) -> None:
    failing = stub.refs[1]
    stub.script[failing.batch_key] = [Fault.PERMANENT]
    handle = await start_quiz(stub_client, stub, stub_queue)
    await progress_when(handle, settled)

    # A stale read offers the saved batches again: the server refuses their child ids
    # (ALLOW_DUPLICATE_FAILED_ONLY), and record_round's saved keys settle them.
    stub.stale_plan = True
    stub.calls.clear()
    await handle.signal(RETRY_SIGNAL)
    result = await result_of(handle)

    assert result.status is QuizStatus.READY_FOR_REVIEW
    assert stub.called_keys() == {failing.batch_key}
    refused = {r.batch_key: r for r in stub.rounds[1].results}
    assert refused.keys() == set(stub.batch_keys())
    for key in set(stub.batch_keys()) - {failing.batch_key}:
        assert refused[key].status is BatchStatus.FAILED
        assert "Temporal refused to run it again" in (refused[key].error or "")


async def test_cancelled_round_is_recorded_as_stopped(
    stub_client: Client, stub: StubBackend, stub_queue: str
) -> None:
    slow = stub.refs[2]
    stub.gates[slow.batch_key] = asyncio.Event()
    handle = await start_quiz(stub_client, stub, stub_queue)
    others_done = await progress_when(
        handle, lambda p: sum(b.status is BatchStatus.SUCCEEDED for b in p.batches) == 2
    )
    assert by_key(others_done)[slow.batch_key] is BatchStatus.RUNNING

    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as caught:
        await result_of(handle)

    assert isinstance(caught.value.cause, CancelledError)
    # The round so far is recorded before the run ends: the quiz is not left generating.
    [recorded] = stub.rounds
    assert recorded.stopped is not None
    assert recorded.stopped.startswith("generation stopped: ")
    results = {r.batch_key: r for r in recorded.results}
    assert results.keys() == set(stub.batch_keys())
    assert results.pop(slow.batch_key).status is BatchStatus.FAILED
    assert {r.status for r in results.values()} == {BatchStatus.SUCCEEDED}

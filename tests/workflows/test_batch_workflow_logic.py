"""`BatchGenerationWorkflow` on its own: repair, top-up, giving up, saving complete drafts.

Started as the quiz workflow starts it (same id, same input), against the
stub activities on the time-skipping test server (see conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from quizgen.contracts import BatchFailure, GenerateBatchInput, GenerationConfig
from quizgen.domain import BatchResult, BatchStatus
from quizgen.names import BATCH_FAILED_ERROR, BATCH_WORKFLOW, batch_workflow_id
from tests.workflows.stubs import Answer, Call, StubBackend

pytestmark = pytest.mark.fast


async def run_batch(
    stub_client: Client, stub: StubBackend, stub_queue: str, drafts: int = 0, **config: Any
) -> BatchResult:
    """The batch workflow on its own, as the quiz workflow starts it."""
    ref = stub.refs[0]
    result: BatchResult = await stub_client.execute_workflow(
        BATCH_WORKFLOW,
        GenerateBatchInput(
            quiz_id=stub.quiz_id, batch=ref, config=GenerationConfig(**config), drafts=drafts
        ),
        id=batch_workflow_id(stub.quiz_id, ref.batch_key),
        task_queue=stub_queue,
        result_type=BatchResult,
    )
    return result


async def batch_failure(
    stub_client: Client, stub: StubBackend, stub_queue: str, **config: Any
) -> BatchFailure:
    with pytest.raises(WorkflowFailureError) as caught:
        await run_batch(stub_client, stub, stub_queue, **config)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == (BATCH_FAILED_ERROR, True)
    return BatchFailure.model_validate(cause.details[0])


async def test_batch_repairs_and_tops_up(
    stub_client: Client, stub: StubBackend, stub_queue: str
) -> None:
    key = stub.refs[0].batch_key
    stub.script[key] = [3, 1, 1]
    result = await run_batch(stub_client, stub, stub_queue)

    assert (result.status, result.generated_count, result.llm_calls) == (
        BatchStatus.SUCCEEDED,
        5,
        3,
    )
    # Each call asks only for what the batch still misses.
    assert [(c.count, c.call_index) for c in stub.calls] == [(5, 0), (2, 1), (1, 2)]
    assert result.tokens.prompt_tokens == 300
    assert result.tokens.completion_tokens == 50
    assert stub.saved == {key}


@pytest.mark.parametrize(
    ("script", "repair_rounds", "calls", "drafts"),
    [
        # A repairable short first answer is repaired; a short top-up ends the round.
        ([Answer(1), 1], 3, [(5, 0), (4, 1)], 2),
        # A clean first answer with under half the questions ends it at once.
        ([Answer(2, repairable=False)], 3, [(5, 0)], 2),
        # Half of what is asked, or more, each time: only the repair rounds stop it.
        ([3, 1], 1, [(5, 0), (2, 1)], 4),
    ],
    ids=["short-top-up", "futile-first-call", "repair-rounds-exhausted"],
)
async def test_batch_gives_up_and_keeps_its_drafts(
    stub_client: Client,
    stub: StubBackend,
    stub_queue: str,
    script: list[Answer | int],
    repair_rounds: int,
    calls: list[tuple[int, int]],
    drafts: int,
) -> None:
    key = stub.refs[0].batch_key
    stub.script[key] = list(script)
    failure = await batch_failure(stub_client, stub, stub_queue, repair_rounds=repair_rounds)

    assert [(c.count, c.call_index) for c in stub.calls] == calls
    assert (failure.generated_count, failure.llm_calls) == (drafts, len(calls))
    assert f"{drafts} of 5 valid questions after {len(calls)} LLM calls" in failure.reason
    assert stub.drafts == {key: drafts}
    assert stub.saved == set()


async def test_complete_drafts_are_saved_and_a_lost_duplicate_topped_up(
    stub_client: Client, stub: StubBackend, stub_queue: str
) -> None:
    key = stub.refs[0].batch_key
    stub.drafts[key] = 5
    # Another batch saved one of these texts first: the save drops that draft.
    stub.collisions[key] = 1
    result = await run_batch(stub_client, stub, stub_queue, drafts=5)

    assert (result.status, result.llm_calls) == (BatchStatus.SUCCEEDED, 1)
    assert stub.saves == [key]
    assert stub.calls == [Call(key, 1, 0, 1)]
    assert stub.saved == {key}

"""The real LLM provider end to end when the chat completion's envelope is broken, or the
content tries to give orders: real Temporal dev server + PostgreSQL, a worker built by
`running_worker` with the OpenAIProvider, a local OpenAI-compatible server
(`deploy.local.fake_openai`) as the only LLM.

- valid questions with a malformed `usage`: the batch completes in one call, its usage
  recorded as unknown (0 tokens, counted by the worker's metric);
- no usable choices or text: the batch's repair path (a top-up call), never a retry of the
  same call; an LLM that keeps answering so fails the batch at once, with the reason;
- content with a fake end marker and orders: carried intact as data, and whatever the
  answer, only schema-valid questions are saved."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.fake_openai import FakeOpenAI, Fault
from quizgen.domain import BatchStatus, QuizStatus, TokenUsage
from quizgen.questions import normalize_text
from tests.support import openai_cases
from tests.support.flows import question_rows
from tests.support.openai_cases import (
    INJECTED,
    MC,
    TF,
    B,
    assert_all_succeeded,
    generate_activity_starts,
    key,
    metered_client,
    run_quiz,
    spec,
    texts,
)

# The fake server of each test: a fixture of tests/support/openai_cases.py.
server = openai_cases.server


async def _metric(url: str, name: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(url)).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


async def test_valid_questions_with_a_malformed_usage_complete_the_batch_in_one_call(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    server.add_faults(Fault.bad_usage())
    batch = B(MC, 3)
    client, metrics_url = await metered_client(temporal_env)
    quiz_id, record = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"m1": [batch]}), client=client
    )

    assert_all_succeeded(record, 3)
    [seen] = server.requests
    assert seen.fault == Fault.bad_usage()
    [attempt] = record.generation_metadata.generation_attempts
    result = attempt.batch_results[key("m1", batch)]
    # One call, one attempt: nothing retried, nothing repaired.
    assert (result.llm_calls, result.tokens) == (1, TokenUsage())
    [start] = await generate_activity_starts(temporal_env, quiz_id, key("m1", batch))
    assert (start.attempt, start.last_failure) == (1, None)
    assert record.generation_metadata.tokens == server.delivered_usage() == TokenUsage()
    rows = await question_rows(engine, quiz_id)
    assert {r.normalized_text for r in rows} == {normalize_text(t) for t in texts(seen.questions)}
    assert await _metric(metrics_url, "quizgen_llm_usage_unknown_total") == 1


@pytest.mark.parametrize(
    "fault",
    [Fault.no_choices(), Fault.bad_choices("abc"), Fault.no_content(None)],
    ids=["no-choices", "choices-not-a-list", "no-content"],
)
async def test_an_answer_without_usable_choices_takes_the_repair_path_not_a_retry(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    server: FakeOpenAI,
    fault: Fault,
) -> None:
    server.add_faults(fault)
    batch = B(TF, 3)
    quiz_id, record = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"m1": [batch]})
    )

    assert_all_succeeded(record, 3)
    first, second = server.requests
    assert first.fault == fault and second.fault is None
    # The second request is the batch's next call (a top-up), not the same call again.
    assert (first.prompt.kind, second.prompt.kind) == ("generate", "topup")
    assert second.prompt.count == 3
    starts = await generate_activity_starts(temporal_env, quiz_id, key("m1", batch))
    assert [(s.attempt, s.last_failure) for s in starts] == [(1, None), (1, None)]
    [attempt] = record.generation_metadata.generation_attempts
    result = attempt.batch_results[key("m1", batch)]
    assert result.llm_calls == 2
    # Tokens of the answer without output were spent, and are counted.
    assert result.tokens == server.delivered_usage() and result.tokens.prompt_tokens > 0


async def test_an_llm_that_never_answers_with_text_fails_the_batch_at_once_with_the_reason(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    server.add_faults(*[Fault.no_choices()] * 5)
    batch = B(MC, 3)
    quiz_id, record = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"m1": [batch]})
    )

    assert record.status is QuizStatus.FAILED
    # The first call and one top-up: a top-up without output shows the model has run dry.
    assert len(server.requests) == 2
    [attempt] = record.generation_metadata.generation_attempts
    result = attempt.batch_results[key("m1", batch)]
    assert result.status is BatchStatus.FAILED
    assert result.error is not None and "held no choices" in result.error
    starts = await generate_activity_starts(temporal_env, quiz_id, key("m1", batch))
    assert [s.attempt for s in starts] == [1, 1]
    assert await question_rows(engine, quiz_id) == []


async def test_injected_content_is_carried_as_data_and_only_valid_questions_are_saved(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    # A model that obeyed the content (an HTML page for an answer), then one that did not.
    server.add_faults(Fault.answer_text("<html><script>alert('owned')</script></html>"))
    batch = B(TF, 3)
    quiz_id, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"m1": [batch]}, contents={"m1": INJECTED}),
    )

    assert_all_succeeded(record, 3)
    first, second = server.requests
    for seen in (first, second):
        assert seen.prompt.content == INJECTED
        assert (seen.prompt.question_type, seen.prompt.count) == (TF, 3)
    assert second.prompt.kind == "topup"
    rows = await question_rows(engine, quiz_id)
    assert {r.normalized_text for r in rows} == {normalize_text(t) for t in texts(second.questions)}

"""The real LLM provider end to end when the LLM misbehaves: real Temporal dev server +
PostgreSQL, a worker built by `running_worker` with the OpenAIProvider, a local
OpenAI-compatible server (`deploy.local.fake_openai`) as the only LLM: rate limits, server
errors, a bad API key, malformed, short and invalid answers, slow answers and timeouts; each
an acceptance case of the "real LLM provider" issue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import TimeoutType
from temporalio.testing import WorkflowEnvironment

from deploy.local.fake_openai import FakeOpenAI, Fault
from quizgen.domain import BatchStatus, QuizStatus
from quizgen.questions import normalize_text
from tests.support import openai_cases
from tests.support.flows import question_rows
from tests.support.openai_cases import (
    FIB,
    MC,
    TF,
    B,
    assert_all_succeeded,
    config,
    generate_activity_starts,
    key,
    run_quiz,
    spec,
    texts,
)
from workflows._policies import llm_call_headroom

# The fake server of each test: a fixture of tests/support/openai_cases.py.
server = openai_cases.server


# --- end to end through Temporal ---------------------------------------------------------------


async def test_rate_limit_waits_for_retry_after_then_succeeds(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    # Longer than the retry policy's first interval (1 s), so only Retry-After explains it.
    server.add_faults(Fault.rate_limited(retry_after="2"))
    _, record = await run_quiz(temporal_env, engine, task_queue, server, spec({"m1": [B(MC, 3)]}))

    assert_all_succeeded(record, 3)
    first, second = server.requests
    assert (first.status, second.status) == (429, 200)
    assert first.answered_at is not None
    assert second.received_at - first.answered_at >= 2.0


async def test_server_error_then_success(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    server.add_faults(Fault.server_error(500))
    batch = B(TF, 4)
    quiz_id, record = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"m1": [batch]})
    )

    assert_all_succeeded(record, 4)
    assert [r.status for r in server.requests] == [500, 200]
    [attempt] = record.generation_metadata.generation_attempts
    assert attempt.batch_results[key("m1", batch)].llm_calls == 1  # one call, two attempts
    [start] = await generate_activity_starts(temporal_env, quiz_id, key("m1", batch))
    assert start.attempt == 2
    assert start.last_failure is not None and "500" in start.last_failure


async def test_bad_api_key_fails_the_batch_at_once_without_retries(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    # Any further request would succeed: only the absence of retries keeps the batch failed.
    server.add_faults(Fault.unauthorized())
    batch = B(MC, 3)
    quiz_id, record = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"m1": [batch]})
    )

    assert record.status is QuizStatus.FAILED
    assert len(server.requests) == 1
    [attempt] = record.generation_metadata.generation_attempts
    result = attempt.batch_results[key("m1", batch)]
    assert result.status is BatchStatus.FAILED
    assert result.error is not None and "API key" in result.error
    assert record.failure_message is not None and "API key" in record.failure_message
    [start] = await generate_activity_starts(temporal_env, quiz_id, key("m1", batch))
    assert start.attempt == 1
    assert await question_rows(engine, quiz_id) == []


async def test_malformed_json_is_recovered_by_a_top_up_call(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    server.add_faults(Fault.malformed())
    _, record = await run_quiz(temporal_env, engine, task_queue, server, spec({"m1": [B(FIB, 3)]}))

    assert_all_succeeded(record, 3)
    first, second = server.requests
    assert first.fault == Fault.malformed()
    assert (first.prompt.kind, second.prompt.kind) == ("generate", "topup")
    assert second.prompt.count == 3
    assert second.prompt.avoid_texts == []


async def test_too_few_questions_top_up_asks_only_for_the_rest_and_lists_the_accepted(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    # Three of five: short, but not so short that topping up is futile (under half is).
    server.add_faults(Fault.short(keep=3))
    quiz_id, record = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"m1": [B(MC, 5)]})
    )

    assert_all_succeeded(record, 5)
    first, second = server.requests
    assert len(first.questions) == 3
    topup = second.prompt
    assert topup.kind == "topup"
    assert topup.count == 2
    assert topup.avoid_texts == texts(first.questions)
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == 5
    assert len({r.normalized_text for r in rows}) == 5
    assert {normalize_text(t) for t in texts(first.questions + second.questions)} == {
        r.normalized_text for r in rows
    }


async def test_invalid_questions_are_sent_back_alone_with_their_reasons(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    server.add_faults(Fault.invalid(broken=2))
    quiz_id, record = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"m1": [B(MC, 5)]})
    )

    assert_all_succeeded(record, 5)
    first, second = server.requests
    broken, valid = first.questions[:2], first.questions[2:]
    assert [q["correct_answer"] for q in broken] == ["E", "E"]
    repair = second.prompt
    assert repair.kind == "repair"
    assert repair.count == 2
    assert [question for question, _ in repair.rejected] == broken
    for _, reason in repair.rejected:
        assert "correct_answer" in reason
    # The accepted ones are not sent back for repair, only listed as existing.
    assert repair.avoid_texts == texts(valid)
    rows = await question_rows(engine, quiz_id)
    assert len({r.normalized_text for r in rows}) == 5


async def test_a_slow_answer_is_waited_for_while_the_activity_heartbeats(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    # 2.5 s is more than twice the heartbeat timeout: without heartbeats Temporal
    # would time the attempt out and retry it.
    server.add_faults(Fault.slow(2.5))
    batch = B(TF, 3)
    quiz_id, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"m1": [batch]}),
        workflow_config=config(
            llm_heartbeat_timeout=timedelta(seconds=1), llm_call_timeout=timedelta(seconds=10)
        ),
    )

    assert_all_succeeded(record, 3)
    [seen] = server.requests
    assert seen.answered_at is not None and seen.answered_at - seen.received_at >= 2.5
    [start] = await generate_activity_starts(temporal_env, quiz_id, key("m1", batch))
    assert (start.attempt, start.last_failure) == (1, None)


@pytest.mark.parametrize("timeout_by", ["client", "temporal", "both"])
async def test_an_answer_slower_than_the_call_timeout_is_abandoned_and_retried(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    server: FakeOpenAI,
    timeout_by: str,
) -> None:
    """`client`: the provider's own timeout fires; `temporal`: start-to-close does,
    and the worker learns it through the heartbeat and cancels the HTTP call; `both`:
    the same LLM_CALL_TIMEOUT for both (as the README advises), and the client's
    readable reason is the one recorded."""
    server.add_faults(Fault.slow(6))
    batch = B(MC, 3)
    client_timeout, activity_timeout = {
        "client": (1.5, 10.0),
        "temporal": (30.0, 2.0),
        "both": (2.0, 2.0),
    }[timeout_by]
    quiz_id, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"m1": [batch]}),
        workflow_config=config(
            llm_heartbeat_timeout=timedelta(seconds=1),
            llm_call_timeout=timedelta(seconds=activity_timeout),
        ),
        provider_overrides={"llm_call_timeout": timedelta(seconds=client_timeout)},
    )

    assert_all_succeeded(record, 3)
    assert len(server.requests) >= 2
    first, *rest = server.requests
    assert first.abandoned  # the client hung up: nobody waited the full 6 s
    assert first.answered_at is not None
    activity_limit = (
        activity_timeout
        + llm_call_headroom(
            config(llm_call_timeout=timedelta(seconds=activity_timeout))
        ).total_seconds()
    )
    assert first.answered_at - first.received_at < min(client_timeout, activity_limit) + 2
    assert all(r.status == 200 for r in rest)
    [start] = await generate_activity_starts(temporal_env, quiz_id, key("m1", batch))
    assert start.attempt == 2
    if timeout_by in ("client", "both"):
        assert any("did not answer in time" in message for message in start.failure_chain)
    else:
        # Temporal's own timeout, and not the heartbeat's: the activity heartbeated throughout.
        assert start.timeout_type == TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
    # Tokens of the abandoned answer were never reported to anyone.
    assert record.generation_metadata.tokens == server.delivered_usage()


async def test_the_retry_shows_why_the_previous_attempt_failed(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    server.add_faults(Fault.slow(3))
    batch = B(TF, 2)
    quiz_id, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"m1": [batch]}),
        provider_overrides={"llm_call_timeout": timedelta(seconds=0.5)},
    )

    assert_all_succeeded(record, 2)
    [start] = await generate_activity_starts(temporal_env, quiz_id, key("m1", batch))
    assert start.attempt == 2
    # What an operator sees on the retried activity (history, Web UI, describe()).
    assert start.last_failure is not None and "did not answer in time" in start.last_failure

"""The real LLM provider: `OpenAIProvider` with the real `openai` client, against a local
OpenAI-compatible server (`tests.support.fake_openai`), no network.

Two levels:

- provider level: `provider.generate(...)` straight against the fake server (fast);
  how the request looks, how each failure is classified, json_schema fallback;
- end to end: real Temporal dev server + PostgreSQL, a worker built by
  `running_worker` with the OpenAIProvider: each acceptance case of the "real
  LLM provider" issue, with the fake server as the only LLM.
"""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import TimeoutType
from temporalio.testing import WorkflowEnvironment

from activities.llm.base import GenerationRequest
from activities.llm.openai_provider import OpenAIProvider
from activities.llm.prompts import response_schema
from quizgen import orchestration
from quizgen.contracts import GenerationConfig
from quizgen.db import repository as repo
from quizgen.domain import (
    BatchSpec,
    BatchStatus,
    Difficulty,
    Language,
    ModuleSpec,
    QuestionType,
    QuizSpec,
    QuizStatus,
    TokenUsage,
    Tone,
    batch_key,
)
from quizgen.errors import PermanentProviderError, TransientProviderError
from quizgen.names import GENERATE_QUESTIONS_ACTIVITY, batch_workflow_id
from quizgen.questions import normalize_text
from quizgen.samples import CELLS_SAMPLE, ENGLISH_SAMPLE, NORWEGIAN_SAMPLE
from quizgen.settings import Settings
from quizgen.validation import validate_output
from tests.support.fake_openai import FakeOpenAI, Fault
from tests.support.flows import TEST_CONFIG, question_rows, running_worker, wait_for_attempts

MC = QuestionType.MULTIPLE_CHOICE
TF = QuestionType.TRUE_FALSE
FIB = QuestionType.FILL_IN_BLANK
MATCHING = QuestionType.MATCHING
CAT = QuestionType.CATEGORIZATION

SETTINGS_MODEL = "settings-model"
SETTINGS_TEMPERATURE = 0.3


# --- building blocks -------------------------------------------------------------------------


def provider_settings(server: FakeOpenAI, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_provider": "openai",
        "openai_base_url": server.base_url,
        "openai_api_key": "test-key",
        "llm_model": SETTINGS_MODEL,
        "llm_temperature": SETTINGS_TEMPERATURE,
        "llm_call_timeout": timedelta(seconds=10),
    }
    return Settings(_env_file=None, **(values | overrides))


@asynccontextmanager
async def openai_provider(server: FakeOpenAI, **overrides: Any) -> AsyncIterator[OpenAIProvider]:
    """The provider as the worker builds it (its own client, from Settings)."""
    provider = OpenAIProvider(provider_settings(server, **overrides))
    try:
        yield provider
    finally:
        # The provider has no close(); its client owns sockets that must not leak.
        await provider._client.close()


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def gen_request(
    question_type: QuestionType = MC,
    count: int = 3,
    *,
    language: Language = Language.ENGLISH,
    **fields: Any,
) -> GenerationRequest:
    return GenerationRequest(
        batch_key=f"m1_{question_type.value}_{count}_medium",
        module_id="m1",
        module_name="Photosynthesis basics",
        content=NORWEGIAN_SAMPLE if language is Language.NORWEGIAN else ENGLISH_SAMPLE,
        question_type=question_type,
        difficulty=Difficulty.MEDIUM,
        language=language,
        tone=Tone.ACADEMIC,
        count=count,
        **fields,
    )


@dataclass(frozen=True)
class B:
    """One batch of a test quiz."""

    question_type: QuestionType
    count: int
    difficulty: Difficulty = Difficulty.MEDIUM


def spec(
    modules: dict[str, list[B]],
    *,
    language: Language = Language.ENGLISH,
    contents: dict[str, str] | None = None,
    llm_model: str | None = None,
    temperature: float | None = None,
) -> QuizSpec:
    default = NORWEGIAN_SAMPLE if language is Language.NORWEGIAN else ENGLISH_SAMPLE
    return QuizSpec(
        title="LLM provider test",
        language=language,
        modules=[
            ModuleSpec(
                module_id=module_id,
                name=f"Module {module_id}",
                content=(contents or {}).get(module_id, default),
                batches=[
                    BatchSpec(question_type=b.question_type, count=b.count, difficulty=b.difficulty)
                    for b in batches
                ],
            )
            for module_id, batches in modules.items()
        ],
        llm_model=llm_model,
        temperature=temperature,
    )


def key(module_id: str, b: B) -> str:
    return batch_key(module_id, b.question_type, b.count, b.difficulty)


def config(**changes: Any) -> GenerationConfig:
    return TEST_CONFIG.model_copy(update=changes)


async def run_quiz(
    env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    server: FakeOpenAI,
    quiz: QuizSpec,
    *,
    workflow_config: GenerationConfig = TEST_CONFIG,
    provider_overrides: dict[str, Any] | None = None,
    **worker_settings: Any,
) -> tuple[uuid.UUID, repo.QuizRecord]:
    """Create the quiz, run one generation round with an OpenAIProvider worker, return it."""
    quiz_id = await repo.create_quiz(engine, "teacher", quiz)
    worker_settings.setdefault("llm_call_timeout", timedelta(seconds=10))
    async with (
        openai_provider(server, **(provider_overrides or {})) as provider,
        running_worker(env.client, engine, provider, task_queue, **worker_settings),
    ):
        await orchestration.start_generation(
            env.client, quiz_id, task_queue=task_queue, config=workflow_config
        )
        record = await wait_for_attempts(engine, quiz_id, 1, within_seconds=40)
    return quiz_id, record


@dataclass(frozen=True)
class ActivityStart:
    attempt: int
    # What Temporal kept of the previous attempt's failure: its message, and every
    # message down its cause chain.
    last_failure: str | None
    failure_chain: list[str]
    timeout_type: int | None


async def generate_activity_starts(
    env: WorkflowEnvironment, quiz_id: uuid.UUID, key: str
) -> list[ActivityStart]:
    """The LLM activity's `ActivityTaskStarted` events in the batch workflow's history.

    Temporal records only the last attempt of an activity, with `attempt` and the
    previous attempt's failure (`last_failure`).
    """
    handle = env.client.get_workflow_handle(batch_workflow_id(quiz_id, key))
    history = await handle.fetch_history()
    types: dict[int, str] = {}
    starts: list[ActivityStart] = []
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            types[event.event_id] = (
                event.activity_task_scheduled_event_attributes.activity_type.name
            )
        elif event.HasField("activity_task_started_event_attributes"):
            attrs = event.activity_task_started_event_attributes
            if types.get(attrs.scheduled_event_id) != GENERATE_QUESTIONS_ACTIVITY:
                continue
            failure = attrs.last_failure if attrs.HasField("last_failure") else None
            chain: list[str] = []
            cause = failure
            while cause is not None:
                chain.append(cause.message)
                cause = cause.cause if cause.HasField("cause") else None
            starts.append(
                ActivityStart(
                    attempt=attrs.attempt,
                    last_failure=failure.message if failure else None,
                    failure_chain=chain,
                    timeout_type=failure.timeout_failure_info.timeout_type
                    if failure and failure.HasField("timeout_failure_info")
                    else None,
                )
            )
    return starts


def assert_all_succeeded(record: repo.QuizRecord, target: int) -> None:
    assert record.status is QuizStatus.READY_FOR_REVIEW, (
        record.status,
        record.failure_message,
        [
            r.error
            for a in record.generation_metadata.generation_attempts
            for r in a.batch_results.values()
        ],
    )
    assert record.generation_metadata.total_questions_saved == target


def texts(questions: list[dict[str, Any]]) -> list[str]:
    return [q["question_text"] for q in questions]


# --- provider level ----------------------------------------------------------------------------


@pytest.mark.parametrize("question_type", list(QuestionType))
async def test_request_is_a_structured_chat_completion_for_the_type(
    server: FakeOpenAI, question_type: QuestionType
) -> None:
    async with openai_provider(server) as provider:
        response = await provider.generate(gen_request(question_type, 3))

    [seen] = server.requests
    assert seen.authorization == "Bearer test-key"
    assert seen.model == SETTINGS_MODEL
    assert seen.temperature == SETTINGS_TEMPERATURE
    assert seen.body["max_completion_tokens"] == Settings(_env_file=None).llm_max_output_tokens
    assert "max_tokens" not in seen.body
    assert seen.response_format_type == "json_schema"
    assert seen.schema_name == f"{question_type.value}_questions"
    assert seen.body["response_format"]["json_schema"]["schema"] == response_schema(question_type)
    assert [m["role"] for m in seen.messages] == ["system", "user"]
    # The prompt itself names the same type, the count and the module's content.
    prompt = seen.prompt
    assert (prompt.kind, prompt.question_type, prompt.count) == ("generate", question_type, 3)
    assert prompt.content is not None and prompt.content.strip() == ENGLISH_SAMPLE.strip()

    assert response.usage == seen.usage
    report = validate_output(question_type, response.raw)
    assert report.output_error is None and not report.rejected
    assert texts(report.valid) == texts(seen.questions)
    assert len(report.valid) == 3


async def test_the_request_model_and_temperature_win_over_settings_even_zero(
    server: FakeOpenAI,
) -> None:
    async with openai_provider(server) as provider:
        await provider.generate(gen_request(model="quiz-model", temperature=0.0))
        await provider.generate(gen_request(model="quiz-model"))
        await provider.generate(gen_request(temperature=1.2))

    assert [(r.model, r.temperature) for r in server.requests] == [
        ("quiz-model", 0.0),
        ("quiz-model", SETTINGS_TEMPERATURE),
        (SETTINGS_MODEL, 1.2),
    ]


@pytest.mark.parametrize(
    ("fault", "retry_after"),
    [
        (Fault.rate_limited(retry_after="2"), 2.0),
        (Fault.rate_limited(retry_after=None), None),
        (Fault.server_error(500), None),
        (Fault.server_error(502), None),
        (Fault.server_error(503), None),
        (Fault.error(408, "Request timeout"), None),
        (Fault.error(409, "Conflict"), None),
    ],
    ids=["429-retry-after", "429", "500", "502", "503", "408", "409"],
)
async def test_retryable_statuses_become_transient_errors_without_client_retries(
    server: FakeOpenAI, fault: Fault, retry_after: float | None
) -> None:
    server.add_faults(fault)
    async with openai_provider(server) as provider:
        with pytest.raises(TransientProviderError) as caught:
            await provider.generate(gen_request())

    assert caught.value.retry_after_seconds == retry_after
    assert str(fault.status) in str(caught.value)
    # max_retries=0: Temporal retries, the SDK must not.
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.unauthorized(), ["API key", "401"]),
        (Fault.error(403, "You are not allowed to sample from this model"), ["403"]),
        (Fault.error(404, "The model `nope` does not exist", "model_not_found"), ["404", "model"]),
        (Fault.error(400, "This model's maximum context length is 8192 tokens."), ["8192"]),
        (Fault.error(422, "Unprocessable entity"), ["422", "Unprocessable"]),
    ],
    ids=["401", "403", "404", "400", "422"],
)
async def test_other_client_errors_are_permanent_with_a_readable_reason(
    server: FakeOpenAI, fault: Fault, words: list[str]
) -> None:
    server.add_faults(fault)
    async with openai_provider(server) as provider:
        with pytest.raises(PermanentProviderError) as caught:
            await provider.generate(gen_request())

    for word in words:
        assert word in str(caught.value)
    assert len(server.requests) == 1


async def test_a_wrong_api_key_is_refused_as_permanent(server: FakeOpenAI) -> None:
    """Not scripted: the server itself checks the key the client sends."""
    async with openai_provider(server, openai_api_key="sk-wrong") as provider:
        with pytest.raises(PermanentProviderError, match="API key"):
            await provider.generate(gen_request())
    assert [r.status for r in server.requests] == [401]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0"}, 0.0),
    ],
)
async def test_retry_after_header_forms(
    server: FakeOpenAI, headers: dict[str, str], expected: float
) -> None:
    await _assert_retry_after(server, headers, expected)


async def test_retry_after_as_an_http_date(server: FakeOpenAI) -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    error = await _rate_limited_error(server, {"retry-after": when})
    assert error.retry_after_seconds is not None
    assert 3.0 <= error.retry_after_seconds <= 5.0


async def test_an_unparsable_retry_after_is_ignored(server: FakeOpenAI) -> None:
    await _assert_retry_after(server, {"retry-after": "soon"}, None)


async def test_a_non_finite_retry_after_is_ignored(server: FakeOpenAI) -> None:
    await _assert_retry_after(server, {"retry-after": "nan"}, None)


async def _rate_limited_error(
    server: FakeOpenAI, headers: dict[str, str]
) -> TransientProviderError:
    server.add_faults(Fault.rate_limited(retry_after=None, headers=headers))
    async with openai_provider(server) as provider:
        with pytest.raises(TransientProviderError) as caught:
            await provider.generate(gen_request())
    return caught.value


async def _assert_retry_after(
    server: FakeOpenAI, headers: dict[str, str], expected: float | None
) -> None:
    error = await _rate_limited_error(server, headers)
    assert error.retry_after_seconds == expected


async def test_a_client_timeout_is_transient_and_the_server_sees_the_hang_up(
    server: FakeOpenAI,
) -> None:
    server.add_faults(Fault.slow(5))
    started = time.monotonic()
    async with openai_provider(server, llm_call_timeout=timedelta(seconds=0.5)) as provider:
        with pytest.raises(TransientProviderError, match="did not answer in time"):
            await provider.generate(gen_request())
    assert time.monotonic() - started < 3
    await asyncio.sleep(0.2)
    [seen] = server.requests
    assert seen.abandoned and seen.usage is None
    assert server.delivered_usage() == TokenUsage()


async def test_an_unreachable_server_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nobody listens
    settings = Settings(
        _env_file=None,
        llm_provider="openai",
        openai_base_url=f"http://127.0.0.1:{port}/v1",
        openai_api_key="test-key",
    )
    provider = OpenAIProvider(settings)
    try:
        with pytest.raises(TransientProviderError, match="cannot reach"):
            await provider.generate(gen_request())
    finally:
        await provider._client.close()


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        (Fault.refusal(), PermanentProviderError, "refused"),
        (Fault.content_filter(), PermanentProviderError, "content filter"),
        (Fault.no_choices(), TransientProviderError, "no choices"),
    ],
    ids=["refusal", "content-filter", "no-choices"],
)
async def test_answers_without_questions(
    server: FakeOpenAI, fault: Fault, error: type[Exception], words: str
) -> None:
    server.add_faults(fault)
    async with openai_provider(server) as provider:
        with pytest.raises(error, match=words):
            await provider.generate(gen_request())


async def test_untrusted_content_is_returned_raw_for_validation(server: FakeOpenAI) -> None:
    server.add_faults(Fault.malformed(), Fault.invalid(2))
    async with openai_provider(server) as provider:
        malformed = await provider.generate(gen_request(MC, 4))
        invalid = await provider.generate(gen_request(MC, 4))

    assert validate_output(MC, malformed.raw).output_error is not None
    assert malformed.usage == server.requests[0].usage  # tokens were spent all the same
    report = validate_output(MC, invalid.raw)
    assert len(report.valid) == 2
    assert [r.question for r in report.rejected] == server.requests[1].questions[:2]


@pytest.mark.parametrize("language", list(Language))
async def test_without_json_schema_support_it_falls_back_to_json_mode_once(
    language: Language,
) -> None:
    async with (
        FakeOpenAI(json_schema_supported=False) as server,
        openai_provider(server) as provider,
    ):
        first = await provider.generate(gen_request(TF, 3, language=language))
        second = await provider.generate(gen_request(MATCHING, 3, language=language))

    assert [(r.response_format_type, r.status) for r in server.requests] == [
        ("json_schema", 400),
        ("json_object", 200),
        ("json_object", 200),
    ]
    # In JSON mode the type and its rules come from the prompt alone.
    assert server.requests[1].prompt.question_type is TF
    assert server.requests[2].prompt.question_type is MATCHING
    assert len(validate_output(TF, first.raw).valid) == 3
    assert len(validate_output(MATCHING, second.raw).valid) == 3


async def test_a_422_refusing_json_schema_also_falls_back_to_json_mode() -> None:
    async with (
        FakeOpenAI(json_schema_supported=False, json_schema_error_status=422) as server,
        openai_provider(server) as provider,
    ):
        response = await provider.generate(gen_request(MC, 2))

    assert [r.response_format_type for r in server.requests] == ["json_schema", "json_object"]
    assert len(validate_output(MC, response.raw).valid) == 2


@pytest.mark.parametrize(
    "fault",
    [
        Fault.raw(200, "<html><body>Sign in to the proxy</body></html>"),
        Fault.raw(200, '{"id": "chatcmpl-1", "choices": [', "application/json"),
    ],
    ids=["html", "broken-json"],
)
async def test_a_body_that_is_not_a_chat_completion_is_a_provider_error(
    server: FakeOpenAI, fault: Fault
) -> None:
    server.add_faults(fault)
    async with openai_provider(server) as provider:
        with pytest.raises((TransientProviderError, PermanentProviderError)):
            await provider.generate(gen_request())


async def test_an_unrelated_bad_request_does_not_switch_off_json_schema(
    server: FakeOpenAI,
) -> None:
    server.add_faults(Fault.error(400, "This model's maximum context length is 8192 tokens."))
    async with openai_provider(server) as provider:
        with pytest.raises(PermanentProviderError):
            await provider.generate(gen_request())
        await provider.generate(gen_request())

    assert [r.response_format_type for r in server.requests] == ["json_schema", "json_schema"]


# --- end to end through Temporal ---------------------------------------------------------------


async def test_all_five_types_end_to_end(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    modules = {"m1": [B(MC, 3), B(TF, 3), B(FIB, 3)], "m2": [B(MATCHING, 3), B(CAT, 3)]}
    quiz_id, record = await run_quiz(temporal_env, engine, task_queue, server, spec(modules))

    assert_all_succeeded(record, 15)
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == 15
    assert {r.batch_key for r in rows} == {key(m, b) for m, bs in modules.items() for b in bs}
    assert len({r.normalized_text for r in rows}) == 15
    assert len(server.requests) == 5
    assert {r.question_type for r in server.requests} == set(QuestionType)
    for seen in server.requests:
        assert seen.response_format_type == "json_schema"
        # The prompt's words name the same type as the schema does.
        assert seen.prompt.question_type is seen.question_type


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
    server.add_faults(Fault.short(keep=2))
    quiz_id, record = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"m1": [B(MC, 5)]})
    )

    assert_all_succeeded(record, 5)
    first, second = server.requests
    assert len(first.questions) == 2
    topup = second.prompt
    assert topup.kind == "topup"
    assert topup.count == 3
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


@pytest.mark.parametrize("timeout_by", ["client", "temporal"])
async def test_an_answer_slower_than_the_call_timeout_is_abandoned_and_retried(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    server: FakeOpenAI,
    timeout_by: str,
) -> None:
    """`client`: the provider's own timeout fires; `temporal`: start-to-close does,
    and the worker learns it through the heartbeat and cancels the HTTP call."""
    server.add_faults(Fault.slow(6))
    batch = B(MC, 3)
    client_timeout, activity_timeout = (1.5, 10.0) if timeout_by == "client" else (30.0, 2.0)
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
    assert first.answered_at - first.received_at < min(client_timeout, activity_timeout) + 2
    assert all(r.status == 200 for r in rest)
    [start] = await generate_activity_starts(temporal_env, quiz_id, key("m1", batch))
    assert start.attempt == 2
    if timeout_by == "client":
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


async def test_without_json_schema_support_the_quiz_uses_json_mode(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    async with FakeOpenAI(json_schema_supported=False) as server:
        _, record = await run_quiz(
            temporal_env,
            engine,
            task_queue,
            server,
            spec({"m1": [B(CAT, 2), B(MATCHING, 2)]}),
            # One batch after the other, so "later calls" is well defined.
            workflow_config=config(max_concurrent_batches=1),
        )

    assert_all_succeeded(record, 4)
    assert [(r.response_format_type, r.status) for r in server.requests] == [
        ("json_schema", 400),
        ("json_object", 200),
        ("json_object", 200),
    ]
    assert {server.requests[1].question_type, server.requests[2].question_type} == {CAT, MATCHING}


async def test_token_totals_are_exactly_what_the_server_reported(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    batches = [B(MC, 3), B(TF, 4), B(FIB, 2), B(MATCHING, 2)]
    server.add_faults(
        Fault.malformed().only_for(MC),  # tokens spent on an unusable answer still count
        Fault.short(keep=1).only_for(TF),
        Fault.slow(6).only_for(FIB),  # abandoned: never delivered, never counted
        Fault.server_error(503).only_for(MATCHING),  # no usage at all
    )
    _, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"m1": batches}),
        provider_overrides={"llm_call_timeout": timedelta(seconds=1.5)},
    )

    assert_all_succeeded(record, 11)
    assert server.faults == []
    assert sum(r.abandoned for r in server.requests) == 1
    meta = record.generation_metadata
    [attempt] = meta.generation_attempts
    assert meta.tokens == server.delivered_usage()
    assert meta.tokens.prompt_tokens > 0 and meta.tokens.completion_tokens > 0
    assert attempt.tokens == meta.tokens
    assert sum((r.tokens for r in attempt.batch_results.values()), TokenUsage()) == attempt.tokens
    for b in batches:
        mine = [r for r in server.requests if r.question_type is b.question_type]
        assert attempt.batch_results[key("m1", b)].tokens == server.delivered_usage(mine), b


async def test_cached_prompt_tokens_are_recorded_per_call_and_in_the_totals(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    """Batches of one module share the prompt's prefix (content, then rules): the provider
    caches it, and every cached token it reports is counted, per batch and in the totals."""
    long_content = " ".join([ENGLISH_SAMPLE] * 4)
    batches = [B(TF, 3, Difficulty.EASY), B(TF, 3, Difficulty.HARD), B(MC, 3)]
    _, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"m1": batches}, contents={"m1": long_content}),
        workflow_config=config(max_concurrent_batches=1),
    )
    assert_all_succeeded(record, 9)
    meta = record.generation_metadata
    [attempt] = meta.generation_attempts
    delivered = server.delivered_usage()
    assert meta.tokens == attempt.tokens == delivered
    # The first call pays for its prompt in full; the later ones reuse its prefix.
    assert next(r.usage.cached_prompt_tokens for r in server.requests if r.usage) == 0
    assert 0 < delivered.cached_prompt_tokens < delivered.prompt_tokens
    for b in batches:
        mine = [r for r in server.requests if r.question_type is b.question_type]
        mine = [r for r in mine if r.prompt.difficulty is b.difficulty]
        assert attempt.batch_results[key("m1", b)].tokens == server.delivered_usage(mine), b


async def test_llm_concurrency_cap_holds_across_ten_batches(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    # At most four batches per module: ten batches in three modules.
    modules = {
        "m1": [B(t, 2, Difficulty.EASY) for t in (MC, TF, FIB, MATCHING)],
        "m2": [B(t, 2, Difficulty.HARD) for t in (MC, TF, FIB, CAT)],
        "m3": [B(t, 2, Difficulty.MEDIUM) for t in (MATCHING, CAT)],
    }
    async with FakeOpenAI(delay=0.3) as server:
        _, record = await run_quiz(
            temporal_env,
            engine,
            task_queue,
            server,
            spec(modules, contents={"m2": CELLS_SAMPLE}),
            workflow_config=config(max_concurrent_batches=10),
            llm_max_concurrency=2,
        )

    assert_all_succeeded(record, 20)
    assert len(server.requests) >= 10
    assert server.max_in_flight == 2


async def test_per_quiz_model_and_temperature_with_settings_defaults_otherwise(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    _, custom = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"custom": [B(MC, 2)]}, llm_model="quiz-model", temperature=0.0),
    )
    _, default = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"plain": [B(MC, 2)]})
    )

    assert_all_succeeded(custom, 2)
    assert_all_succeeded(default, 2)

    def seen_by(module: str) -> set[tuple[str | None, float | None]]:
        return {
            (r.model, r.temperature)
            for r in server.requests
            if r.prompt.module_name == f"Module {module}"
        }

    assert seen_by("custom") == {("quiz-model", 0.0)}
    assert seen_by("plain") == {(SETTINGS_MODEL, SETTINGS_TEMPERATURE)}


async def test_a_norwegian_quiz_sends_norwegian_prompts(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    server.add_faults(Fault.short(keep=1).only_for(TF))
    quiz_id, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"vik": [B(MC, 3), B(TF, 3)]}, language=Language.NORWEGIAN),
    )

    assert_all_succeeded(record, 6)
    assert len(server.requests) == 3
    for seen in server.requests:
        assert "Skriv alle spørsmål på norsk" in seen.system
        assert seen.prompt.language is Language.NORWEGIAN
        assert "Fagstoff:" in seen.user and "nøyaktig" in seen.user
        assert seen.prompt.question_type is seen.question_type
        assert "Write" not in seen.user and "Course content" not in seen.user
    [topup] = [r for r in server.requests if r.prompt.kind == "topup"]
    assert "nye spørsmål av typen sant/usant" in topup.user
    assert "Disse spørsmålene finnes allerede" in topup.user
    quiz = await repo.get_quiz(engine, quiz_id)
    assert quiz.spec.language is Language.NORWEGIAN

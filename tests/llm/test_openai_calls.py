"""The real LLM provider at provider level: `OpenAIProvider` with the real `openai` client,
`provider.generate(...)` straight against a local OpenAI-compatible server
(`deploy.local.fake_openai`), no network (fast): how the request looks, how each failure is
classified, json_schema fallback."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from datetime import timedelta

import pytest
from pydantic import ValidationError

from deploy.local.fake_openai import FakeOpenAI, Fault
from quizgen.domain import Language, QuestionType, TokenUsage
from quizgen.errors import PermanentProviderError, TransientProviderError
from quizgen.llm.capped_http import MAX_RESPONSE_BYTES
from quizgen.llm.openai_provider import OpenAIProvider
from quizgen.llm.prompts import response_schema
from quizgen.samples import ENGLISH_SAMPLE
from quizgen.settings import Settings
from quizgen.validation import validate_output
from tests.support import openai_cases
from tests.support.openai_cases import (
    MATCHING,
    MC,
    SETTINGS_MODEL,
    SETTINGS_TEMPERATURE,
    TF,
    gen_request,
    openai_provider,
    texts,
)

pytestmark = pytest.mark.fast

# The fake server of each test: a fixture of tests/support/openai_cases.py.
server = openai_cases.server


# --- provider level ----------------------------------------------------------------------------


@pytest.mark.parametrize("question_type", list(QuestionType))
async def test_request_is_a_structured_chat_completion_for_the_type(
    server: FakeOpenAI, question_type: QuestionType
) -> None:
    async with openai_provider(server) as provider:
        response = await provider.generate(gen_request(question_type, 3))

    [seen] = server.requests
    assert seen.authorization == f"Bearer {server.api_key}"
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
        (Fault.raw(404, "<html><body>Not Found</body></html>"), ["404", "OPENAI_BASE_URL"]),
        (Fault.error(400, "This model's maximum context length is 8192 tokens."), ["8192"]),
        (Fault.error(422, "Unprocessable entity"), ["422", "Unprocessable"]),
    ],
    ids=["401", "403", "404", "404-page", "400", "422"],
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


@pytest.mark.parametrize("url", ["not-a-url", "localhost:8000/v1", "ftp://example.com"])
def test_an_openai_base_url_that_is_not_http_is_refused_at_start(url: str) -> None:
    with pytest.raises(ValidationError, match="OPENAI_BASE_URL must be an http"):
        Settings(_env_file=None, openai_base_url=url)
    assert Settings(_env_file=None, openai_base_url="HTTPS://example.com/v1").openai_base_url
    assert Settings(_env_file=None, openai_base_url="").openai_base_url is None


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


_OVER = {
    "declared length": Fault.huge(2**30, declare_length=True),
    "chunked": Fault.huge(2**30),
    "gzip bomb": Fault.huge(2**30, gzip=True),
}


@pytest.mark.parametrize("fault", list(_OVER.values()), ids=list(_OVER))
async def test_an_answer_over_the_size_limit_is_cut_off_unread(
    server: FakeOpenAI, fault: Fault
) -> None:
    """A GiB-long answer (or a gzip stream inflating to one) is never read whole."""
    server.add_faults(fault)
    async with openai_provider(server) as provider:
        with pytest.raises(TransientProviderError, match="larger than 8 MiB; it was not read"):
            await provider.generate(gen_request())

    # What the server had handed over when the client hung up: the limit plus what the
    # sockets' buffers took (a few MiB here), not the GiB. (A gzip bomb's whole stream
    # is ~1 MiB: what shows there is the error, not the bytes sent.)
    assert server.requests[0].bytes_sent < 64 * 2**20


_UNDER = {
    "declared length": Fault.huge(MAX_RESPONSE_BYTES - 2**16, declare_length=True),
    "chunked": Fault.huge(MAX_RESPONSE_BYTES - 2**16),
    "gzip": Fault.huge(MAX_RESPONSE_BYTES - 2**16, gzip=True),
}


@pytest.mark.parametrize("fault", list(_UNDER.values()), ids=list(_UNDER))
async def test_an_answer_under_the_size_limit_is_read_whole(
    server: FakeOpenAI, fault: Fault
) -> None:
    server.add_faults(fault)
    async with openai_provider(server) as provider:
        response = await provider.generate(gen_request())

    # Read to the end (validation is what refuses content this long).
    assert response.raw == "x" * fault.size
    assert validate_output(MC, response.raw).output_error is not None


async def test_an_answer_compressed_twice_is_refused(server: FakeOpenAI) -> None:
    """Two layers of gzip could inflate twice: the second past any count of the first."""
    server.add_faults(Fault.raw(200, "{}", "application/json").encoded("gzip, gzip"))
    async with openai_provider(server) as provider:
        with pytest.raises(TransientProviderError, match="compressed twice"):
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

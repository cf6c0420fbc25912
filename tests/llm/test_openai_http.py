"""What the provider's HTTP layer says and accepts, at provider level (`OpenAIProvider` with
the real `openai` client against the local OpenAI-compatible server, no network):

- reasons a teacher sees name the failure and the setting, never the server's URL or a
  key, even when the server's own error message echoes them; the worker's log names the
  endpoint (no credentials, no query string) for operators;
- every request accepts only the content codings the answer-size cap counts, and an answer
  in any other coding (brotli, zstd) is refused unread."""

from __future__ import annotations

import logging

import pytest

from deploy.local.fake_openai import FakeOpenAI, Fault
from quizgen.errors import PermanentProviderError, ProviderError, TransientProviderError
from quizgen.llm.capped_http import ACCEPT_ENCODING
from quizgen.validation import validate_output
from tests.support import openai_cases
from tests.support.openai_cases import MC, gen_request, openai_provider

pytestmark = pytest.mark.fast

# The fake server of each test: a fixture of tests/support/openai_cases.py.
server = openai_cases.server

KEY = "sk-proj-Secret0123456789abcdef"


def _assert_no_url_or_key(reason: str, server: FakeOpenAI) -> None:
    for leak in (server.base_url, f"127.0.0.1:{server.port}", str(server.port), KEY, "Secret0"):
        assert leak not in reason, (leak, reason)
    assert "://" not in reason


# --- reasons without the URL or a key ----------------------------------------------------------


async def test_a_404_page_names_the_failure_and_the_settings_not_the_url(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """Not scripted: a base URL whose chat completions path the server does not have."""
    server.api_key = KEY
    caplog.set_level(logging.WARNING, logger="quizgen.llm.openai_provider")
    async with openai_provider(
        server, openai_base_url=f"{server.base_url}/nowhere", openai_api_key=KEY
    ) as provider:
        with pytest.raises(PermanentProviderError) as caught:
            await provider.generate(gen_request())

    reason = str(caught.value)
    assert reason == (
        "the LLM server answered 404 Not Found for the chat completions path: "
        "check OPENAI_BASE_URL (most servers' end in /v1) and LLM_MODEL"
    )
    _assert_no_url_or_key(reason, server)
    # Operators find where it went in the worker's log: the endpoint, never the key.
    logged = caplog.text
    assert f"http://127.0.0.1:{server.port}/v1/nowhere/chat/completions" in logged
    assert KEY not in logged


async def test_the_log_names_no_credentials_and_no_query_string(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="quizgen.llm.openai_provider")
    server.add_faults(Fault.raw(404, "<html><body>Not Found</body></html>"))
    base = f"http://operator:pa55word@127.0.0.1:{server.port}/v1"
    async with openai_provider(server, openai_base_url=base) as provider:
        with pytest.raises(PermanentProviderError) as caught:
            await provider.generate(gen_request())

    _assert_no_url_or_key(str(caught.value), server)
    assert f"http://127.0.0.1:{server.port}/v1/chat/completions" in caplog.text
    assert "pa55word" not in caplog.text and "operator" not in caplog.text


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, PermanentProviderError), (422, PermanentProviderError), (503, TransientProviderError)],
)
async def test_a_server_message_that_echoes_the_url_or_a_key_is_quoted_without_them(
    server: FakeOpenAI, status: int, error: type[ProviderError]
) -> None:
    server.api_key = KEY
    echo = (
        f"Invalid request to {server.base_url}/chat/completions (host 127.0.0.1:{server.port}) "
        f"with key {KEY}, header 'Bearer {KEY}', api_key=abcdef123456: max context is 8192"
    )
    server.add_faults(Fault.error(status, echo))
    async with openai_provider(server, openai_api_key=KEY) as provider:
        with pytest.raises(error) as caught:
            await provider.generate(gen_request())

    reason = str(caught.value)
    _assert_no_url_or_key(reason, server)
    assert "abcdef123456" not in reason
    # What the server said about the failure itself is kept.
    assert str(status) in reason and "max context is 8192" in reason
    assert "[redacted]" in reason


async def test_a_wrong_key_names_the_setting_not_the_key(server: FakeOpenAI) -> None:
    async with openai_provider(server, openai_api_key=KEY) as provider:
        with pytest.raises(PermanentProviderError) as caught:
            await provider.generate(gen_request())

    assert "OPENAI_API_KEY" in str(caught.value)
    _assert_no_url_or_key(str(caught.value), server)


# --- content codings -----------------------------------------------------------------------------


async def test_every_request_accepts_only_the_codings_the_cap_counts(server: FakeOpenAI) -> None:
    async with FakeOpenAI(json_schema_supported=False) as fallback:
        for fake in (server, fallback):
            async with openai_provider(fake) as provider:
                await provider.generate(gen_request(MC, 2))
                await provider.generate(gen_request(MC, 2))

    recorded = [r.accept_encoding for r in [*server.requests, *fallback.requests]]
    # The json_schema refusal and the JSON-mode calls after it too.
    assert len(recorded) == 5
    assert set(recorded) == {ACCEPT_ENCODING} == {"gzip, deflate, identity"}


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, br", "compress", "x-gzip"])
async def test_an_answer_in_a_coding_the_cap_cannot_count_is_refused_unread(
    server: FakeOpenAI, coding: str
) -> None:
    server.add_faults(Fault.raw(200, "{}", "application/json").encoded(coding))
    async with openai_provider(server) as provider:
        with pytest.raises(TransientProviderError, match="which was not asked for") as caught:
            await provider.generate(gen_request())
        # The next answer, in a counted coding, is read as ever.
        response = await provider.generate(gen_request(MC, 2))

    assert coding.split(",")[-1].strip() in str(caught.value)
    assert len(validate_output(MC, response.raw).valid) == 2


async def test_a_brotli_labelled_flood_is_refused_before_it_is_read(server: FakeOpenAI) -> None:
    """A GiB answer labelled `br`: refused on its headers, never counted at its wire size."""
    server.add_faults(Fault.huge(2**30).encoded("br"))
    async with openai_provider(server) as provider:
        with pytest.raises(TransientProviderError, match="'br'"):
            await provider.generate(gen_request())

    assert server.requests[0].bytes_sent < 64 * 2**20


@pytest.mark.parametrize("coding", ["identity", "Identity", "identity, identity"])
async def test_identity_is_accepted(server: FakeOpenAI, coding: str) -> None:
    """(gzip is read too: test_openai_calls.py's size-limit tests send it.)"""
    server.add_faults(Fault.raw(200, "{}", "application/json").encoded(coding))
    async with openai_provider(server) as provider:
        response = await provider.generate(gen_request())

    # Read: a JSON object that is no chat completion holds no output.
    assert response.raw == "" and response.output_problem is not None

"""Questions from OpenAI or any OpenAI-compatible server (Azure OpenAI, vLLM, Ollama, ...).

Temporal owns retries, so the client runs with `max_retries=0` and every error
is classified once, here:

- timeouts, connection errors, 408, 409, 429 and 5xx → `TransientProviderError`
  (Temporal retries; `Retry-After` becomes the next retry's delay);
- any other 4xx, a refusal or a content filter → `PermanentProviderError` with
  a reason a teacher can read (bad key, unknown model, refused content);
- an answer over `capped_http.MAX_RESPONSE_BYTES`, or in a content coding the
  transport cannot count → `TransientProviderError`, without reading it;
- a chat completion without usable text (no choices, no content) is an answer
  with no output, not an error: validation reports it and the batch repairs
  it; malformed `usage` is recorded as unknown (`quizgen.llm.completion`).

Reasons reach teachers (a batch's failure reason), so they name the failure
and the setting to check, never the server's URL or a key: text quoted from a
server's error is stripped of URLs and anything like a key. The worker's log
names the endpoint (scheme, host, port, path) for operators.

Output is requested as JSON matching the question type's schema (`json_schema`
response format, built from the pydantic models); a server that does not
support that gets plain JSON mode with the rules in the prompt. Either way the
answer is untrusted: `quizgen.validation` parses and checks it.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import re
import time
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat

from quizgen.errors import ConfigurationError, PermanentProviderError, TransientProviderError
from quizgen.llm.base import GenerationRequest, GenerationResponse
from quizgen.llm.capped_http import CappedTransport, ResponseRefusedError
from quizgen.llm.completion import read_completion
from quizgen.llm.prompts import build_prompt, response_schema
from quizgen.settings import Settings

__all__ = ["OpenAIProvider"]

log = logging.getLogger(__name__)

_RETRYABLE_STATUS = {408, 409, 429}


class _SchemaUnsupportedError(Exception):
    """The server does not know the `json_schema` response format."""


class OpenAIProvider:
    def __init__(self, settings: Settings, client: AsyncOpenAI | None = None) -> None:
        if client is None:
            key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
            if not key and not settings.openai_base_url:
                raise ConfigurationError(
                    "LLM_PROVIDER=openai needs OPENAI_API_KEY "
                    "(or OPENAI_BASE_URL for a local server)"
                )
            client = AsyncOpenAI(
                # Local servers (vLLM, Ollama) accept any key; the SDK insists on one.
                api_key=key or "not-needed",
                base_url=settings.openai_base_url,
                max_retries=0,
                timeout=settings.llm_call_timeout.total_seconds(),
                # The SDK's own HTTP client, reading at most MAX_RESPONSE_BYTES of an answer
                # (a transport of our own must be given the SDK's pool limits explicitly).
                http_client=openai.DefaultAsyncHttpxClient(
                    transport=CappedTransport(
                        httpx2.AsyncHTTPTransport(limits=openai.DEFAULT_CONNECTION_LIMITS)
                    )
                ),
            )
        self._client = client
        # Never quoted in a reason, even when a server's error message echoes them.
        known = (
            settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
            client.api_key,
            settings.openai_base_url,
            str(client.base_url),
            f"{client.base_url.host}:{client.base_url.port}" if client.base_url.port else None,
            client.base_url.host,
        )
        # Longest first, so that a URL goes whole before its host does.
        self._secrets = sorted({v for v in known if v and len(v) >= 6}, key=len, reverse=True)
        self._model = settings.llm_model
        self._temperature = settings.llm_temperature
        self._token_limit: dict[str, int] = {
            settings.llm_max_tokens_param: settings.llm_max_output_tokens
        }
        # Learned on the first refusal of `json_schema`; plain JSON mode from then on.
        self._json_schema_supported = True

    async def aclose(self) -> None:
        await self._client.close()

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        prompt = build_prompt(request)
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ]
        if self._json_schema_supported:
            try:
                return await self._complete(request, messages, structured=True)
            except _SchemaUnsupportedError:
                log.info("server refused json_schema output; using plain JSON mode from now on")
                self._json_schema_supported = False
        return await self._complete(request, messages, structured=False)

    async def _complete(
        self,
        request: GenerationRequest,
        messages: list[ChatCompletionMessageParam],
        *,
        structured: bool,
    ) -> GenerationResponse:
        response_format: ResponseFormat
        if structured:
            response_format = {
                "type": "json_schema",
                "json_schema": {
                    "name": f"{request.question_type.value}_questions",
                    "schema": response_schema(request.question_type),
                },
            }
        else:
            response_format = {"type": "json_object"}
            # Plain JSON mode cannot carry the schema: it goes into the prompt instead.
            schema = json.dumps(response_schema(request.question_type), ensure_ascii=False)
            messages = [*messages, {"role": "user", "content": f"JSON schema: {schema}"}]
        try:
            temperature = (
                request.temperature if request.temperature is not None else self._temperature
            )
            optional: dict[str, Any] = dict(self._token_limit)
            if temperature is not None:
                optional["temperature"] = temperature
            completion = await self._client.chat.completions.create(
                model=request.model or self._model,
                messages=messages,
                response_format=response_format,
                **optional,
            )
        except (openai.BadRequestError, openai.UnprocessableEntityError) as err:
            # Servers built on FastAPI/axum refuse an unknown response_format with 422.
            if structured and _json_schema_unsupported(err):
                raise _SchemaUnsupportedError from err
            raise self._permanent(err, request) from err
        except openai.APITimeoutError as err:
            raise TransientProviderError(f"the LLM did not answer in time ({err})") from err
        except openai.APIConnectionError as err:
            raise TransientProviderError(f"cannot reach the LLM server ({err})") from err
        except ResponseRefusedError as err:
            # The model may write a sane answer next time; if not, the retries run out.
            raise TransientProviderError(str(err)) from err
        except openai.APIStatusError as err:
            if err.code == "insufficient_quota":
                # A 429 that waiting cannot fix: the account has no credit left.
                raise PermanentProviderError(
                    "the LLM provider account has no quota left (429 insufficient_quota)"
                ) from err
            if err.status_code in _RETRYABLE_STATUS or err.status_code >= 500:
                raise TransientProviderError(
                    f"the LLM server answered {err.status_code} ({self._short(err)})",
                    retry_after_seconds=_retry_after(err.response.headers),
                ) from err
            raise self._permanent(err, request) from err
        except (openai.APIResponseValidationError, ValueError) as err:
            raise TransientProviderError(
                f"the LLM server's answer was not a chat completion ({type(err).__name__})"
            ) from err
        if not isinstance(completion, ChatCompletion):
            # E.g. a proxy's HTML page with status 200: the SDK hands back a string.
            raise TransientProviderError(
                "the LLM server did not answer with a chat completion (check OPENAI_BASE_URL)"
            )
        return read_completion(completion)

    def _permanent(
        self, err: openai.APIStatusError, request: GenerationRequest
    ) -> PermanentProviderError:
        status = err.status_code
        # For operators: where it went (no credentials, no query string). Never in a reason.
        log.warning("the LLM server at %s answered %d", _endpoint(err.request.url), status)
        if status == 401:
            reason = "the LLM provider refused the API key (401): check OPENAI_API_KEY"
        elif status == 403:
            reason = (
                "the API key may not use this model or endpoint (403): "
                "check OPENAI_API_KEY and LLM_MODEL"
            )
        elif status == 404 and _names_the_model(err):
            model = request.model or self._model
            reason = f"model {model!r} was not found at the LLM server (404): check LLM_MODEL"
        elif status == 404:
            # Not an OpenAI-style error about a model: nothing answers at this path.
            reason = (
                "the LLM server answered 404 Not Found for the chat completions path: "
                "check OPENAI_BASE_URL (most servers' end in /v1) and LLM_MODEL"
            )
        else:
            reason = f"the LLM server refused the request ({status}): {self._short(err)}"
        return PermanentProviderError(reason)

    def _short(self, err: openai.APIStatusError) -> str:
        """The server's own words about an error, bounded, without URLs or keys."""
        return _redacted(_server_message(err), self._secrets)[:300]


def _endpoint(url: httpx2.URL) -> str:
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


# A URL, a bearer token, or something shaped like an API key (sk-..., key=...).
_LEAKY = re.compile(
    r"[a-z][a-z0-9+.-]*://\S+"
    r"|\bbearer\s+\S+"
    r"|\b(?:sk|pk|rk|key|api[-_]?key)[-_=:]\s*[A-Za-z0-9*._~+/-]{6,}",
    re.IGNORECASE,
)


def _redacted(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return _LEAKY.sub("[redacted]", text)


def _json_schema_unsupported(err: openai.APIStatusError) -> bool:
    text = f"{err} {err.body}".lower()
    return "response_format" in text or "json_schema" in text


def _names_the_model(err: openai.APIStatusError) -> bool:
    """Whether a 404 is an OpenAI-style error about the model (not a page that is missing)."""
    body = err.body
    error = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False
    text = f"{error.get('code') or ''} {error.get('message') or ''}".lower()
    return "model" in text


def _server_message(err: openai.APIStatusError) -> str:
    body = err.body
    if isinstance(body, dict):
        error = body.get("error")
        message = (
            body.get("message")
            or (error.get("message") if isinstance(error, dict) else None)
            or body.get("detail")
        )
        if message:
            return str(message)
    return str(err)


def _seconds(value: str | None, scale: float = 1.0) -> float | None:
    try:
        seconds = float(value) * scale if value is not None else None
    except ValueError:
        return None
    return max(seconds, 0.0) if seconds is not None and math.isfinite(seconds) else None


def _retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date); junk is ignored."""
    if (ms := _seconds(headers.get("retry-after-ms"), scale=0.001)) is not None:
        return ms
    value = headers.get("retry-after")
    if (seconds := _seconds(value)) is not None:
        return seconds
    try:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    return max(parsed.timestamp() - time.time(), 0.0) if parsed else None

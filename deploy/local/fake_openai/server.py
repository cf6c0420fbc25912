"""The server: `FakeOpenAI` serves `POST /v1/chat/completions` on 127.0.0.1 (a free port),
inside the test's own event loop, and answers like a model would, with valid questions
written from the prompt's content by the offline generator, its usage (automatic prompt
caching included), or the next queued `Fault`; the bodies it sends are built in
`answers.py`. It records each request's Accept-Encoding header."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterable
from typing import Any, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from deploy.local.fake_openai.answers import (
    Answer,
    broken,
    chat_completion,
    error,
    huge_response,
    tokens,
)
from deploy.local.fake_openai.faults import Fault
from deploy.local.fake_openai.records import RecordedRequest
from deploy.local.servers import LocalServer
from quizgen.domain import Difficulty, TokenUsage, Tone
from quizgen.llm.base import GenerationRequest
from quizgen.llm.offline import build_questions

# --- the server ---------------------------------------------------------------------------------


# OpenAI caches prompts of 1,024 tokens or more, in blocks of 128 tokens.
CACHE_MIN_TOKENS = 1024
CACHE_BLOCK_TOKENS = 128


class FakeOpenAI:
    # Distinctive, so a scan of the test run's logs finds it if it ever leaks.
    DEFAULT_API_KEY = "sk-fake-openai-key-never-logged-5b1c"

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        delay: float = 0.0,
        json_schema_supported: bool = True,
        json_schema_error_status: int = 400,
    ) -> None:
        self.api_key = api_key
        # Every answer waits this long (on top of a `slow` fault's delay).
        self.delay = delay
        # False: `json_schema` requests get a 400 about response_format; json_object works.
        self.json_schema_supported = json_schema_supported
        # 400 with an OpenAI-style body (OpenAI, vLLM), or 422 with a FastAPI/axum-style
        # request-validation body, as servers that validate requests with a schema answer.
        self.json_schema_error_status = json_schema_error_status
        self.faults: list[Fault] = []
        self._prompts: list[str] = []
        # Until this monotonic time, every request gets a 503 (a provider outage).
        self.outage_until = 0.0
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.port = 0
        self._local: LocalServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def add_faults(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def outage(self, seconds: float) -> None:
        """Answer every request with 503 for the next `seconds` (no Retry-After)."""
        self.outage_until = time.monotonic() + seconds

    def delivered(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.delivered]

    def delivered_usage(self, requests: Iterable[RecordedRequest] | None = None) -> TokenUsage:
        """Tokens of the answers the client actually received (never of abandoned ones)."""
        chosen = self.delivered() if requests is None else [r for r in requests if r.delivered]
        return sum((r.usage for r in chosen if r.usage is not None), TokenUsage())

    # -- lifecycle

    async def __aenter__(self) -> Self:
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        self._local = LocalServer(app, "the fake OpenAI server")
        self.port = await self._local.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._local is not None
        await self._local.stop()

    # -- the endpoint

    async def _chat(self, request: Request) -> Response:
        record = RecordedRequest(
            index=len(self.requests),
            received_at=time.monotonic(),
            body={},
            authorization=request.headers.get("authorization"),
            accept_encoding=request.headers.get("accept-encoding"),
        )
        self.requests.append(record)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            status, body, headers = await self._answer(request, record)
            record.status = status
            record.answered_at = time.monotonic()
            if record.fault is not None and record.fault.kind == "raw" and not record.abandoned:
                fault = record.fault
                return Response(
                    fault.body,
                    status_code=status,
                    media_type=fault.content_type,
                    headers=dict(fault.headers),
                )
            if record.fault is not None and record.fault.kind == "huge":
                return huge_response(record.fault, record)
            return JSONResponse(body, status_code=status, headers=headers)
        finally:
            self.in_flight -= 1

    def _take_fault(self, record: RecordedRequest) -> Fault | None:
        for i, fault in enumerate(self.faults):
            if fault.question_type is None or fault.question_type is record.question_type:
                return self.faults.pop(i)
        return None

    async def _wait(self, request: Request, seconds: float) -> bool:
        """Sleep, watching the connection; False if the client hung up meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            if await request.is_disconnected():
                return False
            await asyncio.sleep(min(0.02, left))
        return not await request.is_disconnected()

    async def _answer(self, request: Request, record: RecordedRequest) -> Answer:
        if time.monotonic() < self.outage_until:
            return error(503, "The server is overloaded or not ready yet.", "server_error")
        try:
            record.body = await request.json()
        except ValueError:
            return error(400, "We could not parse the JSON body.")
        if record.authorization != f"Bearer {self.api_key}":
            return error(401, "Incorrect API key provided.", code="invalid_api_key")
        body = record.body
        response_format = body.get("response_format") or {}
        if not body.get("model") or not record.messages:
            return error(400, "'model' and 'messages' are required.")
        if response_format.get("type") == "json_schema" and not self.json_schema_supported:
            if self.json_schema_error_status == 422:
                detail = {
                    "type": "literal_error",
                    "loc": ["body", "response_format", "type"],
                    "msg": "Input should be 'text' or 'json_object'",
                    "input": "json_schema",
                }
                return 422, {"detail": [detail]}, {}
            return error(
                400,
                "Invalid parameter: 'response_format' of type 'json_schema' is not "
                "supported with this model.",
                param="response_format",
            )
        if response_format.get("type") == "json_object" and not any(
            "json" in str(m.get("content", "")).lower() for m in record.messages
        ):
            return error(
                400,
                "'messages' must contain the word 'json' in some form, to use "
                "'response_format' of type 'json_object'.",
                param="messages",
            )

        fault = self._take_fault(record)
        record.fault = fault
        delay = self.delay + (fault.delay if fault and fault.kind == "slow" else 0.0)
        if delay and not await self._wait(request, delay):
            record.abandoned = True
            return 499, {"error": {"message": "client closed the connection"}}, {}

        if fault is not None and fault.kind in ("raw", "huge"):
            return fault.status, {}, {}
        if fault is not None and fault.kind == "status":
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["retry-after"] = fault.retry_after
            return error(
                fault.status, fault.message, fault.error_type, fault.error_code, headers=headers
            )

        questions = self._questions(record)
        content: str | None
        finish_reason = "stop"
        refusal: str | None = None
        if fault is not None and fault.kind == "malformed":
            content = '{"questions": [{"question_text": "What is'  # cut off mid-answer
        elif fault is not None and fault.kind == "refusal":
            content, refusal = None, fault.message
        elif fault is not None and fault.kind == "content_filter":
            content, finish_reason = None, "content_filter"
        else:
            if fault is not None and fault.kind == "short":
                questions = questions[: fault.keep]
            if fault is not None and fault.kind == "invalid" and record.question_type:
                question_type = record.question_type
                questions = [
                    broken(q, question_type) if i < fault.broken else q
                    for i, q in enumerate(questions)
                ]
            content = json.dumps({"questions": questions}, ensure_ascii=False)
            if fault is None or fault.kind not in ("no_choices", "bad_choices"):
                record.questions = questions
        prompt = "\n".join(str(m.get("content", "")) for m in record.messages)
        usage = TokenUsage(
            prompt_tokens=tokens(len(prompt)),
            completion_tokens=tokens(len(content or "")),
            cached_prompt_tokens=self._cached_tokens(prompt),
        )
        # What the client can count: nothing, when the fault garbled the report.
        record.usage = TokenUsage() if fault is not None and fault.kind == "bad_usage" else usage
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
        return 200, chat_completion(record, body["model"], message, finish_reason, usage, fault), {}

    def _cached_tokens(self, prompt: str) -> int:
        """Automatic prompt caching as OpenAI does it: the longest prefix this server saw
        before, in whole blocks of CACHE_BLOCK_TOKENS, for prompts of CACHE_MIN_TOKENS or more."""
        cached = 0
        if tokens(len(prompt)) >= CACHE_MIN_TOKENS:
            for earlier in self._prompts:
                shared = len(os.path.commonprefix([earlier, prompt]))  # noqa: RUF071 - by character
                cached = max(cached, tokens(shared) // CACHE_BLOCK_TOKENS * CACHE_BLOCK_TOKENS)
        self._prompts.append(prompt)
        return min(cached, tokens(len(prompt)))

    def _questions(self, record: RecordedRequest) -> list[dict[str, Any]]:
        prompt = record.prompt
        question_type = record.question_type
        if question_type is None or prompt.content is None or not prompt.count:
            return []
        return build_questions(
            GenerationRequest(
                batch_key=f"fake-{prompt.module_name}",
                module_id="fake",
                module_name=prompt.module_name or "module",
                content=prompt.content,
                question_type=question_type,
                difficulty=prompt.difficulty or Difficulty.MEDIUM,
                language=prompt.language,
                tone=Tone.ACADEMIC,
                count=prompt.count,
                # A model gives a different answer each time; the offline builder varies by this.
                call_index=record.index,
                avoid_texts=prompt.avoid_texts,
            )
        )

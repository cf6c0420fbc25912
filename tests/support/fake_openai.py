"""A local OpenAI-compatible chat-completions server for the tests: no network, no key.

`FakeOpenAI` serves `POST /v1/chat/completions` on 127.0.0.1 (a free port),
inside the test's own event loop, and answers like a model would: it reads the
prompt (question type from `response_format.json_schema.name`, or from the
prompt text in `json_object` mode; the count from "exactly N" / "nøyaktig N";
the course content between `<<<` and `>>>`; the "do not repeat" list) and
writes valid questions from that content with the offline generator. Every
answer reports `usage`; `delivered_usage()` is the running total of the answers
the client actually received.

A test scripts misbehaviour with a queue of `Fault`s: each request takes the
first queued fault that matches it (by question type, when the fault names
one). `FakeOpenAI(json_schema_supported=False)` plays a server without
structured output: `json_schema` requests get a 400 (or, with
`json_schema_error_status=422`, a FastAPI-style 422), `json_object` ones work.
Every request is recorded (`RecordedRequest`): when it arrived and was
answered, what it asked for, what it got, and whether the client hung up first.

    async with FakeOpenAI() as server:
        server.add_faults(Fault.rate_limited(retry_after="2"))
        ...  # point an OpenAIProvider at server.base_url
        assert server.delivered_usage() == ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import socket
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources import files
from typing import Any, Literal, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activities.llm.base import GenerationRequest
from activities.llm.offline import build_questions
from quizgen.domain import Difficulty, Language, QuestionType, TokenUsage, Tone

__all__ = ["FakeOpenAI", "Fault", "ParsedPrompt", "RecordedRequest", "parse_prompt"]

Kind = Literal[
    "status",  # an HTTP error with an OpenAI-style error body
    "malformed",  # 200, but the content is not JSON
    "short",  # 200 with fewer questions than asked for
    "invalid",  # 200 with some questions broken
    "slow",  # the right answer, after a delay (abandoned if the client hangs up)
    "refusal",  # 200, the model refuses (message.refusal)
    "content_filter",  # 200, finish_reason content_filter
    "no_choices",  # 200 with an empty choices list
    "raw",  # any status with this body text, e.g. a proxy's HTML page
]


@dataclass(frozen=True)
class Fault:
    kind: Kind
    status: int = 200
    message: str = ""
    error_type: str = "server_error"
    error_code: str | None = None
    retry_after: str | None = None
    # More response headers of a status fault, e.g. (("retry-after-ms", "1500"),).
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    keep: int = 0
    broken: int = 0
    # A `raw` fault's body, as is.
    body: str = ""
    content_type: str = "text/html"
    # Only requests for this question type take the fault (None: any request).
    question_type: QuestionType | None = None

    def only_for(self, question_type: QuestionType) -> Fault:
        return replace(self, question_type=question_type)

    @classmethod
    def rate_limited(
        cls, retry_after: str | None = "1", headers: dict[str, str] | None = None
    ) -> Fault:
        return cls(
            "status",
            status=429,
            message="Rate limit reached for requests. Please try again later.",
            error_type="requests",
            error_code="rate_limit_exceeded",
            retry_after=retry_after,
            headers=tuple((headers or {}).items()),
        )

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(
            "status",
            status=status,
            message="The server had an error while processing your request. Sorry about that!",
        )

    @classmethod
    def unauthorized(cls) -> Fault:
        return cls(
            "status",
            status=401,
            message="Incorrect API key provided: sk-***. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            error_type="invalid_request_error",
            error_code="invalid_api_key",
        )

    @classmethod
    def error(cls, status: int, message: str, code: str | None = None) -> Fault:
        return cls(
            "status",
            status=status,
            message=message,
            error_type="invalid_request_error",
            error_code=code,
        )

    @classmethod
    def malformed(cls) -> Fault:
        return cls("malformed")

    @classmethod
    def short(cls, keep: int) -> Fault:
        return cls("short", keep=keep)

    @classmethod
    def invalid(cls, broken: int) -> Fault:
        return cls("invalid", broken=broken)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", delay=seconds)

    @classmethod
    def refusal(cls) -> Fault:
        return cls("refusal", message="I'm sorry, but I can't help with that request.")

    @classmethod
    def content_filter(cls) -> Fault:
        return cls("content_filter")

    @classmethod
    def no_choices(cls) -> Fault:
        return cls("no_choices")

    @classmethod
    def raw(cls, status: int, body: str, content_type: str = "text/html") -> Fault:
        return cls("raw", status=status, body=body, content_type=content_type)


# --- reading a prompt the way a model would -------------------------------------------------


@cache
def _words(language: Language) -> dict[str, dict[str, str]]:
    text = files("activities.llm.prompts").joinpath(language.value, "words.json").read_text("utf-8")
    words: dict[str, dict[str, str]] = json.loads(text)
    return words


_AVOID_HEADER = {
    Language.ENGLISH: "These questions already exist; do not repeat or paraphrase them:",
    Language.NORWEGIAN: "Disse spørsmålene finnes allerede; ikke gjenta eller omformuler dem:",
}
_TYPE_PATTERNS = {
    Language.ENGLISH: [
        re.compile(r"Write exactly \d+ (?:more )?(.+?) questions of "),
        re.compile(r"These (.+?) questions \("),
    ],
    Language.NORWEGIAN: [
        re.compile(r"spørsmål av typen (.+?) med "),
        re.compile(r"spørsmålene av typen (.+?) \("),
    ],
}
_REJECTED_LINE = re.compile(r"^- (.*)\n  reason: (.*)$", re.MULTILINE)
_COUNT = re.compile(r"(?:exactly|nøyaktig) (\d+)")


PromptKind = Literal["generate", "topup", "repair"]


@dataclass(frozen=True)
class ParsedPrompt:
    """What a prompt asks for, read from its text alone."""

    language: Language
    kind: PromptKind
    module_name: str | None
    content: str | None
    count: int | None
    question_type: QuestionType | None
    difficulty: Difficulty | None
    avoid_texts: list[str]
    # (question as shown, reason) per rejected question of a repair prompt.
    rejected: list[tuple[dict[str, Any] | None, str]]


def parse_prompt(user: str) -> ParsedPrompt:
    language = Language.NORWEGIAN if "Fagstoff:" in user else Language.ENGLISH
    words = _words(language)
    repair, topup = {
        Language.ENGLISH: ("were rejected", r"Write exactly \d+ more "),
        Language.NORWEGIAN: ("ble avvist", r"nøyaktig \d+ nye "),
    }[language]
    kind: PromptKind = (
        "repair" if repair in user else "topup" if re.search(topup, user) else "generate"
    )
    name = re.search(r"^(?:Module|Modul): (.*)$", user, re.MULTILINE)
    content = re.search(r"<<<\n(.*?)\n>>>", user, re.DOTALL)
    counts = _COUNT.findall(user)
    type_names = {text: QuestionType(key) for key, text in words["question_type"].items()}
    question_type = None
    for pattern in _TYPE_PATTERNS[language]:
        if (found := pattern.search(user)) and found.group(1) in type_names:
            question_type = type_names[found.group(1)]
            break
    difficulty = next(
        (Difficulty(key) for key, text in words["difficulty"].items() if text in user), None
    )
    avoid: list[str] = []
    header = _AVOID_HEADER[language]
    if header in user:
        for line in user.split(header, 1)[1].lstrip("\n").splitlines():
            if not line.startswith("- "):
                break
            avoid.append(line[2:])
    rejected: list[tuple[dict[str, Any] | None, str]] = []
    for shown, reason in _REJECTED_LINE.findall(user.split(header, 1)[0]):
        question = None if shown == "(not shown)" else json.loads(shown)
        rejected.append((question, reason))
    return ParsedPrompt(
        language=language,
        kind=kind,
        module_name=name.group(1) if name else None,
        content=content.group(1) if content else None,
        # Every template ends with "... exactly N items"; rules may say "exactly one".
        count=int(counts[-1]) if counts else None,
        question_type=question_type,
        difficulty=difficulty,
        avoid_texts=avoid,
        rejected=rejected,
    )


# --- what the server saw ----------------------------------------------------------------------


@dataclass
class RecordedRequest:
    index: int
    received_at: float  # time.monotonic()
    body: dict[str, Any]
    authorization: str | None
    answered_at: float | None = None
    status: int | None = None
    fault: Fault | None = None
    questions: list[dict[str, Any]] = field(default_factory=list)
    usage: TokenUsage | None = None
    # The client hung up before the answer was sent: it never saw it.
    abandoned: bool = False

    @property
    def model(self) -> str | None:
        return self.body.get("model")

    @property
    def temperature(self) -> float | None:
        return self.body.get("temperature")

    @property
    def response_format_type(self) -> str | None:
        return (self.body.get("response_format") or {}).get("type")

    @property
    def schema_name(self) -> str | None:
        return ((self.body.get("response_format") or {}).get("json_schema") or {}).get("name")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    def _message(self, role: str) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)

    @property
    def system(self) -> str:
        return self._message("system")

    @property
    def user(self) -> str:
        return self._message("user")

    @property
    def prompt(self) -> ParsedPrompt:
        return parse_prompt(self.user)

    @property
    def question_type(self) -> QuestionType | None:
        """From the schema name when there is one, else from the prompt text."""
        name = self.schema_name
        if name and name.endswith("_questions"):
            with contextlib.suppress(ValueError):
                return QuestionType(name.removesuffix("_questions"))
        return self.prompt.question_type

    @property
    def delivered(self) -> bool:
        return self.status == 200 and not self.abandoned and self.usage is not None


# --- the server ---------------------------------------------------------------------------------


# OpenAI caches prompts of 1,024 tokens or more, in blocks of 128 tokens.
CACHE_MIN_TOKENS = 1024
CACHE_BLOCK_TOKENS = 128


def _tokens(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


Answer = tuple[int, dict[str, Any], dict[str, str]]


def _error(
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    code: str | None = None,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return status, body, headers or {}


def _break(question: dict[str, Any], question_type: QuestionType) -> dict[str, Any]:
    broken = dict(question)
    if question_type is QuestionType.MULTIPLE_CHOICE:
        broken["correct_answer"] = "E"
    else:
        broken["unexpected_field"] = "not allowed"
    return broken


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Ctrl-C belongs to pytest, not to a server inside a test.
        yield


class FakeOpenAI:
    def __init__(
        self,
        *,
        api_key: str = "test-key",
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
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

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
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._sock = sock
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                    raise RuntimeError("the fake OpenAI server stopped during startup")
                await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        try:
            async with asyncio.timeout(5):
                await self._task
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            self._sock.close()

    # -- the endpoint

    async def _chat(self, request: Request) -> Response:
        record = RecordedRequest(
            index=len(self.requests),
            received_at=time.monotonic(),
            body={},
            authorization=request.headers.get("authorization"),
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
                return Response(fault.body, status_code=status, media_type=fault.content_type)
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
            return _error(503, "The server is overloaded or not ready yet.", "server_error")
        try:
            record.body = await request.json()
        except ValueError:
            return _error(400, "We could not parse the JSON body.")
        if record.authorization != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", code="invalid_api_key")
        body = record.body
        response_format = body.get("response_format") or {}
        if not body.get("model") or not record.messages:
            return _error(400, "'model' and 'messages' are required.")
        if response_format.get("type") == "json_schema" and not self.json_schema_supported:
            if self.json_schema_error_status == 422:
                detail = {
                    "type": "literal_error",
                    "loc": ["body", "response_format", "type"],
                    "msg": "Input should be 'text' or 'json_object'",
                    "input": "json_schema",
                }
                return 422, {"detail": [detail]}, {}
            return _error(
                400,
                "Invalid parameter: 'response_format' of type 'json_schema' is not "
                "supported with this model.",
                param="response_format",
            )
        if response_format.get("type") == "json_object" and not any(
            "json" in str(m.get("content", "")).lower() for m in record.messages
        ):
            return _error(
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

        if fault is not None and fault.kind == "raw":
            return fault.status, {}, {}
        if fault is not None and fault.kind == "status":
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["retry-after"] = fault.retry_after
            return _error(
                fault.status, fault.message, fault.error_type, fault.error_code, headers=headers
            )

        questions = self._questions(record)
        content: str | None
        finish_reason = "stop"
        refusal: str | None = None
        choices_wanted = True
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
                    _break(q, question_type) if i < fault.broken else q
                    for i, q in enumerate(questions)
                ]
            choices_wanted = not (fault is not None and fault.kind == "no_choices")
            content = json.dumps({"questions": questions}, ensure_ascii=False)
            record.questions = questions
        prompt = "\n".join(str(m.get("content", "")) for m in record.messages)
        usage = TokenUsage(
            prompt_tokens=_tokens(len(prompt)),
            completion_tokens=_tokens(len(content or "")),
            cached_prompt_tokens=self._cached_tokens(prompt),
        )
        record.usage = usage
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
        return (
            200,
            {
                "id": f"chatcmpl-fake-{record.index}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": finish_reason,
                        "logprobs": None,
                    }
                ]
                if choices_wanted
                else [],
                "usage": {
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "total_tokens": usage.total_tokens,
                    "prompt_tokens_details": {"cached_tokens": usage.cached_prompt_tokens},
                },
            },
            {},
        )

    def _cached_tokens(self, prompt: str) -> int:
        """Automatic prompt caching as OpenAI does it: the longest prefix this server saw
        before, in whole blocks of CACHE_BLOCK_TOKENS, for prompts of CACHE_MIN_TOKENS or more."""
        cached = 0
        if _tokens(len(prompt)) >= CACHE_MIN_TOKENS:
            for earlier in self._prompts:
                shared = len(os.path.commonprefix([earlier, prompt]))  # noqa: RUF071 - by character
                cached = max(cached, _tokens(shared) // CACHE_BLOCK_TOKENS * CACHE_BLOCK_TOKENS)
        self._prompts.append(prompt)
        return min(cached, _tokens(len(prompt)))

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

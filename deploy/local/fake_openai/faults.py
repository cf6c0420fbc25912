"""The misbehaviour a test scripts for `FakeOpenAI`: a queue of `Fault`s, each taken by the
first request it matches (by question type, when the fault names one)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal

from quizgen.domain import QuestionType

Kind = Literal[
    "status",  # an HTTP error with an OpenAI-style error body
    "malformed",  # 200, but the content is not JSON
    "short",  # 200 with fewer questions than asked for
    "invalid",  # 200 with some questions broken
    "slow",  # the right answer, after a delay (abandoned if the client hangs up)
    "refusal",  # 200, the model refuses (message.refusal)
    "content_filter",  # 200, finish_reason content_filter
    "no_choices",  # 200 with an empty choices list
    "bad_choices",  # 200, `choices` replaced by `replacement` (e.g. a message without text)
    "bad_usage",  # 200, the right questions, `usage` replaced by `replacement` (e.g. junk)
    "raw",  # any status with this body text, e.g. a proxy's HTML page
    "huge",  # 200, a chat completion whose content is `size` characters, sent as it is made
]


# A usage report of the wrong types, as a broken proxy or server may send.
_BAD_USAGE = {"prompt_tokens": "many", "completion_tokens": 12, "total_tokens": "many"}


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
    # A `huge` fault's content length in characters; whether its Content-Length is
    # declared up front (else it is sent chunked); whether it is gzip-encoded.
    size: int = 0
    declare_length: bool = False
    gzip: bool = False
    # What a `bad_choices` / `bad_usage` fault puts in place of that field, as JSON.
    replacement: str = "null"
    # Only requests for this question type take the fault (None: any request).
    question_type: QuestionType | None = None

    def only_for(self, question_type: QuestionType) -> Fault:
        return replace(self, question_type=question_type)

    def encoded(self, content_encoding: str) -> Fault:
        """The same answer, claiming this Content-Encoding (the body is not re-encoded)."""
        return replace(self, headers=(*self.headers, ("content-encoding", content_encoding)))

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
    def bad_choices(cls, choices: Any) -> Fault:
        """`choices` as given (any JSON value) in place of the answer's."""
        return cls("bad_choices", replacement=json.dumps(choices))

    @classmethod
    def no_content(cls, content: Any = None, finish_reason: str = "stop") -> Fault:
        """One choice whose message holds `content` (none, "", a number...) as is."""
        message = {"role": "assistant", "content": content, "refusal": None}
        return cls.bad_choices([{"index": 0, "message": message, "finish_reason": finish_reason}])

    @classmethod
    def answer_text(cls, text: str) -> Fault:
        """A well-formed chat completion whose message is this text (whatever the prompt)."""
        return cls.no_content(text)

    @classmethod
    def bad_usage(cls, usage: Any = _BAD_USAGE) -> Fault:
        """The right questions, with `usage` as given (any JSON value; None: no usage)."""
        return cls("bad_usage", replacement=json.dumps(usage))

    @classmethod
    def huge(cls, size: int, *, declare_length: bool = False, gzip: bool = False) -> Fault:
        if declare_length and gzip:
            raise ValueError("a gzip body is sent chunked: its length is not known up front")
        return cls("huge", size=size, declare_length=declare_length, gzip=gzip)

    @classmethod
    def raw(cls, status: int, body: str, content_type: str = "text/html") -> Fault:
        return cls("raw", status=status, body=body, content_type=content_type)

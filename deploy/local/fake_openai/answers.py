"""What `FakeOpenAI` answers with: OpenAI-style errors, chat completions (with the envelope a
`bad_usage` or `bad_choices` fault garbles), broken questions, and the streamed `huge` body."""

from __future__ import annotations

import asyncio
import json
import math
import time
import zlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.responses import StreamingResponse

from deploy.local.fake_openai.faults import Fault
from deploy.local.fake_openai.records import RecordedRequest
from quizgen.domain import QuestionType, TokenUsage

Answer = tuple[int, dict[str, Any], dict[str, str]]


def tokens(chars: int) -> int:
    """Tokens of a text as the fake counts them: a token per 4 characters."""
    return max(1, math.ceil(chars / 4))


def error(
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


def broken(question: dict[str, Any], question_type: QuestionType) -> dict[str, Any]:
    """The question with one rule broken (an `invalid` fault)."""
    changed = dict(question)
    if question_type is QuestionType.MULTIPLE_CHOICE:
        changed["correct_answer"] = "E"
    else:
        changed["unexpected_field"] = "not allowed"
    return changed


def chat_completion(
    record: RecordedRequest,
    model: str,
    message: dict[str, Any],
    finish_reason: str,
    usage: TokenUsage,
    fault: Fault | None,
) -> dict[str, Any]:
    """A chat completion body; a `bad_usage` / `bad_choices` fault replaces that field."""
    choice = {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
    body: dict[str, Any] = {
        "id": f"chatcmpl-fake-{record.index}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [] if fault is not None and fault.kind == "no_choices" else [choice],
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_prompt_tokens},
        },
    }
    if fault is not None and fault.kind == "bad_usage":
        body["usage"] = json.loads(fault.replacement)
    if fault is not None and fault.kind == "bad_choices":
        body["choices"] = json.loads(fault.replacement)
    return body


_HUGE_CHUNK = 64 * 1024


def huge_response(fault: Fault, record: RecordedRequest) -> StreamingResponse:
    """A chat completion whose content is `fault.size` x's, made as it is sent.

    Never held in memory whole (on either side, if the client stops reading);
    `record.bytes_sent` counts what was handed to the connection.
    """
    head = (
        b'{"id": "chatcmpl-huge", "object": "chat.completion", "created": 0, "model": "fake", '
        b'"choices": [{"index": 0, "finish_reason": "stop", '
        b'"message": {"role": "assistant", "content": "'
    )
    tail = b'"}}], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}'

    def plain() -> Iterable[bytes]:
        yield head
        left = fault.size
        while left > 0:
            yield b"x" * min(left, _HUGE_CHUNK)
            left -= _HUGE_CHUNK
        yield tail

    async def body() -> AsyncIterator[bytes]:
        packer = zlib.compressobj(wbits=31) if fault.gzip else None
        for part in plain():
            out = packer.compress(part) if packer else part
            if out:
                record.bytes_sent += len(out)
                yield out
            await asyncio.sleep(0)
        if packer:
            out = packer.flush()
            record.bytes_sent += len(out)
            yield out

    headers = {"content-encoding": "gzip"} if fault.gzip else {}
    # A label of the fault's own (e.g. "br"), on the same bytes: the client must refuse them.
    headers.update(fault.headers)
    if fault.declare_length:
        headers["content-length"] = str(len(head) + fault.size + len(tail))
    return StreamingResponse(body(), media_type="application/json", headers=headers)

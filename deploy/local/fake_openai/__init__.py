"""A local OpenAI-compatible chat-completions server for the tests: no network, no key.

`FakeOpenAI` serves `POST /v1/chat/completions` on 127.0.0.1 (a free port),
inside the test's own event loop, and answers like a model would: it reads the
prompt (question type from `response_format.json_schema.name`, or from the
prompt text in `json_object` mode; the count from "exactly N" / "nøyaktig N";
the course content between the `<<<CONTENT-{tag}>>>` and `<<<END-CONTENT-{tag}>>>`
lines, as data: instructions inside it are not read; the "do not repeat" list)
and writes valid questions from that content with the offline generator. Every
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

from deploy.local.fake_openai.faults import Fault
from deploy.local.fake_openai.prompts import ParsedPrompt, parse_prompt
from deploy.local.fake_openai.records import RecordedRequest
from deploy.local.fake_openai.server import FakeOpenAI

__all__ = ["FakeOpenAI", "Fault", "ParsedPrompt", "RecordedRequest", "parse_prompt"]

"""The HTTP API's limits on what a request may hold: an invalid or malformed quiz is refused
with a 422 naming the problem, an oversized body with a 413 before the body is read. The app
in-process, a real Temporal dev server and PostgreSQL behind it."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from api.limits import MAX_BODY_BYTES
from deploy.local.api import ALICE, auth
from quizgen.domain import (
    MAX_BATCHES_PER_MODULE,
    MAX_MODULE_CONTENT_CHARS,
    MAX_MODULES,
    MAX_QUESTIONS_PER_BATCH,
    MAX_QUIZ_CONTENT_CHARS,
)
from tests.support.api import error_of
from tests.support.api_cases import ONE_BATCH, Json
from tests.support.api_flows import quiz_body

# --- 5. limits: 422 naming the problem, 413 before the body is read ------------------------


def _module(module_id: str, content: str = "Cells divide by mitosis. " * 4) -> Json:
    return {
        "module_id": module_id,
        "name": f"Module {module_id}",
        "content": content,
        "batches": [{"question_type": "true_false", "count": 3, "difficulty": "easy"}],
    }


def _set(path: str, value: Any) -> Callable[[Json], None]:
    """Set `body[a][b]...` (path "a.b.0.c") to value."""

    def change(body: Json) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


_FIVE_BATCHES = [
    {"question_type": t, "count": 2, "difficulty": "easy"}
    for t in ("multiple_choice", "true_false", "fill_in_blank", "matching", "categorization")
]
_BIG_MODULES = MAX_QUIZ_CONTENT_CHARS // MAX_MODULE_CONTENT_CHARS + 1
assert _BIG_MODULES <= MAX_MODULES and len(_FIVE_BATCHES) > MAX_BATCHES_PER_MODULE

INVALID_QUIZZES = [
    pytest.param(
        _set("modules.0.content", "x" * (MAX_MODULE_CONTENT_CHARS + 1)),
        "body.modules.0.content",
        f"at most {MAX_MODULE_CONTENT_CHARS} characters",
        id="module-content-too-large",
    ),
    pytest.param(
        _set(
            "modules",
            [_module(f"m{i}", "y" * MAX_MODULE_CONTENT_CHARS) for i in range(_BIG_MODULES)],
        ),
        "body",
        f"a quiz may have at most {MAX_QUIZ_CONTENT_CHARS}",
        id="quiz-content-too-large",
    ),
    pytest.param(
        _set("modules", [_module(f"m{i}") for i in range(MAX_MODULES + 1)]),
        "body.modules",
        f"at most {MAX_MODULES} items",
        id="too-many-modules",
    ),
    pytest.param(_set("modules", []), "body.modules", "at least 1 item", id="no-modules"),
    pytest.param(
        _set("modules.0.batches", []), "body.modules.0.batches", "at least 1 item", id="0-batches"
    ),
    pytest.param(
        _set("modules.0.batches", _FIVE_BATCHES),
        "body.modules.0.batches",
        f"at most {MAX_BATCHES_PER_MODULE} items",
        id="5-batches",
    ),
    pytest.param(
        _set("modules.0.batches.0.count", 0),
        "body.modules.0.batches.0.count",
        "greater than or equal to 1",
        id="count-0",
    ),
    pytest.param(
        _set("modules.0.batches.0.count", MAX_QUESTIONS_PER_BATCH + 1),
        "body.modules.0.batches.0.count",
        f"less than or equal to {MAX_QUESTIONS_PER_BATCH}",
        id="count-21",
    ),
    pytest.param(
        _set("modules.0.batches.0.question_type", "essay"),
        "body.modules.0.batches.0.question_type",
        "'multiple_choice'",
        id="unknown-question-type",
    ),
    pytest.param(
        _set("modules.0.batches", [_FIVE_BATCHES[1], {**_FIVE_BATCHES[1], "count": 5}]),
        "body.modules.0",
        "asks twice for true_false questions of difficulty easy",
        id="duplicate-type-and-difficulty",
    ),
    pytest.param(_set("language", "de"), "body.language", "'en' or 'no'", id="bad-language"),
    pytest.param(_set("tone", "sarcastic"), "body.tone", "'academic'", id="bad-tone"),
    pytest.param(
        _set("title", ""),
        "body.title",
        "at least 1 character",
        id="empty-title",
    ),
    pytest.param(
        _set("title", " \t\n "), "body.title", "title must contain text", id="whitespace-title"
    ),
    pytest.param(
        _set("title", "\u200b\ufeff"),
        "body.title",
        "title must contain text",
        id="invisible-title",
    ),
    pytest.param(
        _set("modules.0.content", "   "),
        "body.modules.0.content",
        "content must contain text",
        id="whitespace-content",
    ),
    pytest.param(
        _set("modules", [_module("m1"), _module("m2"), _module("m1")]),
        "body",
        "module_id must be unique within a quiz; repeated: ['m1']",
        id="duplicate-module-id",
    ),
    pytest.param(
        _set("modules.0.module_id", "bio_1"),
        "body.modules.0.module_id",
        "should match pattern",
        id="module-id-with-underscore",
    ),
    pytest.param(
        _set("modules.0.module_id", "../etc"),
        "body.modules.0.module_id",
        "should match pattern",
        id="module-id-with-slash",
    ),
    pytest.param(
        _set("owner_id", "bob"), "body.owner_id", "Extra inputs are not permitted", id="extra-field"
    ),
    pytest.param(
        _set("modules.0.batches.0.hint", "x"),
        "body.modules.0.batches.0.hint",
        "Extra inputs are not permitted",
        id="extra-batch-field",
    ),
]


@pytest.mark.parametrize(("change", "loc", "message"), INVALID_QUIZZES)
async def test_invalid_quiz_is_refused_naming_the_problem(
    client: httpx.AsyncClient, change: Callable[[Json], None], loc: str, message: str
) -> None:
    body = copy.deepcopy({**quiz_body(ONE_BATCH), "modules": [_module("m1")]})
    assert (await client.post("/quizzes", json=body, headers=auth(ALICE))).status_code == 201
    change(body)
    response = await client.post("/quizzes", json=body, headers=auth(ALICE))
    error = error_of(response, 422, "invalid_request")
    assert message in error["message"]
    assert any(".".join(d["loc"]) == loc and message in d["message"] for d in error["details"]), (
        error["details"]
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "body: Field required", id="empty-body"),
        pytest.param(b"{}", "body.title: Field required", id="empty-object"),
        pytest.param(b'{"title": ', "JSON decode error", id="broken-json"),
        pytest.param(b"[]", "body", id="not-an-object"),
    ],
)
async def test_malformed_body_is_refused(
    client: httpx.AsyncClient, content: bytes, message: str
) -> None:
    headers = {**auth(ALICE), "Content-Type": "application/json"}
    response = await client.post("/quizzes", content=content, headers=headers)
    error = error_of(response, 422, "invalid_request")
    assert message in error["message"]


class _Stream:
    """A request body produced chunk by chunk; remembers how much was pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            size = min(self.chunk, self.total - self.pulled)
            self.pulled += size
            yield b" " * size


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_oversized_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, declared: bool
) -> None:
    stream = _Stream(total=4 * MAX_BODY_BYTES)
    headers = {**auth(ALICE), "Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(stream.total)
    response = await client.post("/quizzes", content=stream.__aiter__(), headers=headers)
    error = error_of(response, 413, "payload_too_large")
    assert str(MAX_BODY_BYTES) in error["message"]
    if declared:
        assert stream.pulled <= stream.chunk
    else:
        assert "Content-Length" not in response.request.headers
        assert stream.pulled <= MAX_BODY_BYTES + stream.chunk


async def test_a_body_just_under_the_limit_is_read(client: httpx.AsyncClient) -> None:
    body = quiz_body(ONE_BATCH)
    raw = httpx.Request("POST", "/", json=body).content
    padded = raw[:-1] + b" " * (MAX_BODY_BYTES - len(raw)) + raw[-1:]
    assert len(padded) == MAX_BODY_BYTES
    headers = {**auth(ALICE), "Content-Type": "application/json"}
    response = await client.post("/quizzes", content=padded, headers=headers)
    assert response.status_code == 201, response.text


async def test_the_largest_quiz_is_accepted_with_every_character_json_escaped(
    client: httpx.AsyncClient,
) -> None:
    """`json.dumps` writes non-ASCII as escapes: 12 bytes for a character outside the BMP."""
    per_module = MAX_QUIZ_CONTENT_CHARS // MAX_MODULES
    body = quiz_body(ONE_BATCH)
    [module] = body["modules"]
    body["modules"] = [
        {**module, "module_id": f"m{i}", "content": "\N{SEEDLING}" * per_module}
        for i in range(MAX_MODULES)
    ]
    raw = json.dumps(body).encode()  # ensure_ascii: surrogate pairs, as many clients send
    assert len(raw) > 12 * MAX_QUIZ_CONTENT_CHARS
    headers = {**auth(ALICE), "Content-Type": "application/json"}
    response = await client.post("/quizzes", content=raw, headers=headers)
    assert response.status_code == 201, response.text[:300]


@pytest.mark.parametrize(
    "raw",
    [b'{"title": "\xff\xfe"}', b"[" * 100_000, b'{"title": ' + b"9" * 5000 + b"}"],
    ids=["bad-utf8", "deep-nesting", "huge-number"],
)
async def test_a_body_that_is_not_readable_json_is_a_bad_request(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    headers = {**auth(ALICE), "Content-Type": "application/json"}
    response = await client.post("/quizzes", content=raw, headers=headers)
    error_of(response, 400, "bad_request")

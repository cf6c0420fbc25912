"""The JSON token count that refuses absurd bodies before `json.loads` builds them.

Exact for valid JSON (strings with escaped quotes, backslashes and brackets inside them
included), far above what a valid quiz or question edit holds, and over the limit for
the bodies that held the event loop for seconds.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from api.limits import MAX_BODY_BYTES, MAX_JSON_TOKENS, json_tokens_over
from quizgen.domain import MAX_BATCHES_PER_MODULE, MAX_MODULES
from tests.support.web import QUESTIONS

pytestmark = pytest.mark.fast


def _tokens(value: Any) -> int:
    """Strings, and `,` `:` `]` `}` outside them, counted from the parsed value."""
    if isinstance(value, dict):
        inner = sum(1 + _tokens(v) for v in value.values())  # each key, then its value
        return inner + len(value) + max(len(value) - 1, 0) + 1  # colons, commas, "}"
    if isinstance(value, list):
        return sum(_tokens(v) for v in value) + max(len(value) - 1, 0) + 1
    return 1 if isinstance(value, str) else 0


def _exactly(raw: bytes, count: int) -> bool:
    return not json_tokens_over(raw, count) and json_tokens_over(raw, count - 1)


_AWKWARD = ['a"b', "\\", '\\"', "}],:", '"{[', "\u00e9", "\U0001f331", "", " \\\\ ", "\\u0022"]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(6 if depth < 4 else 3)
    if kind == 0:
        return rng.choice(_AWKWARD) + rng.choice(_AWKWARD)
    if kind == 1:
        return rng.choice([0, -1.5, 2e10, True, False, None])
    if kind == 2:
        return rng.choice(["", "plain"])
    if kind in (3, 4):
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [rng.choice(_AWKWARD) + str(n) for n in range(rng.randrange(4))]
    return {key: _random_value(rng, depth + 1) for key in keys}


def test_the_count_is_exact_for_valid_json_however_it_is_written() -> None:
    rng = random.Random(7)
    for _ in range(500):
        value = _random_value(rng)
        count = _tokens(value)
        for raw in (
            json.dumps(value).encode(),
            json.dumps(value, ensure_ascii=False).encode(),
            json.dumps(value, indent=2).encode(),
            json.dumps(value, separators=(",", ":")).encode(),
        ):
            assert _exactly(raw, count) if count else not json_tokens_over(raw, 0), raw


def _largest_quiz() -> dict[str, Any]:
    pairs = [("multiple_choice", "easy"), ("true_false", "easy"), ("matching", "hard")]
    pairs.append(("categorization", "medium"))
    assert len(pairs) == MAX_BATCHES_PER_MODULE
    batches = [{"question_type": t, "count": 20, "difficulty": d} for t, d in pairs]
    module = {
        "name": "Cells, and more: [1], {2}",
        "content": '"Cells", he said.',
        "batches": batches,
    }
    modules = [{"module_id": f"m{m}", **module} for m in range(MAX_MODULES)]
    return {
        "title": "Largest",
        "language": "en",
        "tone": "academic",
        "llm_model": "gpt-4o-mini",
        "temperature": 0.5,
        "modules": modules,
    }


def test_every_valid_request_is_far_under_the_limit() -> None:
    quiz = json.dumps(_largest_quiz()).encode()
    edits = [
        json.dumps({"question_data": q, "is_approved": True}).encode() for q in QUESTIONS.values()
    ]
    assert not json_tokens_over(quiz, MAX_JSON_TOKENS // 2)
    assert _exactly(quiz, _tokens(_largest_quiz()))
    for edit in edits:
        assert not json_tokens_over(edit, MAX_JSON_TOKENS // 10)


def _fill(unit: bytes) -> bytes:
    """`{"title": "T", "modules": [unit, unit, ...]}`, as long as the body limit allows."""
    prefix, suffix = b'{"title": "T", "modules": [', b"]}"
    return prefix + b",".join([unit] * ((MAX_BODY_BYTES - 64) // (len(unit) + 1))) + suffix


@pytest.mark.parametrize(
    "raw",
    [
        _fill(b"[]"),  # four million lists: 1.4 s of json.loads
        _fill(b"{}"),
        _fill(b"1"),
        _fill(b'""'),
        b"{" + b",".join(b'"%d": 1' % n for n in range(MAX_BODY_BYTES // 12)) + b"}",
        b'["' + b'\\"' * (MAX_BODY_BYTES // 4) + b'"' + b',""' * MAX_JSON_TOKENS + b"]",
    ],
    ids=["lists", "objects", "numbers", "strings", "unknown-keys", "escapes-then-strings"],
)
def test_bodies_of_millions_of_values_are_over(raw: bytes) -> None:
    assert len(raw) <= MAX_BODY_BYTES
    assert json_tokens_over(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,  # unclosed: json.loads stops at its recursion limit (a 400)
        b'{"title": "' + b"," * (MAX_BODY_BYTES - 64) + b'"}',  # separators inside a string
        b'{"title": "' + b'\\"' * (MAX_BODY_BYTES // 2 - 64) + b'"}',  # escaped quotes
        b'{"title": "' + b"\\\\" * (MAX_BODY_BYTES // 2 - 64) + b'"}',  # escaped backslashes
    ],
    ids=["unclosed-brackets", "commas-in-a-string", "escaped-quotes", "escaped-backslashes"],
)
def test_large_bodies_of_few_values_are_not_over(raw: bytes) -> None:
    assert len(raw) <= MAX_BODY_BYTES
    assert not json_tokens_over(raw)

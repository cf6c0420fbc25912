"""Malformed chat-completion envelopes at provider level: `OpenAIProvider` with the real
`openai` client against the local OpenAI-compatible server (`deploy.local.fake_openai`).

What we only count (`usage`) missing or malformed is tolerated: the questions are used and
the usage is recorded as unknown (zero). What we need (choices, the message's text) missing
or malformed is an answer without output, which validation reports as unreadable, for the
batch's repair path; never an error that would retry the same call. A refusal or a content
filter stays permanent."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.local.fake_openai import FakeOpenAI, Fault
from quizgen.domain import TokenUsage
from quizgen.errors import PermanentProviderError
from quizgen.validation import validate_output
from tests.support import openai_cases
from tests.support.openai_cases import MC, gen_request, openai_provider, texts

pytestmark = pytest.mark.fast

# The fake server of each test: a fixture of tests/support/openai_cases.py.
server = openai_cases.server

_BAD_USAGE: dict[str, Any] = {
    "wrong type": {"prompt_tokens": "many", "completion_tokens": 12, "total_tokens": "many"},
    "missing": None,
    "not an object": "lots",
    "a list": [1, 2],
    "negative": {"prompt_tokens": -5, "completion_tokens": 12},
    "a float": {"prompt_tokens": 10.5, "completion_tokens": 12},
    "a bool": {"prompt_tokens": True, "completion_tokens": 12},
    "absurdly large": {"prompt_tokens": 10**30, "completion_tokens": 12},
    "no prompt_tokens": {"completion_tokens": 12},
    "cached over prompt": {
        "prompt_tokens": 10,
        "completion_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 11},
    },
    "cached of a wrong type": {
        "prompt_tokens": 10,
        "completion_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": "some"},
    },
}


@pytest.mark.parametrize("usage", list(_BAD_USAGE.values()), ids=list(_BAD_USAGE))
async def test_a_malformed_usage_is_recorded_as_unknown_and_the_questions_are_used(
    server: FakeOpenAI, usage: Any
) -> None:
    server.add_faults(Fault.bad_usage(usage))
    async with openai_provider(server) as provider:
        response = await provider.generate(gen_request(MC, 3))

    [seen] = server.requests
    assert seen.status == 200 and len(seen.questions) == 3
    assert (response.usage, response.usage_known, response.output_problem) == (
        TokenUsage(),
        False,
        None,
    )
    report = validate_output(MC, response.raw)
    assert report.output_error is None and not report.rejected
    assert texts(report.valid) == texts(seen.questions)


async def test_a_usage_without_details_or_cached_tokens_is_known(server: FakeOpenAI) -> None:
    """Most servers other than OpenAI report no cached tokens: that is not unknown usage."""
    server.add_faults(
        Fault.bad_usage({"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22}),
        Fault.bad_usage(
            {"prompt_tokens": 10, "completion_tokens": 12, "prompt_tokens_details": None}
        ),
    )
    async with openai_provider(server) as provider:
        for _ in range(2):
            response = await provider.generate(gen_request(MC, 2))
            assert response.usage_known
            assert response.usage == TokenUsage(prompt_tokens=10, completion_tokens=12)


async def test_a_well_formed_answer_has_known_usage(server: FakeOpenAI) -> None:
    async with openai_provider(server) as provider:
        response = await provider.generate(gen_request(MC, 2))

    assert response.usage_known and response.output_problem is None
    assert response.usage == server.requests[0].usage
    assert response.usage.prompt_tokens > 0


def _choice(message: Any, finish_reason: Any = "stop") -> dict[str, Any]:
    return {"index": 0, "message": message, "finish_reason": finish_reason}


_NO_OUTPUT: dict[str, tuple[Fault, str]] = {
    "empty choices": (Fault.no_choices(), "no choices"),
    "choices missing": (Fault.bad_choices(None), "no choices"),
    "choices not a list": (Fault.bad_choices("abc"), "no choices"),
    "choices an object": (Fault.bad_choices({"message": {"content": "{}"}}), "no choices"),
    "a choice that is a string": (Fault.bad_choices(["abc"]), "no text"),
    "no message": (Fault.bad_choices([_choice(None)]), "no text"),
    "content null": (Fault.no_content(None), "no text"),
    "content empty": (Fault.no_content(""), "no text"),
    "content blank": (Fault.no_content("  \n "), "no text"),
    "content a number": (Fault.no_content(42), "no text"),
    "content a list of parts": (Fault.no_content([{"type": "text", "text": "{}"}]), "no text"),
    "cut off before any text": (Fault.no_content(None, finish_reason="length"), "'length'"),
    "refusal of a wrong type": (
        Fault.bad_choices([_choice({"role": "assistant", "content": None, "refusal": 7})]),
        "no text",
    ),
}


@pytest.mark.parametrize(("fault", "words"), list(_NO_OUTPUT.values()), ids=list(_NO_OUTPUT))
async def test_an_answer_without_usable_text_is_unreadable_output_not_an_error(
    server: FakeOpenAI, fault: Fault, words: str
) -> None:
    """The answer is returned (with its usage: the tokens were spent), its text empty:
    validation reports unreadable output, which the batch repairs with a new call."""
    server.add_faults(fault)
    async with openai_provider(server) as provider:
        response = await provider.generate(gen_request(MC, 3))

    [seen] = server.requests
    assert response.raw == ""
    assert response.output_problem is not None and words in response.output_problem
    assert response.usage_known and response.usage == seen.usage
    assert validate_output(MC, response.raw).output_error is not None
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.refusal(), "refused"),
        (Fault.content_filter(), "content filter"),
        (
            Fault.bad_choices([_choice({"role": "assistant", "content": "{}"}, "content_filter")]),
            "content filter",
        ),
    ],
    ids=["refusal", "content-filter", "content-filter-with-text"],
)
async def test_refusals_and_content_filters_stay_permanent(
    server: FakeOpenAI, fault: Fault, words: str
) -> None:
    server.add_faults(fault)
    async with openai_provider(server) as provider:
        with pytest.raises(PermanentProviderError, match=words):
            await provider.generate(gen_request())
    assert len(server.requests) == 1

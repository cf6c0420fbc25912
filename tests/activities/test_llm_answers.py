"""The LLM activity's steps with answers whose envelope was broken: `call_provider` with the
real `OpenAIProvider` against the local OpenAI-compatible server (`deploy.local.fake_openai`),
in the SDK's `ActivityEnvironment` with a real Temporal runtime serving the worker's
Prometheus metrics; `check_answer` on what it returned. No Temporal server.

- malformed usage: the answer is used, its tokens are 0, and
  `quizgen_llm_usage_unknown_total{question_type}` counts it;
- no usable text: an unreadable answer with the provider's reason, for a repair call.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import ActivityEnvironment

from activities.generation_steps import call_provider, check_answer
from deploy.local.fake_openai import FakeOpenAI, Fault
from quizgen.db.batch_context import BatchContext
from quizgen.db.repository import ModuleContext
from quizgen.domain import BatchSpec, Language, ModuleSpec, TokenUsage, Tone
from tests.support import openai_cases
from tests.support.openai_cases import MC, TF, gen_request, openai_provider
from worker.app import metrics_runtime

pytestmark = pytest.mark.fast

# The fake server of each test: a fixture of tests/support/openai_cases.py.
server = openai_cases.server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def metered() -> AsyncIterator[tuple[ActivityEnvironment, str]]:
    """An activity environment whose metrics a real runtime serves, and where."""
    address = f"127.0.0.1:{_free_port()}"
    runtime = metrics_runtime(address)
    assert runtime is not None
    env = ActivityEnvironment()
    env.metric_meter = runtime.metric_meter
    yield env, f"http://{address}/metrics"


async def _samples(url: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    async with httpx.AsyncClient() as http:
        text = (await http.get(url)).text
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def _count(samples: dict[frozenset[tuple[str, str]], float], **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for key, value in samples.items() if wanted <= key)


async def test_an_answer_with_malformed_usage_is_used_and_counted_as_unknown(
    server: FakeOpenAI, metered: tuple[ActivityEnvironment, str]
) -> None:
    env, url = metered
    server.add_faults(Fault.bad_usage(), Fault.bad_usage(None))
    async with openai_provider(server) as provider:
        answers = [
            await env.run(call_provider, provider, gen_request(MC, 3)),
            await env.run(call_provider, provider, gen_request(TF, 2)),
            await env.run(call_provider, provider, gen_request(TF, 2)),  # a sound one
        ]

    assert [a.usage_known for a in answers] == [False, False, True]
    assert [a.usage for a in answers[:2]] == [TokenUsage(), TokenUsage()]
    unknown = await _samples(url, "quizgen_llm_usage_unknown_total")
    assert _count(unknown, question_type="multiple_choice") == 1
    assert _count(unknown, question_type="true_false") == 1
    # The calls themselves went well; only the sound answer's tokens are in the totals.
    calls = await _samples(url, "quizgen_llm_calls_total")
    assert _count(calls, outcome="ok") == 3
    prompt = await _samples(url, "quizgen_llm_prompt_tokens_total")
    assert _count(prompt) == answers[2].usage.prompt_tokens > 0
    # Its questions are all there for validation.
    checked = check_answer(gen_request(MC, 3), answers[0], _context())
    assert (len(checked.valid), checked.problem, checked.repairable) == (3, None, False)
    assert checked.tokens == TokenUsage()


async def test_an_answer_without_choices_is_for_a_repair_call_with_its_reason(
    server: FakeOpenAI, metered: tuple[ActivityEnvironment, str]
) -> None:
    env, url = metered
    server.add_faults(Fault.no_choices(), Fault.no_content(None, finish_reason="length"))
    request = gen_request(MC, 3)
    async with openai_provider(server) as provider:
        answers = [await env.run(call_provider, provider, request) for _ in range(2)]

    reasons = ["held no choices", "no text (finish_reason 'length')"]
    for answer, words in zip(answers, reasons, strict=True):
        checked = check_answer(request, answer, _context())
        assert (checked.valid, checked.rejected, checked.repairable) == ([], [], True)
        assert checked.problem is not None and words in checked.problem
        # Tokens spent on it are counted like any others.
        assert checked.tokens == answer.usage and answer.usage.prompt_tokens > 0
    calls = await _samples(url, "quizgen_llm_calls_total")
    assert _count(calls, outcome="ok") == 2
    assert _count(calls, outcome="transient_error") == 0
    assert await _samples(url, "quizgen_llm_usage_unknown_total") == {}


def _context() -> BatchContext:
    module = ModuleSpec(
        module_id="m1",
        name="Photosynthesis basics",
        content="Plants make sugar from light.",
        batches=[BatchSpec(question_type=MC, count=3)],
    )
    return BatchContext(
        module=ModuleContext(
            module=module,
            language=Language.ENGLISH,
            tone=Tone.ACADEMIC,
            llm_model=None,
            temperature=None,
        ),
        draft_texts=[],
        rejected=[],
        similar_texts=[],
        saved_hashes=set(),
        saved=False,
    )

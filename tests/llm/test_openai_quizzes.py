"""The real LLM provider end to end, whole quizzes: real Temporal dev server + PostgreSQL, a
worker built by `running_worker` with the OpenAIProvider, a local OpenAI-compatible server
(`deploy.local.fake_openai`) as the only LLM: all five question types, JSON mode without
json_schema support, token totals exactly as the server reported them (cached ones too), the
LLM concurrency cap, per-quiz model and temperature, Norwegian prompts; each an acceptance
case of the "real LLM provider" issue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.fake_openai import FakeOpenAI, Fault
from quizgen.db import repository as repo
from quizgen.domain import Difficulty, Language, QuestionType, TokenUsage
from quizgen.samples import CELLS_SAMPLE, ENGLISH_SAMPLE
from tests.support import openai_cases
from tests.support.flows import question_rows
from tests.support.openai_cases import (
    CAT,
    FIB,
    MATCHING,
    MC,
    SETTINGS_MODEL,
    SETTINGS_TEMPERATURE,
    TF,
    B,
    assert_all_succeeded,
    config,
    key,
    run_quiz,
    spec,
)

# The fake server of each test: a fixture of tests/support/openai_cases.py.
server = openai_cases.server


# --- end to end through Temporal ---------------------------------------------------------------


async def test_all_five_types_end_to_end(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    modules = {"m1": [B(MC, 3), B(TF, 3), B(FIB, 3)], "m2": [B(MATCHING, 3), B(CAT, 3)]}
    quiz_id, record = await run_quiz(temporal_env, engine, task_queue, server, spec(modules))

    assert_all_succeeded(record, 15)
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == 15
    assert {r.batch_key for r in rows} == {key(m, b) for m, bs in modules.items() for b in bs}
    assert len({r.normalized_text for r in rows}) == 15
    assert len(server.requests) == 5
    assert {r.question_type for r in server.requests} == set(QuestionType)
    for seen in server.requests:
        assert seen.response_format_type == "json_schema"
        # The prompt's words name the same type as the schema does.
        assert seen.prompt.question_type is seen.question_type


async def test_without_json_schema_support_the_quiz_uses_json_mode(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    async with FakeOpenAI(json_schema_supported=False) as server:
        _, record = await run_quiz(
            temporal_env,
            engine,
            task_queue,
            server,
            spec({"m1": [B(CAT, 2), B(MATCHING, 2)]}),
            # One batch after the other, so "later calls" is well defined.
            workflow_config=config(max_concurrent_batches=1),
        )

    assert_all_succeeded(record, 4)
    assert [(r.response_format_type, r.status) for r in server.requests] == [
        ("json_schema", 400),
        ("json_object", 200),
        ("json_object", 200),
    ]
    assert {server.requests[1].question_type, server.requests[2].question_type} == {CAT, MATCHING}


async def test_token_totals_are_exactly_what_the_server_reported(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    batches = [B(MC, 3), B(TF, 4), B(FIB, 2), B(MATCHING, 2)]
    server.add_faults(
        Fault.malformed().only_for(MC),  # tokens spent on an unusable answer still count
        Fault.short(keep=2).only_for(TF),  # half: topped up (under half would end the batch)
        Fault.slow(6).only_for(FIB),  # abandoned: never delivered, never counted
        Fault.server_error(503).only_for(MATCHING),  # no usage at all
    )
    _, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"m1": batches}),
        provider_overrides={"llm_call_timeout": timedelta(seconds=1.5)},
    )

    assert_all_succeeded(record, 11)
    assert server.faults == []
    assert sum(r.abandoned for r in server.requests) == 1
    meta = record.generation_metadata
    [attempt] = meta.generation_attempts
    assert meta.tokens == server.delivered_usage()
    assert meta.tokens.prompt_tokens > 0 and meta.tokens.completion_tokens > 0
    assert attempt.tokens == meta.tokens
    assert sum((r.tokens for r in attempt.batch_results.values()), TokenUsage()) == attempt.tokens
    for b in batches:
        mine = [r for r in server.requests if r.question_type is b.question_type]
        assert attempt.batch_results[key("m1", b)].tokens == server.delivered_usage(mine), b


async def test_cached_prompt_tokens_are_recorded_per_call_and_in_the_totals(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    """Batches of one module share the prompt's prefix (content, then rules): the provider
    caches it, and every cached token it reports is counted, per batch and in the totals."""
    long_content = " ".join([ENGLISH_SAMPLE] * 4)
    batches = [B(TF, 3, Difficulty.EASY), B(TF, 3, Difficulty.HARD), B(MC, 3)]
    _, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"m1": batches}, contents={"m1": long_content}),
        workflow_config=config(max_concurrent_batches=1),
    )
    assert_all_succeeded(record, 9)
    meta = record.generation_metadata
    [attempt] = meta.generation_attempts
    delivered = server.delivered_usage()
    assert meta.tokens == attempt.tokens == delivered
    # The first call pays for its prompt in full; the later ones reuse its prefix.
    assert next(r.usage.cached_prompt_tokens for r in server.requests if r.usage) == 0
    assert 0 < delivered.cached_prompt_tokens < delivered.prompt_tokens
    for b in batches:
        mine = [r for r in server.requests if r.question_type is b.question_type]
        mine = [r for r in mine if r.prompt.difficulty is b.difficulty]
        assert attempt.batch_results[key("m1", b)].tokens == server.delivered_usage(mine), b


async def test_llm_concurrency_cap_holds_across_ten_batches(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    # At most four batches per module: ten batches in three modules.
    modules = {
        "m1": [B(t, 2, Difficulty.EASY) for t in (MC, TF, FIB, MATCHING)],
        "m2": [B(t, 2, Difficulty.HARD) for t in (MC, TF, FIB, CAT)],
        "m3": [B(t, 2, Difficulty.MEDIUM) for t in (MATCHING, CAT)],
    }
    async with FakeOpenAI(delay=0.3) as server:
        _, record = await run_quiz(
            temporal_env,
            engine,
            task_queue,
            server,
            spec(modules, contents={"m2": CELLS_SAMPLE}),
            workflow_config=config(max_concurrent_batches=10),
            llm_max_concurrency=2,
        )

    assert_all_succeeded(record, 20)
    assert len(server.requests) >= 10
    assert server.max_in_flight == 2


async def test_per_quiz_model_and_temperature_with_settings_defaults_otherwise(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    _, custom = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"custom": [B(MC, 2)]}, llm_model="quiz-model", temperature=0.0),
    )
    _, default = await run_quiz(
        temporal_env, engine, task_queue, server, spec({"plain": [B(MC, 2)]})
    )

    assert_all_succeeded(custom, 2)
    assert_all_succeeded(default, 2)

    def seen_by(module: str) -> set[tuple[str | None, float | None]]:
        return {
            (r.model, r.temperature)
            for r in server.requests
            if r.prompt.module_name == f"Module {module}"
        }

    assert seen_by("custom") == {("quiz-model", 0.0)}
    assert seen_by("plain") == {(SETTINGS_MODEL, SETTINGS_TEMPERATURE)}


async def test_a_norwegian_quiz_sends_norwegian_prompts(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str, server: FakeOpenAI
) -> None:
    server.add_faults(Fault.short(keep=2).only_for(TF))
    quiz_id, record = await run_quiz(
        temporal_env,
        engine,
        task_queue,
        server,
        spec({"vik": [B(MC, 3), B(TF, 3)]}, language=Language.NORWEGIAN),
    )

    assert_all_succeeded(record, 6)
    assert len(server.requests) == 3
    for seen in server.requests:
        assert "Skriv alle spørsmål på norsk" in seen.system
        assert seen.prompt.language is Language.NORWEGIAN
        assert "Fagstoff:" in seen.user and "nøyaktig" in seen.user
        assert seen.prompt.question_type is seen.question_type
        assert "Write" not in seen.user and "Course content" not in seen.user
    [topup] = [r for r in server.requests if r.prompt.kind == "topup"]
    assert "nye spørsmål av typen sant/usant" in topup.user
    assert "Disse spørsmålene finnes allerede" in topup.user
    quiz = await repo.get_quiz(engine, quiz_id)
    assert quiz.spec.language is Language.NORWEGIAN

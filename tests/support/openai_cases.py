"""Building blocks of the tests of the real LLM provider (tests/test_openai_*.py):
`OpenAIProvider` with the real `openai` client, against a local OpenAI-compatible server
(`deploy.local.fake_openai`, the `server` fixture), no network; test quizzes, and one
generation round through a real Temporal dev server + PostgreSQL with a worker built by
`running_worker` with the OpenAIProvider."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.fake_openai import FakeOpenAI
from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.contracts import GenerationConfig
from quizgen.db import repository as repo
from quizgen.domain import (
    BatchSpec,
    Difficulty,
    Language,
    ModuleSpec,
    QuestionType,
    QuizSpec,
    QuizStatus,
    Tone,
    batch_key,
)
from quizgen.llm.base import GenerationRequest
from quizgen.llm.openai_provider import OpenAIProvider
from quizgen.samples import ENGLISH_SAMPLE, NORWEGIAN_SAMPLE
from quizgen.settings import Settings
from tests.support.flows import TEST_CONFIG, running_worker

MC = QuestionType.MULTIPLE_CHOICE
TF = QuestionType.TRUE_FALSE
FIB = QuestionType.FILL_IN_BLANK
MATCHING = QuestionType.MATCHING
CAT = QuestionType.CATEGORIZATION

SETTINGS_MODEL = "settings-model"
SETTINGS_TEMPERATURE = 0.3


# --- building blocks -------------------------------------------------------------------------


def gen_request(
    question_type: QuestionType = MC,
    count: int = 3,
    *,
    language: Language = Language.ENGLISH,
    **fields: Any,
) -> GenerationRequest:
    return GenerationRequest(
        batch_key=f"m1_{question_type.value}_{count}_medium",
        module_id="m1",
        module_name="Photosynthesis basics",
        content=NORWEGIAN_SAMPLE if language is Language.NORWEGIAN else ENGLISH_SAMPLE,
        question_type=question_type,
        difficulty=Difficulty.MEDIUM,
        language=language,
        tone=Tone.ACADEMIC,
        count=count,
        **fields,
    )


def provider_settings(server: FakeOpenAI, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_provider": "openai",
        "openai_base_url": server.base_url,
        "openai_api_key": "test-key",
        "llm_model": SETTINGS_MODEL,
        "llm_temperature": SETTINGS_TEMPERATURE,
        "llm_call_timeout": timedelta(seconds=10),
    }
    return Settings(_env_file=None, **(values | overrides))


@asynccontextmanager
async def openai_provider(server: FakeOpenAI, **overrides: Any) -> AsyncIterator[OpenAIProvider]:
    """The provider as the worker builds it (its own client, from Settings)."""
    provider = OpenAIProvider(provider_settings(server, **overrides))
    try:
        yield provider
    finally:
        # The provider has no close(); its client owns sockets that must not leak.
        await provider._client.close()


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


@dataclass(frozen=True)
class B:
    """One batch of a test quiz."""

    question_type: QuestionType
    count: int
    difficulty: Difficulty = Difficulty.MEDIUM


def spec(
    modules: dict[str, list[B]],
    *,
    language: Language = Language.ENGLISH,
    contents: dict[str, str] | None = None,
    llm_model: str | None = None,
    temperature: float | None = None,
) -> QuizSpec:
    default = NORWEGIAN_SAMPLE if language is Language.NORWEGIAN else ENGLISH_SAMPLE
    return QuizSpec(
        title="LLM provider test",
        language=language,
        modules=[
            ModuleSpec(
                module_id=module_id,
                name=f"Module {module_id}",
                content=(contents or {}).get(module_id, default),
                batches=[
                    BatchSpec(question_type=b.question_type, count=b.count, difficulty=b.difficulty)
                    for b in batches
                ],
            )
            for module_id, batches in modules.items()
        ],
        llm_model=llm_model,
        temperature=temperature,
    )


def key(module_id: str, b: B) -> str:
    return batch_key(module_id, b.question_type, b.count, b.difficulty)


def config(**changes: Any) -> GenerationConfig:
    return TEST_CONFIG.model_copy(update=changes)


async def run_quiz(
    env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    server: FakeOpenAI,
    quiz: QuizSpec,
    *,
    workflow_config: GenerationConfig = TEST_CONFIG,
    provider_overrides: dict[str, Any] | None = None,
    **worker_settings: Any,
) -> tuple[uuid.UUID, repo.QuizRecord]:
    """Create the quiz, run one generation round with an OpenAIProvider worker, return it."""
    quiz_id = await repo.create_quiz(engine, "teacher", quiz)
    worker_settings.setdefault("llm_call_timeout", timedelta(seconds=10))
    async with (
        openai_provider(server, **(provider_overrides or {})) as provider,
        running_worker(env.client, engine, provider, task_queue, **worker_settings),
    ):
        await temporal_client.start_generation(
            env.client, quiz_id, task_queue=task_queue, config=workflow_config
        )
        record = await wait_for_attempts(engine, quiz_id, 1, within_seconds=40)
    return quiz_id, record


def assert_all_succeeded(record: repo.QuizRecord, target: int) -> None:
    assert record.status is QuizStatus.READY_FOR_REVIEW, (
        record.status,
        record.failure_message,
        [
            r.error
            for a in record.generation_metadata.generation_attempts
            for r in a.batch_results.values()
        ],
    )
    assert record.generation_metadata.total_questions_saved == target


def texts(questions: list[dict[str, Any]]) -> list[str]:
    return [q["question_text"] for q in questions]

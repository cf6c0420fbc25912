"""What a quiz pays for in prompts: the "do not repeat" list's scope and cap.

Real Temporal dev server and PostgreSQL; a synthetic provider of real-LLM-size
questions that respects the list, recorded call by call.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from activities.generation_steps import MAX_AVOID_TEXTS
from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.domain import Difficulty, QuestionType, QuizStatus
from quizgen.llm.base import GenerationRequest, GenerationResponse, QuestionProvider
from quizgen.questions import normalize_text
from tests.support.bulk import BulkProvider
from tests.support.flows import (
    TEST_CONFIG,
    Batch,
    keys_of,
    make_quiz,
    question_rows,
    running_worker,
)
from tests.support.recording import RecordingProvider

TF, MC = QuestionType.TRUE_FALSE, QuestionType.MULTIPLE_CHOICE
ONE_AT_A_TIME = TEST_CONFIG.model_copy(update={"max_concurrent_batches": 1})


class SharedTexts:
    """Bulk questions whose texts do not depend on the batch: a second module repeats
    the first's, as modules with overlapping content make a model do."""

    def __init__(self) -> None:
        self._bulk = BulkProvider(question_bytes=600)

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        return await self._bulk.generate(request.model_copy(update={"batch_key": "shared"}))


async def _run(
    env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    batches: list[Batch],
    inner: QuestionProvider | None = None,
) -> tuple[RecordingProvider, dict[str, set[str]]]:
    """Run the batches one after the other; return the calls and each batch's saved texts."""
    quiz_id = await make_quiz(engine, batches)
    provider = RecordingProvider(inner or BulkProvider(question_bytes=600))
    async with running_worker(env.client, engine, provider, task_queue):
        await temporal_client.start_generation(
            env.client, quiz_id, task_queue=task_queue, config=ONE_AT_A_TIME
        )
        record = await wait_for_attempts(engine, quiz_id, 1)
    assert record.status is QuizStatus.READY_FOR_REVIEW
    saved: dict[str, set[str]] = {}
    for row in await question_rows(engine, quiz_id):
        saved.setdefault(row.batch_key, set()).add(row.normalized_text)
    return provider, saved


async def test_the_avoid_list_holds_only_the_same_module_and_question_type(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    batches: list[Batch] = [
        ("m1", TF, 3, Difficulty.EASY),
        ("m1", MC, 3, Difficulty.EASY),
        ("m2", TF, 3, Difficulty.EASY),
        ("m1", TF, 3, Difficulty.HARD),
    ]
    tf_easy, mc_easy, other_module, tf_hard = keys_of(batches)
    provider, saved = await _run(temporal_env, engine, task_queue, batches)
    first_call = {r.batch_key: r for r in provider.requests}
    assert first_call[tf_easy].avoid_texts == []
    # Another type of the same module, and the same type of another module: nothing to avoid.
    assert first_call[mc_easy].avoid_texts == []
    assert first_call[other_module].avoid_texts == []
    # The same module and type: every question saved before.
    assert {normalize_text(t) for t in first_call[tf_hard].avoid_texts} == saved[tf_easy]


async def test_the_avoid_list_is_capped(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    batches: list[Batch] = [
        ("m1", TF, 20, Difficulty.EASY),
        ("m1", TF, 20, Difficulty.MEDIUM),
        ("m1", TF, 20, Difficulty.HARD),
    ]
    easy, medium, hard = keys_of(batches)
    provider, saved = await _run(temporal_env, engine, task_queue, batches)
    [last] = [r for r in provider.requests if r.batch_key == hard]
    assert len(last.avoid_texts) == MAX_AVOID_TEXTS == 40
    assert {normalize_text(t) for t in last.avoid_texts} <= saved[easy] | saved[medium]


async def test_after_repeating_another_module_the_avoid_list_widens_to_the_quiz(
    temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    # m1 saves five texts; m2's first answer repeats three of them.
    batches: list[Batch] = [("m1", TF, 5, Difficulty.EASY), ("m2", TF, 3, Difficulty.EASY)]
    first, second = keys_of(batches)
    provider, saved = await _run(temporal_env, engine, task_queue, batches, SharedTexts())
    calls = [r for r in provider.requests if r.batch_key == second]
    # Another module's questions are not listed at first; the answer repeats them all.
    assert calls[0].avoid_texts == []
    assert {normalize_text(t) for t in saved[second]}.isdisjoint(saved[first])
    # Having repeated some, the batch is told to avoid the type's questions quiz-wide,
    # not only the ones it repeated.
    assert len(calls) == 2
    assert saved[first] <= {normalize_text(t) for t in calls[1].avoid_texts}

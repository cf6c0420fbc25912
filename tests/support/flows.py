"""Building quizzes, running workers and waiting on outcomes, for the integration tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from activities.generation import GenerationActivities
from activities.persistence import PersistenceActivities
from deploy.local.waiting import SETTLED
from quizgen.contracts import GenerationConfig, QuizProgress
from quizgen.db import repository as repo
from quizgen.db.tables import QuizRow
from quizgen.domain import (
    BatchSpec,
    Difficulty,
    ModuleSpec,
    QuestionType,
    QuizSpec,
    QuizStatus,
    batch_key,
)
from quizgen.llm.base import QuestionProvider
from quizgen.llm.faults import FaultPlan
from quizgen.names import PROGRESS_QUERY, quiz_workflow_id
from quizgen.settings import FaultKind, Settings
from tests.support.samples import ENGLISH_SAMPLE
from worker.app import build_workers, running_workers

# Short timeouts so a lost activity (killed worker) is retried within seconds.
TEST_CONFIG = GenerationConfig(
    max_concurrent_batches=4,
    repair_rounds=2,
    retry_wait=timedelta(minutes=10),
    llm_heartbeat_timeout=timedelta(seconds=2),
    llm_call_timeout=timedelta(seconds=20),
    llm_max_attempts=3,
    db_call_timeout=timedelta(seconds=10),
    db_max_attempts=5,
)

Batch = tuple[str, QuestionType, int, Difficulty]

FOUR_BATCHES: list[Batch] = [
    ("bio1", QuestionType.MULTIPLE_CHOICE, 5, Difficulty.EASY),
    ("bio1", QuestionType.TRUE_FALSE, 4, Difficulty.MEDIUM),
    ("bio2", QuestionType.FILL_IN_BLANK, 3, Difficulty.HARD),
    ("bio2", QuestionType.MATCHING, 2, Difficulty.MEDIUM),
]


def keys_of(batches: Sequence[Batch]) -> list[str]:
    return [batch_key(*b) for b in batches]


def quiz_spec(batches: Sequence[Batch], content: str = ENGLISH_SAMPLE) -> QuizSpec:
    modules: dict[str, list[BatchSpec]] = {}
    for module_id, question_type, count, difficulty in batches:
        modules.setdefault(module_id, []).append(
            BatchSpec(question_type=question_type, count=count, difficulty=difficulty)
        )
    return QuizSpec(
        title="Photosynthesis",
        modules=[
            ModuleSpec(module_id=m, name=f"Module {m}", content=content, batches=b)
            for m, b in modules.items()
        ],
    )


async def make_quiz(engine: AsyncEngine, batches: Sequence[Batch]) -> uuid.UUID:
    return await repo.create_quiz(engine, "teacher", quiz_spec(batches))


def plan_breaking(
    all_keys: Sequence[str], broken: Sequence[str], kind: FaultKind = FaultKind.PERMANENT
) -> FaultPlan:
    """A fault plan (found by trying seeds) that breaks exactly `broken` among `all_keys`."""
    rate = max(len(broken) / len(all_keys), 0.05)
    for n in range(100_000):
        plan = FaultPlan(rate=rate, seed=f"test-{n}", kinds=(kind,))
        if set(plan.faulty_batches(all_keys)) == set(broken):
            return plan
    raise AssertionError(f"no seed breaks exactly {broken}")


def test_settings(task_queue: str, database_url: str) -> Settings:
    return Settings(_env_file=None, temporal_task_queue=task_queue, database_url=database_url)


@asynccontextmanager
async def running_worker(
    client: Client,
    engine: AsyncEngine,
    provider: QuestionProvider,
    task_queue: str,
    *,
    persistence: PersistenceActivities | None = None,
    generation: GenerationActivities | None = None,
    **settings_overrides: Any,
) -> AsyncIterator[None]:
    settings = Settings(_env_file=None, temporal_task_queue=task_queue, **settings_overrides)
    workers = build_workers(
        client, settings, engine, provider, persistence=persistence, generation=generation
    )
    async with running_workers(workers):
        yield


async def wait_until(
    measure: Callable[[], Awaitable[int]], *, at_least: int, within_seconds: float = 60.0
) -> None:
    """Poll `measure` until it reaches `at_least`."""
    async with asyncio.timeout(within_seconds):
        while await measure() < at_least:  # noqa: ASYNC110 - polling a database, not an event
            await asyncio.sleep(0.05)


async def wait_for_status(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    statuses: set[QuizStatus] = SETTLED,
    within_seconds: float = 60.0,
) -> repo.QuizRecord:
    deadline = asyncio.get_running_loop().time() + within_seconds
    while True:
        record = await repo.get_quiz(engine, quiz_id)
        if record.status in statuses:
            return record
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"quiz {quiz_id} still {record.status} after {within_seconds}s")
        await asyncio.sleep(0.2)


async def force_status(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    status: QuizStatus,
    *,
    allowed_from: Collection[QuizStatus] | None = None,
) -> None:
    """Put a quiz in a status directly (a state the tests need, e.g. stuck generating)."""
    query = (
        sa.update(QuizRow.__table__)  # type: ignore[attr-defined]
        .where(sa.column("id") == quiz_id)
        .values(status=status.value)
    )
    if allowed_from is not None:
        query = query.where(sa.column("status").in_([s.value for s in allowed_from]))
    async with engine.begin() as conn:
        updated = await conn.execute(query)
    assert updated.rowcount == 1, f"quiz {quiz_id} was not in {allowed_from}"


async def query_progress(client: Client, quiz_id: uuid.UUID) -> QuizProgress:
    """The quiz workflow's `progress` query (answered by a running worker)."""
    handle = client.get_workflow_handle(quiz_workflow_id(quiz_id))
    progress: QuizProgress = await handle.query(PROGRESS_QUERY, result_type=QuizProgress)
    return progress


async def saved_batch_keys(engine: AsyncEngine, quiz_id: uuid.UUID) -> set[str]:
    """The keys of the quiz's batches PostgreSQL has saved."""
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT batch_key FROM saved_batch WHERE quiz_id = :q"), {"q": quiz_id}
        )
        return set(result.scalars())


async def saved_batch_count(engine: AsyncEngine, quiz_id: uuid.UUID) -> int:
    """How many of the quiz's batches PostgreSQL has saved."""
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT count(*) FROM saved_batch WHERE quiz_id = :q"), {"q": quiz_id}
        )
        return int(result.scalar_one())


async def question_rows(engine: AsyncEngine, quiz_id: uuid.UUID) -> list[Any]:
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.text(
                "SELECT id, batch_key, normalized_text FROM question WHERE quiz_id = :q"
                " ORDER BY batch_key, position"
            ),
            {"q": quiz_id},
        )
        return list(result)

"""The shared harness of the benchmark suite: the real stack, quizzes, workers, timing, rows.

One `Stack` per run: a Temporal dev server (as the tests start it), a fresh
PostgreSQL database built by `alembic upgrade head`, and an engine on it. Parts
make their own task queues and quizzes, so nothing one part leaves behind is
picked up by another. Worker subprocesses are tracked and killed on exit.

Quizzes get distinct course text per module (the bundled samples with a
module tag appended to their longer words): with one text shared by 20 modules
the offline generator writes the same sentences for many batches, and the
saves would spend extra LLM calls replacing duplicates, which is not what
these benchmarks measure.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.skeleton import SKELETON_ACTIVITIES, SKELETON_WORKFLOWS, SkeletonInput, SkeletonParent
from deploy.local.fake_openai import FakeOpenAI
from deploy.local.migrations import upgrade
from deploy.local.postgres import LOCAL_POSTGRES, create_database, drop_database
from deploy.local.processes import kill_all_processes
from deploy.local.temporal import server_address, start_dev_server
from quizgen import temporal_client
from quizgen.contracts import GenerationConfig, QuizWorkflowResult
from quizgen.db import repository as repo
from quizgen.db.engine import make_engine
from quizgen.domain import BatchSpec, Difficulty, ModuleSpec, QuestionType, QuizSpec
from quizgen.llm.base import QuestionProvider
from quizgen.llm.openai_provider import OpenAIProvider
from quizgen.samples import CELLS_SAMPLE, ENGLISH_SAMPLE
from quizgen.settings import LLMProviderName, Settings
from worker.app import build_workers, pool_size, running_workers

ROOT = Path(__file__).resolve().parents[1]

# Four (type, difficulty) pairs per module (the spec allows at most four, all distinct).
COMBOS = [
    (QuestionType.MULTIPLE_CHOICE, Difficulty.EASY),
    (QuestionType.TRUE_FALSE, Difficulty.MEDIUM),
    (QuestionType.FILL_IN_BLANK, Difficulty.HARD),
    (QuestionType.MULTIPLE_CHOICE, Difficulty.HARD),
]
_CONSONANTS = "bcdfghjklmnpqrstvwxz"
_LONG_WORD = re.compile(r"\b([A-Za-z]{5,})\b")


# --- results --------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table; `data` keeps the raw numbers for the JSON."""

    part: str
    measure: str
    result: str
    baseline: str
    ratio: float | None
    ratio_label: str = ""
    notes: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def millis(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def ratio(value: float, base: float) -> float | None:
    return value / base if base > 0 else None


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def spread(values: Sequence[float], fmt: Callable[[float], str] = seconds) -> str:
    return ", ".join(fmt(v) for v in values)


def pair_ratios(values: Sequence[float], bases: Sequence[float]) -> str:
    """Per-round ratios (A_i / B_i), to show how stable the median ratio is."""
    return ", ".join(f"{a / b:.2f}" for a, b in zip(values, bases, strict=True) if b > 0)


async def alternate(
    cases: Sequence[tuple[str, Callable[[], Awaitable[float]]]], rounds: int
) -> dict[str, list[float]]:
    """Run the cases A B C A B C ... `rounds` times; each returns its own measurement."""
    out: dict[str, list[float]] = {name: [] for name, _ in cases}
    for _ in range(rounds):
        for name, case in cases:
            out[name].append(await case())
    return out


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- quizzes --------------------------------------------------------------------------------


def _tag(module: int) -> str:
    return _CONSONANTS[module % 20] + _CONSONANTS[(module // 20) % 20]


def module_content(module: int, parts: int = 1) -> str:
    """Sample text whose terms are the module's own (a tag on every word of 5+ letters).

    `parts` sample texts (~1.3 KB each, each with a tag of its own) make one module.
    """
    texts = []
    for part in range(parts):
        base = (ENGLISH_SAMPLE, CELLS_SAMPLE)[(module + part) % 2]
        tag = _tag(module) + (_CONSONANTS[part % 20] if part else "")
        texts.append(_LONG_WORD.sub(rf"\g<1>{tag}", base))
    return "\n\n".join(texts)


def quiz_spec(batches: int, count: int, title: str = "Bench quiz", parts: int = 1) -> QuizSpec:
    """`batches` batches of `count` questions, four per module (so at most 80)."""
    if not 1 <= batches <= 80:
        raise ValueError("a quiz holds 1-80 batches (20 modules of 4)")
    modules = []
    for m in range(math.ceil(batches / 4)):
        combos = COMBOS[: min(4, batches - 4 * m)]
        modules.append(
            ModuleSpec(
                module_id=f"m{m}",
                name=f"Module {m}",
                content=module_content(m, parts),
                batches=[BatchSpec(question_type=t, count=count, difficulty=d) for t, d in combos],
            )
        )
    return QuizSpec(title=title, modules=modules)


async def make_quiz(engine: AsyncEngine, batches: int, count: int, parts: int = 1) -> uuid.UUID:
    return await repo.create_quiz(engine, "bench", quiz_spec(batches, count, parts=parts))


def new_queue(prefix: str) -> str:
    return f"bench-{prefix}-{uuid.uuid4().hex[:8]}"


# --- the stack ------------------------------------------------------------------------------


@dataclass
class Stack:
    env: WorkflowEnvironment
    database_url: str
    engine: AsyncEngine
    tmp: Path
    quick: bool

    @property
    def client(self) -> Client:
        return self.env.client

    @property
    def address(self) -> str:
        return server_address(self.env)


async def quietly(start: Awaitable[WorkflowEnvironment]) -> WorkflowEnvironment:
    """Start a dev server with its stdout (its banner, its logs) sent to our stderr,
    so that this program's stdout carries only the results."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        return await start
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@asynccontextmanager
async def open_stack(tmp: Path, quick: bool) -> AsyncIterator[Stack]:
    env = await quietly(start_dev_server(tmp / "temporal.db"))
    url = ""
    engine: AsyncEngine | None = None
    try:
        # These helpers run event loops of their own: keep them off this one.
        url = await asyncio.to_thread(
            create_database, os.environ.get("DATABASE_URL", LOCAL_POSTGRES)
        )
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        yield Stack(env=env, database_url=url, engine=engine, tmp=tmp, quick=quick)
    finally:
        await kill_all_processes()
        if engine is not None:
            await engine.dispose()
        await env.shutdown()
        if url:
            await asyncio.to_thread(drop_database, url)


# --- in-process workers ---------------------------------------------------------------------


def fake_openai_settings(server: FakeOpenAI, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,
        llm_provider=LLMProviderName.OPENAI,
        openai_base_url=server.base_url,
        openai_api_key=server.api_key,
        **overrides,
    )


def fake_provider(server: FakeOpenAI) -> OpenAIProvider:
    """The real `openai` client (through quizgen's provider) against the fake server."""
    return OpenAIProvider(fake_openai_settings(server))


@asynccontextmanager
async def real_workers(
    stack: Stack, provider: QuestionProvider, queue: str, **settings: Any
) -> AsyncIterator[Settings]:
    """quizgen's own workers (`worker.app.build_workers`), in this process.

    With an engine of their own built the way `python -m worker` builds it. Their
    graceful shutdown is bounded at 10 s (`llm_call_timeout` only sets that here:
    workflows get their GenerationConfig from the caller), so a part that fails
    mid-call cannot hold the run for minutes.
    """
    settings = {"llm_call_timeout": timedelta(seconds=10), **settings}
    config = Settings(_env_file=None, temporal_task_queue=queue, **settings)
    engine = make_engine(stack.database_url, pool_size=pool_size(config), pre_ping=False)
    try:
        workers = build_workers(stack.client, config, engine, provider)
        async with running_workers(workers):
            yield config
    finally:
        await engine.dispose()


@asynccontextmanager
async def skeleton_worker(stack: Stack, queue: str) -> AsyncIterator[None]:
    """A bare worker with the skeleton workflows and their one activity, in this process."""
    worker = Worker(
        stack.client,
        task_queue=queue,
        workflows=SKELETON_WORKFLOWS,
        activities=SKELETON_ACTIVITIES,
    )
    async with worker:
        yield


async def run_quiz(
    stack: Stack, quiz_id: uuid.UUID, queue: str, config: GenerationConfig
) -> tuple[float, QuizWorkflowResult]:
    """Start generation; seconds until the quiz workflow completes (every batch saved)."""
    started = time.perf_counter()
    handle = await temporal_client.start_generation(
        stack.client, quiz_id, task_queue=queue, config=config
    )
    result = await handle.result()
    return time.perf_counter() - started, result


async def run_skeleton(
    stack: Stack, queue: str, input: SkeletonInput, client: Client | None = None
) -> float:
    """Start a skeleton parent (on `client`, else the stack's); seconds until it completes."""
    started = time.perf_counter()
    await (client or stack.client).execute_workflow(
        SkeletonParent.run, input, id=f"skeleton-{uuid.uuid4().hex}", task_queue=queue
    )
    return time.perf_counter() - started

"""How much a SIGKILLed worker delays a round: kill during LLM calls vs no kill, A B A B.

    .venv/bin/python -m bench.worker_kill [--pairs 2]

Each run generates the same 8-batch quiz (offline provider, 2 s per LLM call,
4 batches at once, default GenerationConfig: 6 s heartbeat timeout) with a
worker process of its own. In the "kill" runs the worker is SIGKILLed while
LLM calls are in flight and a new one is started at once; the round must then
take at most ~15 s longer than without the kill (the heartbeat timeout plus a
retry). Runs alternate on one dev server and one PostgreSQL, and the report
gives each kill run's extra time against its neighbouring baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from deploy.local.migrations import upgrade
from deploy.local.postgres import LOCAL_POSTGRES, create_database, drop_database
from deploy.local.processes import WorkerProcess, worker_environment
from deploy.local.temporal import server_address, start_dev_server
from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.contracts import GenerationConfig
from quizgen.db import repository as repo
from quizgen.db.engine import make_engine
from quizgen.domain import BatchSpec, Difficulty, ModuleSpec, QuestionType, QuizSpec, QuizStatus
from quizgen.samples import ENGLISH_SAMPLE

BATCHES = [
    (f"m{m}", question_type, 4, Difficulty.MEDIUM)
    for m in range(4)
    for question_type in (QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE)
]
CONFIG = GenerationConfig(max_concurrent_batches=4)


def _spec() -> QuizSpec:
    modules: dict[str, list[BatchSpec]] = {}
    for module_id, question_type, count, difficulty in BATCHES:
        modules.setdefault(module_id, []).append(
            BatchSpec(question_type=question_type, count=count, difficulty=difficulty)
        )
    return QuizSpec(
        title="Worker kill",
        modules=[
            ModuleSpec(module_id=m, name=f"Module {m}", content=ENGLISH_SAMPLE, batches=b)
            for m, b in modules.items()
        ],
    )


async def _worker(address: str, database_url: str, queue: str, log: Path) -> WorkerProcess:
    env = worker_environment(address, database_url, queue, LLM_OFFLINE_LATENCY_SECONDS="2")
    return await WorkerProcess("worker", env, log).start()


async def _run(
    env_address: str, client: Client, engine: AsyncEngine, url: str, kill: bool, tmp: Path
) -> float:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    quiz_id = await repo.create_quiz(engine, "bench", _spec())
    log = tmp / f"{queue}.log"
    worker = await _worker(env_address, url, queue, log)
    started = time.monotonic()
    await temporal_client.start_generation(client, quiz_id, task_queue=queue, config=CONFIG)
    replacement = None
    if kill:
        while b"generating batch_key" not in log.read_bytes():  # noqa: ASYNC110 - a log file
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the calls are in flight (2 s each)
        await worker.kill()
        replacement = await _worker(env_address, url, queue, log)
    record = await wait_for_attempts(engine, quiz_id, 1, within_seconds=300)
    elapsed = time.monotonic() - started
    for process in (worker, replacement):
        if process is not None:
            await process.stop()
    assert record.status is QuizStatus.READY_FOR_REVIEW, record.status
    return elapsed


async def main(pairs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        env = await start_dev_server(tmp / "temporal.db")
        # These helpers run their own event loops: keep them off this one.
        url = await asyncio.to_thread(
            create_database, os.environ.get("DATABASE_URL", LOCAL_POSTGRES)
        )
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        try:
            for pair in range(pairs):
                base = await _run(server_address(env), env.client, engine, url, False, tmp)
                killed = await _run(server_address(env), env.client, engine, url, True, tmp)
                print(
                    f"pair {pair + 1}: no kill {base:.1f} s, kill during LLM calls {killed:.1f} s"
                    f" -> +{killed - base:.1f} s ({killed / base:.2f}x)",
                    flush=True,
                )
        finally:
            await engine.dispose()
            await env.shutdown()
            await asyncio.to_thread(drop_database, url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2)
    asyncio.run(main(parser.parse_args().pairs))

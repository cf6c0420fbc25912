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
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from quizgen import orchestration
from quizgen.contracts import GenerationConfig
from quizgen.db.engine import make_engine
from quizgen.domain import Difficulty, QuestionType, QuizStatus
from tests.conftest import LOCAL_POSTGRES, create_database, drop_database
from tests.support.flows import make_quiz, wait_for_attempts
from tests.support.migrations import upgrade
from tests.support.temporal import server_address, start_dev_server

ROOT = Path(__file__).resolve().parents[1]
BATCHES = [
    (f"m{m}", question_type, 4, Difficulty.MEDIUM)
    for m in range(4)
    for question_type in (QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE)
]
CONFIG = GenerationConfig(max_concurrent_batches=4)


async def _worker(
    address: str, database_url: str, queue: str, log: Path
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_TASK_QUEUE": queue,
        "DATABASE_URL": database_url,
        "LLM_PROVIDER": "offline",
        "LLM_FAULT_RATE": "0",
        "LLM_OFFLINE_LATENCY_SECONDS": "2",
    }
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "worker", cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def _run(
    env_address: str, client: Client, engine: AsyncEngine, url: str, kill: bool, tmp: Path
) -> float:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    quiz_id = await make_quiz(engine, BATCHES)
    log = tmp / f"{queue}.log"
    worker = await _worker(env_address, url, queue, log)
    started = time.monotonic()
    await orchestration.start_generation(client, quiz_id, task_queue=queue, config=CONFIG)
    replacement = None
    if kill:
        while b"generating batch_key" not in log.read_bytes():  # noqa: ASYNC110 - a log file
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the calls are in flight (2 s each)
        worker.kill()
        await worker.wait()
        replacement = await _worker(env_address, url, queue, log)
    record = await wait_for_attempts(engine, quiz_id, 1, within_seconds=300)
    elapsed = time.monotonic() - started
    for process in (worker, replacement):
        if process is not None and process.returncode is None:
            process.terminate()
            await process.wait()
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

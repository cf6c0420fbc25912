"""`./dev demo`: a sample quiz through a partial failure and a retry of only the failed batch.

1. Brings up the local stack (deploy/stack.py) and a worker whose fault
   injection is set so that exactly one batch of the sample quiz fails.
2. Creates the sample quiz (bundled course text) and starts generation,
   printing progress from the workflow's `progress` query as it goes.
3. "Fixes" the fault: restarts the worker with `LLM_FAULT_RATE=0` and sends
   `retry_failed_batches`; only the failed batch is generated again.
4. Leaves Temporal (Web UI on http://localhost:8233) and PostgreSQL running.

`./dev demo --stop` stops the servers the demo started.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import uuid
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from activities.llm.faults import FaultPlan
from deploy.stack import (
    STATE_DIR,
    UI_PORT,
    ensure_database,
    ensure_temporal,
    start_worker,
    stop_started_servers,
)
from quizgen import orchestration
from quizgen.contracts import BatchRef, GenerationConfig, QuizProgress
from quizgen.db import repository as repo
from quizgen.db.engine import make_engine
from quizgen.domain import (
    BatchSpec,
    Difficulty,
    ModuleSpec,
    QuestionType,
    QuizSpec,
    QuizStatus,
)
from quizgen.errors import QuizgenError
from quizgen.samples import CELLS_SAMPLE, ENGLISH_SAMPLE
from quizgen.settings import FaultKind, Settings

SETTLED = {QuizStatus.READY_FOR_REVIEW, QuizStatus.READY_FOR_REVIEW_PARTIAL, QuizStatus.FAILED}
# Long enough per LLM call that progress can be watched, short enough to be done in seconds.
DEMO_LATENCY_SECONDS = "0.6"


def sample_quiz() -> QuizSpec:
    return QuizSpec(
        title="Biology 101: photosynthesis and the cell",
        modules=[
            ModuleSpec(
                module_id="photosynthesis",
                name="Photosynthesis",
                content=ENGLISH_SAMPLE,
                batches=[
                    BatchSpec(question_type=QuestionType.MULTIPLE_CHOICE, count=6),
                    BatchSpec(
                        question_type=QuestionType.TRUE_FALSE, count=5, difficulty=Difficulty.EASY
                    ),
                    BatchSpec(
                        question_type=QuestionType.MATCHING, count=3, difficulty=Difficulty.HARD
                    ),
                ],
            ),
            ModuleSpec(
                module_id="cells",
                name="The cell",
                content=CELLS_SAMPLE,
                batches=[
                    BatchSpec(question_type=QuestionType.FILL_IN_BLANK, count=5),
                    BatchSpec(question_type=QuestionType.CATEGORIZATION, count=2),
                ],
            ),
        ],
    )


def fault_breaking_one(spec: QuizSpec, victim: str) -> FaultPlan:
    """A seed for LLM_FAULT_SEED under which only `victim` draws a (permanent) fault."""
    keys = [BatchRef.of(m, b).batch_key for m, b in spec.batches()]
    for n in range(100_000):
        plan = FaultPlan(rate=0.2, seed=f"demo-{n}", kinds=(FaultKind.PERMANENT,))
        if set(plan.faulty_batches(keys)) == {victim}:
            return plan
    raise RuntimeError("no seed found")  # cannot happen for a handful of batches


def _line(progress: QuizProgress) -> str:
    counts = {
        s: sum(b.status == s for b in progress.batches) for s in ("succeeded", "running", "failed")
    }
    return (
        f"  [{progress.status.value}] {progress.message}  "
        f"(batches: {counts['succeeded']} done, {counts['running']} running, "
        f"{counts['failed']} failed)"
    )


async def watch(client: Client, engine: AsyncEngine, quiz_id: uuid.UUID, rounds: int) -> None:
    """Print progress whenever it changes, until round `rounds` is recorded."""
    last = ""
    while True:
        record = await repo.get_quiz(engine, quiz_id)
        done = len(record.generation_metadata.generation_attempts) >= rounds
        progress = await orchestration.query_progress(client, quiz_id)
        line = _line(progress)
        # Before the workflow has read the quiz it knows no batches yet: nothing to show.
        if progress.batches and line != last:
            print(line, flush=True)
            last = line
        if done and record.status in SETTLED:
            return
        await asyncio.sleep(0.2)


def _worker_env(settings: Settings, database_url: str, plan: FaultPlan | None) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "LLM_PROVIDER": "offline",
        "LLM_OFFLINE_LATENCY_SECONDS": DEMO_LATENCY_SECONDS,
        "LLM_FAULT_RATE": str(plan.rate if plan else 0),
        "LLM_FAULT_SEED": plan.seed if plan else "none",
        "LLM_FAULT_KINDS": ",".join(plan.kinds) if plan else "permanent",
    }


def _stop(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    worker.wait(timeout=30)


async def run_demo() -> None:
    settings = Settings()
    print("quizgen demo: bringing up PostgreSQL and Temporal ...", flush=True)
    database_url = await ensure_database()
    await ensure_temporal(settings.temporal_address, settings.temporal_namespace)
    client = await orchestration.connect(settings)
    engine = make_engine(database_url)

    spec = sample_quiz()
    victim = BatchRef.of(spec.modules[0], spec.modules[0].batches[2]).batch_key
    plan = fault_breaking_one(spec, victim)
    quiz_id = await repo.create_quiz(engine, "demo-teacher", spec)
    config = GenerationConfig.from_settings(settings)
    print(
        f"\nQuiz {quiz_id}: {spec.question_target} questions in {len(list(spec.batches()))} batches"
    )
    print(f"Fault injection (LLM_FAULT_SEED={plan.seed}) makes batch {victim} fail.\n")

    worker = start_worker(_worker_env(settings, database_url, plan), "worker-faulty.log")
    try:
        await orchestration.start_generation(
            client, quiz_id, task_queue=settings.temporal_task_queue, config=config
        )
        await watch(client, engine, quiz_id, rounds=1)
        record = await repo.get_quiz(engine, quiz_id)
        failed = record.generation_metadata.generation_attempts[0].batch_results[victim]
        print(f"\nRound 1 ended {record.status.value}: {failed.error}")
    finally:
        _stop(worker)

    print("\nThe fault is fixed (worker restarted with LLM_FAULT_RATE=0); sending")
    print(f"retry_failed_batches to workflow quiz-{quiz_id} ...\n")
    worker = start_worker(_worker_env(settings, database_url, None), "worker.log")
    try:
        await orchestration.request_retry(
            client, quiz_id, task_queue=settings.temporal_task_queue, config=config
        )
        await watch(client, engine, quiz_id, rounds=2)
    finally:
        _stop(worker)
        await engine.dispose()

    record = await repo.get_quiz(engine, quiz_id)
    meta = record.generation_metadata
    print(f"\nQuiz {quiz_id} is {record.status.value}.")
    for attempt in meta.generation_attempts:
        ran = ", ".join(attempt.batch_results)
        print(f"  round {attempt.attempt_number} ({attempt.overall_status.value}) ran: {ran}")
    query = quote(f'QuizStatus="{record.status.value}"')
    print(
        f"\nTemporal Web UI: http://localhost:{UI_PORT}/namespaces/{settings.temporal_namespace}"
        f"/workflows?query={query}"
    )
    print(f"Logs and data: {STATE_DIR}/   Stop the servers: ./dev demo --stop")


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev demo", description=__doc__.splitlines()[0])
    parser.add_argument("--stop", action="store_true", help="stop the servers the demo started")
    args = parser.parse_args()
    if args.stop:
        stopped = stop_started_servers()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return
    try:
        asyncio.run(run_demo())
    except KeyboardInterrupt:
        sys.exit(130)
    except (OSError, RuntimeError, QuizgenError) as err:
        # A clear line, not a traceback: the logs in .quizgen/ have the details.
        sys.exit(f"demo failed: {err}\n(logs: {STATE_DIR}/)")


if __name__ == "__main__":
    main()

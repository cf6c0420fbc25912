"""A worker process killed with SIGKILL mid-round loses nothing (invariant 4)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.processes import worker_process
from deploy.local.temporal import server_address
from deploy.local.waiting import wait_for_attempts
from quizgen import temporal_client
from quizgen.db import repository as repo
from quizgen.domain import Difficulty, QuestionType, QuizStatus
from tests.support.flows import (
    TEST_CONFIG,
    Batch,
    keys_of,
    make_quiz,
    question_rows,
    saved_batch_count,
    saved_batch_keys,
    wait_until,
)

EIGHT_BATCHES: list[Batch] = [
    (f"m{m}", question_type, 4, Difficulty.MEDIUM)
    for m in range(4)
    for question_type in (QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE)
]
GENERATING = re.compile(r"generating batch_key=(\S+)")


async def test_sigkilled_worker_mid_round_is_replaced_without_loss_or_duplicates(
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    database_url: str,
    task_queue: str,
    tmp_path: Path,
) -> None:
    keys = keys_of(EIGHT_BATCHES)
    quiz_id = await make_quiz(engine, EIGHT_BATCHES)
    # Four modules with the same content race for the same texts (the offline
    # generator is deterministic); more top-ups than the tests' default let
    # the losers of those races converge instead of failing the round.
    config = TEST_CONFIG.model_copy(update={"max_concurrent_batches": 2, "repair_rounds": 5})

    async with worker_process(
        server_address(temporal_env), database_url, task_queue, tmp_path / "w1.log"
    ):
        await temporal_client.start_generation(
            temporal_env.client, quiz_id, task_queue=task_queue, config=config
        )
        await wait_until(lambda: saved_batch_count(engine, quiz_id), at_least=2)
        # Leaving the block SIGKILLs the worker, in the middle of the round.
    saved_before_kill = await saved_batch_keys(engine, quiz_id)
    assert 2 <= len(saved_before_kill) < len(keys), "the kill must land mid-round"
    assert (await repo.get_quiz(engine, quiz_id)).status is QuizStatus.GENERATING_QUESTIONS

    second_log = tmp_path / "w2.log"
    async with worker_process(
        server_address(temporal_env), database_url, task_queue, second_log
    ) as second:
        record = await wait_for_attempts(engine, quiz_id, 1, within_seconds=120)
        second.terminate()

    results = record.generation_metadata.generation_attempts[0].batch_results.values()
    errors = [r.error for r in results if r.error]
    assert record.status is QuizStatus.READY_FOR_REVIEW, errors
    rows = await question_rows(engine, quiz_id)
    assert len(rows) == 4 * len(keys)
    assert len({r.id for r in rows}) == len({r.normalized_text for r in rows}) == len(rows)
    assert {k: sum(r.batch_key == k for r in rows) for k in keys} == dict.fromkeys(keys, 4)
    regenerated = set(GENERATING.findall(second_log.read_text()))
    assert regenerated, "the second worker must have done the rest of the round"
    assert not regenerated & saved_before_kill, "a saved batch was generated again"
    assert record.generation_metadata.total_questions_saved == len(rows)

"""The HTTP API end to end, generating: a partial failure and a retry of only the failed
batch, live progress while generating, 409 while running and when nothing is left, and
simultaneous triggers of which one wins. The app in-process, a real Temporal dev server and
PostgreSQL, workers of the test's own running the offline LLM (with injected faults)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, api_client, auth, local_settings
from deploy.local.temporal import server_address
from quizgen.domain import QuizStatus
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from quizgen.questions import normalize_text
from tests.support.api import error_of
from tests.support.api_cases import Json, generate
from tests.support.api_flows import all_questions, create_quiz, get_quiz, wait_for_quiz
from tests.support.flows import FOUR_BATCHES, force_status, keys_of, plan_breaking, running_worker

KEYS = keys_of(FOUR_BATCHES)
TARGETS = {key: batch[2] for key, batch in zip(KEYS, FOUR_BATCHES, strict=True)}
TARGET = sum(TARGETS.values())


def texts_of(questions: list[Json]) -> list[str]:
    return [normalize_text(q["question_data"]["question_text"]) for q in questions]


# --- 1. the whole flow: partial failure, then a retry of only the failed batch ---------------


async def test_partial_failure_then_retry_of_only_the_failed_batch(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    broken = KEYS[2]
    good = [k for k in KEYS if k != broken]
    created = await create_quiz(client, ALICE, FOUR_BATCHES)
    quiz_id = created["id"]
    assert created["status"] == "created"
    assert created["progress"]["message"] == (
        f"0 questions generated successfully ({TARGET} remaining)"
    )
    assert [b["status"] for b in created["progress"]["batches"]] == ["pending"] * len(KEYS)
    # The public model shows the content's size, never the content itself.
    assert [set(m) for m in created["modules"]] == [
        {"module_id", "name", "content_chars", "batches"}
    ] * 2

    faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, [broken]))
    async with running_worker(temporal_env.client, engine, faulty, task_queue):
        started = await generate(client, quiz_id)
        assert started.status_code == 202, started.text
        assert started.json()["batch_keys"] == KEYS
        assert started.json()["status"] == "generating_questions"
        quiz = await wait_for_quiz(client, ALICE, quiz_id)

    # Progress, per-batch status, saved questions and metadata all tell the same story.
    assert quiz["status"] == "ready_for_review_partial"
    assert quiz["failure_reason"] is None
    saved = TARGET - TARGETS[broken]
    progress = quiz["progress"]
    assert progress["questions_saved"] == saved
    assert progress["questions_target"] == TARGET
    assert progress["questions_remaining"] == TARGETS[broken]
    assert progress["message"] == (
        f"{saved} questions generated successfully ({TARGETS[broken]} remaining)"
    )
    batches = {b["batch_key"]: b for b in progress["batches"]}
    assert {k: b["status"] for k, b in batches.items()} == {
        k: "failed" if k == broken else "succeeded" for k in KEYS
    }
    assert "injected permanent fault" in batches[broken]["last_error"]
    assert all(b["attempts"] == 1 for b in batches.values())

    first_questions = await all_questions(client, ALICE, quiz_id)
    assert len(first_questions) == saved
    assert {q["batch_key"] for q in first_questions} == set(good)
    for key in good:
        assert sum(q["batch_key"] == key for q in first_questions) == TARGETS[key]

    meta = quiz["generation_metadata"]
    assert sorted(meta["successful_batches"]) == sorted(good)
    assert meta["failed_batches"] == [broken]
    assert meta["total_questions_saved"] == saved
    assert meta["total_questions_target"] == TARGET
    [attempt] = meta["generation_attempts"]
    assert attempt["overall_status"] == "partial_success"
    assert attempt["batch_results"][broken]["status"] == "failed"
    assert attempt["batch_results"][broken]["error"] == batches[broken]["last_error"]

    # The LLM is healthy again: a retry runs the failed batch only.
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        retried = await generate(client, quiz_id)
        assert retried.status_code == 202, retried.text
        assert retried.json()["batch_keys"] == [broken]
        quiz = await wait_for_quiz(client, ALICE, quiz_id, attempts=2)

    assert quiz["status"] == "ready_for_review"
    assert quiz["progress"]["message"] == f"{TARGET} questions generated successfully (0 remaining)"
    assert {b["status"] for b in quiz["progress"]["batches"]} == {"succeeded"}
    questions = await all_questions(client, ALICE, quiz_id)
    assert len(questions) == TARGET
    assert len(set(texts_of(questions))) == TARGET
    # Nothing generated earlier was deleted or replaced.
    earlier = {q["id"]: q["question_data"] for q in first_questions}
    assert {q["id"]: q["question_data"] for q in questions if q["batch_key"] != broken} == earlier
    meta = quiz["generation_metadata"]
    assert [sorted(a["batch_results"]) for a in meta["generation_attempts"]] == [
        sorted(KEYS),
        [broken],
    ]
    assert meta["failed_batches"] == []
    assert sorted(meta["successful_batches"]) == sorted(KEYS)
    assert meta["total_questions_saved"] == TARGET
    listed = await client.get("/quizzes", params={"limit": 1}, headers=auth(ALICE))
    [summary] = listed.json()["data"]
    assert summary["id"] == quiz_id
    assert summary["status"] == "ready_for_review"
    assert summary["questions_saved"] == TARGET
    assert summary["questions_target"] == TARGET


# --- 2. live progress while generating; 409 while running and when nothing is left ---------


async def test_live_progress_while_generating_and_conflicts(
    database_url: str,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    # One batch at a time, each LLM call slowed down: progress grows step by step.
    settings = local_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
        max_concurrent_batches=1,
    )
    slow = OfflineProvider(latency_seconds=0.3)
    async with (
        api_client(settings) as client,
        running_worker(temporal_env.client, engine, slow, task_queue),
    ):
        quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
        assert (await generate(client, quiz_id)).status_code == 202

        # Wait for a moment when some batches are saved and one is running.
        async with asyncio.timeout(20):
            while True:
                quiz = await get_quiz(client, ALICE, quiz_id)
                progress = quiz["progress"]
                statuses = [b["status"] for b in progress["batches"]]
                if 0 < progress["questions_saved"] < TARGET and "running" in statuses:
                    break
                assert quiz["status"] == "generating_questions", quiz["status"]
                await asyncio.sleep(0.05)
        assert quiz["status"] == progress["status"] == "generating_questions"
        assert progress["questions_target"] == TARGET
        assert progress["message"] == (
            f"{progress['questions_saved']} questions generated successfully "
            f"({progress['questions_remaining']} remaining)"
        )
        # What the live view calls saved is in the database already.
        assert len(await all_questions(client, ALICE, quiz_id)) >= progress["questions_saved"]

        conflict = error_of(await generate(client, quiz_id), 409, "conflict")
        assert "already running" in conflict["message"]
        details = conflict["details"]
        assert details["status"] == "generating_questions"
        assert details["questions_target"] == TARGET
        assert details["questions_saved"] >= progress["questions_saved"]
        assert {b["batch_key"] for b in details["batches"]} == set(KEYS)

        quiz = await wait_for_quiz(client, ALICE, quiz_id)
        assert quiz["status"] == "ready_for_review"
        done = error_of(await generate(client, quiz_id), 409, "conflict")
        assert "nothing left to generate" in done["message"]
        quiz = await get_quiz(client, ALICE, quiz_id)
    assert quiz["status"] == "ready_for_review"
    assert len(quiz["generation_metadata"]["generation_attempts"]) == 1


# --- 3. a double click: one trigger wins ----------------------------------------------------


async def test_two_simultaneous_triggers_start_one_generation(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        responses = await asyncio.gather(generate(client, quiz_id), generate(client, quiz_id))
        codes = sorted(r.status_code for r in responses)
        assert codes == [202, 409], [r.text for r in responses]
        quiz = await wait_for_quiz(client, ALICE, quiz_id)

    # Whatever the answers, one generation ran: no duplicates, nothing generated twice.
    assert quiz["status"] == "ready_for_review"
    assert len(quiz["generation_metadata"]["generation_attempts"]) == 1
    questions = await all_questions(client, ALICE, quiz_id)
    assert len(questions) == TARGET
    assert len(set(texts_of(questions))) == TARGET
    [loser] = [r for r in responses if r.status_code == 409]
    message = error_of(loser, 409, "conflict")["message"]
    assert "already running" in message or "just started by another request" in message


async def test_a_quiz_stuck_in_generating_without_a_workflow_can_be_triggered_again(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
    await _stuck_in_generating(engine, quiz_id)
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        started = await generate(client, quiz_id)
        assert started.status_code == 202, started.text
        assert started.json()["batch_keys"] == KEYS
        quiz = await wait_for_quiz(client, ALICE, quiz_id)
    assert quiz["status"] == "ready_for_review"
    assert len(await all_questions(client, ALICE, quiz_id)) == TARGET


async def test_simultaneous_triggers_on_a_stuck_quiz_are_accepted_once(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
    await _stuck_in_generating(engine, quiz_id)
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        responses = await asyncio.gather(*(generate(client, quiz_id) for _ in range(5)))
        quiz = await wait_for_quiz(client, ALICE, quiz_id)
    assert quiz["status"] == "ready_for_review"
    codes = sorted(r.status_code for r in responses)
    assert codes == [202, 409, 409, 409, 409], codes


async def _stuck_in_generating(engine: AsyncEngine, quiz_id: str) -> None:
    """What a trigger sees when the quiz says generating_questions but no workflow runs:
    the workflow was terminated, or another trigger has set the status and not yet
    started the workflow."""
    await force_status(
        engine,
        uuid.UUID(quiz_id),
        QuizStatus.GENERATING_QUESTIONS,
        allowed_from={QuizStatus.CREATED},
    )

"""The export under faults, against the real stack and the Canvas stand-in: worker processes
SIGKILLed mid-export while 30% of item answers are lost, a minute of throttling, and a
token that expires mid-export. Every approved question ends in Canvas exactly once, in the
quiz's order (invariant 9); nothing for rejected ones; nobody acts but the teacher who
reconnects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE
from deploy.local.processes import worker_process
from deploy.local.temporal import server_address
from quizgen.canvas.items import item_title
from quizgen.domain import QuestionType
from tests.support.api_flows import get_quiz
from tests.support.exports import (
    HEADERS,
    ExportStack,
    export_stack,
    exportable_quiz,
    numbered_questions,
    question_ids,
    set_review,
)


def _created(stack: ExportStack) -> int:
    """Items the Canvas quiz holds now (0 before it exists)."""
    quizzes = stack.canvas.quizzes(stack.course)
    return len(stack.items({"canvas_quiz_id": quizzes[0]["id"]})) if quizzes else 0


async def _until(condition: Callable[[], bool], within_seconds: float = 120.0) -> None:
    async with asyncio.timeout(within_seconds):
        while not condition():  # noqa: ASYNC110 - polling the stand-in's state
            await asyncio.sleep(0.05)


def _assert_exactly_once_in_order(stack: ExportStack, export: dict[str, object], ids: list) -> None:
    titles = [item["entry"]["title"] for item in stack.items(export)]
    assert len(titles) == len(set(titles)), "an item was created twice"
    assert titles == [item_title(str(qid)) for qid in ids]
    assert len(stack.canvas.quizzes(stack.course)) == 1, "the Canvas quiz was created twice"


async def test_two_worker_kills_and_lost_answers_create_each_item_once_in_order(
    engine: AsyncEngine,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    tmp_path: Path,
) -> None:
    questions = [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(205)]
    quiz_id = await exportable_quiz(engine, "alice", questions)
    ids = await question_ids(engine, quiz_id)
    rejected = ids[10:15]
    await set_review(engine, quiz_id, "rejected", rejected)
    approved = [qid for qid in ids if qid not in rejected]
    async with export_stack(engine, database_url, temporal_env, task_queue, worker=False) as stack:
        canvas = stack.canvas
        # 30% of creates (the quiz's and the items') are made, then the answer is lost.
        canvas.drop_after_create(0.3)
        canvas.latency = 0.02
        env = stack.worker_env
        address = server_address(temporal_env)
        accepted = await stack.export(quiz_id)
        assert accepted.status_code == 202, accepted.text
        for n, enough in enumerate((40, 110)):
            async with worker_process(
                address, database_url, task_queue, tmp_path / f"w{n}.log", env
            ):
                await _until(lambda enough=enough: _created(stack) >= enough)
                # Leaving the block SIGKILLs the worker mid-export.
            assert _created(stack) < len(approved), "the kill must land mid-export"
        async with worker_process(address, database_url, task_queue, tmp_path / "w2.log", env):
            done = await stack.wait_for_state(quiz_id, "published", "failed", within_seconds=240)
        assert done["state"] == "published", done
        assert done["progress"] == f"{len(approved)} of {len(approved)} questions exported"
        _assert_exactly_once_in_order(stack, done, approved)
        dropped = [r for r in canvas.requests if r.fault == "drop"]
        assert len(dropped) >= 0.25 * len(approved), "answers must have been lost"


async def test_a_minute_of_throttling_is_waited_out(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    questions = [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(40)]
    quiz_id = await exportable_quiz(engine, "alice", questions)
    ids = await question_ids(engine, quiz_id)
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        stack.canvas.latency = 0.05
        assert (await stack.export(quiz_id)).status_code == 202
        await _until(lambda: _created(stack) >= 10)
        throttled_at = time.monotonic()
        stack.canvas.throttle(60)
        done = await stack.wait_for_state(quiz_id, "published", "failed", within_seconds=180)
        assert done["state"] == "published", done
        assert time.monotonic() - throttled_at >= 60
        throttled = [r for r in stack.canvas.requests if r.fault == "throttle"]
        assert throttled and throttled[-1].received_at - throttled[0].received_at > 45
        assert {r.status for r in throttled} == {403}
        _assert_exactly_once_in_order(stack, done, ids)


async def test_an_expired_token_waits_for_a_reconnect_then_completes(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    questions = [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(40)]
    quiz_id = await exportable_quiz(engine, "alice", questions)
    ids = await question_ids(engine, quiz_id)
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        stack.canvas.latency = 0.05
        assert (await stack.export(quiz_id)).status_code == 202
        await _until(lambda: _created(stack) >= 10)
        stack.canvas.expire(stack.token)
        waiting = await stack.wait_for_state(quiz_id, "waiting_for_canvas", "failed")
        assert waiting["state"] == "waiting_for_canvas", waiting
        assert "reconnect Canvas" in waiting["message"]
        assert (await get_quiz(stack.api, ALICE, str(quiz_id)))["status"] == ("exporting_to_canvas")
        # It waits: nothing more reaches Canvas's items while the token is refused.
        held = _created(stack)
        await asyncio.sleep(2)
        assert _created(stack) == held < len(ids)

        # The teacher reconnects with a new token: the export resumes by itself.
        fresh = stack.canvas.issue_token(stack.canvas.user(stack.token).id)
        await stack.connect(fresh)
        done = await stack.wait_for_state(quiz_id, "published", "failed")
        assert done["state"] == "published", done
        assert done["message"] is None
        _assert_exactly_once_in_order(stack, done, ids)


async def test_cancel_then_retry_continues_where_it_stopped(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    questions = [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(40)]
    quiz_id = await exportable_quiz(engine, "alice", questions)
    ids = await question_ids(engine, quiz_id)
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        stack.canvas.latency = 0.05
        assert (await stack.export(quiz_id)).status_code == 202
        await _until(lambda: _created(stack) >= 10)
        cancel = await stack.api.post(f"/quizzes/{quiz_id}/export/cancel", headers=HEADERS)
        assert cancel.status_code == 202, cancel.text
        stopped = await stack.wait_for_state(quiz_id, "cancelled", "failed")
        assert stopped["state"] == "cancelled" and "cancelled" in stopped["message"]
        assert (await get_quiz(stack.api, ALICE, str(quiz_id)))["status"] == "ready_for_review"
        # An item call already in flight still ends (it is not interrupted mid-create).
        await asyncio.sleep(1)
        made = _created(stack)
        assert 0 < made < len(ids)
        posts_before = sum(r.method == "POST" for r in stack.canvas.requests)

        retry = await stack.api.post(f"/quizzes/{quiz_id}/export", headers=HEADERS)
        assert retry.status_code == 202, retry.text
        done = await stack.wait_for_state(quiz_id, "published", "failed")
        assert done["state"] == "published", done
        _assert_exactly_once_in_order(stack, done, ids)
        posts = sum(r.method == "POST" for r in stack.canvas.requests) - posts_before
        assert posts == len(ids) - made, "the retry created more than what was missing"

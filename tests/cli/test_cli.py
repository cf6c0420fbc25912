"""The `quizgen` command line against the real stack: dev server, PostgreSQL, a worker
with fault injection, and the API served by uvicorn on a real port. Nothing is mocked:
every command runs as `python -m cli` in a subprocess.

A teacher creates the shipped sample quiz from its file, starts generation, watches a
round end partly ready (exit 2) with the failed batch's reason, retries only that
batch (exit 0), reviews, approves, exports, lists and deletes. Errors (wrong token,
no API, a bad quiz file, usage mistakes) are one `error: ...` line and exit 1.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

import cli.client
from api import create_app
from deploy.local.api import ALICE, BOB, serving
from quizgen.domain import QuizStatus
from quizgen.llm.faults import FaultInjectingProvider
from quizgen.llm.offline import OfflineProvider
from quizgen.settings import Settings
from tests.support.cli_runs import (
    ANSI,
    BROKEN,
    COUNTS,
    KEYS,
    KEYS_START,
    SAMPLE,
    TARGET,
    WATCH,
    WRONG_TOKEN,
    finish,
    on_terminal,
    questions_in_process,
    quizgen,
    read_until,
    start_cli,
)
from tests.support.flows import plan_breaking, running_worker


async def test_a_teacher_runs_a_quiz_from_the_command_line(
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with serving(create_app(settings)) as api:
        created = await quizgen(api, "create", str(SAMPLE))
        assert created.code == 0, created
        quiz_id = created.stdout.strip()
        uuid.UUID(quiz_id)

        # No worker yet: the round is accepted and stays running; a second start is refused.
        started = await quizgen(api, "generate", quiz_id)
        assert (started.code, started.stdout.strip()) == (
            0,
            f"generating 4 batch(es) (quiz {quiz_id})",
        )
        again = await quizgen(api, "generate", quiz_id)
        assert again.one_error_line() == (
            "error: generation is already running for this quiz (HTTP 409)"
        )

        # --watch on the running round follows it to its end: partly ready, exit 2.
        watcher = await start_cli(api, "generate", quiz_id, *WATCH)
        head = await read_until(watcher, "watching it")
        faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, [BROKEN]))
        async with running_worker(temporal_env.client, engine, faulty, task_queue):
            partial = await finish(watcher)
        assert partial.code == 2, partial
        watched = head + partial.stdout
        assert ALICE not in watched + partial.stderr
        assert "generation is already running for this quiz; watching it" in watched
        assert (
            "ready_for_review_partial: 11 questions generated successfully (4 remaining)" in watched
        )
        [failed_row] = [line for line in watched.splitlines() if line.startswith(BROKEN)]
        assert " failed " in failed_row and " 0/4 " in failed_row
        assert f"last error of {BROKEN}: " in watched and "injected permanent fault" in watched

        # status: the same picture (a table without bars), and the same exit code.
        status = await quizgen(api, "status", quiz_id)
        assert status.code == 2, status
        lines = status.stdout.splitlines()
        assert lines[1:3] == [
            "status: ready_for_review_partial",
            "11 questions generated successfully (4 remaining)",
        ]
        rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith(KEYS_START)}
        assert rows == {
            key: ["succeeded", f"{n}/{n}", "1"]
            for key, n in zip(KEYS, COUNTS, strict=True)
            if key != BROKEN
        } | {BROKEN: ["failed", "0/4", "1"]}
        assert f"last error of {BROKEN}: " in status.stdout

        # The LLM is healthy again: retry only the failed batch, watched live on a terminal.
        async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
            retried = await on_terminal(api, "retry", quiz_id, *WATCH)
        assert retried.code == 0, retried
        screen = ANSI.sub("", retried.stdout)
        assert f"retrying 1 failed batch(es); saved questions are kept (quiz {quiz_id})" in screen
        assert "status: ready_for_review" in screen
        assert "15 questions generated successfully (0 remaining)" in screen
        # The stream holds every frame the live view drew; the last one stays on screen.
        retried_row = [line for line in screen.splitlines() if line.startswith(BROKEN)][-1]
        assert "━" in retried_row and " 4/4 " in retried_row and " succeeded " in retried_row
        nothing_left = await quizgen(api, "generate", quiz_id)
        assert "nothing left to generate" in nothing_left.one_error_line()
        ready = await quizgen(api, "status", quiz_id, "--json")
        assert ready.code == 0 and json.loads(ready.stdout)["status"] == QuizStatus.READY_FOR_REVIEW

        # Review: every question, filters, approval one by one and all at once.
        listed = await quizgen(api, "questions", quiz_id, "--json")
        questions = json.loads(listed.stdout)
        assert len(questions) == TARGET and len({q["id"] for q in questions}) == TARGET
        # Paging: the client's page size lowered to 4, the same questions in the same order.
        monkeypatch.setattr(cli.client, "QUESTIONS_PAGE", 4)
        paged = await asyncio.to_thread(questions_in_process, api, quiz_id)
        assert [q["id"] for q in paged] == [q["id"] for q in questions]

        true_false = json.loads(
            (await quizgen(api, "questions", quiz_id, "-t", "true_false", "--json")).stdout
        )
        assert [q["batch_key"] for q in true_false] == [BROKEN] * 4
        table = await quizgen(api, "questions", quiz_id, "--module", "photosynthesis")
        assert table.code == 0 and "6 question(s)" in table.stdout

        first = questions[0]["id"]
        one = await quizgen(api, "approve", quiz_id, first)
        assert (one.code, one.stdout.strip()) == (0, "approved 1 question(s)")
        approved = json.loads(
            (await quizgen(api, "questions", quiz_id, "--approved", "--json")).stdout
        )
        assert [q["id"] for q in approved] == [first]
        rest = await quizgen(api, "approve", quiz_id, "--all")
        assert (rest.code, rest.stdout.strip()) == (0, f"approved {TARGET - 1} question(s)")
        pending = await quizgen(api, "questions", quiz_id, "--not-approved", "--json")
        assert json.loads(pending.stdout) == []
        assert (await quizgen(api, "approve", quiz_id)).one_error_line() == (
            "error: give the ids of the questions to approve, or --all"
        )

        export_file = tmp_path / "questions.json"
        exported = await quizgen(api, "export", quiz_id, "-o", str(export_file))
        assert exported.stdout.strip() == f"exported {TARGET} question(s) to {export_file}"
        export = json.loads(export_file.read_text(encoding="utf-8"))
        assert sorted(q["id"] for q in export) == sorted(q["id"] for q in questions)
        assert all(q["is_approved"] for q in export)

        quizzes = await quizgen(api, "list")
        [row] = [line for line in quizzes.stdout.splitlines() if quiz_id in line]
        assert "Cells and photosynthesis" in row and "ready_for_review" in row and "15/15" in row
        page = json.loads((await quizgen(api, "list", "--limit", "1", "--json")).stdout)
        assert [q["id"] for q in page["data"]] == [quiz_id] and page["count"] >= 1

        # Another teacher cannot see the quiz; a wrong token is refused (and not printed).
        assert (await quizgen(api, "status", quiz_id, token=BOB)).one_error_line() == (
            f"error: quiz {quiz_id} not found (HTTP 404)"
        )
        wrong = await quizgen(api, "list", token=WRONG_TOKEN)
        assert wrong.one_error_line() == "error: the API token is not valid (HTTP 401)"

        deleted = await quizgen(api, "delete", quiz_id, "--yes")
        assert (deleted.code, deleted.stdout.strip()) == (0, f"deleted quiz {quiz_id}")
        gone = await quizgen(api, "status", quiz_id)
        assert gone.one_error_line() == f"error: quiz {quiz_id} not found (HTTP 404)"

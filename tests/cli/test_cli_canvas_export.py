"""`quizgen export --canvas|--canvas-again|--status|--undo|--cancel`, as subprocesses
against the API served by uvicorn, with a worker and the Canvas stand-in behind it
(tests/support/exports.py's stack; the served API shares its settings and database).

Exported and watched to the end (the Canvas link printed, the stand-in holding the
items), shown in `quizgen status`, undone (the Canvas quiz gone); a course the teacher
does not teach ends failed with Canvas's reason; a refused token ends the watch with
exit 4, and `--cancel --watch` stops the waiting export; options that do not go
together are refused before any request.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from api import create_app
from cli.export_commands import EXIT_RECONNECT, RECONNECT
from deploy.local.api import local_settings, serving
from deploy.local.temporal import server_address
from quizgen.domain import QuestionType
from tests.support.cli_runs import closed_port_api, quizgen
from tests.support.exports import (
    CANVAS_SETTINGS,
    ExportStack,
    export_stack,
    exportable_quiz,
    numbered_questions,
)

WATCH = ("--watch", "--interval", "0.2", "--timeout", "90")


@asynccontextmanager
async def served(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[tuple[ExportStack, str]]:
    """The export stack (stand-in, Alice connected, worker) and the API on a port."""
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        settings = local_settings(
            database_url=database_url,
            temporal_address=server_address(temporal_env),
            temporal_task_queue=task_queue,
            canvas_base_url=stack.canvas.base_url,
            **CANVAS_SETTINGS,
        )
        async with serving(create_app(settings)) as api:
            yield stack, api


async def quiz_of(engine: AsyncEngine, n: int) -> str:
    questions = [(QuestionType.TRUE_FALSE, data) for data in numbered_questions(n)]
    return str(await exportable_quiz(engine, "alice", questions))


async def test_export_watch_publish_show_undo_and_cancel_with_nothing_running(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    quiz_id = await quiz_of(engine, 3)
    async with served(engine, database_url, temporal_env, task_queue) as (stack, api):
        course = str(stack.course)
        done = await quizgen(
            api, "export", quiz_id, "--canvas", course, "--title", "Cells (CLI)", *WATCH
        )
        assert done.code == 0, done
        lines = done.stdout.splitlines()
        assert lines[0] == "running: 0 of 3 questions exported"
        export = await stack.status(uuid.UUID(quiz_id))
        assert export["state"] == "published"
        assert lines[-2:] == [
            "published: 3 of 3 questions exported",
            f"Canvas quiz: {export['canvas_quiz_url']}",
        ]
        (canvas_quiz,) = stack.canvas.quizzes(stack.course)
        assert canvas_quiz["title"] == "Cells (CLI)"
        assert len(stack.items(export)) == 3

        status = await quizgen(api, "status", quiz_id)
        assert status.code == 0, status
        assert (
            f"canvas export: published: 3 of 3 questions exported (course {course}); "
            f"{export['canvas_quiz_url']}"
        ) in status.stdout
        shown = await quizgen(api, "export", quiz_id, "--status")
        assert shown.code == 0 and shown.stdout.startswith("published: 3 of 3"), shown

        undone = await quizgen(api, "export", quiz_id, "--undo", *WATCH)
        assert undone.code == 0, undone
        assert undone.stdout.splitlines()[0] == f"undoing the export to Canvas course {course}"
        assert undone.stdout.splitlines()[-1] == (
            "undone: the Canvas quiz is deleted and the quiz is back in review"
        )
        assert stack.canvas.quizzes(stack.course) == []
        gone = await quizgen(api, "export", quiz_id, "--status")
        assert "has not been exported to Canvas" in gone.one_error_line()
        status = await quizgen(api, "status", quiz_id)
        assert "canvas export" not in status.stdout and "ready_for_review" in status.stdout

        nothing = await quizgen(api, "export", quiz_id, "--cancel")
        assert nothing.one_error_line() == "error: no export of this quiz is running (HTTP 409)"
        again = await quizgen(api, "export", quiz_id, "--canvas-again")
        assert again.one_error_line().endswith("(HTTP 422)")


async def test_a_course_not_taught_fails_and_a_refused_token_waits(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    quiz_id = await quiz_of(engine, 2)
    async with served(engine, database_url, temporal_env, task_queue) as (stack, api):
        other = stack.canvas.add_course("Chemistry", "CHEM")
        failed = await quizgen(api, "export", quiz_id, "--canvas", str(other), *WATCH)
        assert failed.code == 1, failed
        export = await stack.status(uuid.UUID(quiz_id))
        assert export["state"] == "failed" and export["message"], export
        reason = " ".join(export["message"].split())
        assert failed.stdout.splitlines()[-2:] == [
            f"reason: {reason}",
            f"to continue where it stopped: quizgen export {quiz_id} --canvas-again",
        ]
        assert stack.canvas.quizzes(other) == []
        # Where it stopped: the same reason, exit 1.
        shown = await quizgen(api, "export", quiz_id, "--status")
        assert shown.code == 1 and f"reason: {reason}" in shown.stdout, shown

        # Nothing was made there, so it may go to the right course; with a token Canvas
        # refuses the watch stops with exit 4 and says how to go on; --cancel stops it.
        stack.canvas.expire(stack.token)
        waiting = await quizgen(api, "export", quiz_id, "--canvas", str(stack.course), *WATCH)
        assert waiting.code == EXIT_RECONNECT, waiting
        assert waiting.stdout.splitlines()[-2:] == [
            "waiting_for_canvas: 0 of 2 questions exported",
            RECONNECT,
        ]
        cancelled = await quizgen(api, "export", quiz_id, "--cancel", *WATCH)
        assert cancelled.code == 0, cancelled
        assert "cancelled: 0 of 2 questions exported" in cancelled.stdout
        assert (await stack.status(uuid.UUID(quiz_id)))["state"] == "cancelled"


async def test_options_that_do_not_go_together_are_refused_before_any_request() -> None:
    api = closed_port_api()  # nothing listens: a request would be a different error
    quiz_id = str(uuid.uuid4())
    cases = {
        ("--canvas", "12", "--undo"): "give one of --canvas, --undo, not several",
        ("--cancel", "--qti", "q.zip"): "give one of --qti, --cancel, not several",
        ("--canvas-again", "--title", "T"): "--title and --points go with --canvas COURSE_ID",
        ("--status", "-o", "out.json"): "--output and --include-rejected are for the JSON",
        ("--watch",): "--watch, --interval and --timeout go with a Canvas export option",
        ("--canvas", "BIO101"): "--canvas takes a Canvas course id (digits), not 'BIO101'",
    }
    for args, message in cases.items():
        line = (await quizgen(api, "export", quiz_id, *args)).one_error_line()
        assert line.startswith(f"error: {message}"), (args, line)
        assert line.endswith("(see quizgen export --help)"), line

"""`quizgen canvas modules`, `quizgen canvas create FILE --watch`, `quizgen sources` and
`quizgen extract`, as subprocesses against the API served by uvicorn, with a worker and the
Canvas stand-in serving tests/support/course_files.py's sample course behind it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from cli.content_commands import EXIT_RECONNECT
from tests.cli.test_cli_canvas_export import served
from tests.support.cli_runs import quizgen
from tests.support.course_files import LESSON_TITLE, add_sample_course

WATCH = ("--watch", "--interval", "0.2", "--timeout", "90")
FORBIDDEN = "Lærerens notater"


async def test_modules_create_watch_sources_and_retry(
    engine: AsyncEngine,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    tmp_path: Path,
) -> None:
    async with served(engine, database_url, temporal_env, task_queue) as (stack, api):
        sample = add_sample_course(stack.canvas, stack.course)
        forbidden = stack.canvas.add_page(
            stack.course, FORBIDDEN, "<p>Bare for læreren.</p>", module_id=sample.module
        )
        stack.canvas.forbid_page(stack.course, forbidden)
        assert EXIT_RECONNECT == 4

        listed = await quizgen(api, "canvas", "modules", str(stack.course))
        assert listed.code == 0, listed
        lines = listed.stdout.splitlines()
        assert f"Uke 1 (module {sample.module})" in lines
        page_url = sample.pages[LESSON_TITLE]
        assert any(line.endswith(f"page: {page_url}") for line in lines)
        good = sample.files["fotosyntese.pdf"]
        assert any(
            "fotosyntese.pdf [File, " in line and line.endswith(f"file: {good}") for line in lines
        )
        assert any(line.startswith("  Nettressurs [ExternalUrl] not supported: ") for line in lines)
        assert any(
            line.startswith("  for-stor.pdf [File] not supported: larger than") for line in lines
        )

        quiz_file = tmp_path / "canvas.yaml"
        quiz_file.write_text(
            f"""title: Biologi fra Canvas
language: no
course_id: {stack.course}
modules:
  - name: Uke 1
    items:
      - page: {page_url}
      - page: {forbidden}
        title: {FORBIDDEN}
      - file: {good}
        title: fotosyntese.pdf
    batches:
      - question_type: true_false
        count: 2
""",
            encoding="utf-8",
        )
        created = await quizgen(api, "canvas", "create", str(quiz_file), *WATCH)
        assert created.code == 2, created  # some failed
        quiz_id = created.stdout.splitlines()[0]
        assert "created: 2 of 3 items extracted, 1 failed" in created.stdout
        assert f"[uke-1] {FORBIDDEN}: failed (" in created.stdout and "403" in created.stdout
        assert "[uke-1] fotosyntese.pdf: extracted (" in created.stdout
        assert ", 3 pages)" in created.stdout

        shown = await quizgen(api, "sources", quiz_id)
        assert shown.code == 2, shown
        assert f"{FORBIDDEN}: failed" in shown.stdout

        stack.canvas.forbid_page(stack.course, forbidden, False)
        retried = await quizgen(api, "extract", quiz_id, *WATCH)
        assert retried.code == 0, retried
        assert retried.stdout.splitlines()[0] == f"retrying 1 failed item(s) (quiz {quiz_id})"
        assert "created: 3 of 3 items extracted, 0 failed" in retried.stdout
        again = await quizgen(api, "extract", quiz_id)
        assert again.one_error_line() == (
            "error: no item of this quiz failed to extract: nothing to retry (HTTP 409)"
        )

        bad = tmp_path / "bad.yaml"
        bad.write_text("title: x\nmodules: []\n", encoding="utf-8")
        refused = await quizgen(api, "canvas", "create", str(bad))
        assert refused.one_error_line() == f"error: {bad}: give the Canvas course as course_id"

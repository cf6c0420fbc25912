"""Content in, against the real stack and the Canvas stand-in serving a sample course: the
good items' text extracted (headings and table cells in, script text out), each bad item
failed with its own reason, the others kept; retry extracts only what failed; a module
without text cannot be generated from, and says why; the picker lists what can be read."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE
from tests.support.api import error_of
from tests.support.api_flows import get_quiz
from tests.support.course_files import (
    LESSON_ABSENT,
    LESSON_LINES,
    LESSON_TITLE,
    TEXT_PDF_PAGES,
    add_sample_course,
)
from tests.support.exports import HEADERS, ExportStack, export_stack

Json = dict[str, Any]
BATCHES = [{"question_type": "true_false", "count": 2}]


async def _sources(stack: ExportStack, quiz_id: str) -> Json:
    response = await stack.api.get(f"/quizzes/{quiz_id}/sources", headers=HEADERS)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def _settled(stack: ExportStack, quiz_id: str, within_seconds: float = 90) -> Json:
    async with asyncio.timeout(within_seconds):
        while True:
            quiz = await get_quiz(stack.api, ALICE, quiz_id)
            if quiz["status"] != "extracting_content":
                return quiz
            await asyncio.sleep(0.1)


async def test_a_sample_course_extracts_good_items_and_explains_each_bad_one(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        sample = add_sample_course(stack.canvas, stack.course)
        page_url = sample.pages[LESSON_TITLE]
        forbidden = stack.canvas.add_page(stack.course, "Lærerens notater", "<p>Hemmelig</p>")
        stack.canvas.forbid_page(stack.course, forbidden)

        # The picker: pages and PDFs can be picked, the rest say why not.
        listed = await stack.api.get(f"/canvas/courses/{stack.course}/modules", headers=HEADERS)
        assert listed.status_code == 200, listed.text
        (module,) = [m for m in listed.json() if m["id"] == str(sample.module)]
        items = {i["title"]: i for i in module["items"]}
        assert items[LESSON_TITLE]["supported"] and items[LESSON_TITLE]["page_url"] == page_url
        assert items["fotosyntese.pdf"]["supported"] and items["fotosyntese.pdf"]["size"] > 0
        assert not items["for-stor.pdf"]["supported"] and "limit" in items["for-stor.pdf"]["reason"]
        assert not items["Nettressurs"]["supported"] and items["Nettressurs"]["reason"]

        files = sample.files
        picks = [
            {"type": "Page", "page_url": page_url, "title": LESSON_TITLE},
            {"type": "Page", "page_url": forbidden, "title": "Lærerens notater"},
            *({"type": "File", "file_id": str(files[name]), "title": name} for name in files),
        ]
        created = await stack.api.post(
            "/quizzes/from-canvas",
            json={
                "title": "Biologi fra Canvas",
                "language": "no",
                "course_id": str(stack.course),
                "modules": [
                    {"module_id": "uke1", "name": "Uke 1", "items": picks, "batches": BATCHES},
                    {
                        "module_id": "tom",
                        "name": "Bare skannet",
                        "items": [{"type": "File", "file_id": str(files["skannet.pdf"])}],
                        "batches": BATCHES,
                    },
                ],
            },
            headers=HEADERS,
        )
        assert created.status_code == 201, created.text
        quiz_id = created.json()["id"]
        assert created.json()["status"] == "extracting_content"
        quiz = await _settled(stack, quiz_id)
        assert quiz["status"] == "created", quiz

        body = await _sources(stack, quiz_id)
        by_title = {s["title"]: s for s in body["data"] if s["module_id"] == "uke1"}
        status = {title: s["status"] for title, s in by_title.items()}
        assert status == {
            LESSON_TITLE: "extracted",
            "Lærerens notater": "failed",
            "fotosyntese.pdf": "extracted",
            "skannet.pdf": "failed",
            "kryptert.pdf": "failed",
            "avkuttet.pdf": "failed",
            "for-stor.pdf": "failed",
        }
        reasons = {title: s["reason"] for title, s in by_title.items() if s["reason"]}
        assert "403" in reasons["Lærerens notater"]
        assert "no text layer" in reasons["skannet.pdf"]
        assert "password" in reasons["kryptert.pdf"]
        assert "not a readable PDF" in reasons["avkuttet.pdf"]
        assert "larger than" in reasons["for-stor.pdf"]
        assert by_title["fotosyntese.pdf"]["pages"] == len(TEXT_PDF_PAGES)
        modules = {m["module_id"]: m for m in body["modules"]}
        assert modules["uke1"]["state"] == "ready" and modules["tom"]["state"] == "empty"

        # The module's text: the page's structure as lines, the PDF's pages; no script.
        text = await _module_text(engine, uuid.UUID(quiz_id), "uke1")
        for line in LESSON_LINES:
            assert line in text, line
        for absent in LESSON_ABSENT:
            assert absent not in text, absent
        for page in TEXT_PDF_PAGES:
            assert page.splitlines()[1] in text

        # A module with no text cannot be generated from, and says which.
        refused = await stack.api.post(f"/quizzes/{quiz_id}/generate-questions", headers=HEADERS)
        assert "tom" in error_of(refused, 409, "conflict")["message"]

        # Fix the 403 in Canvas and retry: only the failed items run again.
        stack.canvas.forbid_page(stack.course, forbidden, False)
        before = {r.path for r in stack.canvas.requests}
        fetched_before = len(stack.canvas.requests)
        retry = await stack.api.post(f"/quizzes/{quiz_id}/extract", headers=HEADERS)
        assert retry.status_code == 202, retry.text
        assert retry.json()["retrying"] == 6
        await _settled(stack, quiz_id)
        after = await _sources(stack, quiz_id)
        now = {s["title"]: s["status"] for s in after["data"] if s["module_id"] == "uke1"}
        assert now["Lærerens notater"] == "extracted" and now["skannet.pdf"] == "failed"
        again = [r.path for r in stack.canvas.requests[fetched_before:]]
        assert f"/api/v1/courses/{stack.course}/pages/{page_url}" not in again
        assert not any(str(files["fotosyntese.pdf"]) in p for p in again)
        assert before  # the first run did fetch

        # The teacher gives the empty module text of their own: generation may start.
        put = await stack.api.put(
            f"/quizzes/{quiz_id}/modules/tom/content",
            json={"content": "Fotosyntesen lager sukker av lys og vann i kloroplastene."},
            headers=HEADERS,
        )
        assert put.status_code == 204, put.text
        started = await stack.api.post(f"/quizzes/{quiz_id}/generate-questions", headers=HEADERS)
        assert started.status_code == 202, started.text


async def _module_text(engine: AsyncEngine, quiz_id: uuid.UUID, module_id: str) -> str:
    from quizgen.db import repository as repo

    quiz = await repo.get_quiz(engine, quiz_id)
    (module,) = [m for m in quiz.spec.modules if m.module_id == module_id]
    return module.content

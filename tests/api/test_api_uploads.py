"""`POST /quizzes/from-files`: PDFs and .txt/.md files as a module's text, extracted like
Canvas items (a scanned PDF fails alone, with its reason), and refusals in plain words."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE
from quizgen.extraction import MAX_FILE_BYTES
from tests.support.api import error_of
from tests.support.api_flows import get_quiz
from tests.support.course_files import TEXT_PDF_PAGES, scanned_pdf, text_pdf
from tests.support.exports import HEADERS, export_stack

BATCHES = [{"question_type": "true_false", "count": 2}]
NOTES = "# Notater\n\nKloroplastene lager sukker. Æ ø å.\n"


def _quiz(**modules: list[str]) -> str:
    return json.dumps(
        {
            "title": "Fra filer",
            "language": "no",
            "modules": [
                {"module_id": m, "name": f"Modul {m}", "files": files, "batches": BATCHES}
                for m, files in modules.items()
            ],
        }
    )


async def test_uploaded_pdfs_and_notes_become_module_text(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        files: dict[str, Any] = {
            "bok": ("bok.pdf", text_pdf(), "application/pdf"),
            "notater": ("notater.md", NOTES.encode(), "text/markdown"),
            "skann": ("skann.pdf", scanned_pdf(), "application/pdf"),
        }
        response = await stack.api.post(
            "/quizzes/from-files",
            data={"quiz": _quiz(a=["bok", "notater"], b=["skann"])},
            files=files,
            headers=HEADERS,
        )
        assert response.status_code == 201, response.text
        quiz_id = response.json()["id"]
        async with asyncio.timeout(60):
            while (await get_quiz(stack.api, ALICE, quiz_id))["status"] == "extracting_content":  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        sources = (await stack.api.get(f"/quizzes/{quiz_id}/sources", headers=HEADERS)).json()
        status = {s["title"]: (s["status"], s["reason"]) for s in sources["data"]}
        assert status["bok.pdf"] == ("extracted", None)
        assert status["notater.md"] == ("extracted", None)
        assert status["skann.pdf"][0] == "failed" and "no text layer" in status["skann.pdf"][1]
        states = {m["module_id"]: m["state"] for m in sources["modules"]}
        assert states == {"a": "ready", "b": "empty"}
        quiz = await get_quiz(stack.api, ALICE, quiz_id)
        chars = {m["module_id"]: m["content_chars"] for m in quiz["modules"]}
        assert chars["a"] > len(NOTES) + sum(len(p) for p in TEXT_PDF_PAGES) // 2


async def test_upload_refusals(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with export_stack(engine, database_url, temporal_env, task_queue, worker=False) as stack:
        api = stack.api

        async def post(quiz: str, files: dict[str, Any]) -> Any:
            return await api.post(
                "/quizzes/from-files", data={"quiz": quiz}, files=files, headers=HEADERS
            )

        word = {"doc": ("oppgave.docx", b"PK\x03\x04", "application/octet-stream")}
        assert (
            "only PDF"
            in error_of(await post(_quiz(a=["doc"]), word), 422, "unprocessable")["message"]
        )
        missing = await post(_quiz(a=["nope"]), word)
        assert "nope" in error_of(missing, 422, "unprocessable")["message"]
        bad_json = await post("{not json", word)
        error_of(bad_json, 422, "unprocessable")
        big = {"stor": ("stor.pdf", b"%PDF-1.4\n" + b"0" * MAX_FILE_BYTES, "application/pdf")}
        error_of(await post(_quiz(a=["stor"]), big), 413, "payload_too_large")
        not_multipart = await api.post("/quizzes/from-files", json={}, headers=HEADERS)
        error_of(not_multipart, 422, "unprocessable")

"""A PDF uploaded with the new-quiz form: the quiz is created extracting its text (the
page lists the file and how it went), then ready to generate; a file over 10 MB is refused
on the form, next to its field."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, auth
from quizgen.extraction import MAX_FILE_BYTES
from tests.support.api_flows import get_quiz
from tests.support.course_files import TEXT_PDF_PAGES, text_pdf
from tests.support.exports import export_stack
from tests.support.web import csrf_of, error_for, quiz_form, sign_in


async def test_a_pdf_uploaded_with_the_form_is_extracted_into_its_module(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        client = stack.api
        await sign_in(client, ALICE)
        csrf = csrf_of(await client.get("/ui/quizzes/new"))
        too_big = await client.post(
            "/ui/quizzes/new",
            data=quiz_form(csrf),
            files={"modules-0-file": ("stor.pdf", b"%PDF-" + b"0" * MAX_FILE_BYTES, "")},
        )
        assert too_big.status_code == 422
        assert "larger than 10 MB" in (error_for(too_big, "modules-0-content") or "")

        created = await client.post(
            "/ui/quizzes/new",
            data=quiz_form(csrf, **{"modules-0-content": ""}),
            files={"modules-0-file": ("kapittel.pdf", text_pdf(), "application/pdf")},
        )
        assert created.status_code == 303, created.text
        location = created.headers["location"]
        assert location.endswith("notice=extracting")
        quiz_id = location.split("/")[3].split("?")[0]
        async with asyncio.timeout(60):
            while (await get_quiz(client, ALICE, quiz_id))["status"] == "extracting_content":  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert (await get_quiz(client, ALICE, quiz_id))["status"] == "created"
        page = await client.get(f"/ui/quizzes/{quiz_id}")
        assert "kapittel.pdf" in page.text
        sources = (await client.get(f"/quizzes/{quiz_id}/sources", headers=auth(ALICE))).json()
        (source,) = sources["data"]
        assert source["status"] == "extracted" and source["pages"] == len(TEXT_PDF_PAGES)

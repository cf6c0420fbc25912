"""`/quizzes/{id}/export.zip`: the quiz as a file any LMS imports (QTI 1.2, as Canvas reads it).

Approved questions only, in the quiz's review order, unless `include=all` (every question
that is not rejected). Built in memory: a quiz holds at most a few thousand questions.
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import quote

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.concurrency import run_in_threadpool

from api.deps import Engine, OwnedQuiz
from api.errors import error_responses
from quizgen.db import review
from quizgen.db.repository import QuizRecord
from quizgen.export import ExportQuestion, build_qti_package

router = APIRouter(prefix="/quizzes/{quiz_id}", tags=["export"])

# More than any quiz holds (20 modules x 4 batches x 20, plus questions written by hand).
_MAX_QUESTIONS = 10_000


class ExportFormat(StrEnum):
    QTI12 = "qti12"


class Included(StrEnum):
    APPROVED = "approved"
    ALL = "all"


@router.get(
    "/export.zip",
    responses={
        **error_responses(401, 404, 422, 503),
        200: {"content": {"application/zip": {}}, "description": "a QTI 1.2 content package"},
    },
    response_class=Response,
)
async def export_zip(
    quiz: OwnedQuiz,
    engine: Engine,
    format: ExportFormat = ExportFormat.QTI12,
    include: Included = Included.APPROVED,
) -> Response:
    """The quiz as an IMS content package with a QTI 1.2 assessment, which Canvas (and most
    LMSs) import: approved questions only unless `include=all` (rejected ones never)."""
    return await qti_download(engine, quiz, include)


async def qti_download(engine: AsyncEngine, quiz: QuizRecord, include: Included) -> Response:
    """The package as a download (the API's route and the review page's button)."""
    where = (
        review.QuestionFilter(is_approved=True)
        if include is Included.APPROVED
        else review.QuestionFilter()
    )
    records, _ = await review.list_questions(engine, quiz.id, where, offset=0, limit=_MAX_QUESTIONS)
    questions = [
        ExportQuestion(id=r.id, question_type=r.question_type, question_data=r.question_data)
        for r in records
        if r.review_status is not review.ReviewStatus.REJECTED
    ]
    language = quiz.spec.language.value
    # Pure CPU work of a few hundred milliseconds for the largest quiz: off the event loop.
    package = await run_in_threadpool(
        build_qti_package, quiz.spec.title, questions, language=language
    )
    name = (re.sub(r"[^\w-]+", "-", quiz.spec.title, flags=re.ASCII).strip("-") or "quiz")[:80]
    return Response(
        package,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.zip"; '
            f"filename*=UTF-8''{quote(quiz.spec.title[:80])}.zip"
        },
    )

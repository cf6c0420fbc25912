"""`/quizzes/{id}/questions`: review what was generated."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Engine, OwnedQuiz
from api.errors import NotFound, Unprocessable, error_responses
from api.models import QuestionsPage, QuestionUpdate
from quizgen.db import review
from quizgen.db.review import QuestionPublic
from quizgen.domain import MODULE_ID_PATTERN, QuestionType
from quizgen.errors import QuestionNotFoundError, ReviewError

router = APIRouter(prefix="/quizzes/{quiz_id}/questions", tags=["questions"])

_errors = error_responses(401, 404, 422, 503)


@router.get("", responses=_errors)
async def list_questions(
    quiz: OwnedQuiz,
    engine: Engine,
    module_id: Annotated[str | None, Query(max_length=64, pattern=MODULE_ID_PATTERN)] = None,
    batch_key: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    question_type: QuestionType | None = None,
    is_approved: bool | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QuestionsPage:
    """The quiz's saved questions by batch key, then as generated; filtered, a page at a time.

    `count` is the number of questions matching the filters (not just this page).
    """
    where = review.QuestionFilter(
        module_id=module_id,
        batch_key=batch_key,
        question_type=question_type,
        is_approved=is_approved,
    )
    records, count = await review.list_questions(engine, quiz.id, where, offset=offset, limit=limit)
    return QuestionsPage(data=records, count=count)


async def _update(
    engine: Engine, quiz_id: uuid.UUID, question_id: uuid.UUID, body: QuestionUpdate
) -> QuestionPublic:
    try:
        record = await review.update_question(
            engine,
            quiz_id,
            question_id,
            question_data=body.question_data,
            is_approved=body.is_approved,
        )
    except QuestionNotFoundError:
        raise NotFound(f"question {question_id} not found") from None
    except ReviewError as err:
        raise Unprocessable(f"the question was not changed: {err}") from None
    return record


@router.patch("/{question_id}", responses=error_responses(400, 401, 404, 413, 422, 503))
async def update_question(
    quiz: OwnedQuiz, question_id: uuid.UUID, body: QuestionUpdate, engine: Engine
) -> QuestionPublic:
    """Edit a question; the new data must pass the same rules as generated questions."""
    return await _update(engine, quiz.id, question_id, body)


@router.post("/{question_id}/approve", responses=_errors)
async def approve_question(
    quiz: OwnedQuiz, question_id: uuid.UUID, engine: Engine
) -> QuestionPublic:
    """Mark a question approved (the same as `PATCH` with `{"is_approved": true}`)."""
    return await _update(engine, quiz.id, question_id, QuestionUpdate(is_approved=True))

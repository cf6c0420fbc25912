"""`/quizzes`: create, list, show, delete, and trigger generation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api import lifecycle
from api.deps import AppSettings, CurrentUser, Engine, OwnedQuiz, Temporal
from api.errors import error_responses
from api.lifecycle import current_progress, delete_quiz
from api.models import (
    GenerationAccepted,
    QuizCreate,
    QuizPublic,
    QuizzesPage,
)
from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.db.review_changes import review_counts

router = APIRouter(prefix="/quizzes", tags=["quizzes"])

_errors = error_responses(401, 404, 422, 503)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 413, 422, 503),
)
async def create_quiz(
    body: QuizCreate, user: CurrentUser, engine: Engine, temporal: Temporal, settings: AppSettings
) -> QuizPublic:
    """Create a quiz; generation starts with `POST /quizzes/{id}/generate-questions`.

    Refused with 422 when `llm_model` is not one this deployment allows, and with
    429 when the teacher's quizzes would hold more questions than their quota.
    """
    quiz_id = await lifecycle.create_quiz(engine, settings, user, body)
    quiz = await repo.get_quiz(engine, quiz_id)
    progress = await current_progress(engine, temporal, quiz)
    return QuizPublic.of(quiz, progress, await review_counts(engine, quiz.id))


@router.get("", responses=error_responses(401, 422, 503))
async def list_quizzes(
    user: CurrentUser,
    engine: Engine,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> QuizzesPage:
    """The caller's quizzes, newest first."""
    summaries, count = await review.list_quizzes(engine, user, offset=offset, limit=limit)
    return QuizzesPage(data=summaries, count=count)


@router.get("/{quiz_id}", responses=_errors)
async def get_quiz(quiz: OwnedQuiz, engine: Engine, temporal: Temporal) -> QuizPublic:
    """Status, progress ("X questions generated successfully (Y remaining)"), batches, metadata,
    and `review`: how many questions are approved, pending and rejected (`to_export`: approved).

    Progress counts generated questions only; questions written by hand are in `review`."""
    progress = await current_progress(engine, temporal, quiz)
    return QuizPublic.of(quiz, progress, await review_counts(engine, quiz.id))


@router.delete(
    "/{quiz_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 404, 409, 422, 503),
)
async def remove_quiz(
    quiz_id: uuid.UUID, user: CurrentUser, engine: Engine, temporal: Temporal
) -> None:
    """Delete the quiz with its questions and drafts; close its workflow (409 mid-round)."""
    await delete_quiz(engine, temporal, user, quiz_id)


@router.post(
    "/{quiz_id}/generate-questions",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 404, 409, 422, 503),
)
async def generate_questions(
    quiz_id: uuid.UUID,
    user: CurrentUser,
    engine: Engine,
    temporal: Temporal,
    settings: AppSettings,
) -> GenerationAccepted:
    """Start generation, or retry only the batches that have not succeeded.

    429 when the teacher has as many rounds running as allowed, or when the round
    would take them over the questions they may generate today (`details` says
    which limit; `Retry-After` when it resets).
    """
    # Not `OwnedQuiz`: the trigger reads the quiz under its row lock, once.
    return await lifecycle.trigger_generation(engine, temporal, settings, user, quiz_id)

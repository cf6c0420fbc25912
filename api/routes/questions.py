"""`/quizzes/{id}/questions`: review what was generated, add questions by hand, reorder.

A question's `version` is its `ETag` (`"3"`). `PATCH`, `approve`, `reject` and
`restore` take it back in `If-Match` and answer 412 when the question has
changed since; without `If-Match` they apply to whatever the question is now.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from api.deps import Engine, OwnedQuiz
from api.errors import Conflict, NotFound, PreconditionFailed, Unprocessable, error_responses
from api.models import QuestionCreate, QuestionOrder, QuestionsPage, QuestionUpdate
from quizgen.db import review, review_changes
from quizgen.db.review import QuestionChangedError, QuestionPublic, QuestionSource, ReviewStatus
from quizgen.domain import MODULE_ID_PATTERN, QuestionType
from quizgen.errors import QuestionNotFoundError, ReviewError

router = APIRouter(prefix="/quizzes/{quiz_id}/questions", tags=["questions"])

_errors = error_responses(401, 404, 422, 503)
_ETAG_HEADER: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "ETag": {
                "description": "The question's version, for `If-Match` on a later change.",
                "required": True,
                "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
            }
        }
    }
}

# RFC 9110: If-Match = "*" / #entity-tag, entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE.
# A bare number (`If-Match: 3`) is taken too, as scripts may send the version as it is.
_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"|[0-9]+'
_TAG_LIST = re.compile(rf"[ \t]*(?:{_TAG})?(?:[ \t]*,[ \t]*(?:{_TAG})?)*[ \t]*")
_TAG_VALUE = re.compile(r'(?:W/)?"([^"]*)"|([0-9]+)')


def etag_of(question: QuestionPublic) -> str:
    return f'"{question.version}"'


def expected_versions(request: Request) -> frozenset[int] | None:
    """The versions `If-Match` accepts: None when it is absent or `*` (any version).

    Tags are compared by their value, weak (`W/"3"`) or strong: a proxy may weaken
    a tag, and the version names the question's state, not a byte sequence. A tag
    that is no version of ours matches nothing (so the change is refused).
    """
    values = request.headers.getlist("if-match")
    if not values:
        return None
    header = ",".join(values)
    if header.strip() == "*":
        return None
    if _TAG_LIST.fullmatch(header) is None:
        raise HTTPException(400, 'If-Match must be "*" or entity tags such as "3"')
    versions = set()
    for quoted, bare in _TAG_VALUE.findall(header):
        value = quoted or bare
        if value.isdecimal() and value.isascii() and len(value) <= 10:
            versions.add(int(value))
    return frozenset(versions)


@router.get("", responses=_errors)
async def list_questions(
    quiz: OwnedQuiz,
    engine: Engine,
    module_id: Annotated[str | None, Query(max_length=64, pattern=MODULE_ID_PATTERN)] = None,
    batch_key: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    question_type: QuestionType | None = None,
    is_approved: bool | None = None,
    review_status: ReviewStatus | None = None,
    source: QuestionSource | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QuestionsPage:
    """The quiz's questions in review order (the order the export keeps); filtered, a page
    at a time.

    The review order is the one set with `PUT .../questions/order`; until then, batch
    by batch as generated, questions written by hand last. `count` is the number of
    questions matching the filters (not just this page).
    """
    where = review.QuestionFilter(
        module_id=module_id,
        batch_key=batch_key,
        question_type=question_type,
        is_approved=is_approved,
        review_status=review_status,
        source=source,
    )
    records, count = await review.list_questions(engine, quiz.id, where, offset=offset, limit=limit)
    return QuestionsPage(data=records, count=count)


@router.get("/{question_id}", responses={**_ETAG_HEADER, **_errors})
async def get_question(
    quiz: OwnedQuiz, question_id: uuid.UUID, engine: Engine, response: Response
) -> QuestionPublic:
    """One question, with its version as the `ETag` header."""
    try:
        record = await review.get_question(engine, quiz.id, question_id)
    except QuestionNotFoundError:
        raise NotFound(f"question {question_id} not found") from None
    response.headers["ETag"] = etag_of(record)
    return record


async def _update(
    request: Request,
    response: Response,
    engine: Engine,
    quiz_id: uuid.UUID,
    question_id: uuid.UUID,
    body: QuestionUpdate,
    decision: Literal["reject", "restore"] | None = None,
) -> QuestionPublic:
    try:
        record = await review.update_question(
            engine,
            quiz_id,
            question_id,
            question_data=body.question_data,
            is_approved=body.is_approved,
            decision=decision,
            expected_versions=expected_versions(request),
        )
    except QuestionNotFoundError:
        raise NotFound(f"question {question_id} not found") from None
    except QuestionChangedError as err:
        current = err.current
        raise PreconditionFailed(
            f"question {question_id} was changed since the version in If-Match; nothing was "
            "changed: read it again and re-apply the edit to its current version",
            {"version": current.version, "etag": etag_of(current)},
        ) from None
    except ReviewError as err:
        raise Unprocessable(f"the question was not changed: {err}") from None
    response.headers["ETag"] = etag_of(record)
    return record


@router.patch(
    "/{question_id}",
    responses={**_ETAG_HEADER, **error_responses(400, 401, 404, 412, 413, 422, 503)},
)
async def update_question(
    request: Request,
    response: Response,
    quiz: OwnedQuiz,
    question_id: uuid.UUID,
    body: QuestionUpdate,
    engine: Engine,
) -> QuestionPublic:
    """Edit a question; the new data must pass the same rules as generated questions.

    New `question_data` (different from what is stored) clears the approval, unless
    the same request sends `is_approved` too; a rejected question stays rejected
    (`restore` it to review it again). With `If-Match: "<version>"` (the
    question's `ETag`) the edit is made only if the question is still at that
    version, else 412 `precondition_failed` and nothing changes; without it the
    edit applies to the question as it is now.
    """
    return await _update(request, response, engine, quiz.id, question_id, body)


@router.post(
    "/{question_id}/approve",
    responses={**_ETAG_HEADER, **error_responses(400, 401, 404, 412, 422, 503)},
)
async def approve_question(
    request: Request, response: Response, quiz: OwnedQuiz, question_id: uuid.UUID, engine: Engine
) -> QuestionPublic:
    """Mark a question approved (the same as `PATCH` with `{"is_approved": true}`);
    a rejected question too.

    With `If-Match`, only the version named there is approved (else 412).
    """
    body = QuestionUpdate(is_approved=True)
    return await _update(request, response, engine, quiz.id, question_id, body)


@router.post(
    "/{question_id}/reject",
    responses={**_ETAG_HEADER, **error_responses(400, 401, 404, 412, 422, 503)},
)
async def reject_question(
    request: Request, response: Response, quiz: OwnedQuiz, question_id: uuid.UUID, engine: Engine
) -> QuestionPublic:
    """Reject a question: it is kept (never deleted) but left out of the export.

    An approved question loses its approval. Rejecting a rejected question changes
    nothing. With `If-Match`, only the version named there is rejected (else 412).
    """
    return await _update(
        request, response, engine, quiz.id, question_id, QuestionUpdate(), "reject"
    )


@router.post(
    "/{question_id}/restore",
    responses={**_ETAG_HEADER, **error_responses(400, 401, 404, 412, 422, 503)},
)
async def restore_question(
    request: Request, response: Response, quiz: OwnedQuiz, question_id: uuid.UUID, engine: Engine
) -> QuestionPublic:
    """Restore a rejected question: it is pending again (a question not rejected is left
    as it is). With `If-Match`, only the version named there is restored (else 412).
    """
    body = QuestionUpdate()
    return await _update(request, response, engine, quiz.id, question_id, body, "restore")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        201: _ETAG_HEADER[200],
        **error_responses(400, 401, 404, 413, 422, 503),
    },
)
async def add_question(
    response: Response, quiz: OwnedQuiz, body: QuestionCreate, engine: Engine
) -> QuestionPublic:
    """Add a question written by hand (`source` "manual", pending, last in review order).

    It is checked by the same rules as generated questions: its type's rules, a module
    of the quiz, and no other question of the quiz with the same text (else 422 saying
    which rule). It belongs to no batch (`batch_key` null), so generation progress
    does not count it; the quiz's `review` counts do.
    """
    try:
        record = await review_changes.add_question(
            engine,
            quiz.id,
            module_id=body.module_id,
            question_type=body.question_type,
            difficulty=body.difficulty,
            question_data=body.question_data,
        )
    except ReviewError as err:
        raise Unprocessable(f"the question was not added: {err}") from None
    response.headers["ETag"] = etag_of(record)
    return record


@router.put("/order", responses=error_responses(401, 404, 409, 413, 422, 503))
async def reorder_questions(quiz: OwnedQuiz, body: QuestionOrder, engine: Engine) -> QuestionOrder:
    """Set the review order (the export keeps it): every question id of the quiz, rejected
    and hand-written ones too, exactly once, first to last.

    409 `conflict` when the list does not name exactly the quiz's questions (a batch
    saved or a question added meanwhile: read the list again); nothing changes then.
    Reordering does not change any question's version.
    """
    try:
        order = await review_changes.reorder_questions(engine, quiz.id, body.question_ids)
    except review_changes.OrderMismatchError as err:
        raise Conflict(
            str(err), {"missing": err.missing, "unknown": err.unknown, "repeated": err.repeated}
        ) from None
    return QuestionOrder(question_ids=order)

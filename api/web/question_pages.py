"""Pages: review a quiz's questions (filter, approve, approve a page) and edit one.

Rejecting, restoring, moving and adding by hand: `api.web.decision_pages` (its
routes are included in this router).

Every approve and edit form carries the version of the question it showed
(`version`, or `version-<id>` on the approve-a-page form). When the question
has changed since, nothing is changed: an edit shows the form again with the
other reviewer's version and a calm note (409), an approval returns to the
list with a notice. A form without a version (older than this rule) applies
to the question as it is now, like the API without `If-Match`.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.errors import NotFound
from api.web.decision_pages import router as decision_router
from api.web.forms import FORM_ERROR, QuestionForm, read_question_form
from api.web.i18n import Translator
from api.web.pages import (
    PREFIX,
    Signed,
    Visit,
    language_of,
    owned_quiz,
    page_number,
    redirect,
    render,
)
from api.web.presenters import blank_parts
from api.web.review_links import back_to as _back
from api.web.review_links import questions_url as _questions_url
from api.web.review_links import version_of as _version_of
from quizgen.db import review
from quizgen.db.review import QuestionChangedError, ReviewStatus
from quizgen.db.review_changes import review_counts
from quizgen.domain import QuestionType
from quizgen.errors import DuplicateQuestionError, InvalidQuestionError, QuestionNotFoundError

router = APIRouter(prefix=f"{PREFIX}/quizzes/{{quiz_id}}/questions", include_in_schema=False)

QUESTIONS_PER_PAGE = 20
_APPROVAL = {"yes": True, "no": False}
# Notices the review list shows besides the shared ones (`pages.NOTICES`), by key.
_NOTICES = frozenset(
    {
        "question_changed",
        "page_changed",
        "saved_unapproved",
        "rejected",
        "restored",
        "moved",
        "added",
        "decision_changed",
    }
)


@router.get("")
async def questions_page(
    request: Request,
    signed: Signed,
    quiz_id: uuid.UUID,
    module: str = "",
    question_type: Annotated[str, Query(alias="type")] = "",
    approved: str = "",
    status: str = "",
    page: str = "1",
) -> HTMLResponse:
    quiz = await owned_quiz(signed, quiz_id)
    modules = {m.module_id: m.name for m in quiz.spec.modules}
    # Unknown filter values are ignored, as a select box would never send them.
    where = review.QuestionFilter(
        module_id=module if module in modules else None,
        question_type=QuestionType(question_type) if question_type in set(QuestionType) else None,
        is_approved=_APPROVAL.get(approved),
        review_status=ReviewStatus(status) if status in set(ReviewStatus) else None,
    )
    number = page_number(page)

    async def listed(number: int) -> tuple[list[review.QuestionPublic], int]:
        return await review.list_questions(
            request.app.state.engine,
            quiz.id,
            where,
            offset=(number - 1) * QUESTIONS_PER_PAGE,
            limit=QUESTIONS_PER_PAGE,
        )

    questions, count = await listed(number)
    pages = max(1, -(-count // QUESTIONS_PER_PAGE))
    if number > pages:  # past the end (a stale link, or the last question approved away)
        number = pages
        questions, count = await listed(number)
    filters = {
        "module": where.module_id or "",
        "type": where.question_type.value if where.question_type else "",
        "approved": approved if approved in _APPROVAL else "",
        "status": where.review_status.value if where.review_status else "",
    }
    query = urlencode({k: v for k, v in filters.items() if v})

    def page_url(n: int) -> str:
        return _questions_url(quiz.id, urlencode({**filters, "page": n}))

    context = {
        "quiz_id": quiz.id,
        "title": quiz.spec.title,
        "modules": modules,
        "types": list(QuestionType),
        "statuses": list(ReviewStatus),
        "counts": await review_counts(request.app.state.engine, quiz.id),
        "filters": filters,
        "questions": questions,
        "count": count,
        "page": number,
        "pages": pages,
        "page_url": page_url,
        # Where an approve or an edit returns to: this page, with its filters and page.
        "back": _questions_url(
            quiz.id, urlencode({**filters, "page": number}) if query or number > 1 else ""
        ),
        "blank_parts": blank_parts,
    }
    language = language_of(request, quiz.spec.language)
    notice = request.query_params.get("notice")
    if notice in _NOTICES:
        context["notice"] = Translator(language)(f"notice.{notice}")
    return render(request, "questions.html", context, language=language, visit=signed)


@router.post("/approve")
async def approve_page(request: Request, signed: Signed, quiz_id: uuid.UUID) -> Response:
    posted = await signed.form()
    quiz = await owned_quiz(signed, quiz_id)
    changed = 0
    for raw in posted.getlist("question_id")[:QUESTIONS_PER_PAGE]:
        try:
            question_id = uuid.UUID(str(raw))
            shown = await review.get_question(request.app.state.engine, quiz.id, question_id)
            if shown.review_status is ReviewStatus.REJECTED:
                continue  # rejected: only its own Approve button approves it
            await review.update_question(
                request.app.state.engine,
                quiz.id,
                question_id,
                is_approved=True,
                expected_versions=_version_of(posted.get(f"version-{question_id}")),
            )
        except (ValueError, QuestionNotFoundError):
            continue  # deleted meanwhile, or not this quiz's: nothing to approve
        except QuestionChangedError:
            changed += 1  # not what the reviewer saw: left for another look
    notice = "page_changed" if changed else "approved_page"
    return redirect(_back(quiz.id, posted.get("back")), notice)


async def _question(
    request: Request, quiz_id: uuid.UUID, question_id: uuid.UUID
) -> review.QuestionPublic:
    """The quiz's question, or the 404 page."""
    try:
        return await review.get_question(request.app.state.engine, quiz_id, question_id)
    except QuestionNotFoundError:
        raise NotFound(f"question {question_id} not found") from None


@router.post("/{question_id}/approve")
async def approve(
    request: Request, signed: Signed, quiz_id: uuid.UUID, question_id: uuid.UUID
) -> Response:
    posted = await signed.form()
    quiz = await owned_quiz(signed, quiz_id)
    back = _back(quiz.id, posted.get("back"))
    try:
        await review.update_question(
            request.app.state.engine,
            quiz.id,
            question_id,
            is_approved=True,
            expected_versions=_version_of(posted.get("version")),
        )
    except QuestionNotFoundError:
        raise NotFound(f"question {question_id} not found") from None
    except QuestionChangedError:
        return redirect(back, "question_changed")
    return redirect(back, "approved")


async def _edit_page(
    request: Request,
    signed: Visit,
    quiz_id: uuid.UUID,
    question_id: uuid.UUID,
    form: QuestionForm | None,
    back: object,
    *,
    version: object = None,
    unsaved: QuestionForm | None = None,
) -> HTMLResponse:
    """The edit form: the question as stored, or `form` as posted (with its errors) and the
    version it was based on; with `unsaved`, the reviewer's edit that came too late."""
    quiz = await owned_quiz(signed, quiz_id)
    question = await _question(request, quiz.id, question_id)
    if form is None or version is None:
        version = question.version
    form = form or QuestionForm.of(question.question_type, question.question_data)
    context = {
        "quiz_id": quiz.id,
        "question": question,
        "form": form,
        "form_error": FORM_ERROR,
        "back": _back(quiz.id, back),
        # A form shown again keeps the version it was based on, so a change made by
        # someone else meanwhile is still caught on the next save.
        "version": version,
        "unsaved": unsaved,
    }
    language = language_of(request, quiz.spec.language)
    if unsaved is not None:
        context["notice"] = Translator(language)("edit.changed")
    status_code = 409 if unsaved is not None else 422 if form.errors else 200
    return render(
        request,
        "question_edit.html",
        context,
        language=language,
        visit=signed,
        status_code=status_code,
    )


@router.get("/{question_id}/edit")
async def edit_form(
    request: Request, signed: Signed, quiz_id: uuid.UUID, question_id: uuid.UUID
) -> HTMLResponse:
    return await _edit_page(
        request, signed, quiz_id, question_id, None, request.query_params.get("back")
    )


@router.post("/{question_id}/edit")
async def edit(
    request: Request, signed: Signed, quiz_id: uuid.UUID, question_id: uuid.UUID
) -> Response:
    posted = await signed.form()
    quiz = await owned_quiz(signed, quiz_id)
    question = await _question(request, quiz.id, question_id)
    t = Translator(language_of(request, quiz.spec.language))
    form = read_question_form(posted, question.question_type)
    based_on = _version_of(posted.get("version"))
    back = posted.get("back")
    if based_on is not None and question.version not in based_on:
        # Changed since the form was shown: theirs is kept, this edit is not saved.
        return await _edit_page(request, signed, quiz_id, question_id, None, back, unsaved=form)
    data = form.check(t)
    if data is not None:
        try:
            saved = await review.update_question(
                request.app.state.engine,
                quiz.id,
                question_id,
                question_data=data,
                expected_versions=based_on,
            )
        except QuestionChangedError:
            return await _edit_page(request, signed, quiz_id, question_id, None, back, unsaved=form)
        except DuplicateQuestionError as err:
            form.errors["question_text"] = str(err)
        except InvalidQuestionError as err:
            form.errors[FORM_ERROR] = str(err)
        else:
            notice = (
                "saved_unapproved" if question.is_approved and not saved.is_approved else "saved"
            )
            return redirect(_back(quiz.id, back), notice)
    return await _edit_page(
        request, signed, quiz_id, question_id, form, back, version=posted.get("version")
    )


# Reject, restore, move and add by hand (api/web/decision_pages.py), under this prefix.
router.include_router(decision_router)

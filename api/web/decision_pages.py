"""Pages: reject, restore and move a question; add a question by hand.

Reject and restore carry the version of the question the page showed, like
approve: when the question has changed since, nothing changes and the list says
so. Moving swaps a question with its neighbour in the quiz's review order (the
order the export keeps). The add form is the edit form of the chosen type, with
a module and a difficulty; it is checked by the same rules (its type's, and no
other question of the quiz with the same text).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.errors import NotFound
from api.web.forms import FORM_ERROR, QuestionForm, read_question_form
from api.web.i18n import Translator
from api.web.pages import Signed, Visit, language_of, owned_quiz, redirect, render
from api.web.presenters import blank_question
from api.web.review_links import back_to, version_of
from quizgen.db import review, review_changes
from quizgen.db.review import QuestionChangedError
from quizgen.domain import Difficulty, QuestionType
from quizgen.errors import DuplicateQuestionError, InvalidQuestionError, QuestionNotFoundError

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


async def _decide(
    request: Request,
    signed: Signed,
    quiz_id: uuid.UUID,
    question_id: uuid.UUID,
    decision: Literal["reject", "restore"],
) -> Response:
    posted = await signed.form()
    quiz = await owned_quiz(signed, quiz_id)
    back = back_to(quiz.id, posted.get("back"))
    try:
        await review.update_question(
            request.app.state.engine,
            quiz.id,
            question_id,
            decision=decision,
            expected_versions=version_of(posted.get("version")),
        )
    except QuestionNotFoundError:
        raise NotFound(f"question {question_id} not found") from None
    except QuestionChangedError:
        return redirect(back, "decision_changed")
    return redirect(back, "rejected" if decision == "reject" else "restored")


@router.post("/{question_id}/reject")
async def reject(
    request: Request, signed: Signed, quiz_id: uuid.UUID, question_id: uuid.UUID
) -> Response:
    return await _decide(request, signed, quiz_id, question_id, "reject")


@router.post("/{question_id}/restore")
async def restore(
    request: Request, signed: Signed, quiz_id: uuid.UUID, question_id: uuid.UUID
) -> Response:
    return await _decide(request, signed, quiz_id, question_id, "restore")


@router.post("/{question_id}/move")
async def move(
    request: Request, signed: Signed, quiz_id: uuid.UUID, question_id: uuid.UUID
) -> Response:
    posted = await signed.form()
    quiz = await owned_quiz(signed, quiz_id)
    steps = {"up": -1, "down": 1}.get(str(posted.get("direction") or ""))
    back = back_to(quiz.id, posted.get("back"))
    if steps is None:
        return redirect(back)
    try:
        await review_changes.move_question(request.app.state.engine, quiz.id, question_id, steps)
    except QuestionNotFoundError:
        raise NotFound(f"question {question_id} not found") from None
    return redirect(back, "moved")


def _type_of(raw: object) -> QuestionType:
    value = str(raw or "")
    return QuestionType(value) if value in set(QuestionType) else QuestionType.MULTIPLE_CHOICE


async def _add_page(
    request: Request,
    signed: Visit,
    quiz_id: uuid.UUID,
    form: QuestionForm,
    chosen: dict[str, str],
    back: object,
) -> HTMLResponse:
    quiz = await owned_quiz(signed, quiz_id)
    context: dict[str, Any] = {
        "quiz_id": quiz.id,
        "form": form,
        "form_error": FORM_ERROR,
        "modules": {m.module_id: m.name for m in quiz.spec.modules},
        "types": list(QuestionType),
        "difficulties": list(Difficulty),
        "chosen": chosen,
        "back": back_to(quiz.id, back),
    }
    return render(
        request,
        "question_add.html",
        context,
        language=language_of(request, quiz.spec.language),
        visit=signed,
        status_code=422 if form.errors else 200,
    )


@router.get("/new")
async def add_form(request: Request, signed: Signed, quiz_id: uuid.UUID) -> HTMLResponse:
    """The add form for the type chosen (`?type=`), blank."""
    quiz = await owned_quiz(signed, quiz_id)
    question_type = _type_of(request.query_params.get("type"))
    chosen = {
        "type": question_type.value,
        "module": quiz.spec.modules[0].module_id,
        "difficulty": Difficulty.MEDIUM.value,
    }
    form = QuestionForm.of(question_type, blank_question(question_type))
    return await _add_page(request, signed, quiz_id, form, chosen, request.query_params.get("back"))


@router.post("/new")
async def add(request: Request, signed: Signed, quiz_id: uuid.UUID) -> Response:
    posted = await signed.form()
    quiz = await owned_quiz(signed, quiz_id)
    t = Translator(language_of(request, quiz.spec.language))
    question_type = _type_of(posted.get("question_type"))
    raw_difficulty = str(posted.get("difficulty") or "")
    difficulty = (
        Difficulty(raw_difficulty) if raw_difficulty in set(Difficulty) else Difficulty.MEDIUM
    )
    module_id = str(posted.get("module") or "")
    chosen = {"type": question_type.value, "module": module_id, "difficulty": difficulty.value}
    form = read_question_form(posted, question_type)
    back = posted.get("back")
    data = form.check(t)
    if data is not None:
        try:
            await review_changes.add_question(
                request.app.state.engine,
                quiz.id,
                module_id=module_id,
                question_type=question_type,
                difficulty=difficulty,
                question_data=data,
            )
        except DuplicateQuestionError as err:
            form.errors["question_text"] = str(err)
        except InvalidQuestionError as err:
            form.errors[FORM_ERROR] = str(err)
        else:
            return redirect(back_to(quiz.id, back), "added")
    return await _add_page(request, signed, quiz_id, form, chosen, back)

"""New Quizzes: quizzes and their items, under /api/quiz/v1.

Quizzes: https://developerdocs.instructure.com/services/canvas/resources/new_quizzes
Items:   https://developerdocs.instructure.com/services/canvas/resources/new_quiz_items
         (the same endpoints, OpenAPI form:
         https://developerdocs.instructure.com/services/new-quizzes/public/api-endpoints/quiz_items)

Bodies are JSON, {"quiz": {...}} and {"item": {...}}, as the documentation's examples send
them. Ids in the answers are strings ("id": "35"), as the documented objects show them. A
payload that breaks the documented shape gets a 422 naming the field (a body that is not a
JSON object, a 400); the documentation shows no error body for these, so the stand-in uses
Canvas's usual {"errors": [{"message": ..., "field": ...}]}.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from deploy.local.canvas.lms import course_or_error, current_user
from deploy.local.canvas.responses import errors, not_found, paginate, unauthorized_action
from deploy.local.canvas.state import Course, Quiz, next_id
from deploy.local.canvas.validation import PayloadError, check_entry, item_fields, quiz_fields

T = TypeVar("T")

QUIZ_DEFAULTS: dict[str, Any] = {
    "title": "",
    "instructions": "",
    "assignment_group_id": "1",
    "points_possible": 0.0,
    "due_at": None,
    "lock_at": None,
    "unlock_at": None,
    "published": False,
    "grading_type": "points",
    "quiz_settings": {
        "calculator_type": "none",
        "filter_ip_address": False,
        "filters": {},
        "one_at_a_time_type": "none",
        "allow_backtracking": True,
        "shuffle_answers": False,
        "shuffle_questions": False,
        "require_student_access_code": False,
        "student_access_code": None,
        "has_time_limit": False,
        "session_time_limit_in_seconds": 0,
        "multiple_attempts": {},
        "result_view_settings": {},
    },
}


def invalid(error: PayloadError) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"field": error.field, "message": error.message}]}, status_code=422
    )


async def _body(request: Request) -> Any:
    if "json" not in request.headers.get("content-type", ""):
        raise PayloadError("body", "must be JSON (Content-Type: application/json)")
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise PayloadError("body", "is not valid JSON") from exc


async def _json_fields(request: Request, parse: Callable[[Any], T]) -> T | Response:
    """The JSON body as `parse` reads it; a 400 if there is none, a 422 if `parse` refuses it."""
    try:
        body = await _body(request)
    except PayloadError as exc:
        return errors(400, exc.message)
    try:
        return parse(body)
    except PayloadError as exc:
        return invalid(exc)


def _teacher_course(request: Request) -> Course | Response:
    course = course_or_error(request)
    if isinstance(course, Course) and course.id not in current_user(request).teacher_of:
        return unauthorized_action()
    return course


def _quiz(request: Request) -> tuple[Course, Quiz] | Response:
    course = _teacher_course(request)
    if isinstance(course, Response):
        return course
    key = request.path_params["assignment_id"]
    quiz = course.quizzes.get(int(key)) if key.isdigit() else None
    return not_found() if quiz is None else (course, quiz)


def _created(request: Request) -> None:
    # The server's drop-after-create fault cuts the connection after this point.
    request.state.created = True


async def create_quiz(request: Request) -> Response:
    course = _teacher_course(request)
    if isinstance(course, Response):
        return course
    fields = await _json_fields(request, lambda body: quiz_fields(body, creating=True))
    if isinstance(fields, Response):
        return fields
    quiz = Quiz(id=next_id(), fields={**copy.deepcopy(QUIZ_DEFAULTS), **fields})
    course.quizzes[quiz.id] = quiz
    _created(request)
    return JSONResponse(quiz.json())


async def list_quizzes(request: Request) -> Response:
    # "List new quizzes", on the Quizzes page above:
    #     GET /api/quiz/v1/courses/:course_id/quizzes
    #     "Get a list of new quizzes."  Request Parameters: course_id (Required, integer).
    #     "Returns a list of NewQuiz objects"
    # The page says nothing about pagination for it (no per_page or page parameter, and not
    # "Returns a paginated list", as Canvas's paginated endpoints put it). The stand-in pages
    # it as it pages its other lists (responses.paginate: per_page, page, the Link header),
    # after Canvas's pagination page, which speaks of every list: "Requests that return
    # multiple items will be paginated to 10 items by default."
    # (https://developerdocs.instructure.com/services/canvas/basics/file.pagination)
    # Oldest first: ids are handed out in increasing order.
    course = _teacher_course(request)
    if isinstance(course, Response):
        return course
    rows = [course.quizzes[key].json() for key in sorted(course.quizzes)]
    return paginate(request, rows)


async def show_quiz(request: Request) -> Response:
    found = _quiz(request)
    return found if isinstance(found, Response) else JSONResponse(found[1].json())


async def delete_quiz(request: Request) -> Response:
    found = _quiz(request)
    if isinstance(found, Response):
        return found
    course, quiz = found
    del course.quizzes[quiz.id]
    return JSONResponse(quiz.json())


def _renumber(quiz: Quiz) -> None:
    for i, item in enumerate(quiz.items, 1):
        item["position"] = i


def _place(quiz: Quiz, item: dict[str, Any], position: int | None) -> None:
    if item in quiz.items:
        quiz.items.remove(item)
    index = len(quiz.items) if position is None else min(position - 1, len(quiz.items))
    quiz.items.insert(index, item)
    _renumber(quiz)


def _new_item_fields(body: Any) -> dict[str, Any]:
    fields = item_fields(body, creating=True)
    check_entry(fields["entry"])
    return fields


async def create_item(request: Request) -> Response:
    found = _quiz(request)
    if isinstance(found, Response):
        return found
    _, quiz = found
    fields = await _json_fields(request, _new_item_fields)
    if isinstance(fields, Response):
        return fields
    item: dict[str, Any] = {
        "id": str(next_id()),
        "position": 0,
        "points_possible": fields["points_possible"],
        "entry_type": "Item",
        "entry_editable": True,
        "stimulus_quiz_entry_id": "",
        "status": "mutable",
        "properties": {},
        "entry": copy.deepcopy(fields["entry"]),
    }
    _place(quiz, item, fields.get("position"))
    _created(request)
    return JSONResponse(item)


async def list_items(request: Request) -> Response:
    # "List quiz items", on the Items page above: "Get a list of items in a new quiz." ...
    # "Returns a list of QuizItem objects". Its OpenAPI form (linked above) says "Returns all
    # items (questions) in a quiz" and has no page parameters: so every item comes in one
    # answer, with no Link header.
    found = _quiz(request)
    return found if isinstance(found, Response) else JSONResponse(found[1].items)


def _quiz_item(request: Request) -> tuple[Quiz, dict[str, Any]] | Response:
    found = _quiz(request)
    if isinstance(found, Response):
        return found
    _, quiz = found
    item_id = request.path_params["item_id"]
    item = next((item for item in quiz.items if item["id"] == item_id), None)
    return not_found() if item is None else (quiz, item)


async def show_item(request: Request) -> Response:
    found = _quiz_item(request)
    return found if isinstance(found, Response) else JSONResponse(found[1])


async def update_item(request: Request) -> Response:
    found = _quiz_item(request)
    if isinstance(found, Response):
        return found
    quiz, item = found

    def merged(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        fields = item_fields(body, creating=False)
        entry = {**item["entry"], **fields.get("entry", {})}
        check_entry(entry)
        return fields, entry

    parsed = await _json_fields(request, merged)
    if isinstance(parsed, Response):
        return parsed
    fields, entry = parsed
    item["entry"] = copy.deepcopy(entry)
    if "points_possible" in fields:
        item["points_possible"] = fields["points_possible"]
    if "position" in fields:
        _place(quiz, item, fields["position"])
    return JSONResponse(item)


async def delete_item(request: Request) -> Response:
    found = _quiz_item(request)
    if isinstance(found, Response):
        return found
    quiz, item = found
    quiz.items.remove(item)
    _renumber(quiz)
    return JSONResponse(item)


_Q = "/api/quiz/v1/courses/{course_id}/quizzes"
ROUTES = [
    Route(_Q, create_quiz, methods=["POST"]),
    Route(_Q, list_quizzes, methods=["GET"]),
    Route(_Q + "/{assignment_id}", show_quiz, methods=["GET"]),
    Route(_Q + "/{assignment_id}", delete_quiz, methods=["DELETE"]),
    Route(_Q + "/{assignment_id}/items", create_item, methods=["POST"]),
    Route(_Q + "/{assignment_id}/items", list_items, methods=["GET"]),
    Route(_Q + "/{assignment_id}/items/{item_id}", show_item, methods=["GET"]),
    Route(_Q + "/{assignment_id}/items/{item_id}", update_item, methods=["PATCH"]),
    Route(_Q + "/{assignment_id}/items/{item_id}", delete_item, methods=["DELETE"]),
]

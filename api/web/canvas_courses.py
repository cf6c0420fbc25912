"""What the pages ask Canvas for on the teacher's behalf (their courses, a course's
modules) and what they show when Canvas cannot answer: one mapping of Canvas's errors for
the "New quiz from Canvas" picker and the quiz page's export section."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import Request

from api.errors import APIError
from api.routes.canvas import CanvasCoursePublic, courses
from api.web.i18n import Translator
from quizgen.errors import CanvasAuthError, CanvasRefusedError, CanvasUnavailableError

__all__ = ["Answer", "ask_canvas", "course_id", "teacher_courses"]

T = TypeVar("T")
# A Canvas course id, as the pages take it: up to 20 digits.
MAX_COURSE_ID_CHARS = 20


def course_id(raw: object) -> str | None:
    """A posted or linked course id (blanks around it dropped), or None when it is none."""
    text = str(raw or "").strip()
    return text if text.isdecimal() and len(text) <= MAX_COURSE_ID_CHARS else None


@dataclass(frozen=True)
class Answer(Generic[T]):
    """Canvas's answer, or None with the problem in the page's words (and whether Canvas
    refused the saved token: the page then offers to connect again)."""

    found: T | None
    problem: str | None = None
    token_refused: bool = False


async def ask_canvas(
    call: Awaitable[T], t: Translator, *, refused: str, unavailable: str
) -> Answer[T]:
    """`call`'s answer; `refused` / `unavailable`: the words (keys) for Canvas refusing the
    saved token and for Canvas (or the API in front of it) not answering."""
    try:
        return Answer(await call)
    except CanvasAuthError:
        return Answer(None, t(refused), token_refused=True)
    except (CanvasUnavailableError, CanvasRefusedError, APIError):
        return Answer(None, t(unavailable))


async def teacher_courses(
    request: Request, user_id: str, t: Translator, *, refused: str, unavailable: str
) -> Answer[list[CanvasCoursePublic]]:
    """The teacher's courses as `GET /canvas/courses` finds them (every page), or why not."""
    state = request.app.state
    found = courses(user_id, state.engine, state.settings)
    return await ask_canvas(found, t, refused=refused, unavailable=unavailable)

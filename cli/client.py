"""The HTTP calls to the quizgen API, and how their failures become one-line errors.

Every failure the user can meet (refused connection, timeout, an error answer,
an answer of an unexpected shape) is raised as `CliError`, whose text is the
whole line `quizgen` prints; nothing here prints.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from quizgen.contracts import QuizProgress
from quizgen.domain import QuestionType, QuizSpec, QuizStatus

__all__ = [
    "QUESTIONS_PAGE",
    "Accepted",
    "ApiClient",
    "ApiError",
    "CliError",
    "ExportView",
    "Json",
    "QuizSummary",
    "QuizView",
    "QuizzesPage",
    "Unreachable",
    "parse",
]

Json = dict[str, Any]
Model = TypeVar("Model", bound=BaseModel)

# The API's largest page of questions: fewer round trips when paging through all.
QUESTIONS_PAGE = 200
# Generous for reads; connecting should be quick on any network a teacher uses.
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class CliError(Exception):
    """A failure to report as `error: <text>` and exit 1."""


class Unreachable(CliError):
    """No answer at all: refused, timed out, unknown host."""


class ApiError(CliError):
    """The API answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.message = message


# Lenient views of the API's answers (extra fields ignored), so a newer API with
# more fields does not break an older command line.
class _View(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ReviewCounts(_View):
    approved: int
    pending: int
    rejected: int
    to_export: int


class QuizView(_View):
    id: uuid.UUID
    title: str
    status: QuizStatus
    failure_message: str | None = None
    progress: QuizProgress
    # None from an API older than review statuses.
    review: ReviewCounts | None = None


class QuizSummary(_View):
    id: uuid.UUID
    title: str
    status: QuizStatus
    questions_saved: int
    questions_target: int
    created_at: datetime


class Accepted(_View):
    quiz_id: uuid.UUID
    batch_keys: list[str]
    message: str


class ExportView(_View):
    """`/quizzes/{id}/export`: where the quiz's Canvas export stands."""

    # running, waiting_for_canvas, published, failed, cancelled or undoing (kept as a
    # string: a newer API's new state is shown, not refused).
    state: str
    course_id: str
    title: str
    canvas_quiz_url: str | None = None
    exported: int
    total: int
    changed: int = 0
    # "X of Y questions exported"
    progress: str
    # Why it failed, was cancelled, or waits for a new Canvas token.
    message: str | None = None


def parse(model: type[Model], body: Any) -> Model:
    """An answer read as `model`, or a one-line error saying what was unexpected."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise CliError(f"unexpected answer from the API ({where}: {first['msg']})") from None


def _error_message(response: httpx.Response) -> str:
    """The API's `{"error": {"message"}}`, or the HTTP reason for anything else (a proxy)."""
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = None
    if isinstance(message, str) and message:
        # One line, always: a message is never supposed to span several.
        return " ".join(message.split())
    return response.reason_phrase or "request failed"


def _one_line(reason: object) -> str:
    return " ".join(str(reason).split()) or "no answer"


class ApiClient:
    """A synchronous client of one API, authenticated with one bearer token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        try:
            self._http = httpx.Client(
                base_url=self.base_url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=TIMEOUT,
            )
        except httpx.InvalidURL as exc:
            raise CliError(f"invalid API address {self.base_url!r}: {_one_line(exc)}") from None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The answer's JSON (None for an empty answer); errors as `CliError`."""
        response = self._send(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(f"unexpected answer from the API at {self.base_url}: not JSON") from None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer, when it is not an error; errors as `CliError`."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise Unreachable(
                f"cannot reach the quizgen API at {self.base_url}: timed out"
            ) from None
        except httpx.TransportError as exc:
            # Refused, unknown host, reset...: the reason never carries the token.
            reason = _one_line(exc)
            raise Unreachable(
                f"cannot reach the quizgen API at {self.base_url}: {reason}"
            ) from None
        if response.is_error:
            raise ApiError(response.status_code, _error_message(response))
        return response

    # -- quizzes ---------------------------------------------------------------------------

    def create_quiz(self, spec: QuizSpec) -> Json:
        body: Json = self._call("POST", "/quizzes", json=spec.model_dump(mode="json"))
        return body

    def quiz_document(self, quiz_id: uuid.UUID) -> Json:
        body: Json = self._call("GET", f"/quizzes/{quiz_id}")
        return body

    def quiz(self, quiz_id: uuid.UUID) -> QuizView:
        return parse(QuizView, self.quiz_document(quiz_id))

    def quizzes_document(self, offset: int, limit: int) -> Json:
        """One page of the caller's quizzes: `{"data": [...], "count": N}`."""
        body: Json = self._call("GET", "/quizzes", params={"offset": offset, "limit": limit})
        return body

    def generate(self, quiz_id: uuid.UUID) -> Accepted:
        """Start generation, or retry the batches that have not succeeded (the API decides)."""
        return parse(Accepted, self._call("POST", f"/quizzes/{quiz_id}/generate-questions"))

    def delete_quiz(self, quiz_id: uuid.UUID) -> None:
        self._call("DELETE", f"/quizzes/{quiz_id}")

    def qti_package(self, quiz_id: uuid.UUID) -> bytes:
        """The quiz's approved questions as a QTI 1.2 package (zip bytes)."""
        response = self._send("GET", f"/quizzes/{quiz_id}/export.zip", params={"format": "qti12"})
        return response.content

    # -- Canvas ----------------------------------------------------------------------------

    def canvas_connect(self, token: str) -> Json:
        body: Json = self._call("PUT", "/canvas/connection", json={"token": token})
        return body

    def canvas_connection(self) -> Json:
        body: Json = self._call("GET", "/canvas/connection")
        return body

    def canvas_disconnect(self) -> None:
        self._call("DELETE", "/canvas/connection")

    def canvas_courses(self) -> list[Json]:
        body: list[Json] = self._call("GET", "/canvas/courses")
        return body

    def canvas_modules(self, course_id: str) -> list[Json]:
        body: list[Json] = self._call("GET", f"/canvas/courses/{course_id}/modules")
        return body

    # -- content from Canvas (and its extraction) -------------------------------------------

    def create_from_canvas(self, body: Json) -> Json:
        created: Json = self._call("POST", "/quizzes/from-canvas", json=body)
        return created

    def sources(self, quiz_id: uuid.UUID) -> Json:
        found: Json = self._call("GET", f"/quizzes/{quiz_id}/sources")
        return found

    def retry_extraction(self, quiz_id: uuid.UUID) -> Json:
        answer: Json = self._call("POST", f"/quizzes/{quiz_id}/extract")
        return answer

    # -- the Canvas export ----------------------------------------------------------------

    def export_to_canvas(self, quiz_id: uuid.UUID, target: Json | None) -> ExportView:
        """Start the export; `target` None: again, to where the last export went."""
        kwargs: Json = {} if target is None else {"json": target}
        return parse(ExportView, self._call("POST", f"/quizzes/{quiz_id}/export", **kwargs))

    def canvas_export(self, quiz_id: uuid.UUID) -> ExportView | None:
        """Where the export stands; None when the quiz was never exported (or undone)."""
        try:
            body = self._call("GET", f"/quizzes/{quiz_id}/export")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return parse(ExportView, body)

    def undo_export(self, quiz_id: uuid.UUID) -> ExportView:
        return parse(ExportView, self._call("DELETE", f"/quizzes/{quiz_id}/export"))

    def cancel_export(self, quiz_id: uuid.UUID) -> ExportView:
        return parse(ExportView, self._call("POST", f"/quizzes/{quiz_id}/export/cancel"))

    # -- questions -------------------------------------------------------------------------

    def questions(
        self,
        quiz_id: uuid.UUID,
        *,
        module_id: str | None = None,
        question_type: QuestionType | None = None,
        is_approved: bool | None = None,
        review_status: str | None = None,
    ) -> list[Json]:
        """Every question matching the filters, page by page (kept as the API sent them)."""
        filters: dict[str, str] = {}
        if review_status is not None:
            filters["review_status"] = review_status
        return list(self._question_pages(quiz_id, module_id, question_type, is_approved, filters))

    def _question_pages(
        self,
        quiz_id: uuid.UUID,
        module_id: str | None,
        question_type: QuestionType | None,
        is_approved: bool | None,
        filters: dict[str, str],
    ) -> Iterator[Json]:
        if module_id is not None:
            filters["module_id"] = module_id
        if question_type is not None:
            filters["question_type"] = question_type.value
        if is_approved is not None:
            filters["is_approved"] = "true" if is_approved else "false"
        offset = 0
        while True:
            params = {**filters, "offset": str(offset), "limit": str(QUESTIONS_PAGE)}
            page = parse(
                _QuestionsPage, self._call("GET", f"/quizzes/{quiz_id}/questions", params=params)
            )
            yield from page.data
            offset += len(page.data)
            # A short page is the last one (also when questions change while paging).
            if len(page.data) < QUESTIONS_PAGE or offset >= page.count:
                return

    def approve(self, quiz_id: uuid.UUID, question_id: uuid.UUID) -> None:
        self._call("POST", f"/quizzes/{quiz_id}/questions/{question_id}/approve")

    def decide(self, quiz_id: uuid.UUID, question_id: uuid.UUID, decision: str) -> None:
        """`reject` or `restore` a question."""
        self._call("POST", f"/quizzes/{quiz_id}/questions/{question_id}/{decision}")

    def add_question(self, quiz_id: uuid.UUID, question: Json) -> Json:
        body: Json = self._call("POST", f"/quizzes/{quiz_id}/questions", json=question)
        return body


class QuizzesPage(_View):
    data: list[QuizSummary]
    count: int


class _QuestionsPage(_View):
    data: list[Json]
    count: int

"""Content in from Canvas: a course's modules and their items, a quiz made from picked
pages and PDFs (extracted on Temporal, `quiz-{id}-extract`), where each item stands, a
retry of the failed ones, and the teacher's own text for a module."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api import content_lifecycle as lifecycle
from api.content_lifecycle import CanvasQuizCreate
from api.deps import AppSettings, CurrentUser, Engine, OwnedQuiz, Temporal
from api.errors import Conflict, error_responses
from api.lifecycle import current_progress
from api.models import QuizPublic
from quizgen.canvas.access import open_canvas
from quizgen.db import canvas_connections as connections
from quizgen.db import repository as repo
from quizgen.db import sources
from quizgen.db.review_changes import review_counts
from quizgen.domain import MAX_MODULE_CONTENT_CHARS, MODULE_ID_PATTERN, NoNul
from quizgen.extraction import MAX_FILE_BYTES, PDF_CONTENT_TYPES
from quizgen.text import require_visible_text

router = APIRouter(tags=["canvas content"])

_errors = error_responses(401, 404, 409, 422, 503)
_FILE_CALLS_AT_ONCE = 8
# Module items quizgen reads, and why the others are not.
_UNSUPPORTED = {
    "Assignment": "assignments are not read (only pages and PDF files)",
    "Discussion": "discussions are not read (only pages and PDF files)",
    "Quiz": "quizzes are not read (only pages and PDF files)",
    "SubHeader": "a text header has no content to read",
    "ExternalUrl": "links to other sites are not fetched",
    "ExternalTool": "external tools are not read",
}


class CanvasItemPublic(BaseModel):
    id: str
    title: str
    type: str
    page_url: str | None = None
    file_id: str | None = None
    size: int | None = None
    content_type: str | None = None
    supported: bool
    # Why an item cannot be picked, in plain words.
    reason: str | None = None


class CanvasModulePublic(BaseModel):
    id: str
    name: str
    items: list[CanvasItemPublic]


class SourcesPublic(BaseModel):
    """Where each picked item stands, and each module's text."""

    data: list[sources.SourceRecord]
    modules: list[sources.ModuleText]


class ModuleTextUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: Annotated[str, Field(min_length=1, max_length=MAX_MODULE_CONTENT_CHARS), NoNul]

    @field_validator("content")
    @classmethod
    def _visible(cls, value: str) -> str:
        return require_visible_text(value, "content")


@router.get("/canvas/courses/{course_id}/modules", responses=_errors)
async def course_modules(
    course_id: Annotated[str, Path(pattern=r"^[0-9]{1,20}$")],
    user: CurrentUser,
    engine: Engine,
    settings: AppSettings,
) -> list[CanvasModulePublic]:
    """The course's modules with their items (every page of Canvas's list): pages and PDF
    files can be picked; other items say why not; files say their size."""
    if await connections.get_connection(engine, user) is None:
        raise Conflict("connect Canvas first (PUT /canvas/connection)")
    async with open_canvas(engine, settings, user) as canvas:
        modules = [
            m
            async for m in canvas.paginate(
                f"/api/v1/courses/{course_id}/modules", {"include[]": "items"}
            )
        ]
        # A file's size and type take a call each: a few at once, not one after another.
        limit = asyncio.Semaphore(_FILE_CALLS_AT_ONCE)

        async def item_of(item: dict[str, Any]) -> CanvasItemPublic:
            async with limit:
                return await _item(canvas, course_id, item)

        return [
            CanvasModulePublic(
                id=str(module.get("id")),
                name=str(module.get("name") or ""),
                items=list(await asyncio.gather(*map(item_of, module.get("items") or []))),
            )
            for module in modules
        ]


async def _item(canvas: Any, course_id: str, item: dict[str, Any]) -> CanvasItemPublic:
    kind = str(item.get("type") or "")
    common = {"id": str(item.get("id")), "title": str(item.get("title") or ""), "type": kind}
    if kind == "Page":
        return CanvasItemPublic(**common, page_url=item.get("page_url"), supported=True)
    if kind == "File":
        file_id = str(item.get("content_id"))
        meta = await canvas.request("GET", f"/api/v1/courses/{course_id}/files/{file_id}")
        size = meta.get("size") if isinstance(meta, dict) else None
        content_type = str(meta.get("content-type") or "") if isinstance(meta, dict) else ""
        reason = None
        if content_type not in PDF_CONTENT_TYPES:
            reason = f"only PDF files are read (this one is {content_type or 'of unknown type'})"
        elif isinstance(size, int) and size > MAX_FILE_BYTES:
            reason = f"larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit"
        return CanvasItemPublic(
            **common,
            file_id=file_id,
            size=size if isinstance(size, int) else None,
            content_type=content_type or None,
            supported=reason is None,
            reason=reason,
        )
    reason = _UNSUPPORTED.get(kind, f"items of type {kind or 'unknown'} are not read")
    return CanvasItemPublic(**common, supported=False, reason=reason)


@router.post(
    "/quizzes/from-canvas",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 409, 413, 422, 429, 503),
)
async def create_from_canvas(
    body: CanvasQuizCreate,
    user: CurrentUser,
    engine: Engine,
    temporal: Temporal,
    settings: AppSettings,
) -> QuizPublic:
    """Create a quiz from the course's pages and PDFs: the quiz is `extracting_content`
    while each item's text is extracted (`GET /quizzes/{id}/sources`), then `created`
    (generate as usual) or `failed` when no module got text. Items that cannot be read fail
    alone, with their reason; `POST /quizzes/{id}/extract` retries only those."""
    quiz_id = await lifecycle.create_from_canvas(engine, temporal, settings, user, body)
    quiz = await repo.get_quiz(engine, quiz_id)
    progress = await current_progress(engine, temporal, quiz)
    return QuizPublic.of(quiz, progress, await review_counts(engine, quiz.id))


@router.get("/quizzes/{quiz_id}/sources", responses=_errors)
async def quiz_sources(quiz: OwnedQuiz, engine: Engine) -> SourcesPublic:
    """Each picked item's extraction (pending, extracted with its size, failed with the
    reason), and each module's text state (ready, extracting, empty)."""
    records = await sources.list_sources(engine, quiz.id)
    texts = {m.module_id: len(m.content) for m in quiz.spec.modules}
    async with engine.connect() as conn:
        states = await sources.module_states_in(conn, quiz.id)
    modules = [
        sources.ModuleText(module_id=m, state=state, chars=texts.get(m, 0))
        for m, state in states.items()
    ]
    return SourcesPublic(data=records, modules=modules)


@router.post("/quizzes/{quiz_id}/extract", status_code=status.HTTP_202_ACCEPTED, responses=_errors)
async def retry_extraction(
    quiz: OwnedQuiz, user: CurrentUser, engine: Engine, temporal: Temporal
) -> dict[str, int]:
    """Extract again the items that failed (only those); 409 when none failed, or once
    generation has started."""
    return {"retrying": await lifecycle.retry_extraction(engine, temporal, user, quiz.id)}


@router.put(
    "/quizzes/{quiz_id}/modules/{module_id}/content",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors,
)
async def set_module_text(
    quiz: OwnedQuiz,
    module_id: Annotated[str, Path(pattern=MODULE_ID_PATTERN)],
    body: ModuleTextUpdate,
    user: CurrentUser,
    engine: Engine,
) -> None:
    """The module's text from now on: the extracted text trimmed, or text of the
    teacher's own (a module whose items all failed can then be generated from)."""
    await lifecycle.set_module_text(engine, user, quiz.id, module_id, body.content)

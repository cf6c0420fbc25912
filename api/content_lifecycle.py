"""Content in: a quiz made from a course's Canvas pages and PDFs, extracted on Temporal.

`create_from_canvas` stores the quiz (its modules' text to come), one source per picked
item, moves it to `extracting_content` and starts `quiz-{id}-extract`, in one transaction
after the quiz row is written; `retry_extraction` runs the failed sources again (only
those); `set_module_text` is the teacher's own text for a module (the extracted text,
previewed and trimmed, or pasted).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import Conflict, NotFound
from api.lifecycle import create_quiz, owned_and_locked
from quizgen.db import sources
from quizgen.domain import (
    MAX_MODULES,
    MODULE_ID_PATTERN,
    BatchSpec,
    Language,
    ModuleSpec,
    NoNul,
    QuizSpec,
    QuizStatus,
    Tone,
)
from quizgen.settings import Settings
from quizgen.temporal_client import TemporalGateway

__all__ = [
    "MAX_ITEMS_PER_QUIZ",
    "CanvasItemPick",
    "CanvasModulePick",
    "CanvasQuizCreate",
    "FileModulePick",
    "FilesQuizCreate",
    "create_from_canvas",
    "create_with_sources",
    "retry_extraction",
    "set_module_text",
]

# Items one quiz extracts (each a page, or a PDF of up to 10 MB).
MAX_ITEMS_PER_QUIZ = 200
MAX_ITEMS_PER_MODULE = 50
# Files one module takes in one request (the request's bytes are capped too:
# api.limits.MAX_UPLOAD_BODY_BYTES).
MAX_UPLOAD_FILES = 10
# A statuses whose modules' text may still change: generation has not started.
_TEXT_EDITABLE = frozenset({QuizStatus.CREATED, QuizStatus.FAILED})
_PAGE_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,254}$")


class CanvasItemPick(BaseModel):
    """A module item of the course: a Page (by its url) or a File (a PDF, by its id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["Page", "File"]
    page_url: Annotated[str, Field(pattern=_PAGE_URL.pattern)] | None = None
    file_id: Annotated[str, Field(pattern=r"^[0-9]{1,20}$")] | None = None
    title: Annotated[str, Field(min_length=1, max_length=255), NoNul] | None = None

    @model_validator(mode="after")
    def _reference(self) -> Self:
        if self.type == "Page" and (self.page_url is None or self.file_id is not None):
            raise ValueError("a Page item needs its page_url (and no file_id)")
        if self.type == "File" and (self.file_id is None or self.page_url is not None):
            raise ValueError("a File item needs its file_id (and no page_url)")
        return self

    def source(self, module_id: str, course_id: str, n: int) -> sources.SourceSpec:
        page = self.type == "Page"
        ref = self.page_url if page else self.file_id
        return sources.SourceSpec(
            # Unique within the quiz: the same page may feed two modules.
            source_id=f"{module_id}-{n}-{'page' if page else 'file'}"[:80],
            module_id=module_id,
            kind=sources.SourceKind.PAGE if page else sources.SourceKind.FILE,
            title=self.title or (f"page {ref}" if page else f"file {ref}"),
            course_id=course_id,
            canvas_ref=ref,
        )


class _PickedModule(BaseModel):
    """A module of a quiz whose text is extracted: its id, name and batches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    module_id: Annotated[str, Field(pattern=MODULE_ID_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200), NoNul]
    batches: Annotated[list[BatchSpec], Field(min_length=1)]


class _ExtractedQuiz(BaseModel):
    """A quiz whose modules' text is extracted: what it says besides its modules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, Field(min_length=1, max_length=200), NoNul]
    language: Language = Language.ENGLISH
    tone: Tone = Tone.ACADEMIC
    llm_model: Annotated[str, Field(min_length=1, max_length=100), NoNul] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None

    def _spec(self, modules: Sequence[_PickedModule]) -> QuizSpec:
        """The quiz as generation sees it; each module's text is extracted later."""
        return QuizSpec(
            title=self.title,
            language=self.language,
            tone=self.tone,
            llm_model=self.llm_model,
            temperature=self.temperature,
            modules=[
                ModuleSpec(
                    module_id=m.module_id,
                    name=m.name,
                    content=sources.EXTRACTING_MODULE_CONTENT,
                    batches=m.batches,
                )
                for m in modules
            ],
        )


class CanvasModulePick(_PickedModule):
    items: Annotated[list[CanvasItemPick], Field(min_length=1, max_length=MAX_ITEMS_PER_MODULE)]


class CanvasQuizCreate(_ExtractedQuiz):
    """A quiz whose modules' text comes from the course's pages and PDFs."""

    course_id: Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]
    modules: Annotated[list[CanvasModulePick], Field(min_length=1, max_length=MAX_MODULES)]

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        items = sum(len(m.items) for m in self.modules)
        if items > MAX_ITEMS_PER_QUIZ:
            raise ValueError(f"a quiz extracts at most {MAX_ITEMS_PER_QUIZ} items ({items} given)")
        return self

    def spec(self) -> QuizSpec:
        return self._spec(self.modules)

    def sources(self) -> list[sources.SourceSpec]:
        return [
            item.source(m.module_id, self.course_id, n)
            for m in self.modules
            for n, item in enumerate(m.items)
        ]


class FileModulePick(_PickedModule):
    """A module whose text comes from uploaded files (PDF, .txt, .md): the names of the
    request's file parts."""

    files: Annotated[
        list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]],
        Field(min_length=1, max_length=MAX_UPLOAD_FILES),
    ]


class FilesQuizCreate(_ExtractedQuiz):
    """The `quiz` part of `POST /quizzes/from-files`."""

    modules: Annotated[list[FileModulePick], Field(min_length=1, max_length=MAX_MODULES)]

    def spec(self) -> QuizSpec:
        return self._spec(self.modules)


async def create_from_canvas(
    engine: AsyncEngine,
    temporal: TemporalGateway,
    settings: Settings,
    owner: str,
    body: CanvasQuizCreate,
) -> uuid.UUID:
    """Store the quiz and its Canvas sources, and start extracting them."""
    if not settings.canvas_configured:
        raise Conflict("Canvas is not configured on this server (CANVAS_BASE_URL)")
    return await create_with_sources(engine, temporal, settings, owner, body.spec(), body.sources())


async def create_with_sources(
    engine: AsyncEngine,
    temporal: TemporalGateway,
    settings: Settings,
    owner: str,
    spec: QuizSpec,
    picked: list[sources.SourceSpec],
) -> uuid.UUID:
    """Store the quiz (within the teacher's quota) and its sources, and start extracting
    them: the quiz is `extracting_content` from the moment it can be read."""
    quiz_id = await create_quiz(engine, settings, owner, spec)
    async with owned_and_locked(engine, owner, quiz_id) as lock:
        await sources.add_sources_in(lock.connection, quiz_id, picked)
        await lock.set_status(QuizStatus.EXTRACTING_CONTENT)
        await _start(temporal, quiz_id, f"Extraction for “{spec.title[:80]}”", owner)
    return quiz_id


async def retry_extraction(
    engine: AsyncEngine, temporal: TemporalGateway, owner: str, quiz_id: uuid.UUID
) -> int:
    """Extract the failed sources again (only those); how many."""
    async with owned_and_locked(engine, owner, quiz_id) as lock:
        if lock.status not in _TEXT_EDITABLE:
            raise Conflict(
                f"a quiz that is {lock.status.value} does not extract content "
                "(only before generation starts)"
            )
        retried = await sources.retry_failed_in(lock.connection, quiz_id)
        if retried == 0:
            raise Conflict("no item of this quiz failed to extract: nothing to retry")
        await lock.set_status(QuizStatus.EXTRACTING_CONTENT)
        await _start(temporal, quiz_id, f"Extraction retry: {retried} item(s)", owner)
    return retried


async def set_module_text(
    engine: AsyncEngine, owner: str, quiz_id: uuid.UUID, module_id: str, content: str
) -> None:
    """The module's text from now on (the caller checked it as a module's text is)."""
    async with owned_and_locked(engine, owner, quiz_id) as lock:
        if lock.status not in _TEXT_EDITABLE:
            raise Conflict(
                f"a quiz that is {lock.status.value} keeps its modules' text "
                "(it may change only before generation starts)"
            )
        if not await sources.set_module_content(lock.connection, quiz_id, module_id, content):
            raise NotFound(f"the quiz has no module {module_id!r}")


async def _start(temporal: TemporalGateway, quiz_id: uuid.UUID, summary: str, owner: str) -> None:
    try:
        await temporal.extract(quiz_id, summary, owner)
    except WorkflowAlreadyStartedError:
        raise Conflict("extraction is already running for this quiz") from None

"""Where a module's text comes from: Canvas pages, Canvas files (PDF) and uploaded PDFs,
each extracted on its own (invariant 11: what was extracted is kept; a retry fetches only
what failed), and the module's text composed from what was extracted.

A source is `pending` until its extraction writes `extracted` (with the text) or `failed`
(with the reason in plain words). The text and an upload's bytes live only here: workflow
history carries source ids (invariant 10).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quizgen.db.engine import single_statement
from quizgen.db.tables import QuizModuleRow, QuizRow, QuizSourceRow, utc_now
from quizgen.domain import MAX_MODULE_CONTENT_CHARS

__all__ = [
    "EMPTY_MODULE_CONTENT",
    "EXTRACTING_MODULE_CONTENT",
    "ContentState",
    "ModuleText",
    "SourceKind",
    "SourceRecord",
    "SourceSpec",
    "SourceStatus",
    "add_sources_in",
    "compose_modules",
    "list_sources",
    "mark_extracted",
    "mark_failed",
    "module_states_in",
    "retry_failed_in",
    "set_module_content",
    "source_for_extraction",
    "unextracted_source_ids",
]

_source = QuizSourceRow.__table__  # type: ignore[attr-defined]
_module = QuizModuleRow.__table__  # type: ignore[attr-defined]
_quiz = QuizRow.__table__  # type: ignore[attr-defined]

# What a module holds as its text while (and if) extraction gives it none: never
# generated from (`content_state` says so), but the spec's rules want some text.
EXTRACTING_MODULE_CONTENT = "(this module's text is being extracted from Canvas)"
EMPTY_MODULE_CONTENT = "(no usable text was extracted for this module)"


class SourceKind(StrEnum):
    PAGE = "page"
    FILE = "file"
    UPLOAD = "upload"


class SourceStatus(StrEnum):
    PENDING = "pending"
    EXTRACTED = "extracted"
    FAILED = "failed"


class ContentState(StrEnum):
    READY = "ready"
    EXTRACTING = "extracting"
    EMPTY = "empty"


class SourceSpec(BaseModel):
    """One item to extract, as the teacher picked it."""

    model_config = ConfigDict(frozen=True)

    source_id: str
    module_id: str
    kind: SourceKind
    title: str
    course_id: str | None = None
    canvas_ref: str | None = None
    upload: bytes | None = None


class SourceRecord(BaseModel):
    """A source as the API shows it (without its text or bytes)."""

    model_config = ConfigDict(frozen=True)

    source_id: str
    module_id: str
    position: int
    kind: SourceKind
    title: str
    course_id: str | None
    canvas_ref: str | None
    status: SourceStatus
    reason: str | None
    chars: int
    pages: int | None
    updated_at: datetime


class ModuleText(BaseModel):
    model_config = ConfigDict(frozen=True)

    module_id: str
    state: ContentState
    chars: int


async def add_sources_in(
    conn: AsyncConnection, quiz_id: uuid.UUID, sources: list[SourceSpec]
) -> None:
    """Store the quiz's sources (pending) and mark their modules `extracting`."""
    if not sources:
        return
    positions: dict[str, int] = {}
    rows = []
    for spec in sources:
        position = positions[spec.module_id] = positions.get(spec.module_id, -1) + 1
        rows.append(
            {
                **spec.model_dump(),
                "quiz_id": quiz_id,
                "position": position,
                "status": SourceStatus.PENDING.value,
                "updated_at": utc_now(),
            }
        )
    await conn.execute(_source.insert(), rows)
    await conn.execute(
        _module.update()
        .where(_module.c.quiz_id == quiz_id, _module.c.module_id.in_(set(positions)))
        .values(content_state=ContentState.EXTRACTING.value, content=EXTRACTING_MODULE_CONTENT)
    )


def _columns() -> list[sa.ColumnElement[object]]:
    chars = sa.func.coalesce(sa.func.length(_source.c.text), 0).label("chars")
    names = [c for c in _source.c if c.name not in ("text", "upload", "quiz_id")]
    return [*names, chars]


async def list_sources(engine: AsyncEngine, quiz_id: uuid.UUID) -> list[SourceRecord]:
    async with single_statement(engine) as conn:
        rows = await conn.execute(
            sa.select(*_columns())
            .where(_source.c.quiz_id == quiz_id)
            .order_by(_source.c.module_id, _source.c.position)
        )
        return [SourceRecord.model_validate(row._mapping) for row in rows]


async def unextracted_source_ids(engine: AsyncEngine, quiz_id: uuid.UUID) -> list[str]:
    """The sources an extraction run works on: those not extracted yet."""
    async with single_statement(engine) as conn:
        rows = await conn.execute(
            sa.select(_source.c.source_id)
            .where(
                _source.c.quiz_id == quiz_id,
                _source.c.status != SourceStatus.EXTRACTED.value,
            )
            .order_by(_source.c.module_id, _source.c.position)
        )
        return [row.source_id for row in rows]


async def source_for_extraction(
    engine: AsyncEngine, quiz_id: uuid.UUID, source_id: str
) -> tuple[SourceRecord, bytes | None, str] | None:
    """The source, (for an upload) its bytes, and the quiz's teacher (whose Canvas it is
    read from); None when the quiz has no such source."""
    async with single_statement(engine) as conn:
        row = (
            await conn.execute(
                sa.select(*_columns(), _source.c.upload, _quiz.c.owner_id)
                .join(_quiz, _quiz.c.id == _source.c.quiz_id)
                .where(_source.c.quiz_id == quiz_id, _source.c.source_id == source_id)
            )
        ).first()
    if row is None:
        return None
    return SourceRecord.model_validate(row._mapping), row.upload, row.owner_id


async def mark_extracted(
    engine: AsyncEngine,
    quiz_id: uuid.UUID,
    source_id: str,
    *,
    text: str,
    pages: int | None,
    title: str | None = None,
) -> None:
    """Keep the text (an upload's bytes are not needed any more)."""
    values: dict[str, object] = {
        "status": SourceStatus.EXTRACTED.value,
        "text": text,
        "pages": pages,
        "reason": None,
        "upload": None,
        "updated_at": utc_now(),
    }
    if title:
        values["title"] = title[:255]
    async with engine.begin() as conn:
        await conn.execute(
            _source.update()
            .where(_source.c.quiz_id == quiz_id, _source.c.source_id == source_id)
            .values(**values)
        )


async def mark_failed(engine: AsyncEngine, quiz_id: uuid.UUID, source_id: str, reason: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            _source.update()
            .where(
                _source.c.quiz_id == quiz_id,
                _source.c.source_id == source_id,
                # An extracted source stays extracted (a late, retried attempt).
                _source.c.status != SourceStatus.EXTRACTED.value,
            )
            .values(status=SourceStatus.FAILED.value, reason=reason, updated_at=utc_now())
        )


async def retry_failed_in(conn: AsyncConnection, quiz_id: uuid.UUID) -> int:
    """Failed sources become pending again (retry extraction); how many."""
    result = await conn.execute(
        _source.update()
        .where(_source.c.quiz_id == quiz_id, _source.c.status == SourceStatus.FAILED.value)
        .values(status=SourceStatus.PENDING.value, updated_at=utc_now())
    )
    return int(result.rowcount)


async def compose_modules(engine: AsyncEngine, quiz_id: uuid.UUID) -> list[ModuleText]:
    """Each module with sources gets the text of its extracted ones, in their order, each
    under its title (cut at the module limit); a module with none is `empty`."""
    async with engine.begin() as conn:
        rows = await conn.execute(
            sa.select(_source.c.module_id, _source.c.title, _source.c.text)
            .where(
                _source.c.quiz_id == quiz_id,
                _source.c.status == SourceStatus.EXTRACTED.value,
            )
            .order_by(_source.c.module_id, _source.c.position)
        )
        texts: dict[str, list[str]] = {}
        for row in rows:
            if row.text and row.text.strip():
                texts.setdefault(row.module_id, []).append(f"# {row.title}\n\n{row.text.strip()}")
        modules = await conn.execute(
            sa.select(_module.c.module_id).where(
                _module.c.quiz_id == quiz_id,
                _module.c.module_id.in_(
                    sa.select(_source.c.module_id).where(_source.c.quiz_id == quiz_id)
                ),
            )
        )
        composed = []
        for (module_id,) in list(modules):
            text = "\n\n".join(texts.get(module_id, []))[:MAX_MODULE_CONTENT_CHARS]
            state = ContentState.READY if text else ContentState.EMPTY
            await conn.execute(
                _module.update()
                .where(_module.c.quiz_id == quiz_id, _module.c.module_id == module_id)
                .values(content=text or EMPTY_MODULE_CONTENT, content_state=state.value)
            )
            composed.append(ModuleText(module_id=module_id, state=state, chars=len(text)))
        return composed


async def module_states_in(conn: AsyncConnection, quiz_id: uuid.UUID) -> dict[str, ContentState]:
    rows = await conn.execute(
        sa.select(_module.c.module_id, _module.c.content_state).where(_module.c.quiz_id == quiz_id)
    )
    return {row.module_id: ContentState(row.content_state) for row in rows}


async def set_module_content(
    conn: AsyncConnection, quiz_id: uuid.UUID, module_id: str, content: str
) -> bool:
    """The teacher's own text for the module (the extracted text, trimmed or replaced)."""
    result = await conn.execute(
        _module.update()
        .where(_module.c.quiz_id == quiz_id, _module.c.module_id == module_id)
        .values(content=content, content_state=ContentState.READY.value)
    )
    return bool(result.rowcount)

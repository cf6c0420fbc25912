"""The typed inputs and outputs of the Canvas workflows (the export, the extraction), their
activities and queries: as `quizgen/contracts.py` (pure data, ids and counts and short
reasons only, unknown fields ignored, new fields with defaults)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from quizgen.domain import ExportState, Payload, QuizStatus

__all__ = [
    "CanvasQuizRef",
    "ExportAction",
    "ExportConfig",
    "ExportFinished",
    "ExportItemInput",
    "ExportPlan",
    "ExportProgress",
    "ExportStateChange",
    "ExportWorkflowInput",
    "ExportWorkflowResult",
    "ExtractSourceInput",
    "ExtractionConfig",
    "ExtractionFinished",
    "ExtractionOutcome",
    "ExtractionPlan",
    "ExtractionProgress",
    "ExtractionStopped",
    "ExtractionWorkflowInput",
    "ItemExported",
    "ItemOutcome",
    "SourceExtracted",
    "export_progress_message",
]


def export_progress_message(exported: int, total: int) -> str:
    """The sentence shown everywhere an export's progress is shown."""
    return f"{exported} of {total} questions exported"


# -- the export to Canvas New Quizzes (workflows/export.py, activities/export.py)


class ExportConfig(Payload):
    """How an export talks to Canvas, read from settings when it starts."""

    # Item calls in flight at once (Canvas throttles per token: a few suffice).
    concurrency: Annotated[int, Field(ge=1, le=50)] = 8
    canvas_call_timeout: timedelta = timedelta(seconds=20)
    # How long a throttled, failing or unreachable Canvas is retried before the export fails.
    canvas_retry_window: timedelta = timedelta(minutes=30)


class ExportAction(StrEnum):
    EXPORT = "export"
    # Compensation: delete the Canvas quiz the export made, forget its items.
    UNDO = "undo"


class ExportWorkflowInput(Payload):
    """Where the export goes (course, title, points) is in PostgreSQL (`canvas_export`)."""

    quiz_id: uuid.UUID
    action: ExportAction = ExportAction.EXPORT
    config: ExportConfig = ExportConfig()


class ExportPlan(Payload):
    """Output of `begin_export`: the approved questions, in the quiz's order."""

    question_ids: list[uuid.UUID]
    title: str = ""


class CanvasQuizRef(Payload):
    canvas_quiz_id: str
    url: str


class ExportItemInput(Payload):
    quiz_id: uuid.UUID
    question_id: uuid.UUID
    # 1-based place in the Canvas quiz.
    position: int


class ItemOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # Created by an earlier attempt whose answer was lost, found in Canvas by its title.
    FOUND = "found"
    # No longer approved when its turn came: not exported.
    SKIPPED = "skipped"


class ItemExported(Payload):
    question_id: uuid.UUID
    outcome: ItemOutcome


class ExportFinished(Payload):
    """Output of `finish_export`: the Canvas quiz as it was left."""

    exported: int
    # Items of questions no longer approved, deleted from the Canvas quiz.
    removed: int = 0
    # Items moved to their place in the quiz's order.
    moved: int = 0
    url: str = ""
    # Approved questions not in Canvas at their current version (approved or edited while
    # the export ran): the quiz is not published, the workflow sends them first.
    missing: int = 0


class ExportStateChange(Payload):
    quiz_id: uuid.UUID
    state: ExportState
    message: Annotated[str, Field(max_length=2000)]


class ExportProgress(Payload):
    """The `export_progress` query: where a running export stands."""

    state: ExportState
    exported: int
    total: int
    message: str | None = None

    @property
    def sentence(self) -> str:
        return export_progress_message(self.exported, self.total)


class ExportWorkflowResult(Payload):
    state: ExportState
    exported: int
    total: int
    canvas_quiz_id: str | None = None


# -- the extraction of Canvas pages and PDFs (workflows/extraction.py, activities/extraction.py)


class ExtractionConfig(ExportConfig):
    """As an export's Canvas calls; fewer at once (each may download up to 10 MB)."""

    concurrency: Annotated[int, Field(ge=1, le=50)] = 4


class ExtractionWorkflowInput(Payload):
    quiz_id: uuid.UUID
    config: ExtractionConfig = ExtractionConfig()


class ExtractionPlan(Payload):
    """Output of `begin_extraction`: the sources not extracted yet."""

    source_ids: list[Annotated[str, Field(max_length=80)]]
    title: str = ""


class ExtractSourceInput(Payload):
    quiz_id: uuid.UUID
    source_id: Annotated[str, Field(max_length=80)]


class ExtractionOutcome(StrEnum):
    EXTRACTED = "extracted"
    # Extracted by an earlier attempt or run: not fetched again.
    ALREADY = "already"
    # The reason is kept with the source, in plain words.
    FAILED = "failed"


class SourceExtracted(Payload):
    source_id: str
    outcome: ExtractionOutcome
    chars: int = 0
    # Why it failed, in plain words (about the file, never its text).
    reason: Annotated[str | None, Field(max_length=500)] = None


class ExtractionFinished(Payload):
    """Output of `finish_extraction`: the modules' text composed, the quiz's status."""

    status: QuizStatus
    modules_ready: int
    modules_empty: int
    extracted: int
    failed: int


class ExtractionStopped(Payload):
    quiz_id: uuid.UUID
    message: Annotated[str, Field(max_length=2000)]
    # False: the run only waits for a reconnect (the message says so); "" clears it.
    stopped: bool = True


class ExtractionProgress(Payload):
    """The `extraction_progress` query."""

    total: int
    extracted: int
    failed: int
    waiting_for_canvas: bool = False

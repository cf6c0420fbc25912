"""Starting a quiz's Canvas workflows on Temporal: its export (or the undo of it) and its
content extraction; the `TemporalGateway`'s calls, and the demo's and tests' direct ones."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    Priority,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from quizgen.contracts import (
    ExportAction,
    ExportConfig,
    ExportWorkflowInput,
    ExportWorkflowResult,
    ExtractionConfig,
    ExtractionFinished,
    ExtractionWorkflowInput,
)
from quizgen.domain import QuizStatus
from quizgen.names import (
    EXPORT_WORKFLOW,
    EXTRACTION_WORKFLOW,
    QUIZ_ID,
    QUIZ_STATUS,
    export_workflow_id,
    extraction_workflow_id,
)
from quizgen.settings import Settings

__all__ = ["export_config", "extraction_config", "start_export", "start_extraction"]


def export_config(settings: Settings) -> ExportConfig:
    """The settings that shape an export, read when it starts."""
    return ExportConfig(
        concurrency=settings.canvas_export_concurrency,
        canvas_call_timeout=settings.canvas_call_timeout,
        canvas_retry_window=settings.canvas_retry_window,
    )


async def start_export(
    client: Client,
    quiz_id: uuid.UUID,
    *,
    action: ExportAction,
    task_queue: str,
    config: ExportConfig,
    rpc_timeout: timedelta | None = None,
    summary: str | None = None,
    priority: Priority | None = None,
) -> WorkflowHandle[object, ExportWorkflowResult]:
    """Start the quiz's export (or its undo): `quiz-{quiz_id}-export`, one at a time.

    A start while one runs fails (`WorkflowAlreadyStartedError`): the caller says so
    rather than run two exports of one quiz at once.
    """
    return await client.start_workflow(
        EXPORT_WORKFLOW,
        ExportWorkflowInput(quiz_id=quiz_id, action=action, config=config),
        id=export_workflow_id(quiz_id),
        task_queue=task_queue,
        result_type=ExportWorkflowResult,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        rpc_timeout=rpc_timeout,
        static_summary=summary,
        priority=priority or Priority.default,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(QUIZ_ID, str(quiz_id)),
                SearchAttributePair(QUIZ_STATUS, QuizStatus.EXPORTING_TO_CANVAS.value),
            ]
        ),
    )


def extraction_config(settings: Settings) -> ExtractionConfig:
    return ExtractionConfig(
        canvas_call_timeout=settings.canvas_call_timeout,
        canvas_retry_window=settings.canvas_retry_window,
    )


async def start_extraction(
    client: Client,
    quiz_id: uuid.UUID,
    *,
    task_queue: str,
    config: ExtractionConfig,
    rpc_timeout: timedelta | None = None,
    summary: str | None = None,
    priority: Priority | None = None,
) -> WorkflowHandle[object, ExtractionFinished]:
    """Start the extraction of the quiz's sources not extracted yet (`quiz-{id}-extract`);
    `WorkflowAlreadyStartedError` while one runs."""
    return await client.start_workflow(
        EXTRACTION_WORKFLOW,
        ExtractionWorkflowInput(quiz_id=quiz_id, config=config),
        id=extraction_workflow_id(quiz_id),
        task_queue=task_queue,
        result_type=ExtractionFinished,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        rpc_timeout=rpc_timeout,
        static_summary=summary,
        priority=priority or Priority.default,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(QUIZ_ID, str(quiz_id)),
                SearchAttributePair(QUIZ_STATUS, QuizStatus.EXTRACTING_CONTENT.value),
            ]
        ),
    )

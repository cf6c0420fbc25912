"""Starting a quiz's Canvas workflows on Temporal: its export (or the undo of it) and its
content extraction; the `TemporalGateway`'s calls, and the demo's and tests' direct ones."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    Priority,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from quizgen.canvas_contracts import (
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
    RECONNECT_SIGNAL,
    QuizWorkflow,
    export_workflow_id,
    extraction_workflow_id,
)
from quizgen.settings import Settings

__all__ = [
    "CanvasWorkflows",
    "export_config",
    "extraction_config",
    "start_export",
    "start_extraction",
]


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


T = TypeVar("T")
_RPC_TIMEOUT = timedelta(seconds=5)


class CanvasWorkflows:
    """`TemporalGateway`'s calls for a quiz's Canvas workflows: start an export (or its
    undo) or an extraction, cancel an export, tell one the teacher reconnected. The
    gateway provides the connection, the error mapping and the settings."""

    _settings: Settings

    async def client(self) -> Client:
        raise NotImplementedError

    async def _call(self, call: Awaitable[T]) -> T:
        raise NotImplementedError

    def _priority(self, owner: str) -> Priority:
        raise NotImplementedError

    async def export(
        self, quiz_id: uuid.UUID, action: ExportAction, summary: str, owner: str
    ) -> None:
        """Start the quiz's export or its undo (`WorkflowAlreadyStartedError` if one runs)."""
        client = await self.client()
        await self._call(
            start_export(
                client,
                quiz_id,
                action=action,
                task_queue=self._settings.temporal_task_queue,
                config=export_config(self._settings),
                rpc_timeout=_RPC_TIMEOUT,
                summary=summary,
                priority=self._priority(owner),
            )
        )

    async def extract(self, quiz_id: uuid.UUID, summary: str, owner: str) -> None:
        """Start extracting the quiz's sources not extracted yet (`WorkflowAlreadyStartedError`
        if a run is going)."""
        client = await self.client()
        await self._call(
            start_extraction(
                client,
                quiz_id,
                task_queue=self._settings.temporal_task_queue,
                config=extraction_config(self._settings),
                rpc_timeout=_RPC_TIMEOUT,
                summary=summary,
                priority=self._priority(owner),
            )
        )

    async def cancel_export(self, quiz_id: uuid.UUID) -> None:
        """Ask the running export to stop (it records why and gives the quiz back)."""
        client = await self.client()
        handle = client.get_workflow_handle(export_workflow_id(quiz_id))
        await self._call(handle.cancel(rpc_timeout=_RPC_TIMEOUT))

    async def reconnected(self, quiz_id: uuid.UUID, kind: QuizWorkflow) -> None:
        """Tell the quiz's export (or extraction) that its teacher reconnected Canvas; none
        running is fine."""
        client = await self.client()
        handle = client.get_workflow_handle(kind.workflow_id(quiz_id))
        try:
            await self._call(handle.signal(RECONNECT_SIGNAL, rpc_timeout=_RPC_TIMEOUT))
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise

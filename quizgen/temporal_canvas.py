"""A quiz's Canvas workflows on Temporal: its export (or the undo of it) and its content
extraction, started, cancelled and signalled by the `TemporalGateway` (`CanvasWorkflows`)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

from temporalio.client import Client
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
    ExtractionConfig,
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
)
from quizgen.settings import Settings

__all__ = ["CanvasWorkflows", "export_config", "extraction_config"]


def export_config(settings: Settings) -> ExportConfig:
    """The settings that shape an export, read when it starts."""
    return ExportConfig(
        concurrency=settings.canvas_export_concurrency,
        canvas_call_timeout=settings.canvas_call_timeout,
        canvas_retry_window=settings.canvas_retry_window,
    )


def extraction_config(settings: Settings) -> ExtractionConfig:
    return ExtractionConfig(
        canvas_call_timeout=settings.canvas_call_timeout,
        canvas_retry_window=settings.canvas_retry_window,
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
        config = export_config(self._settings)
        await self._start(
            EXPORT_WORKFLOW,
            ExportWorkflowInput(quiz_id=quiz_id, action=action, config=config),
            QuizWorkflow.EXPORT.workflow_id(quiz_id),
            QuizStatus.EXPORTING_TO_CANVAS,
            summary,
            owner,
        )

    async def extract(self, quiz_id: uuid.UUID, summary: str, owner: str) -> None:
        """Start extracting the quiz's sources not extracted yet (`WorkflowAlreadyStartedError`
        if a run is going)."""
        await self._start(
            EXTRACTION_WORKFLOW,
            ExtractionWorkflowInput(quiz_id=quiz_id, config=extraction_config(self._settings)),
            QuizWorkflow.EXTRACTION.workflow_id(quiz_id),
            QuizStatus.EXTRACTING_CONTENT,
            summary,
            owner,
        )

    async def _start(
        self,
        workflow: str,
        input: ExportWorkflowInput | ExtractionWorkflowInput,
        workflow_id: str,
        status: QuizStatus,
        summary: str,
        owner: str,
    ) -> None:
        """One run per quiz at a time: a start while one runs fails
        (`WorkflowAlreadyStartedError`), so the caller says so rather than run two."""
        client = await self.client()
        await self._call(
            client.start_workflow(
                workflow,
                input,
                id=workflow_id,
                task_queue=self._settings.temporal_task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                rpc_timeout=_RPC_TIMEOUT,
                static_summary=summary,
                priority=self._priority(owner),
                # Findable in the Web UI by its quiz and status from the first moment.
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(QUIZ_ID, str(input.quiz_id)),
                        SearchAttributePair(QUIZ_STATUS, status.value),
                    ]
                ),
            )
        )

    async def cancel_export(self, quiz_id: uuid.UUID) -> None:
        """Ask the running export to stop (it records why and gives the quiz back)."""
        client = await self.client()
        handle = client.get_workflow_handle(QuizWorkflow.EXPORT.workflow_id(quiz_id))
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

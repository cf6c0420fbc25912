"""Talking to Temporal from outside a worker: connect, start, retry, ask for progress.

The API, the demo and the tests use these, so every caller starts the quiz
workflow the same way: one workflow id per quiz, and a start while one runs
returns the running one instead of starting a second.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from quizgen.contracts import GenerationConfig, QuizProgress, QuizWorkflowInput, QuizWorkflowResult
from quizgen.domain import QuizSpec, QuizStatus
from quizgen.names import (
    PROGRESS_QUERY,
    QUIZ_ID,
    QUIZ_STATUS,
    QUIZ_WORKFLOW,
    RETRY_SIGNAL,
    quiz_workflow_id,
)
from quizgen.settings import Settings

__all__ = ["connect", "query_progress", "request_retry", "start_generation", "workflow_summary"]

QuizHandle = WorkflowHandle[object, QuizWorkflowResult]


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client; a worker passes the runtime that serves its metrics (`worker.app`)."""
    # Pydantic models cross the wire as JSON; every process must use this converter.
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )


async def start_generation(
    client: Client,
    quiz_id: uuid.UUID,
    *,
    task_queue: str,
    config: GenerationConfig,
    rpc_timeout: timedelta | None = None,
    summary: str | None = None,
) -> QuizHandle:
    """Start the quiz's workflow, or return the one already running for it.

    `summary` (see `workflow_summary`) names the run in the Web UI's lists.
    """
    return await _start(client, quiz_id, task_queue, config, None, rpc_timeout, summary)


async def request_retry(
    client: Client,
    quiz_id: uuid.UUID,
    *,
    task_queue: str,
    config: GenerationConfig,
    rpc_timeout: timedelta | None = None,
    summary: str | None = None,
) -> QuizHandle:
    """Send `retry_failed_batches`; if the quiz's workflow has closed, start a new run.

    One signal-with-start call, so there is no gap in which the workflow could
    close between "is it open?" and "signal it". A new run reads the saved
    batches and the stored metadata and carries on from there.
    """
    return await _start(client, quiz_id, task_queue, config, RETRY_SIGNAL, rpc_timeout, summary)


async def _start(
    client: Client,
    quiz_id: uuid.UUID,
    task_queue: str,
    config: GenerationConfig,
    signal: str | None,
    rpc_timeout: timedelta | None,
    summary: str | None,
) -> QuizHandle:
    return await client.start_workflow(
        QUIZ_WORKFLOW,
        QuizWorkflowInput(quiz_id=quiz_id, config=config),
        id=quiz_workflow_id(quiz_id),
        task_queue=task_queue,
        result_type=QuizWorkflowResult,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        start_signal=signal,
        rpc_timeout=rpc_timeout,
        static_summary=summary,
        # Findable in the Web UI from the first moment, not only after a round.
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(QUIZ_ID, str(quiz_id)),
                SearchAttributePair(QUIZ_STATUS, QuizStatus.GENERATING_QUESTIONS.value),
            ]
        ),
    )


def workflow_summary(spec: QuizSpec) -> str:
    """One line naming a quiz's run in the Web UI: its title and size."""
    batches = sum(len(m.batches) for m in spec.modules)
    title = spec.title if len(spec.title) <= 80 else spec.title[:79] + "…"
    return f"Quiz “{title}”: {batches} batches, {spec.question_target} questions"


async def query_progress(client: Client, quiz_id: uuid.UUID) -> QuizProgress:
    handle = client.get_workflow_handle(quiz_workflow_id(quiz_id))
    progress: QuizProgress = await handle.query(PROGRESS_QUERY, result_type=QuizProgress)
    return progress

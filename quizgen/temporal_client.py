"""The one place that talks to Temporal from outside a worker.

- `connect`, `start_generation`, `request_retry`: every caller (the API, the
  demo, the tests) starts the quiz workflow the same way: one workflow id per
  quiz, and a start while one runs returns the running one.
- `TemporalGateway`: the API's long-lived view (lazy connection, fail-fast
  calls, a short progress cache); Temporal down raises `TemporalUnavailableError`,
  which the API answers with 503.
- `generation_config`: the settings that travel in a workflow's input.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.common import (
    Priority,
    QueryRejectCondition,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import RetryConfig, RPCError, RPCStatusCode

from quizgen.contracts import GenerationConfig, QuizProgress, QuizWorkflowInput, QuizWorkflowResult
from quizgen.domain import QuizSpec, QuizStatus
from quizgen.errors import TemporalUnavailableError
from quizgen.names import (
    PROGRESS_QUERY,
    QUIZ_ID,
    QUIZ_STATUS,
    QUIZ_WORKFLOW,
    RETRY_SIGNAL,
    QuizWorkflow,
    quiz_workflow_id,
)
from quizgen.settings import Settings
from quizgen.temporal_canvas import CanvasWorkflows

__all__ = [
    "TemporalGateway",
    "connect",
    "fairness_for",
    "generation_config",
    "request_retry",
    "start_generation",
    "workflow_summary",
]

QuizHandle = WorkflowHandle[object, QuizWorkflowResult]


def generation_config(settings: Settings) -> GenerationConfig:
    """The settings that shape a workflow, read when its generation starts."""
    return GenerationConfig(
        max_concurrent_batches=settings.max_concurrent_batches,
        repair_rounds=settings.batch_repair_rounds,
        retry_wait=settings.retry_wait,
        llm_call_timeout=settings.llm_call_timeout,
        llm_heartbeat_timeout=settings.llm_heartbeat_timeout,
        llm_max_attempts=settings.llm_max_attempts,
        llm_retry_window=settings.llm_retry_window,
    )


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
    owner: str | None = None,
) -> QuizHandle:
    """Start the quiz's workflow, or return the one already running for it.

    `summary` (see `workflow_summary`) names the run in the Web UI's lists;
    `owner` (the teacher) is its fairness key (see `fairness_for`).
    """
    return await _start(client, quiz_id, task_queue, config, None, rpc_timeout, summary, owner)


async def request_retry(
    client: Client,
    quiz_id: uuid.UUID,
    *,
    task_queue: str,
    config: GenerationConfig,
    rpc_timeout: timedelta | None = None,
    summary: str | None = None,
    owner: str | None = None,
) -> QuizHandle:
    """Send `retry_failed_batches`; if the quiz's workflow has closed, start a new run.

    One signal-with-start call, so there is no gap in which the workflow could
    close between "is it open?" and "signal it". A new run reads the saved
    batches and the stored metadata and carries on from there.
    """
    return await _start(
        client, quiz_id, task_queue, config, RETRY_SIGNAL, rpc_timeout, summary, owner
    )


async def _start(
    client: Client,
    quiz_id: uuid.UUID,
    task_queue: str,
    config: GenerationConfig,
    signal: str | None,
    rpc_timeout: timedelta | None,
    summary: str | None,
    owner: str | None,
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
        priority=fairness_for(owner),
        # Findable in the Web UI from the first moment, not only after a round.
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(QUIZ_ID, str(quiz_id)),
                SearchAttributePair(QUIZ_STATUS, QuizStatus.GENERATING_QUESTIONS.value),
            ]
        ),
    )


def fairness_for(owner: str | None) -> Priority:
    """The quiz's task priority: its teacher as the fairness key.

    Children and activities inherit it, so when the LLM queue is backed up
    Temporal's matching dispatches the teachers' tasks in turn (round robin by
    key) instead of first come, first served: one teacher's 1,600-question quiz
    cannot hold another's 10 questions behind it. Needs fairness switched on in
    the server (`matching.enableFairness`; the dev server's flags in
    deploy/local/temporal.py, deploy/README.md for a cluster); without it the
    key is carried and ignored.
    """
    if owner is None:
        return Priority.default
    key = owner if len(owner.encode()) <= 64 else hashlib.sha256(owner.encode()).hexdigest()
    return Priority(fairness_key=key)


def workflow_summary(spec: QuizSpec) -> str:
    """One line naming a quiz's run in the Web UI: its title and size."""
    batches = sum(len(m.batches) for m in spec.modules)
    title = spec.title if len(spec.title) <= 80 else spec.title[:79] + "…"
    return f"Quiz “{title}”: {batches} batches, {spec.question_target} questions"


T = TypeVar("T")
# `start_generation` or `request_retry`.
_Begin = Callable[..., Awaitable[QuizHandle]]
_RPC_TIMEOUT = timedelta(seconds=5)
# A progress query waits for a worker; without one, fall back to the database quickly.
_QUERY_TIMEOUT = timedelta(seconds=1)
_PROGRESS_TTL = 1.0
_PROGRESS_CACHE_SIZE = 10_000


class TemporalGateway(CanvasWorkflows):
    def __init__(self, settings: Settings, *, progress_ttl: float = _PROGRESS_TTL) -> None:
        self._settings = settings
        self._client: Client | None = None
        self._progress_ttl = progress_ttl
        # quiz id -> (when asked, the quiz's version then, answer): see live_progress.
        self._progress: dict[uuid.UUID, tuple[float, datetime, QuizProgress | None]] = {}

    async def client(self) -> Client:
        if self._client is None:
            try:
                self._client = await Client.connect(
                    self._settings.temporal_address,
                    namespace=self._settings.temporal_namespace,
                    data_converter=pydantic_data_converter,
                    lazy=True,
                    # Fail fast when Temporal is down: the caller answers 503 and may retry.
                    retry_config=RetryConfig(max_retries=1, max_elapsed_time_millis=2000),
                )
            except (RuntimeError, OSError) as err:
                raise _unavailable(err) from err
        return self._client

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except RPCError as err:
            if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
                raise _unavailable(err) from err
            raise
        except (RuntimeError, OSError) as err:
            raise _unavailable(err) from err

    def _config(self) -> GenerationConfig:
        return generation_config(self._settings)

    def _priority(self, owner: str) -> Priority:
        return fairness_for(owner)

    async def start(self, quiz_id: uuid.UUID, summary: str, owner: str) -> None:
        """Start the quiz's first round."""
        await self._begin(start_generation, quiz_id, summary, owner)

    async def retry(self, quiz_id: uuid.UUID, summary: str, owner: str) -> None:
        """Retry the batches that are not saved (a new run if the workflow has closed)."""
        await self._begin(request_retry, quiz_id, summary, owner)

    async def _begin(self, how: _Begin, quiz_id: uuid.UUID, summary: str, owner: str) -> None:
        client = await self.client()
        task_queue, config = self._settings.temporal_task_queue, self._config()
        await self._call(
            how(
                client,
                quiz_id,
                task_queue=task_queue,
                config=config,
                summary=summary,
                owner=owner,
            )
        )

    async def close(self, quiz_id: uuid.UUID, *, reason: str) -> None:
        """Terminate the quiz's workflow (and with it any batch children); gone already is fine."""
        client = await self.client()
        handle = client.get_workflow_handle(quiz_workflow_id(quiz_id))
        try:
            await self._call(handle.terminate(reason=reason, rpc_timeout=_RPC_TIMEOUT))
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise

    async def is_running(
        self, quiz_id: uuid.UUID, kind: QuizWorkflow = QuizWorkflow.GENERATION
    ) -> bool:
        """Whether the quiz's workflow of this kind (generation, export, extraction) runs."""
        client = await self.client()
        handle = client.get_workflow_handle(kind.workflow_id(quiz_id))
        try:
            description = await self._call(handle.describe(rpc_timeout=_RPC_TIMEOUT))
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        return description.status is WorkflowExecutionStatus.RUNNING

    async def live_progress(self, quiz_id: uuid.UUID, version: datetime) -> QuizProgress | None:
        """The running round's progress, or None when the workflow cannot answer now.

        Answers are kept for a second (`progress_ttl`): a page polling every
        second, or many readers of one quiz, cost one query through a worker per
        interval, not one per request. Progress a second old is still true enough
        to show, but only of the same round: `version` is the quiz row's
        `updated_at`, which every status change moves (a round settling, a retry
        starting), so a round that starts within the second of the last one's
        answer is asked afresh, in every API process.
        """
        cached = self._progress.get(quiz_id)
        if (
            cached is not None
            and cached[1] == version
            and time.monotonic() - cached[0] < self._progress_ttl
        ):
            return cached[2]
        progress = await self._query_progress(quiz_id)
        if len(self._progress) > _PROGRESS_CACHE_SIZE:
            self._progress.clear()
        # Timed after the query: a query that waited its full timeout is still cached.
        self._progress[quiz_id] = (time.monotonic(), version, progress)
        return progress

    async def _query_progress(self, quiz_id: uuid.UUID) -> QuizProgress | None:
        try:
            client = await self.client()
            handle = client.get_workflow_handle(quiz_workflow_id(quiz_id))
            progress: QuizProgress = await handle.query(
                PROGRESS_QUERY,
                result_type=QuizProgress,
                rpc_timeout=_QUERY_TIMEOUT,
                # A closed (e.g. terminated) run's frozen progress is not "live".
                reject_condition=QueryRejectCondition.NOT_OPEN,
            )
        except (
            RPCError,
            RuntimeError,
            OSError,
            TemporalUnavailableError,
            WorkflowQueryRejectedError,
            WorkflowQueryFailedError,
        ):
            return None
        # Before the round has read the quiz, the workflow still shows the last
        # round (or nothing): the database tells that better.
        if progress.status is not QuizStatus.GENERATING_QUESTIONS or not progress.batches:
            return None
        return progress

    async def healthy(self) -> bool:
        try:
            client = await self.client()
            await client.service_client.check_health(timeout=_RPC_TIMEOUT)
        except (RPCError, RuntimeError, OSError, TemporalUnavailableError):
            return False
        return True


def _unavailable(err: BaseException) -> TemporalUnavailableError:
    return TemporalUnavailableError(
        f"Temporal is unavailable ({type(err).__name__}); nothing was changed. Try again shortly."
    )

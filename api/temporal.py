"""The API's view of Temporal: start, retry, ask for progress; down means 503.

The client connects lazily, so the API starts (and serves what PostgreSQL
alone can answer) while Temporal is down, and recovers by itself when it is back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.common import QueryRejectCondition
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig, RPCError, RPCStatusCode

from api.errors import ServiceUnavailable
from quizgen import orchestration
from quizgen.contracts import GenerationConfig, QuizProgress
from quizgen.domain import QuizStatus
from quizgen.names import PROGRESS_QUERY, quiz_workflow_id
from quizgen.settings import Settings

__all__ = ["TemporalGateway"]

T = TypeVar("T")
_RPC_TIMEOUT = timedelta(seconds=5)
# A progress query waits for a worker; without one, fall back to the database quickly.
_QUERY_TIMEOUT = timedelta(seconds=1)
_PROGRESS_TTL = 1.0
_PROGRESS_CACHE_SIZE = 10_000


class TemporalGateway:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None
        # quiz id -> (when asked, answer): see live_progress.
        self._progress: dict[uuid.UUID, tuple[float, QuizProgress | None]] = {}

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
        return GenerationConfig.from_settings(self._settings)

    async def start(self, quiz_id: uuid.UUID, summary: str | None = None) -> None:
        client = await self.client()
        await self._call(
            orchestration.start_generation(
                client,
                quiz_id,
                task_queue=self._settings.temporal_task_queue,
                config=self._config(),
                summary=summary,
            )
        )

    async def retry(self, quiz_id: uuid.UUID, summary: str | None = None) -> None:
        client = await self.client()
        await self._call(
            orchestration.request_retry(
                client,
                quiz_id,
                task_queue=self._settings.temporal_task_queue,
                config=self._config(),
                summary=summary,
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

    async def is_running(self, quiz_id: uuid.UUID) -> bool:
        client = await self.client()
        handle = client.get_workflow_handle(quiz_workflow_id(quiz_id))
        try:
            description = await self._call(handle.describe(rpc_timeout=_RPC_TIMEOUT))
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        return description.status is WorkflowExecutionStatus.RUNNING

    async def live_progress(self, quiz_id: uuid.UUID) -> QuizProgress | None:
        """The running round's progress, or None when the workflow cannot answer now.

        Answers are kept for `_PROGRESS_TTL`: a page polling every second, or many
        readers of one quiz, cost one query through a worker per interval, not one
        per request. Progress a second old is still true enough to show.
        """
        cached = self._progress.get(quiz_id)
        if cached is not None and time.monotonic() - cached[0] < _PROGRESS_TTL:
            return cached[1]
        progress = await self._query_progress(quiz_id)
        if len(self._progress) > _PROGRESS_CACHE_SIZE:
            self._progress.clear()
        # Timed after the query: a query that waited its full timeout is still cached.
        self._progress[quiz_id] = (time.monotonic(), progress)
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
            ServiceUnavailable,
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
        except (RPCError, RuntimeError, OSError, ServiceUnavailable):
            return False
        return True


def _unavailable(err: BaseException) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"Temporal is unavailable ({type(err).__name__}); nothing was started. Try again shortly."
    )

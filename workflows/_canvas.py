"""What the workflows that call Canvas for a teacher share: run a step, and when Canvas
refuses the teacher's token (`CANVAS_AUTH_ERROR`), wait for `canvas_reconnected` (sent by
the API when the teacher reconnects) and run the refused step again.

While it waits, the workflow says so (`_waiting_changed`, which records it where the pages
and the API read it); several steps refused at once wait together.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from quizgen.canvas_contracts import ExportConfig
    from quizgen.domain import QuizStatus
    from quizgen.names import CANVAS_AUTH_ERROR, QUIZ_ID, QUIZ_STATUS, RECONNECT_SIGNAL

__all__ = ["RECONNECT_MESSAGE", "CanvasSteps", "upsert_quiz_status"]

RECONNECT_MESSAGE = "Canvas refused the saved token (expired or revoked): reconnect Canvas"

Policy = Callable[[ExportConfig], dict[str, Any]]


class CanvasSteps:
    """A base of a workflow class (its signal handler is the workflow's)."""

    _reconnects = 0
    _waiting = False

    @workflow.signal(name=RECONNECT_SIGNAL)
    def canvas_reconnected(self) -> None:
        self._reconnects += 1

    def _canvas_config(self) -> ExportConfig:
        """The workflow's Canvas settings (timeouts, retry window) for its steps' policies."""
        raise NotImplementedError

    async def _waiting_changed(self, waiting: bool) -> None:
        """Record that the workflow now waits for a reconnect (or no longer does)."""
        raise NotImplementedError

    async def _step(self, name: str, arg: Any, result_type: Any, policy: Policy) -> Any:
        """One activity; when Canvas refuses the token, wait for a reconnect and run it again."""
        while True:
            seen = self._reconnects
            try:
                return await workflow.execute_activity(
                    name, arg, result_type=result_type, **policy(self._canvas_config())
                )
            except ActivityError as err:
                if not _is_auth_error(err):
                    raise
            await self._wait_for_reconnect(seen)

    async def _step_each(
        self,
        name: str,
        args: Sequence[Any],
        result_type: Any,
        policy: Policy,
        concurrency: int,
        done: Callable[[Any], None],
    ) -> None:
        """One step per argument, at most `concurrency` at once, `done` told of each result.
        Every step runs to its end; the first failure (if any) is raised after."""
        limit = asyncio.Semaphore(concurrency)

        async def one(arg: Any) -> None:
            async with limit:
                result = await self._step(name, arg, result_type, policy)
            done(result)

        results = await asyncio.gather(*(one(arg) for arg in args), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _wait_for_reconnect(self, seen: int) -> None:
        # The first step refused records the wait; the others only wait with it.
        if self._reconnects == seen and not self._waiting:
            self._waiting = True
            await self._waiting_changed(True)
            await workflow.wait_condition(lambda: self._reconnects > seen)
            self._waiting = False
            await self._waiting_changed(False)
        else:
            await workflow.wait_condition(lambda: self._reconnects > seen)


def _is_auth_error(err: ActivityError) -> bool:
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.type == CANVAS_AUTH_ERROR


def upsert_quiz_status(quiz_id: uuid.UUID, status: QuizStatus) -> None:
    """The quiz's `QuizStatus` (and `QuizId`) in the Web UI, as the workflow sees it."""
    workflow.upsert_search_attributes(
        [QUIZ_ID.value_set(str(quiz_id)), QUIZ_STATUS.value_set(status.value)]
    )

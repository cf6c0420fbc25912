"""`CanvasExportWorkflow`: one per quiz (`quiz-{quiz_id}-export`), its export to Canvas
New Quizzes, or the undoing of it.

Export: `begin_export` claims the quiz (`exporting_to_canvas`) and lists the approved
questions; `create_canvas_quiz` makes the New Quiz once; one `export_item` per question,
at most `concurrency` at once; `finish_export` tidies the Canvas quiz and publishes the
quiz in quizgen. Every step records in PostgreSQL what it did, so a retried step, a new
run or a re-export carries on from there and creates nothing twice (invariant 9).

Faults: throttling, 5xx and timeouts are retried by the activities' policies for
`canvas_retry_window`. A refused token (`CANVAS_AUTH_ERROR`) makes the export wait: its
state says "reconnect Canvas" until the teacher reconnects (the API sends
`canvas_reconnected`), then the steps that were refused run again. Anything else that
stops the export (a refused course, a cancellation, retries running out) gives the quiz
back to review with the reason (`set_export_state`); a new export continues where this
one stopped.

Undo (`ExportAction.UNDO`): `undo_export` deletes the Canvas quiz and forgets the export.

History holds ids, counts and short reasons only: question bodies and the teacher's
token stay in PostgreSQL (invariants 7 and 10).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from quizgen.canvas_contracts import (
        CanvasQuizRef,
        ExportAction,
        ExportConfig,
        ExportFinished,
        ExportItemInput,
        ExportPlan,
        ExportProgress,
        ExportStateChange,
        ExportWorkflowInput,
        ExportWorkflowResult,
        ItemExported,
        ItemOutcome,
    )
    from quizgen.domain import ExportState, QuizStatus
    from quizgen.errors import MAX_REASON_CHARS, cap_message
    from quizgen.names import (
        BEGIN_EXPORT_ACTIVITY,
        CREATE_CANVAS_QUIZ_ACTIVITY,
        EXPORT_ITEM_ACTIVITY,
        EXPORT_PROGRESS_QUERY,
        EXPORT_WORKFLOW,
        FINISH_EXPORT_ACTIVITY,
        RECONNECT_SIGNAL,
        SET_EXPORT_STATE_ACTIVITY,
        UNDO_EXPORT_ACTIVITY,
    )
    from workflows._canvas import RECONNECT_MESSAGE, CanvasSteps, upsert_quiz_status
    from workflows._errors import root_message
    from workflows._policies import canvas_activity, canvas_item_activity, export_db_activity

__all__ = ["CanvasExportWorkflow"]

# Passes over the approved questions before an export gives up on a review that keeps
# changing them (each pass sends only what changed).
_PASSES = 3


@workflow.defn(name=EXPORT_WORKFLOW)
class CanvasExportWorkflow(CanvasSteps):
    @workflow.init
    def __init__(self, input: ExportWorkflowInput) -> None:
        self._input = input
        self._state = (
            ExportState.UNDOING if input.action is ExportAction.UNDO else ExportState.RUNNING
        )
        self._message: str | None = None
        self._title = ""
        self._total = 0
        self._outcomes: dict[ItemOutcome, int] = {}
        self._resume = self._state
        self._canvas_quiz: CanvasQuizRef | None = None

    @workflow.query(name=EXPORT_PROGRESS_QUERY)
    def progress(self) -> ExportProgress:
        return ExportProgress(
            state=self._state,
            exported=self._exported(),
            total=self._total,
            message=self._message,
        )

    @workflow.run
    async def run(self, input: ExportWorkflowInput) -> ExportWorkflowResult:
        try:
            if input.action is ExportAction.UNDO:
                await self._step(UNDO_EXPORT_ACTIVITY, input.quiz_id, None, canvas_activity)
            else:
                await self._export()
        except (asyncio.CancelledError, FailureError) as err:
            cancelled = isinstance(err, asyncio.CancelledError) or _is_cancellation(err)
            self._state = ExportState.CANCELLED if cancelled else ExportState.FAILED
            what = "undo" if input.action is ExportAction.UNDO else "export"
            self._message = cap_message(
                f"{what} {'cancelled' if cancelled else 'stopped'}: {root_message(err)}",
                MAX_REASON_CHARS,
            )
            self._describe()
            await self._set_state(self._state, self._message)
            raise
        return ExportWorkflowResult(
            state=self._state,
            exported=self._exported(),
            total=self._total,
            canvas_quiz_id=self._canvas_quiz.canvas_quiz_id if self._canvas_quiz else None,
        )

    async def _export(self) -> None:
        quiz_id = self._input.quiz_id
        for _ in range(_PASSES):
            plan: ExportPlan = await self._step(
                BEGIN_EXPORT_ACTIVITY, quiz_id, ExportPlan, export_db_activity
            )
            self._title, self._total = plan.title, len(plan.question_ids)
            self._outcomes = {}
            upsert_quiz_status(self._input.quiz_id, QuizStatus.EXPORTING_TO_CANVAS)
            self._describe()
            if self._canvas_quiz is None:
                self._canvas_quiz = await self._step(
                    CREATE_CANVAS_QUIZ_ACTIVITY, quiz_id, CanvasQuizRef, canvas_item_activity
                )
                self._describe()
            await self._export_items(plan)
            finished: ExportFinished = await self._step(
                FINISH_EXPORT_ACTIVITY, quiz_id, ExportFinished, canvas_activity
            )
            if finished.missing == 0:
                self._state = ExportState.PUBLISHED
                self._message = None
                upsert_quiz_status(self._input.quiz_id, QuizStatus.PUBLISHED)
                self._describe(finished)
                return
            # Questions were approved or edited while it ran: another pass sends them.
            workflow.logger.info("%d question(s) changed during the export", finished.missing)
        raise ApplicationError(
            f"{finished.missing} approved question(s) kept changing during the export: "
            "export again when the review is done",
            non_retryable=True,
        )

    async def _export_items(self, plan: ExportPlan) -> None:
        quiz_id = self._input.quiz_id

        def done(item: ItemExported) -> None:
            self._outcomes[item.outcome] = self._outcomes.get(item.outcome, 0) + 1
            self._describe()

        await self._step_each(
            EXPORT_ITEM_ACTIVITY,
            [
                ExportItemInput(quiz_id=quiz_id, question_id=question_id, position=position)
                for position, question_id in enumerate(plan.question_ids, 1)
            ],
            ItemExported,
            canvas_item_activity,
            self._input.config.concurrency,
            done,
        )

    def _canvas_config(self) -> ExportConfig:
        return self._input.config

    async def _waiting_changed(self, waiting: bool) -> None:
        if waiting:
            self._resume = self._state
            self._state, self._message = ExportState.WAITING_FOR_CANVAS, RECONNECT_MESSAGE
        else:
            self._state, self._message = self._resume, None
        self._describe()
        await self._set_state(self._state, self._message)

    async def _set_state(self, state: ExportState, message: str | None) -> None:
        await workflow.execute_activity(
            SET_EXPORT_STATE_ACTIVITY,
            ExportStateChange(quiz_id=self._input.quiz_id, state=state, message=message or ""),
            **export_db_activity(self._input.config),
        )

    def _exported(self) -> int:
        return sum(n for outcome, n in self._outcomes.items() if outcome is not ItemOutcome.SKIPPED)

    def _describe(self, finished: ExportFinished | None = None) -> None:
        """The Web UI's "current details": "X of Y questions exported", and where to."""
        progress = self.progress()
        lines = [
            f"**{self._title or self._input.quiz_id}** · export {self._state.value}",
            progress.sentence,
        ]
        if self._outcomes:
            lines.append(
                ", ".join(f"{n} {outcome.value}" for outcome, n in sorted(self._outcomes.items()))
            )
        if self._canvas_quiz is not None:
            lines.append(f"Canvas quiz: {self._canvas_quiz.url}")
        if finished is not None and (finished.removed or finished.moved):
            lines.append(f"Tidied: {finished.removed} removed, {finished.moved} moved")
        if self._message:
            lines.append(self._message)
        if self._state is ExportState.WAITING_FOR_CANVAS:
            lines.append(f"Waiting for the `{RECONNECT_SIGNAL}` signal")
        workflow.set_current_details("\n\n".join(lines))


def _is_cancellation(err: BaseException) -> bool:
    from temporalio.exceptions import CancelledError

    while err is not None:
        if isinstance(err, CancelledError):
            return True
        err = err.__cause__  # type: ignore[assignment]
    return False

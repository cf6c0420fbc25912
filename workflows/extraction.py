"""`ContentExtractionWorkflow`: one per quiz (`quiz-{quiz_id}-extract`), its Canvas pages
and PDFs (and uploaded PDFs) made into its modules' text.

`begin_extraction` lists the sources not extracted yet; one `extract_source` per source,
at most `concurrency` at once, each extracted or failed on its own (invariant 11, as
batches in generation); `finish_extraction` composes each module's text and settles the
quiz: `created` (ready to generate) or `failed` when no module got text. A retry
(`POST /quizzes/{id}/extract`) is a new run over the failed sources only.

Canvas throttling, 5xx and timeouts are retried by the activities' policies; a refused
token waits for `canvas_reconnected` (`workflows/_canvas.py`). A run that is cancelled or
whose step gives up settles the quiz from what was extracted, with the reason.
History holds source ids, counts and reasons; never the text (invariant 10).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from quizgen.canvas_contracts import (
        ExportConfig,
        ExtractionFinished,
        ExtractionOutcome,
        ExtractionPlan,
        ExtractionProgress,
        ExtractionStopped,
        ExtractionWorkflowInput,
        ExtractSourceInput,
        SourceExtracted,
    )
    from quizgen.domain import QuizStatus
    from quizgen.errors import MAX_REASON_CHARS, cap_message
    from quizgen.names import (
        BEGIN_EXTRACTION_ACTIVITY,
        EXTRACT_SOURCE_ACTIVITY,
        EXTRACTION_PROGRESS_QUERY,
        EXTRACTION_WORKFLOW,
        FINISH_EXTRACTION_ACTIVITY,
        RECONNECT_SIGNAL,
        STOP_EXTRACTION_ACTIVITY,
    )
    from workflows._canvas import RECONNECT_MESSAGE, CanvasSteps, upsert_quiz_status
    from workflows._errors import root_message
    from workflows._policies import export_db_activity, extraction_activity

__all__ = ["ContentExtractionWorkflow"]


@workflow.defn(name=EXTRACTION_WORKFLOW)
class ContentExtractionWorkflow(CanvasSteps):
    @workflow.init
    def __init__(self, input: ExtractionWorkflowInput) -> None:
        self._input = input
        self._title = ""
        self._total = 0
        self._outcomes: dict[ExtractionOutcome, int] = {}

    @workflow.query(name=EXTRACTION_PROGRESS_QUERY)
    def progress(self) -> ExtractionProgress:
        done = self._outcomes.get(ExtractionOutcome.EXTRACTED, 0)
        return ExtractionProgress(
            total=self._total,
            extracted=done + self._outcomes.get(ExtractionOutcome.ALREADY, 0),
            failed=self._outcomes.get(ExtractionOutcome.FAILED, 0),
            waiting_for_canvas=self._waiting,
        )

    def _canvas_config(self) -> ExportConfig:
        return self._input.config

    @workflow.run
    async def run(self, input: ExtractionWorkflowInput) -> ExtractionFinished:
        try:
            return await self._extract()
        except (asyncio.CancelledError, FailureError) as err:
            message = cap_message(f"extraction stopped: {root_message(err)}", MAX_REASON_CHARS)
            await workflow.execute_activity(
                STOP_EXTRACTION_ACTIVITY,
                ExtractionStopped(quiz_id=input.quiz_id, message=message),
                **export_db_activity(input.config),
            )
            raise

    async def _extract(self) -> ExtractionFinished:
        quiz_id = self._input.quiz_id
        plan: ExtractionPlan = await self._step(
            BEGIN_EXTRACTION_ACTIVITY, quiz_id, ExtractionPlan, export_db_activity
        )
        self._title, self._total = plan.title, len(plan.source_ids)
        upsert_quiz_status(self._input.quiz_id, QuizStatus.EXTRACTING_CONTENT)
        self._describe()

        def done(source: SourceExtracted) -> None:
            self._outcomes[source.outcome] = self._outcomes.get(source.outcome, 0) + 1
            self._describe()

        # A source that cannot be extracted is recorded as failed, not raised: only a step
        # that gives up stops the run.
        await self._step_each(
            EXTRACT_SOURCE_ACTIVITY,
            [ExtractSourceInput(quiz_id=quiz_id, source_id=s) for s in plan.source_ids],
            SourceExtracted,
            extraction_activity,
            self._input.config.concurrency,
            done,
        )
        finished: ExtractionFinished = await self._step(
            FINISH_EXTRACTION_ACTIVITY, quiz_id, ExtractionFinished, export_db_activity
        )
        upsert_quiz_status(self._input.quiz_id, finished.status)
        self._describe(finished)
        return finished

    async def _waiting_changed(self, waiting: bool) -> None:
        self._describe()
        await workflow.execute_activity(
            STOP_EXTRACTION_ACTIVITY,
            ExtractionStopped(
                quiz_id=self._input.quiz_id,
                message=RECONNECT_MESSAGE if waiting else "",
                stopped=False,
            ),
            **export_db_activity(self._input.config),
        )

    def _describe(self, finished: ExtractionFinished | None = None) -> None:
        """The Web UI's "current details": items extracted, failed, left."""
        progress = self.progress()
        lines = [
            f"**{self._title or self._input.quiz_id}** · extracting content",
            f"{progress.extracted} of {progress.total} items extracted, {progress.failed} failed",
        ]
        if finished is not None:
            lines.append(
                f"Done: quiz {finished.status.value}; {finished.modules_ready} module(s) with "
                f"text, {finished.modules_empty} without"
            )
        if self._waiting:
            lines.append(f"{RECONNECT_MESSAGE}. Waiting for the `{RECONNECT_SIGNAL}` signal")
        workflow.set_current_details("\n\n".join(lines))

"""`QuizGenerationWorkflow`: one per quiz, an entity that stays open while work is left.

A round: `start_round` claims the quiz (`generating_questions`) and reads where
every batch stands; each batch that is not saved runs as a
`BatchGenerationWorkflow` child (at most `max_concurrent_batches` at once);
`record_round` appends the round to the quiz's attempts and settles the status
from what PostgreSQL has saved. With batches left, the workflow waits for the
`retry_failed_batches` signal (by default for as long as it takes), so the
plain CLI signal works at any time and the quiz stays findable by `QuizStatus`.
It completes when every batch is saved (or when the quiz is deleted, which
terminates it).

State is read from PostgreSQL at the start of every round, so continue-as-new
carries nothing but the quiz id, and a new run (after a termination, a
failure, a closed run) carries on where the database says the quiz stands.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import (
    ApplicationError,
    ChildWorkflowError,
    FailureError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from quizgen.contracts import (
        BatchFailure,
        BatchProgress,
        BatchState,
        GenerateBatchInput,
        QuizPlan,
        QuizProgress,
        QuizWorkflowInput,
        QuizWorkflowResult,
        RecordRoundInput,
        RoundRecorded,
    )
    from quizgen.domain import BatchRef, BatchResult, BatchStatus, QuizStatus, TokenUsage
    from quizgen.errors import MAX_REASON_CHARS, cap_message
    from quizgen.names import (
        BATCH_WORKFLOW,
        BATCHES_FAILED,
        PROGRESS_QUERY,
        QUESTIONS_SAVED,
        QUESTIONS_TARGET,
        QUIZ_ID,
        QUIZ_STATUS,
        QUIZ_WORKFLOW,
        RECORD_ROUND_ACTIVITY,
        RETRY_SIGNAL,
        START_ROUND_ACTIVITY,
        batch_workflow_id,
    )
    from workflows._errors import root_message
    from workflows._policies import db_activity

__all__ = ["QuizGenerationWorkflow"]


class _Round:
    """The round in progress: its id, when it started, the batches it has finished."""

    def __init__(self, round_id: str, started: datetime) -> None:
        self.round_id = round_id
        self.started = started
        self.results: dict[str, BatchResult] = {}


@workflow.defn(name=QUIZ_WORKFLOW)
class QuizGenerationWorkflow:
    @workflow.init
    def __init__(self, input: QuizWorkflowInput) -> None:
        self._input = input
        self._batches: dict[str, BatchState] = {}
        self._retry_requested = input.retry_requested
        self._rounds_this_run = 0
        # What the database says; `generating_questions` until the first round is read.
        self._status = QuizStatus.GENERATING_QUESTIONS
        self._round: _Round | None = None
        self._title = ""

    @workflow.signal(name=RETRY_SIGNAL)
    def retry_failed_batches(self) -> None:
        # Only a flag: a signal during a round is kept and acted on after it.
        self._retry_requested = True

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> QuizProgress:
        return QuizProgress.of(
            self._status,
            [
                BatchProgress(
                    batch_key=key,
                    status=state.status,
                    target_count=state.ref.count,
                    generated_count=state.generated_count,
                    attempts=state.attempts,
                    last_error=state.last_error,
                )
                for key, state in self._batches.items()
            ],
        )

    @workflow.run
    async def run(self, input: QuizWorkflowInput) -> QuizWorkflowResult:
        try:
            return await self._run()
        except (asyncio.CancelledError, FailureError) as err:
            # Cancelled, or an activity ran out of retries: never leave the quiz
            # `generating_questions` (invariant 4). Mid-round, the round so far is
            # recorded. Before the round read the quiz, the status is settled from
            # the database only if it says `generating_questions` (a trigger set
            # it, or start_round committed before the stop); nothing else is
            # written over a quiz this run has not read. Termination cannot be
            # caught: the next trigger restarts the quiz and settles it.
            message = f"generation stopped: {root_message(err)}"
            if self._round is not None:
                await self._record(self._round, message)
            else:
                await self._settle_unread(message)
            raise

    async def _run(self) -> QuizWorkflowResult:
        while True:
            await self._run_round()
            if not self._unfinished():
                return self._result()
            try:
                await workflow.wait_condition(
                    lambda: self._retry_requested, timeout=self._input.config.retry_wait
                )
            except TimeoutError:
                workflow.logger.info("no retry requested in time; closing")
                return self._result()
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    QuizWorkflowInput(
                        quiz_id=self._input.quiz_id,
                        config=self._input.config,
                        retry_requested=True,
                    )
                )

    async def _run_round(self) -> None:
        self._rounds_this_run += 1
        plan = await workflow.execute_activity(
            START_ROUND_ACTIVITY,
            self._input.quiz_id,
            result_type=QuizPlan,
            **db_activity(self._input.config),
        )
        # The database now says `generating_questions`, and so do we.
        self._status = QuizStatus.GENERATING_QUESTIONS
        self._batches = {state.ref.batch_key: state for state in plan.batches}
        self._title = plan.title
        self._retry_requested = False
        self._round = _Round(f"{workflow.info().run_id}/{self._rounds_this_run}", workflow.now())
        self._upsert_search_attributes()
        self._describe()
        semaphore = asyncio.Semaphore(self._input.config.max_concurrent_batches)
        await asyncio.gather(*(self._run_batch(s, semaphore) for s in self._unfinished()))
        await self._record(self._round)

    async def _record(self, current: _Round, stopped: str | None = None) -> None:
        """Close the round in PostgreSQL and take over the status it settled."""
        if stopped is not None:
            for state in self._batches.values():
                if state.status in (BatchStatus.PENDING, BatchStatus.RUNNING):
                    self._mark_failed(state, _stopped_failure(state, stopped))
        recorded = await workflow.execute_activity(
            RECORD_ROUND_ACTIVITY,
            RecordRoundInput(
                quiz_id=self._input.quiz_id,
                round_id=current.round_id,
                started_at=current.started,
                results=list(current.results.values()),
                stopped=cap_message(stopped, MAX_REASON_CHARS) if stopped else None,
            ),
            result_type=RoundRecorded,
            **db_activity(self._input.config),
        )
        self._round = None
        for key in recorded.saved_batch_keys:
            if (saved := self._batches.get(key)) is not None:
                saved.status = BatchStatus.SUCCEEDED
                saved.drafts = 0
                saved.last_error = None
        # Only now, with the database agreeing, does our status leave `generating_questions`.
        self._status = recorded.status
        self._upsert_search_attributes()
        self._describe()

    async def _settle_unread(self, message: str) -> None:
        try:
            await workflow.execute_activity(
                RECORD_ROUND_ACTIVITY,
                RecordRoundInput(
                    quiz_id=self._input.quiz_id,
                    round_id=f"{workflow.info().run_id}/unread",
                    started_at=workflow.now(),
                    results=[],
                    stopped=cap_message(message, MAX_REASON_CHARS),
                ),
                result_type=RoundRecorded,
                **db_activity(self._input.config),
            )
        except FailureError as err:
            # E.g. the quiz was deleted: the original failure is the one to report.
            workflow.logger.warning("could not settle the quiz's status: %s", root_message(err))

    def _should_continue_as_new(self) -> bool:
        limit = self._input.config.rounds_per_run
        if limit is not None and self._rounds_this_run >= limit:
            return True
        return workflow.info().is_continue_as_new_suggested()

    async def _run_batch(self, state: BatchState, semaphore: asyncio.Semaphore) -> None:
        async with semaphore:
            state.status = BatchStatus.RUNNING
            state.attempts += 1
            ref = state.ref
            try:
                result: BatchResult = await workflow.execute_child_workflow(
                    BATCH_WORKFLOW,
                    GenerateBatchInput(
                        quiz_id=self._input.quiz_id,
                        batch=ref,
                        config=self._input.config,
                        drafts=state.drafts,
                    ),
                    id=batch_workflow_id(self._input.quiz_id, ref.batch_key),
                    static_summary=batch_summary(ref),
                    # The server itself refuses to run a succeeded batch again.
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                    execution_timeout=self._input.config.batch_timeout,
                    result_type=BatchResult,
                )
            except ChildWorkflowError as err:
                self._mark_failed(state, _batch_failure(err, state))
            except WorkflowAlreadyStartedError:
                self._mark_failed(
                    state,
                    BatchFailure(
                        reason=f"batch {ref.batch_key}: Temporal refused to run it again because "
                        "an earlier run succeeded or is still open; its saved questions are "
                        "checked when the round is recorded",
                        generated_count=state.drafts,
                        tokens=TokenUsage(),
                        llm_calls=0,
                    ),
                )
            else:
                state.status = BatchStatus.SUCCEEDED
                state.drafts = 0
                state.last_error = None
                if self._round is not None:
                    self._round.results[ref.batch_key] = result
            self._describe()

    def _mark_failed(self, state: BatchState, failure: BatchFailure) -> None:
        """A batch failed this round: remember why, and what it has."""
        state.status = BatchStatus.FAILED
        state.last_error = failure.reason
        state.drafts = failure.generated_count
        if self._round is not None:
            self._round.results[state.ref.batch_key] = state.ref.result(
                BatchStatus.FAILED,
                generated_count=failure.generated_count,
                llm_calls=failure.llm_calls,
                tokens=failure.tokens,
                error=failure.reason,
            )

    def _describe(self) -> None:
        """Where the quiz stands: the Web UI's "current details" (`temporal workflow metadata`)."""
        progress = self.progress()
        counts = {s: sum(b.status is s for b in progress.batches) for s in BatchStatus}
        lines = [
            f"**{self._title or self._input.quiz_id}** · {self._status.value}",
            progress.message,
            f"Batches: {counts[BatchStatus.SUCCEEDED]} succeeded, "
            f"{counts[BatchStatus.RUNNING]} running, {counts[BatchStatus.PENDING]} waiting, "
            f"{counts[BatchStatus.FAILED]} failed",
        ]
        if self._round is None and self._unfinished():
            failed = ", ".join(s.ref.batch_key for s in self._unfinished())
            lines.append(f"Waiting for the `{RETRY_SIGNAL}` signal to retry: {failed}")
        workflow.set_current_details("\n\n".join(lines))

    def _unfinished(self) -> list[BatchState]:
        return [s for s in self._batches.values() if s.status is not BatchStatus.SUCCEEDED]

    def _upsert_search_attributes(self) -> None:
        progress = self.progress()
        workflow.upsert_search_attributes(
            [
                QUIZ_ID.value_set(str(self._input.quiz_id)),
                QUIZ_STATUS.value_set(self._status.value),
                QUESTIONS_SAVED.value_set(progress.questions_saved),
                QUESTIONS_TARGET.value_set(progress.questions_target),
                BATCHES_FAILED.value_set(
                    sum(b.status is BatchStatus.FAILED for b in progress.batches)
                ),
            ]
        )

    def _result(self) -> QuizWorkflowResult:
        progress = self.progress()
        return QuizWorkflowResult(
            status=self._status,
            questions_saved=progress.questions_saved,
            questions_target=progress.questions_target,
            failed_batches=sorted(s.ref.batch_key for s in self._unfinished()),
        )


def batch_summary(ref: BatchRef) -> str:
    """A batch child's one line in the Web UI: which questions, how many."""
    return (
        f"{ref.batch_key}: {ref.count} {ref.question_type.value.replace('_', ' ')} "
        f"questions, {ref.difficulty.value}"
    )


def _stopped_failure(state: BatchState, message: str) -> BatchFailure:
    return BatchFailure(
        reason=cap_message(message, MAX_REASON_CHARS),
        generated_count=state.drafts,
        tokens=TokenUsage(),
        llm_calls=0,
    )


def _batch_failure(err: ChildWorkflowError, state: BatchState) -> BatchFailure:
    """What a failed child achieved: from its `BatchFailed` details when it got that far."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        try:
            return BatchFailure.model_validate(cause.details[0])
        except ValueError:
            pass
    return BatchFailure(
        reason=cap_message(f"batch {state.ref.batch_key}: {root_message(err)}", MAX_REASON_CHARS),
        generated_count=state.drafts,
        tokens=TokenUsage(),
        llm_calls=0,
    )

"""`QuizGenerationWorkflow`: one per quiz; runs every unfinished batch as a child.

A round: mark the quiz `generating_questions`, run each batch that has not
succeeded as a `BatchGenerationWorkflow` (at most `max_concurrent_batches` at
once), then persist status + generation metadata and upsert the search
attributes. After a round with failures the workflow waits for the
`retry_failed_batches` signal (up to `retry_wait`), then runs another round of
only the batches that have not succeeded. Batch state lives here, in history,
and is carried across continue-as-new.
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
        BatchRef,
        BatchState,
        GenerateBatchInput,
        QuizPlan,
        QuizProgress,
        QuizWorkflowInput,
        QuizWorkflowResult,
        RecordRoundInput,
    )
    from quizgen.domain import (
        BatchResult,
        BatchStatus,
        FailureReason,
        GenerationAttempt,
        GenerationMetadata,
        QuizStatus,
        RoundOutcome,
        TokenUsage,
    )
    from quizgen.errors import cap_message
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
        SAVED_BATCHES_ACTIVITY,
        START_ROUND_ACTIVITY,
        batch_workflow_id,
    )
    from workflows._errors import root_message
    from workflows._policies import db_activity

__all__ = ["QuizGenerationWorkflow"]


@workflow.defn(name=QUIZ_WORKFLOW)
class QuizGenerationWorkflow:
    @workflow.init
    def __init__(self, input: QuizWorkflowInput) -> None:
        self._input = input
        self._batches: dict[str, BatchState] = {
            state.ref.batch_key: state for state in input.carried_batches or []
        }
        self._metadata = input.carried_metadata or GenerationMetadata()
        # A fresh run takes over the metadata stored by earlier runs (see _reconcile).
        self._metadata_adopted = input.carried_metadata is not None
        self._retry_requested = input.retry_requested
        self._rounds_this_run = 0
        # The round in progress: when it started and the batches it has finished.
        self._round_started: datetime | None = None
        self._round_results: dict[str, BatchResult] = {}
        self._status = (
            self._settled_status() if input.carried_batches else QuizStatus.GENERATING_QUESTIONS
        )

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
            # showing `generating_questions` (invariant 4). Termination cannot be
            # caught; the next start or retry of the quiz repairs the status.
            if self._status is QuizStatus.GENERATING_QUESTIONS:
                await self._settle_after_stop(f"generation stopped: {root_message(err)}")
            raise

    async def _run(self) -> QuizWorkflowResult:
        while True:
            await self._round()
            if not self._unfinished():
                return self._result()
            if not self._retry_requested:
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
                        carried_batches=list(self._batches.values()),
                        carried_metadata=self._metadata,
                        retry_requested=True,
                    )
                )

    async def _round(self) -> None:
        self._status = QuizStatus.GENERATING_QUESTIONS
        self._rounds_this_run += 1
        plan = await workflow.execute_activity(
            START_ROUND_ACTIVITY,
            self._input.quiz_id,
            result_type=QuizPlan,
            **db_activity(self._input.config),
        )
        self._reconcile(plan)
        self._retry_requested = False
        todo = self._unfinished()
        self._upsert_search_attributes()
        started = self._round_started = workflow.now()
        self._round_results = {}
        semaphore = asyncio.Semaphore(self._input.config.max_concurrent_batches)
        results = await asyncio.gather(*(self._run_batch(s, semaphore) for s in todo))
        self._round_started = None
        # E.g. a child terminated after its save had committed still succeeded.
        await self._mark_saved_from_database()
        self._status = self._settled_status()
        if results:
            self._metadata = self._next_metadata(started, results)
        await self._record_settled()
        self._upsert_search_attributes()

    async def _record_settled(self, message: str | None = None) -> None:
        if self._status is QuizStatus.FAILED:
            await self._record(
                self._status, FailureReason.NO_BATCHES_SUCCEEDED, message or self._failure_message()
            )
        else:
            await self._record(self._status)

    async def _settle_after_stop(self, message: str) -> None:
        # A child may have saved its batch just before the stop, before its result reached us.
        await self._mark_saved_from_database()
        for state in self._batches.values():
            if state.status in (BatchStatus.PENDING, BatchStatus.RUNNING):
                state.status = BatchStatus.FAILED
                state.last_error = cap_message(message)
                if self._round_started is not None:
                    self._round_results[state.ref.batch_key] = state.ref.result(
                        BatchStatus.FAILED,
                        generated_count=len(state.kept_questions),
                        llm_calls=0,
                        tokens=TokenUsage(),
                        error=state.last_error,
                    )
        if self._round_started is not None:
            # The stopped round is an attempt like any other: metadata stays complete.
            self._metadata = self._next_metadata(
                self._round_started, list(self._round_results.values())
            )
        self._status = self._settled_status()
        if self._status is QuizStatus.FAILED:
            await self._record(self._status, FailureReason.INTERNAL_ERROR, cap_message(message))
        else:
            await self._record(self._status)
        self._upsert_search_attributes()

    async def _mark_saved_from_database(self) -> None:
        """PostgreSQL has the last word on which batches are saved."""
        saved = await workflow.execute_activity(
            SAVED_BATCHES_ACTIVITY,
            self._input.quiz_id,
            result_type=list[str],
            **db_activity(self._input.config),
        )
        self._mark_saved(saved)

    def _should_continue_as_new(self) -> bool:
        limit = self._input.config.rounds_per_run
        if limit is not None and self._rounds_this_run >= limit:
            return True
        return workflow.info().is_continue_as_new_suggested()

    def _reconcile(self, plan: QuizPlan) -> None:
        """Take in the quiz's batches and metadata; the database's saved batches succeeded."""
        if not self._metadata_adopted:
            self._metadata = plan.metadata
            self._metadata_adopted = True
        for ref in plan.batches:
            if ref.batch_key not in self._batches:
                self._batches[ref.batch_key] = self._state_from_metadata(ref)
        self._mark_saved(plan.saved_batch_keys)

    def _state_from_metadata(self, ref: BatchRef) -> BatchState:
        """A batch as earlier runs of this quiz left it (attempts, last error)."""
        state = BatchState(ref=ref)
        for attempt in self._metadata.generation_attempts:
            if (result := attempt.batch_results.get(ref.batch_key)) is not None:
                state.attempts += 1
                state.last_error = result.error
                if result.status is BatchStatus.FAILED:
                    state.status = BatchStatus.FAILED
        return state

    def _mark_saved(self, saved_keys: list[str]) -> None:
        for key in saved_keys:
            if (state := self._batches.get(key)) is not None:
                state.status = BatchStatus.SUCCEEDED
                state.kept_questions = []
                state.last_error = None

    async def _run_batch(self, state: BatchState, semaphore: asyncio.Semaphore) -> BatchResult:
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
                        kept_questions=state.kept_questions,
                    ),
                    id=batch_workflow_id(self._input.quiz_id, ref.batch_key),
                    # The server itself refuses to run a succeeded batch again.
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                    execution_timeout=self._input.config.batch_timeout,
                    result_type=BatchResult,
                )
            except ChildWorkflowError as err:
                failure = _batch_failure(err, state)
            except WorkflowAlreadyStartedError:
                failure = BatchFailure(
                    reason=f"batch {ref.batch_key}: Temporal refused to run it again because "
                    "an earlier run succeeded or is still open; its saved questions are "
                    "checked at the end of this round",
                    kept_questions=state.kept_questions,
                    tokens=TokenUsage(),
                    llm_calls=0,
                )
            else:
                state.status = BatchStatus.SUCCEEDED
                state.kept_questions = []
                state.last_error = None
                state.tokens += result.tokens
                self._round_results[ref.batch_key] = result
                return result
        state.status = BatchStatus.FAILED
        state.last_error = failure.reason
        state.kept_questions = failure.kept_questions
        state.tokens += failure.tokens
        outcome = ref.result(
            BatchStatus.FAILED,
            generated_count=len(failure.kept_questions),
            llm_calls=failure.llm_calls,
            tokens=failure.tokens,
            error=failure.reason,
        )
        self._round_results[ref.batch_key] = outcome
        return outcome

    def _unfinished(self) -> list[BatchState]:
        return [s for s in self._batches.values() if s.status is not BatchStatus.SUCCEEDED]

    def _settled_status(self) -> QuizStatus:
        succeeded = sum(s.status is BatchStatus.SUCCEEDED for s in self._batches.values())
        return RoundOutcome.of(succeeded, len(self._batches) - succeeded).quiz_status()

    def _next_metadata(self, started: datetime, results: list[BatchResult]) -> GenerationMetadata:
        round_tokens = sum((r.tokens for r in results), TokenUsage())
        round_ok = sum(r.status is BatchStatus.SUCCEEDED for r in results)
        attempt = GenerationAttempt(
            attempt_number=len(self._metadata.generation_attempts) + 1,
            started_at=started,
            finished_at=workflow.now(),
            overall_status=RoundOutcome.of(round_ok, len(results) - round_ok),
            batch_results={r.batch_key: r for r in results},
            tokens=round_tokens,
        )
        states = self._batches.values()
        return GenerationMetadata(
            generation_attempts=[*self._metadata.generation_attempts, attempt],
            successful_batches=sorted(
                s.ref.batch_key for s in states if s.status is BatchStatus.SUCCEEDED
            ),
            failed_batches=sorted(
                s.ref.batch_key for s in states if s.status is not BatchStatus.SUCCEEDED
            ),
            total_questions_saved=self.progress().questions_saved,
            total_questions_target=self.progress().questions_target,
            tokens=self._metadata.tokens + round_tokens,
        )

    def _failure_message(self) -> str:
        errors = [s.last_error or s.ref.batch_key for s in self._unfinished()]
        return cap_message("no batch reached its target: " + "; ".join(errors))

    async def _record(
        self,
        status: QuizStatus,
        reason: FailureReason | None = None,
        message: str | None = None,
    ) -> None:
        await workflow.execute_activity(
            RECORD_ROUND_ACTIVITY,
            RecordRoundInput(
                quiz_id=self._input.quiz_id,
                status=status,
                failure_reason=reason,
                failure_message=message,
                metadata=self._metadata,
            ),
            **db_activity(self._input.config),
        )

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


def _batch_failure(err: ChildWorkflowError, state: BatchState) -> BatchFailure:
    """What a failed child achieved: from its `BatchFailed` details when it got that far."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        try:
            return BatchFailure.model_validate(cause.details[0])
        except ValueError:
            pass
    return BatchFailure(
        reason=cap_message(f"batch {state.ref.batch_key}: {root_message(err)}"),
        kept_questions=state.kept_questions,
        tokens=TokenUsage(),
        llm_calls=0,
    )

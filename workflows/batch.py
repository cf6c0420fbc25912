"""`BatchGenerationWorkflow`: one batch, from first LLM call to one idempotent save.

generate → validate (inside the activity, which keeps valid questions as
drafts in PostgreSQL, and saves the batch itself once they reach the target)
→ repair invalid questions and top up missing ones (at most `repair_rounds`
extra calls, and none after a call that brought less than half of what it
asked for, counting questions another batch saved first as brought; a first
answer that was unreadable or broke rules is repaired all the same) → when
drafts from an earlier run are complete, save
them all in one transaction → return the result. This workflow only ever
sees counts. A batch that cannot reach its target saves nothing and fails with
an `ApplicationError` (type `BatchFailed`, details `BatchFailure`); its drafts
stay in PostgreSQL, so the next run of the batch asks only for what is missing.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from quizgen.contracts import (
        BatchFailure,
        GenerateBatchInput,
        GeneratedQuestions,
        GenerateQuestionsInput,
        SaveBatchInput,
        SaveBatchOutput,
    )
    from quizgen.domain import BatchResult, BatchStatus, TokenUsage
    from quizgen.errors import MAX_REASON_CHARS, cap_message
    from quizgen.names import (
        BATCH_FAILED_ERROR,
        BATCH_WORKFLOW,
        FUTILE_FIRST_CALL_PATCH,
        GENERATE_QUESTIONS_ACTIVITY,
        SAVE_BATCH_ACTIVITY,
        llm_task_queue,
    )
    from workflows._errors import root_message
    from workflows._policies import db_activity, llm_activity

__all__ = ["BatchGenerationWorkflow"]


@workflow.defn(name=BATCH_WORKFLOW)
class BatchGenerationWorkflow:
    @workflow.init
    def __init__(self, input: GenerateBatchInput) -> None:
        self._input = input
        self._drafts = min(input.drafts, input.batch.count)
        self._problems: list[str] = []
        self._tokens = TokenUsage()
        self._calls = 0
        # Set when a call brought less than half of what it asked for.
        self._futile = False
        # Set when the generate activity saved the batch (its drafts were complete).
        self._saved = False

    @workflow.run
    async def run(self, input: GenerateBatchInput) -> BatchResult:
        batch = input.batch
        max_calls = 1 + input.config.repair_rounds
        while True:
            if self._saved or (self._drafts >= batch.count and await self._save()):
                return batch.result(
                    BatchStatus.SUCCEEDED,
                    generated_count=batch.count,
                    llm_calls=self._calls,
                    tokens=self._tokens,
                )
            if self._calls >= max_calls or self._futile:
                # A model that cannot give more now is not asked again and again:
                # the drafts stay, and a retry asks only for what is missing.
                raise self._failure(
                    f"{self._drafts} of {batch.count} valid questions after "
                    f"{self._calls} LLM calls ({'; '.join(self._problems[-2:]) or 'no details'})"
                )
            await self._generate(batch.count - self._drafts)

    async def _generate(self, missing: int) -> None:
        request = GenerateQuestionsInput(
            quiz_id=self._input.quiz_id,
            batch=self._input.batch,
            count=missing,
            call_index=self._calls,
        )
        self._calls += 1
        try:
            answer = await workflow.execute_activity(
                GENERATE_QUESTIONS_ACTIVITY,
                request,
                result_type=GeneratedQuestions,
                summary=f"LLM call {self._calls}: {missing} question(s)",
                # LLM calls have a queue of their own, with its own rate limits.
                task_queue=llm_task_queue(workflow.info().task_queue),
                **llm_activity(self._input.config),
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            raise self._failure(f"the question generator failed: {root_message(err)}") from err
        self._tokens += answer.tokens
        gained = answer.drafts - self._drafts
        self._drafts = answer.drafts
        self._saved = answer.saved
        # Questions lost to another batch's save were delivered, so they count here.
        self._futile = (gained + answer.collisions) * 2 < missing and self._gives_up_after(
            request, answer
        )
        if answer.problem:
            self._problems.append(answer.problem)
        # The Web UI's "current details" of this child (`temporal workflow metadata`).
        workflow.set_current_details(
            f"{self._drafts} of {self._input.batch.count} questions after {self._calls} "
            f"LLM call(s)" + (f"; last problem: {answer.problem}" if answer.problem else "")
        )

    def _gives_up_after(self, request: GenerateQuestionsInput, answer: GeneratedQuestions) -> bool:
        """Whether a call that brought under half of what it asked for ends the batch's round.

        A top-up that comes back short shows the model has run dry. So does a
        first answer that was well-formed and followed the rules but simply
        held too few questions: asking again in this round would pay for the
        whole prompt to get little or nothing (the drafts are kept, and a retry
        asks only for what is missing). A first answer that was unreadable or
        broke rules is repaired instead: that is what repair calls are for.
        """
        if request.call_index > 0:
            return True
        # Runs recorded before this rule existed topped up after any first answer.
        return not answer.repairable and workflow.patched(FUTILE_FIRST_CALL_PATCH)

    async def _save(self) -> bool:
        """Move the drafts into the quiz's questions; False if some must be replaced first."""
        try:
            saved = await workflow.execute_activity(
                SAVE_BATCH_ACTIVITY,
                SaveBatchInput(quiz_id=self._input.quiz_id, batch=self._input.batch),
                result_type=SaveBatchOutput,
                **db_activity(self._input.config),
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            raise self._failure(f"saving the questions failed: {root_message(err)}") from err
        if saved.saved:
            return True
        self._drafts = self._input.batch.count - saved.missing
        if saved.duplicates_dropped:
            # Another batch of the quiz saved one of these texts first.
            self._problems.append(
                f"{saved.duplicates_dropped} questions repeated another batch's questions"
            )
        return False

    def _failure(self, reason: str) -> ApplicationError:
        message = cap_message(f"batch {self._input.batch.batch_key}: {reason}", MAX_REASON_CHARS)
        details = BatchFailure(
            reason=message,
            generated_count=self._drafts,
            tokens=self._tokens,
            llm_calls=self._calls,
        )
        return ApplicationError(message, details, type=BATCH_FAILED_ERROR, non_retryable=True)

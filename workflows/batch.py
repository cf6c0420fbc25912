"""`BatchGenerationWorkflow`: one batch, from first LLM call to one idempotent save.

generate → validate → repair invalid questions and top up missing ones (at most
`repair_rounds` extra calls) → when the target is reached, save all questions
in one transaction → return the result. A batch that cannot reach its target
saves nothing and fails with an `ApplicationError` (type `BatchFailed`) whose
details (`BatchFailure`) carry the valid questions it has, so the next run of
the batch asks only for what is missing.
"""

from __future__ import annotations

from typing import Any

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
    from quizgen.errors import cap_message
    from quizgen.names import (
        BATCH_WORKFLOW,
        GENERATE_QUESTIONS_ACTIVITY,
        SAVE_BATCH_ACTIVITY,
        llm_task_queue,
    )
    from quizgen.validation import Rejection
    from workflows._errors import root_message
    from workflows._policies import db_activity, llm_activity

__all__ = ["BatchGenerationWorkflow"]

BATCH_FAILED = "BatchFailed"


@workflow.defn(name=BATCH_WORKFLOW)
class BatchGenerationWorkflow:
    @workflow.init
    def __init__(self, input: GenerateBatchInput) -> None:
        self._input = input
        self._kept: list[dict[str, Any]] = list(input.kept_questions[: input.batch.count])
        self._repair: list[Rejection] = []
        self._problems: list[str] = []
        self._tokens = TokenUsage()
        self._calls = 0

    @workflow.run
    async def run(self, input: GenerateBatchInput) -> BatchResult:
        batch = input.batch
        max_calls = 1 + input.config.repair_rounds
        while True:
            if len(self._kept) >= batch.count and await self._save():
                return batch.result(
                    BatchStatus.SUCCEEDED,
                    generated_count=batch.count,
                    llm_calls=self._calls,
                    tokens=self._tokens,
                )
            if self._calls >= max_calls:
                raise self._failure(
                    f"{len(self._kept)} of {batch.count} valid questions after "
                    f"{self._calls} LLM calls ({'; '.join(self._problems[-3:]) or 'no details'})"
                )
            await self._generate(batch.count - len(self._kept))

    async def _generate(self, missing: int) -> None:
        request = GenerateQuestionsInput(
            quiz_id=self._input.quiz_id,
            batch=self._input.batch,
            count=missing,
            call_index=self._calls,
            avoid_texts=[q["question_text"] for q in self._kept],
            repair=self._repair[:missing],
        )
        self._calls += 1
        try:
            answer = await workflow.execute_activity(
                GENERATE_QUESTIONS_ACTIVITY,
                request,
                result_type=GeneratedQuestions,
                # LLM calls have a queue of their own, with its own rate limits.
                task_queue=llm_task_queue(workflow.info().task_queue),
                **llm_activity(self._input.config),
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            raise self._failure(f"the question generator failed: {root_message(err)}") from err
        self._tokens += answer.tokens
        self._kept.extend(answer.valid[:missing])
        self._repair = list(answer.rejected)
        if answer.output_error:
            self._problems.append(answer.output_error)
        if answer.rejected:
            self._problems.append(
                f"{len(answer.rejected)} invalid, e.g. {answer.rejected[0].reason}"
            )
        if len(answer.valid) < missing and not answer.rejected and not answer.output_error:
            self._problems.append(f"asked for {missing}, got {len(answer.valid)}")

    async def _save(self) -> bool:
        """Save the kept questions; False if some must be replaced first."""
        try:
            saved = await workflow.execute_activity(
                SAVE_BATCH_ACTIVITY,
                SaveBatchInput(
                    quiz_id=self._input.quiz_id, batch=self._input.batch, questions=self._kept
                ),
                result_type=SaveBatchOutput,
                **db_activity(self._input.config),
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            raise self._failure(f"saving the questions failed: {root_message(err)}") from err
        if not saved.duplicate_indexes:
            return True
        # Another batch of the quiz saved one of these texts first: replace them.
        drop = set(saved.duplicate_indexes)
        self._kept = [q for i, q in enumerate(self._kept) if i not in drop]
        self._problems.append(f"{len(drop)} questions repeated another batch's questions")
        return False

    def _failure(self, reason: str) -> ApplicationError:
        message = cap_message(f"batch {self._input.batch.batch_key}: {reason}")
        details = BatchFailure(
            reason=message, kept_questions=self._kept, tokens=self._tokens, llm_calls=self._calls
        )
        return ApplicationError(message, details, type=BATCH_FAILED, non_retryable=True)

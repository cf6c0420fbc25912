"""Names other tools rely on (docs/architecture.md, same heading): keep them stable."""

from __future__ import annotations

import re
import uuid
from typing import NamedTuple

from temporalio.common import SearchAttributeKey

__all__ = [
    "BATCHES_FAILED",
    "BATCH_FAILED_ERROR",
    "BATCH_WORKFLOW",
    "FUTILE_FIRST_CALL_PATCH",
    "GENERATE_QUESTIONS_ACTIVITY",
    "PERMANENT_PROVIDER_ERROR",
    "PROGRESS_QUERY",
    "QUESTIONS_SAVED",
    "QUESTIONS_TARGET",
    "QUIZ_ID",
    "QUIZ_NOT_FOUND_ERROR",
    "QUIZ_NOT_GENERATABLE_ERROR",
    "QUIZ_STATUS",
    "QUIZ_WORKFLOW",
    "RECORD_ROUND_ACTIVITY",
    "RETRY_SIGNAL",
    "SAVE_BATCH_ACTIVITY",
    "SEARCH_ATTRIBUTES",
    "START_ROUND_ACTIVITY",
    "TRANSIENT_PROVIDER_ERROR",
    "WorkflowIdParts",
    "batch_workflow_id",
    "llm_task_queue",
    "parse_workflow_id",
    "quiz_workflow_id",
]

QUIZ_WORKFLOW = "QuizGenerationWorkflow"
BATCH_WORKFLOW = "BatchGenerationWorkflow"
RETRY_SIGNAL = "retry_failed_batches"
PROGRESS_QUERY = "progress"

# Activity and child-workflow names. Workflows call both by name (with
# `result_type=`) rather than in the SDK's typed form (`execute_activity_method`,
# `execute_child_workflow(BatchGenerationWorkflow.run, ...)`): the typed form
# needs the callee's class imported into the workflow sandbox, which would pull
# the activity modules (SQLAlchemy, openai) into every workflow, and the batch
# workflow's module into the quiz workflow's. The typed inputs and outputs in
# `quizgen/contracts.py` keep mypy checking both sides.
START_ROUND_ACTIVITY = "start_round"
RECORD_ROUND_ACTIVITY = "record_round"
GENERATE_QUESTIONS_ACTIVITY = "generate_questions"
SAVE_BATCH_ACTIVITY = "save_batch"

# Types of the ApplicationErrors that cross into Temporal (shown in the Web UI;
# the retry policies name the non-retryable ones).
QUIZ_NOT_FOUND_ERROR = "QuizNotFound"
QUIZ_NOT_GENERATABLE_ERROR = "QuizNotGeneratable"
BATCH_FAILED_ERROR = "BatchFailed"
PERMANENT_PROVIDER_ERROR = "PermanentProviderError"
TRANSIENT_PROVIDER_ERROR = "TransientProviderError"

# `workflow.patched` ids: each marks, in the histories of runs started after a
# change of workflow logic, that the run follows the new logic; older runs replay
# the old. Never reuse or rename one.
FUTILE_FIRST_CALL_PATCH = "futile-first-call"

QUIZ_ID = SearchAttributeKey.for_keyword("QuizId")
QUIZ_STATUS = SearchAttributeKey.for_keyword("QuizStatus")
QUESTIONS_SAVED = SearchAttributeKey.for_int("QuestionsSaved")
QUESTIONS_TARGET = SearchAttributeKey.for_int("QuestionsTarget")
BATCHES_FAILED = SearchAttributeKey.for_int("BatchesFailed")
SEARCH_ATTRIBUTES = (QUIZ_ID, QUIZ_STATUS, QUESTIONS_SAVED, QUESTIONS_TARGET, BATCHES_FAILED)


def llm_task_queue(task_queue: str) -> str:
    """The queue of the LLM activity, next to the queue the workflows run on."""
    return f"{task_queue}-llm"


def quiz_workflow_id(quiz_id: uuid.UUID | str) -> str:
    return f"quiz-{quiz_id}"


def batch_workflow_id(quiz_id: uuid.UUID | str, batch_key: str) -> str:
    return f"quiz-{quiz_id}-batch-{batch_key}"


class WorkflowIdParts(NamedTuple):
    quiz_id: str
    batch_key: str | None


# The inverse of the two builders above.
_WORKFLOW_ID = re.compile(r"^quiz-(?P<quiz>[0-9a-f-]{36})(?:-batch-(?P<batch>\S+))?$")


def parse_workflow_id(workflow_id: str) -> WorkflowIdParts | None:
    """The quiz id (and batch key, for a batch) of a quizgen workflow id; None for others."""
    match = _WORKFLOW_ID.match(workflow_id)
    return WorkflowIdParts(match["quiz"], match["batch"]) if match else None

"""Names other tools rely on (docs/architecture.md, same heading): keep them stable."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import NamedTuple

from temporalio.common import SearchAttributeKey

__all__ = [
    "BATCHES_FAILED",
    "BATCH_FAILED_ERROR",
    "BATCH_WORKFLOW",
    "BEGIN_EXPORT_ACTIVITY",
    "BEGIN_EXTRACTION_ACTIVITY",
    "CANVAS_AUTH_ERROR",
    "CANVAS_REFUSED_ERROR",
    "CANVAS_UNAVAILABLE_ERROR",
    "CREATE_CANVAS_QUIZ_ACTIVITY",
    "EXPORT_ITEM_ACTIVITY",
    "EXPORT_NOT_READY_ERROR",
    "EXPORT_PROGRESS_QUERY",
    "EXPORT_WORKFLOW",
    "EXTRACTION_PROGRESS_QUERY",
    "EXTRACTION_WORKFLOW",
    "EXTRACT_SOURCE_ACTIVITY",
    "FINISH_EXPORT_ACTIVITY",
    "FINISH_EXTRACTION_ACTIVITY",
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
    "RECONNECT_SIGNAL",
    "RECORD_ROUND_ACTIVITY",
    "RETRY_SIGNAL",
    "SAVE_BATCH_ACTIVITY",
    "SEARCH_ATTRIBUTES",
    "SET_EXPORT_STATE_ACTIVITY",
    "START_ROUND_ACTIVITY",
    "STOP_EXTRACTION_ACTIVITY",
    "TRANSIENT_PROVIDER_ERROR",
    "UNDO_EXPORT_ACTIVITY",
    "QuizWorkflow",
    "WorkflowIdParts",
    "batch_workflow_id",
    "canvas_task_queue",
    "export_workflow_id",
    "extraction_workflow_id",
    "llm_task_queue",
    "parse_workflow_id",
    "quiz_workflow_id",
]

QUIZ_WORKFLOW = "QuizGenerationWorkflow"
BATCH_WORKFLOW = "BatchGenerationWorkflow"
RETRY_SIGNAL = "retry_failed_batches"
PROGRESS_QUERY = "progress"
# The export to Canvas New Quizzes (one per quiz; `quizgen.db.canvas_exports`).
EXPORT_WORKFLOW = "CanvasExportWorkflow"
EXPORT_PROGRESS_QUERY = "export_progress"
# Sent by the API when the teacher reconnects Canvas: an export or extraction waiting for a
# token resumes.
RECONNECT_SIGNAL = "canvas_reconnected"
# The extraction of a quiz's Canvas pages and PDFs into its modules' text (one per quiz).
EXTRACTION_WORKFLOW = "ContentExtractionWorkflow"
EXTRACTION_PROGRESS_QUERY = "extraction_progress"

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
BEGIN_EXPORT_ACTIVITY = "begin_export"
CREATE_CANVAS_QUIZ_ACTIVITY = "create_canvas_quiz"
EXPORT_ITEM_ACTIVITY = "export_item"
FINISH_EXPORT_ACTIVITY = "finish_export"
SET_EXPORT_STATE_ACTIVITY = "set_export_state"
UNDO_EXPORT_ACTIVITY = "undo_export"
BEGIN_EXTRACTION_ACTIVITY = "begin_extraction"
EXTRACT_SOURCE_ACTIVITY = "extract_source"
FINISH_EXTRACTION_ACTIVITY = "finish_extraction"
STOP_EXTRACTION_ACTIVITY = "stop_extraction"

# Types of the ApplicationErrors that cross into Temporal (shown in the Web UI;
# the retry policies name the non-retryable ones).
QUIZ_NOT_FOUND_ERROR = "QuizNotFound"
QUIZ_NOT_GENERATABLE_ERROR = "QuizNotGeneratable"
BATCH_FAILED_ERROR = "BatchFailed"
PERMANENT_PROVIDER_ERROR = "PermanentProviderError"
TRANSIENT_PROVIDER_ERROR = "TransientProviderError"
# Canvas: the token was refused (the export waits for a reconnect), the request was
# refused (403/404 on the course: retrying cannot help), Canvas is slow or down (retried).
CANVAS_AUTH_ERROR = "CanvasAuthExpired"
CANVAS_REFUSED_ERROR = "CanvasRefused"
CANVAS_UNAVAILABLE_ERROR = "CanvasUnavailable"
# The quiz cannot be exported as it stands (e.g. no approved question).
EXPORT_NOT_READY_ERROR = "ExportNotReady"

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


def canvas_task_queue(task_queue: str) -> str:
    """The queue of the export's Canvas calls, next to the queue the workflows run on."""
    return f"{task_queue}-canvas"


def quiz_workflow_id(quiz_id: uuid.UUID | str) -> str:
    return f"quiz-{quiz_id}"


def batch_workflow_id(quiz_id: uuid.UUID | str, batch_key: str) -> str:
    return f"quiz-{quiz_id}-batch-{batch_key}"


def export_workflow_id(quiz_id: uuid.UUID | str) -> str:
    return f"quiz-{quiz_id}-export"


def extraction_workflow_id(quiz_id: uuid.UUID | str) -> str:
    return f"quiz-{quiz_id}-extract"


class QuizWorkflow(StrEnum):
    """A quiz's workflows besides its batches: their ids are built from the quiz id."""

    GENERATION = "generation"
    EXPORT = "export"
    EXTRACTION = "extraction"

    def workflow_id(self, quiz_id: uuid.UUID | str) -> str:
        builder = {
            QuizWorkflow.GENERATION: quiz_workflow_id,
            QuizWorkflow.EXPORT: export_workflow_id,
            QuizWorkflow.EXTRACTION: extraction_workflow_id,
        }[self]
        return builder(quiz_id)


class WorkflowIdParts(NamedTuple):
    quiz_id: str
    batch_key: str | None


# The inverse of the builders above.
_WORKFLOW_ID = re.compile(
    r"^quiz-(?P<quiz>[0-9a-f-]{36})(?:-batch-(?P<batch>\S+)|-export|-extract)?$"
)


def parse_workflow_id(workflow_id: str) -> WorkflowIdParts | None:
    """The quiz id (and batch key, for a batch) of a quizgen workflow id; None for others."""
    match = _WORKFLOW_ID.match(workflow_id)
    return WorkflowIdParts(match["quiz"], match["batch"]) if match else None

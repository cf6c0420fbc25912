"""Activity options shared by the workflows: every retry policy has a bound.

Outages of minutes are absorbed here, without a person retrying: LLM calls
and database work are retried for up to `llm_retry_window` and the database
window (10 minutes) with exponential backoff. Transient LLM errors carry their
own delay (`Retry-After`, or backoff with jitter, set by the activity), so a
fleet of batches does not hammer a recovering provider in lockstep.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from quizgen.canvas_contracts import ExportConfig
    from quizgen.contracts import GenerationConfig
    from quizgen.names import (
        CANVAS_AUTH_ERROR,
        CANVAS_REFUSED_ERROR,
        EXPORT_NOT_READY_ERROR,
        PERMANENT_PROVIDER_ERROR,
        QUIZ_NOT_FOUND_ERROR,
        QUIZ_NOT_GENERATABLE_ERROR,
        canvas_task_queue,
    )

# Failures that no retry can fix (error types raised by the activities).
_PERMANENT = [PERMANENT_PROVIDER_ERROR, QUIZ_NOT_FOUND_ERROR, QUIZ_NOT_GENERATABLE_ERROR]


def llm_call_headroom(config: GenerationConfig) -> timedelta:
    """What the LLM activity gets beyond `llm_call_timeout`: 10%, at least a second.

    The activity reads its context before the call and saves after it, and the
    provider's client gives up after `llm_call_timeout` with a reason a teacher
    can read ("the LLM did not answer in time"). Temporal's own timer, exactly
    as long, fired first and left only "activity StartToClose timeout".
    """
    return max(timedelta(seconds=1), config.llm_call_timeout / 10)


def llm_activity(config: GenerationConfig) -> dict[str, Any]:
    """LLM calls: slow, heartbeating (a dead worker is noticed within the heartbeat timeout)."""
    return {
        "start_to_close_timeout": config.llm_call_timeout + llm_call_headroom(config),
        "heartbeat_timeout": config.llm_heartbeat_timeout,
        "schedule_to_close_timeout": config.llm_retry_window,
        "retry_policy": RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=60),
            maximum_attempts=config.llm_max_attempts,
            non_retryable_error_types=_PERMANENT,
        ),
    }


def db_activity(config: GenerationConfig) -> dict[str, Any]:
    """Database work: quick, retried long enough to ride out a database restart."""
    return {
        "start_to_close_timeout": config.db_call_timeout,
        "schedule_to_close_timeout": config.db_retry_window,
        "retry_policy": RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=15),
            maximum_attempts=config.db_max_attempts,
            non_retryable_error_types=_PERMANENT,
        ),
    }


# -- the export to Canvas

# Failures of an export step that no retry can fix (the workflow decides on each).
_EXPORT_PERMANENT = [
    CANVAS_AUTH_ERROR,
    CANVAS_REFUSED_ERROR,
    EXPORT_NOT_READY_ERROR,
    QUIZ_NOT_FOUND_ERROR,
    QUIZ_NOT_GENERATABLE_ERROR,
]
# An item makes at most three Canvas calls (list, then create or update) and a few reads.
_CALLS_PER_ITEM = 3


def _canvas_retries(config: ExportConfig) -> RetryPolicy:
    # Throttling, 5xx and timeouts: retried for the whole window, at most 10 s apart, so a
    # Canvas that is back is used again within seconds.
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=10),
        maximum_attempts=0,
        non_retryable_error_types=_EXPORT_PERMANENT,
    )


def _canvas_queue() -> str:
    return canvas_task_queue(workflow.info().task_queue)


def canvas_item_activity(config: ExportConfig) -> dict[str, Any]:
    """One item: its own calls time out first (`export_item` stops itself before this
    timer), so Temporal never retries an item whose earlier attempt may still create it."""
    return {
        "task_queue": _canvas_queue(),
        "start_to_close_timeout": config.canvas_call_timeout * _CALLS_PER_ITEM
        + timedelta(seconds=5),
        "schedule_to_close_timeout": config.canvas_retry_window,
        "retry_policy": _canvas_retries(config),
    }


def canvas_activity(config: ExportConfig) -> dict[str, Any]:
    """A step of many calls (finishing, undoing): heartbeats after each, so a dead worker's
    step is taken over within two call timeouts; each call is safe to repeat."""
    return {
        "task_queue": _canvas_queue(),
        "start_to_close_timeout": config.canvas_retry_window,
        "heartbeat_timeout": config.canvas_call_timeout * 2,
        "schedule_to_close_timeout": config.canvas_retry_window,
        "retry_policy": _canvas_retries(config),
    }


def export_db_activity(config: ExportConfig) -> dict[str, Any]:
    """The export's database steps: as `db_activity`, with the export's failures final."""
    return {
        "start_to_close_timeout": timedelta(seconds=30),
        "schedule_to_close_timeout": timedelta(minutes=10),
        "retry_policy": RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=15),
            non_retryable_error_types=_EXPORT_PERMANENT,
        ),
    }


def extraction_activity(config: ExportConfig) -> dict[str, Any]:
    """One source: its Canvas calls, a download of up to 10 MB and the conversion (at most
    30 s of PDF parsing), heartbeating throughout: a killed worker's source is taken over
    within the heartbeat timeout. Extracting twice writes the same text, so an attempt
    that overlaps its retry does no harm."""
    return {
        "task_queue": _canvas_queue(),
        "heartbeat_timeout": timedelta(seconds=6),
        "start_to_close_timeout": config.canvas_call_timeout * _CALLS_PER_ITEM
        + timedelta(seconds=35),
        "schedule_to_close_timeout": config.canvas_retry_window,
        "retry_policy": _canvas_retries(config),
    }

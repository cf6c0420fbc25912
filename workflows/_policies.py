"""Activity options shared by the workflows: every retry policy has a bound."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from quizgen.contracts import GenerationConfig


def llm_activity(config: GenerationConfig) -> dict[str, Any]:
    """LLM calls: slow, heartbeating, retried a few times with backoff."""
    return {
        "start_to_close_timeout": config.llm_call_timeout,
        "heartbeat_timeout": config.llm_heartbeat_timeout,
        "retry_policy": RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=60),
            maximum_attempts=config.llm_max_attempts,
            non_retryable_error_types=["PermanentProviderError"],
        ),
    }


def db_activity(config: GenerationConfig) -> dict[str, Any]:
    """Database work: quick, retried long enough to ride out a database restart."""
    return {
        "start_to_close_timeout": config.db_call_timeout,
        "retry_policy": RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=30),
            maximum_attempts=config.db_max_attempts,
            non_retryable_error_types=["QuizNotFound"],
        ),
    }

"""The worker's own metrics, recorded through the Temporal SDK's metric meter.

They are served with the SDK's metrics on the worker's Prometheus endpoint
(`WORKER_METRICS_ADDRESS`, path `/metrics`), counters with a `_total` suffix:

    quizgen_llm_calls_total{outcome, question_type}   provider calls; outcome: ok,
                                                      transient_error, permanent_error
    quizgen_llm_call_seconds{outcome, question_type}  provider call latency (histogram)
    quizgen_llm_prompt_tokens_total, quizgen_llm_completion_tokens_total,
    quizgen_llm_cached_prompt_tokens_total            tokens, by question_type
    quizgen_llm_usage_unknown_total{question_type}    answers used whose token usage the
                                                      server did not report readably
                                                      (recorded as 0 tokens)
    quizgen_questions_saved_total                     questions inserted by batch saves
    quizgen_batches_total{outcome}                    batch results of recorded rounds
                                                      (succeeded, failed)

Each is recorded once per fact: a retried save inserts nothing and counts
nothing, and a round recorded twice (a retried activity) counts once.
Called only from activities (the meter is the running activity's).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from temporalio import activity

from quizgen.db.drafts import SaveOutcome
from quizgen.domain import BatchResult, QuestionType, TokenUsage

__all__ = [
    "LLM_CALL_SECONDS",
    "CallOutcome",
    "record_batches",
    "record_llm_call",
    "record_questions_saved",
    "record_usage_unknown",
]

# Histogram buckets (seconds) for the worker's Prometheus config: LLM calls take 1-60 s.
LLM_CALL_SECONDS = "quizgen_llm_call_seconds"
LLM_CALL_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0, 300.0)


class CallOutcome(StrEnum):
    OK = "ok"
    TRANSIENT_ERROR = "transient_error"
    PERMANENT_ERROR = "permanent_error"


def record_llm_call(
    question_type: QuestionType, outcome: CallOutcome, seconds: float, tokens: TokenUsage
) -> None:
    meter = activity.metric_meter()
    labels = {"question_type": question_type.value}
    meter.create_counter("quizgen_llm_calls", "LLM provider calls").add(
        1, {**labels, "outcome": outcome.value}
    )
    meter.create_histogram_float(LLM_CALL_SECONDS, "LLM provider call latency", "s").record(
        seconds, {**labels, "outcome": outcome.value}
    )
    for name, value in (
        ("quizgen_llm_prompt_tokens", tokens.prompt_tokens),
        ("quizgen_llm_completion_tokens", tokens.completion_tokens),
        ("quizgen_llm_cached_prompt_tokens", tokens.cached_prompt_tokens),
    ):
        if value:
            meter.create_counter(name, "LLM tokens").add(value, labels)


def record_usage_unknown(question_type: QuestionType) -> None:
    """Count an answer whose usage was missing or malformed: its tokens are not in the totals."""
    activity.metric_meter().create_counter(
        "quizgen_llm_usage_unknown", "LLM answers without a readable token usage report"
    ).add(1, {"question_type": question_type.value})


def record_questions_saved(outcome: SaveOutcome) -> None:
    """Count the questions a save inserted (none when it had been saved before)."""
    if outcome.inserted and outcome.question_ids:
        activity.metric_meter().create_counter(
            "quizgen_questions_saved", "Questions inserted by batch saves"
        ).add(len(outcome.question_ids))


def record_batches(results: Iterable[BatchResult]) -> None:
    counter = activity.metric_meter().create_counter(
        "quizgen_batches", "Batch results of recorded rounds"
    )
    for result in results:
        counter.add(1, {"outcome": result.status.value})

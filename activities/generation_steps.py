"""The steps of one LLM call of a batch, each a function of its own.

    load_context → build_request → call_provider → check_answer → keep_answer → save_if_complete

`activities/generation.py` runs them in that order; each can be called (and
tested) alone. Only `call_provider` and the database steps need an activity
context (they heartbeat); `build_request` and `check_answer` are pure.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from activities import metrics
from activities._waiting import heartbeating, with_db_retries
from quizgen.contracts import GeneratedQuestions, GenerateQuestionsInput
from quizgen.db import drafts
from quizgen.db.batch_context import BatchContext, load_batch_context
from quizgen.domain import BatchRef, TokenUsage
from quizgen.errors import (
    MAX_REASON_CHARS,
    PermanentProviderError,
    TransientProviderError,
    cap_message,
)
from quizgen.llm.base import GenerationRequest, GenerationResponse, QuestionProvider
from quizgen.questions import text_hash
from quizgen.validation import DUPLICATE_REASON, Rejection, ValidationReport, validate_output

__all__ = [
    "MAX_AVOID_TEXTS",
    "CheckedAnswer",
    "build_request",
    "call_provider",
    "check_answer",
    "keep_answer",
    "load_context",
    "save_if_complete",
]

log = logging.getLogger("activities.generation")

# A batch holds at most 20 questions: its own drafts always fit.
MAX_AVOID_TEXTS = 40
_NO_TOKENS = TokenUsage()


async def load_context(engine: AsyncEngine, quiz_id: uuid.UUID, batch: BatchRef) -> BatchContext:
    """What the batch has (drafts, rejects, saved or not) and what its neighbours hold."""
    return await with_db_retries(lambda: load_batch_context(engine, quiz_id, batch))


def build_request(
    input: GenerateQuestionsInput, context: BatchContext, attempt: int
) -> GenerationRequest | None:
    """The provider request for this call; None when the drafts already fill the batch.

    The database, not the caller, knows what the batch has: an earlier attempt
    of this call may have written its drafts before dying.
    """
    batch = input.batch
    count = min(input.count, batch.count - len(context.draft_texts))
    if count <= 0:
        return None
    # The provider is told what the batch has and what its module already holds
    # of this type (newest last), so it does not spend a call on duplicates;
    # capped, as every text costs prompt tokens on every call. Texts the last
    # answer repeated (from anywhere in the quiz) must not come back.
    repeated = [
        r.question["question_text"]
        for r in context.rejected
        if r.reason == DUPLICATE_REASON and r.question and "question_text" in r.question
    ]
    must = [*context.draft_texts, *repeated]
    room = max(MAX_AVOID_TEXTS - len(must), 0)
    similar = context.similar_texts
    module = context.module
    return GenerationRequest(
        batch_key=batch.batch_key,
        module_id=batch.module_id,
        module_name=module.module.name,
        content=module.module.content,
        question_type=batch.question_type,
        difficulty=batch.difficulty,
        language=module.language,
        tone=module.tone,
        count=count,
        call_index=input.call_index,
        attempt=attempt,
        avoid_texts=[*must, *similar[len(similar) - room :]],
        repair=context.rejected[:count],
        model=module.llm_model,
        temperature=module.temperature,
    )


async def call_provider(
    provider: QuestionProvider, request: GenerationRequest
) -> GenerationResponse:
    """Ask the provider (heartbeating while it thinks); every call is logged and measured."""
    # One line per generator call: operators (and the crash tests) read these.
    log.info(
        "generating batch_key=%s call_index=%d attempt=%d count=%d",
        request.batch_key,
        request.call_index,
        request.attempt,
        request.count,
    )
    started = time.monotonic()

    def measure(outcome: metrics.CallOutcome, tokens: TokenUsage = _NO_TOKENS) -> None:
        metrics.record_llm_call(request.question_type, outcome, time.monotonic() - started, tokens)

    try:
        response = await heartbeating(provider.generate(request))
    except TransientProviderError:
        measure(metrics.CallOutcome.TRANSIENT_ERROR)
        raise
    except PermanentProviderError:
        measure(metrics.CallOutcome.PERMANENT_ERROR)
        raise
    measure(metrics.CallOutcome.OK, response.usage)
    if not response.usage_known:
        # The answer is used; only its tokens are missing from the totals (recorded as 0).
        metrics.record_usage_unknown(request.question_type)
    return response


@dataclass(frozen=True)
class CheckedAnswer:
    """An answer after validation: what to keep, and what to say about the rest."""

    valid: list[dict[str, Any]]
    rejected: list[Rejection]
    problem: str | None
    # Candidates that repeat another batch's question or draft: lost to a race.
    collisions: int
    # Rules broken or no readable output: what a repair call is for.
    repairable: bool
    tokens: TokenUsage


def check_answer(
    request: GenerationRequest, response: GenerationResponse, context: BatchContext
) -> CheckedAnswer:
    """Validate the raw answer against the type's rules and what the quiz already has."""
    count = request.count
    report = validate_output(
        request.question_type,
        response.raw,
        existing_texts=[*context.draft_texts, *context.similar_texts],
        existing_hashes=context.saved_hashes,
    )
    rejected = report.rejected[:count]
    # Candidates that repeat another batch's question or draft: lost to a race,
    # not withheld by the provider (the next call has them on its avoid list).
    others = context.saved_hashes | {text_hash(t) for t in context.similar_texts}
    collisions = sum(
        1
        for r in rejected
        if r.reason == DUPLICATE_REASON
        and r.question
        and isinstance(r.question.get("question_text"), str)
        and text_hash(r.question["question_text"]) in others
    )
    # An answer without output (no choices, no text) is unreadable output: `raw` is empty,
    # and the provider's note says why better than the JSON parser can.
    unreadable = report.output_error or response.output_problem
    return CheckedAnswer(
        valid=report.valid[:count],
        rejected=rejected,
        problem=cap_message(response.output_problem, MAX_REASON_CHARS)
        if response.output_problem
        else _problem(report, count),
        collisions=collisions,
        # Duplicates aside (a model repeating itself has run dry).
        repairable=bool(unreadable) or any(r.reason != DUPLICATE_REASON for r in rejected),
        tokens=response.usage,
    )


async def keep_answer(
    engine: AsyncEngine, input: GenerateQuestionsInput, answer: CheckedAnswer, have: int
) -> GeneratedQuestions:
    """Store the answer's questions as drafts (rejects too, for the repair prompt); save
    the batch when they complete it."""
    quiz_id, batch = input.quiz_id, input.batch
    if have + len(answer.valid) >= batch.count:
        # The answer completes the batch: save it without storing it as drafts first.
        outcome = await with_db_retries(
            lambda: drafts.save_with_answer(engine, quiz_id, batch, answer.valid)
        )
        if outcome.saved:
            metrics.record_questions_saved(outcome)
            return GeneratedQuestions(
                drafts=batch.count, saved=True, problem=None, tokens=answer.tokens
            )
    total = await with_db_retries(
        lambda: drafts.add_drafts(engine, quiz_id, batch, answer.valid, answer.rejected)
    )
    return await save_if_complete(
        engine,
        input,
        total,
        answer.problem,
        answer.tokens,
        answer.collisions,
        answer.repairable,
    )


async def save_if_complete(
    engine: AsyncEngine,
    input: GenerateQuestionsInput,
    drafts_now: int,
    problem: str | None,
    tokens: TokenUsage,
    collisions: int = 0,
    repairable: bool = False,
) -> GeneratedQuestions:
    """Save the batch here once its drafts are complete: one activity less per batch."""
    batch = input.batch
    if drafts_now < batch.count:
        return GeneratedQuestions(
            drafts=drafts_now,
            problem=problem,
            tokens=tokens,
            collisions=collisions,
            repairable=repairable,
        )
    outcome = await with_db_retries(lambda: drafts.save_batch(engine, input.quiz_id, batch))
    metrics.record_questions_saved(outcome)
    if outcome.saved:
        return GeneratedQuestions(drafts=batch.count, saved=True, problem=None, tokens=tokens)
    # Another batch of the quiz saved some of these texts first.
    repeated = f"{outcome.duplicates_dropped} questions repeated another batch's questions"
    return GeneratedQuestions(
        drafts=batch.count - outcome.missing,
        problem=cap_message(repeated, MAX_REASON_CHARS),
        tokens=tokens,
        collisions=collisions + outcome.duplicates_dropped,
    )


def _problem(report: ValidationReport, asked: int) -> str | None:
    """What was wrong with an answer, in one short line for the batch's failure reason."""
    if report.output_error:
        problem = report.output_error
    elif report.rejected:
        problem = f"{len(report.rejected)} invalid, e.g. {report.rejected[0].reason}"
    elif len(report.valid) < asked:
        problem = f"asked for {asked}, got {len(report.valid)}"
    else:
        return None
    return cap_message(problem, MAX_REASON_CHARS)

"""The LLM activity: ask the provider, validate its answer, keep it as drafts, in one step.

Generation, validation and the draft write run in one activity on purpose:
the raw answer can be hundreds of kilobytes of untrusted text, and nothing of
it needs to enter workflow history. The activity returns counts and one short
line about what went wrong; the questions themselves go to PostgreSQL
(`quizgen.db.drafts`), where the save activity picks them up.

Its database reads and writes retry by themselves (a database restart must not
cost an LLM call already paid for); LLM calls heartbeat while they wait, so a
killed worker's calls are re-issued within the heartbeat timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import metrics
from quizgen.contracts import GeneratedQuestions, GenerateQuestionsInput
from quizgen.db import drafts
from quizgen.db.batch_context import load_batch_context
from quizgen.db.outage import is_database_outage
from quizgen.domain import TokenUsage
from quizgen.errors import (
    MAX_REASON_CHARS,
    NotFoundError,
    PermanentProviderError,
    TransientProviderError,
    cap_message,
)
from quizgen.llm.base import GenerationRequest, QuestionProvider
from quizgen.names import (
    GENERATE_QUESTIONS_ACTIVITY,
    PERMANENT_PROVIDER_ERROR,
    QUIZ_NOT_FOUND_ERROR,
    TRANSIENT_PROVIDER_ERROR,
)
from quizgen.questions import text_hash
from quizgen.validation import DUPLICATE_REASON, ValidationReport, validate_output

__all__ = ["GenerationActivities"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_NO_TOKENS = TokenUsage()

# A batch holds at most 20 questions: its own drafts always fit.
MAX_AVOID_TEXTS = 40
MAX_RETRY_AFTER_SECONDS = 300.0
# Database work inside the LLM activity: retried this long before the attempt fails.
DB_RETRY_SECONDS = 120.0


class GenerationActivities:
    def __init__(self, engine: AsyncEngine, provider: QuestionProvider) -> None:
        self._engine = engine
        self._provider = provider

    @activity.defn(name=GENERATE_QUESTIONS_ACTIVITY)
    async def generate_questions(self, input: GenerateQuestionsInput) -> GeneratedQuestions:
        batch = input.batch
        info = activity.info()
        try:
            context = await _with_db_retries(
                lambda: load_batch_context(self._engine, input.quiz_id, batch)
            )
        except NotFoundError as err:
            raise ApplicationError(str(err), type=QUIZ_NOT_FOUND_ERROR, non_retryable=True) from err
        if context.saved:
            # An earlier attempt of this call saved the batch and died before reporting it.
            return GeneratedQuestions(
                drafts=batch.count, saved=True, problem=None, tokens=TokenUsage()
            )
        have = len(context.draft_texts)
        # The database, not the caller, knows what the batch has (an earlier
        # attempt of this call may have written its drafts before dying).
        count = min(input.count, batch.count - have)
        if count <= 0:
            return await self._save(input, have, None, TokenUsage())
        # The provider is told what the batch has and what its module already
        # holds of this type (newest last), so it does not spend a call on
        # duplicates; capped, as every text costs prompt tokens on every call.
        known = [*context.draft_texts, *context.similar_texts]
        # Texts the last answer repeated (from anywhere in the quiz) must not come back.
        repeated = [
            r.question["question_text"]
            for r in context.rejected
            if r.reason == DUPLICATE_REASON and r.question and "question_text" in r.question
        ]
        must = [*context.draft_texts, *repeated]
        room = max(MAX_AVOID_TEXTS - len(must), 0)
        avoid = [*must, *context.similar_texts[len(context.similar_texts) - room :]]
        request = GenerationRequest(
            batch_key=batch.batch_key,
            module_id=batch.module_id,
            module_name=context.module.module.name,
            content=context.module.module.content,
            question_type=batch.question_type,
            difficulty=batch.difficulty,
            language=context.module.language,
            tone=context.module.tone,
            count=count,
            call_index=input.call_index,
            attempt=info.attempt,
            avoid_texts=avoid,
            repair=context.rejected[:count],
            model=context.module.llm_model,
            temperature=context.module.temperature,
        )
        # One line per generator call: operators (and the crash tests) read these.
        log.info(
            "generating batch_key=%s call_index=%d attempt=%d count=%d",
            batch.batch_key,
            input.call_index,
            info.attempt,
            count,
        )
        started = time.monotonic()

        def measure(outcome: metrics.CallOutcome, tokens: TokenUsage = _NO_TOKENS) -> None:
            metrics.record_llm_call(
                batch.question_type, outcome, time.monotonic() - started, tokens
            )

        try:
            response = await _heartbeating(self._provider.generate(request))
        except TransientProviderError as err:
            measure(metrics.CallOutcome.TRANSIENT_ERROR)
            # `from None`: the message says why; the client library's exception chain
            # would push a retried failure over Temporal's size limit and hide the reason.
            raise ApplicationError(
                cap_message(str(err), MAX_REASON_CHARS),
                type=TRANSIENT_PROVIDER_ERROR,
                next_retry_delay=_retry_delay(err.retry_after_seconds, info.attempt),
            ) from None
        except PermanentProviderError as err:
            measure(metrics.CallOutcome.PERMANENT_ERROR)
            raise ApplicationError(
                cap_message(str(err), MAX_REASON_CHARS),
                type=PERMANENT_PROVIDER_ERROR,
                non_retryable=True,
            ) from None
        measure(metrics.CallOutcome.OK, response.usage)
        report = validate_output(
            batch.question_type,
            response.raw,
            existing_texts=known,
            existing_hashes=context.saved_hashes,
        )
        valid = report.valid[:count]
        try:
            if have + len(valid) >= batch.count:
                # The answer completes the batch: save it without storing it as drafts first.
                outcome = await _with_db_retries(
                    lambda: drafts.save_with_answer(self._engine, input.quiz_id, batch, valid)
                )
                if outcome.saved:
                    metrics.record_questions_saved(outcome)
                    return GeneratedQuestions(
                        drafts=batch.count, saved=True, problem=None, tokens=response.usage
                    )
            total = await _with_db_retries(
                lambda: drafts.add_drafts(
                    self._engine, input.quiz_id, batch, valid, report.rejected[:count]
                )
            )
        except NotFoundError as err:
            raise ApplicationError(str(err), type=QUIZ_NOT_FOUND_ERROR, non_retryable=True) from err
        # Candidates that repeat another batch's question or draft: lost to a race,
        # not withheld by the provider (the next call has them on its avoid list).
        others = context.saved_hashes | {text_hash(t) for t in context.similar_texts}
        collisions = sum(
            1
            for r in report.rejected[:count]
            if r.reason == DUPLICATE_REASON
            and r.question
            and isinstance(r.question.get("question_text"), str)
            and text_hash(r.question["question_text"]) in others
        )
        problem = _problem(report, count)
        # Rules broken (duplicates aside: a model repeating itself has run dry) or
        # no readable output: what a repair call is for.
        repairable = bool(report.output_error) or any(
            r.reason != DUPLICATE_REASON for r in report.rejected[:count]
        )
        return await self._save(input, total, problem, response.usage, collisions, repairable)

    async def _save(
        self,
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
        try:
            outcome = await _with_db_retries(
                lambda: drafts.save_batch(self._engine, input.quiz_id, batch)
            )
        except NotFoundError as err:
            raise ApplicationError(str(err), type=QUIZ_NOT_FOUND_ERROR, non_retryable=True) from err
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


def _retry_delay(retry_after: float | None, attempt: int) -> timedelta:
    """A server's Retry-After, within reason; else exponential backoff with jitter.

    Jitter spreads the retries of many batches hit by one outage, so a
    recovering provider is not hit by all of them in the same second.
    """
    if retry_after:
        return timedelta(seconds=min(retry_after, MAX_RETRY_AFTER_SECONDS))
    # Capped at 30 s, so a provider that is back is used again within half a minute.
    base = min(2.0 ** (attempt - 1), 30.0)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))


async def _with_db_retries(call: Callable[[], Awaitable[T]]) -> T:
    """Run a database call, retrying while PostgreSQL is unreachable (heartbeating meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DB_RETRY_SECONDS
    delay = 0.5
    while True:
        try:
            return await _heartbeating(call())
        except Exception as err:
            if not is_database_outage(err) or loop.time() + delay > deadline:
                raise
            log.warning("database unavailable (%s); retrying in %.1fs", type(err).__name__, delay)
        # Heartbeats go on meanwhile: the worker is alive, only the database is not.
        await _heartbeating(asyncio.sleep(delay))
        delay = min(delay * 2, 5.0)


async def _heartbeating(call: Awaitable[T]) -> T:
    """Await `call`, heartbeating meanwhile so a dead worker is noticed quickly."""
    timeout = activity.info().heartbeat_timeout
    interval = timeout.total_seconds() / 3 if timeout else 10.0
    task = asyncio.ensure_future(call)
    activity.heartbeat()
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=interval)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        if not task.done():
            # Cancelled (activity cancel or worker shutdown): let the client clean up.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

"""The LLM activity: ask the provider, then validate its answer, in one step.

Generation and validation run in one activity on purpose: the raw answer can
be hundreds of kilobytes, and only the valid questions (and short rejection
reasons for repair) need to enter workflow history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.llm.base import GenerationRequest, QuestionProvider
from quizgen.contracts import GeneratedQuestions, GenerateQuestionsInput
from quizgen.db import repository as repo
from quizgen.errors import (
    PermanentProviderError,
    QuizNotFoundError,
    TransientProviderError,
    cap_message,
)
from quizgen.names import GENERATE_QUESTIONS_ACTIVITY
from quizgen.validation import validate_output

__all__ = ["GenerationActivities"]

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_AVOID_TEXTS = 200
MAX_REASON_CHARS = 500
MAX_RETRY_AFTER_SECONDS = 300.0


class GenerationActivities:
    def __init__(self, engine: AsyncEngine, provider: QuestionProvider) -> None:
        self._engine = engine
        self._provider = provider

    @activity.defn(name=GENERATE_QUESTIONS_ACTIVITY)
    async def generate_questions(self, input: GenerateQuestionsInput) -> GeneratedQuestions:
        batch = input.batch
        info = activity.info()
        try:
            context = await repo.load_module(self._engine, input.quiz_id, batch.module_id)
        except QuizNotFoundError as err:
            raise ApplicationError(str(err), type="QuizNotFound", non_retryable=True) from err
        saved = await repo.question_texts_by_module(self._engine, input.quiz_id)
        # The provider is told what exists (the batch's own, then its module's,
        # then the rest), so it does not spend a call on duplicates; capped, as
        # every text costs prompt tokens. The validator still checks them all.
        others = [t for module, texts in saved.items() if module != batch.module_id for t in texts]
        avoid = [*input.avoid_texts, *saved.get(batch.module_id, []), *others]
        request = GenerationRequest(
            batch_key=batch.batch_key,
            module_id=batch.module_id,
            module_name=context.module.name,
            content=context.module.content,
            question_type=batch.question_type,
            difficulty=batch.difficulty,
            language=context.language,
            tone=context.tone,
            count=input.count,
            call_index=input.call_index,
            attempt=info.attempt,
            avoid_texts=avoid[:MAX_AVOID_TEXTS],
            repair=input.repair,
            model=context.llm_model,
            temperature=context.temperature,
        )
        # One line per generator call: operators (and the crash tests) read these.
        log.info(
            "generating batch_key=%s call_index=%d attempt=%d count=%d",
            batch.batch_key,
            input.call_index,
            info.attempt,
            input.count,
        )
        try:
            response = await _heartbeating(self._provider.generate(request))
        except TransientProviderError as err:
            # A server's Retry-After is honoured, within reason.
            delay = (
                min(err.retry_after_seconds, MAX_RETRY_AFTER_SECONDS)
                if err.retry_after_seconds
                else None
            )
            # `from None`: the message says why; the client library's exception chain
            # would push a retried failure over Temporal's size limit and hide the reason.
            raise ApplicationError(
                str(err),
                type="TransientProviderError",
                next_retry_delay=timedelta(seconds=delay) if delay else None,
            ) from None
        except PermanentProviderError as err:
            raise ApplicationError(
                str(err), type="PermanentProviderError", non_retryable=True
            ) from None
        report = validate_output(
            batch.question_type,
            response.raw,
            existing_texts=[*input.avoid_texts, *(t for texts in saved.values() for t in texts)],
        )
        # Only what the batch can use enters workflow history, and reasons are
        # capped: LLM output must not be able to bloat history (invariant 6).
        return GeneratedQuestions(
            valid=report.valid[: input.count],
            rejected=[
                r.model_copy(update={"reason": cap_message(r.reason, MAX_REASON_CHARS)})
                for r in report.rejected[: input.count]
            ],
            output_error=cap_message(report.output_error, MAX_REASON_CHARS)
            if report.output_error
            else None,
            tokens=response.usage,
        )


async def _heartbeating(call: Awaitable[T]) -> T:
    """Await `call`, heartbeating meanwhile so a dead worker is noticed quickly."""
    timeout = activity.info().heartbeat_timeout
    interval = timeout.total_seconds() / 3 if timeout else 10.0
    task = asyncio.ensure_future(call)
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

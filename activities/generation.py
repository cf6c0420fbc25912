"""The LLM activity: ask the provider, validate its answer, keep it as drafts, in one step.

Generation, validation and the draft write run in one activity on purpose:
the raw answer can be hundreds of kilobytes of untrusted text, and nothing of
it needs to enter workflow history. The activity returns counts and one short
line about what went wrong; the questions themselves go to PostgreSQL
(`quizgen.db.drafts`), where the save activity picks them up.

The steps are functions of their own (`activities/generation_steps.py`). Its
database reads and writes retry by themselves (a database restart must not
cost an LLM call already paid for); LLM calls heartbeat while they wait, so a
killed worker's calls are re-issued within the heartbeat timeout. Errors leave
as Temporal's, by `activities/_errors.py`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities._errors import temporal_errors
from activities.generation_steps import (
    build_request,
    call_provider,
    check_answer,
    keep_answer,
    load_context,
    save_if_complete,
)
from quizgen.contracts import GeneratedQuestions, GenerateQuestionsInput
from quizgen.domain import TokenUsage
from quizgen.llm.base import QuestionProvider
from quizgen.names import GENERATE_QUESTIONS_ACTIVITY

__all__ = ["GenerationActivities"]


class GenerationActivities:
    def __init__(self, engine: AsyncEngine, provider: QuestionProvider) -> None:
        self._engine = engine
        self._provider = provider

    @activity.defn(name=GENERATE_QUESTIONS_ACTIVITY)
    async def generate_questions(self, input: GenerateQuestionsInput) -> GeneratedQuestions:
        with temporal_errors():
            context = await load_context(self._engine, input.quiz_id, input.batch)
            if context.saved:
                # An earlier attempt of this call saved the batch and died before reporting it.
                return GeneratedQuestions(
                    drafts=input.batch.count, saved=True, problem=None, tokens=TokenUsage()
                )
            have = len(context.draft_texts)
            request = build_request(input, context, activity.info().attempt)
            if request is None:
                return await save_if_complete(self._engine, input, have, None, TokenUsage())
            response = await call_provider(self._provider, request)
            answer = check_answer(request, response, context)
            return await keep_answer(self._engine, input, answer, have)

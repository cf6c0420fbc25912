"""`OfflineProvider`: a generation request in, a JSON answer and its token usage out.

Every candidate a builder yields is checked against the question schema and
against the request's `avoid_texts` before it is kept, so the answer is always
valid JSON of valid, distinct questions; when the text cannot give `count` of
them, fewer are returned. Output is a pure function of the request: the only
"randomness" (option order, true/false mix) comes from a `random.Random`
seeded with a SHA-256 of the batch key, type, difficulty and call index.
"""

from __future__ import annotations

import asyncio
import json
import random

from pydantic import ValidationError

from quizgen.domain import QuestionType, TokenUsage
from quizgen.llm.base import GenerationRequest, GenerationResponse
from quizgen.llm.offline.analysis import analyse, stable_int
from quizgen.llm.offline.categorization import categorization
from quizgen.llm.offline.context import Builder, Context, Question, ordered_facts
from quizgen.llm.offline.fill_in_blank import fill_in_blank
from quizgen.llm.offline.lexicon import count_words
from quizgen.llm.offline.matching import matching
from quizgen.llm.offline.multiple_choice import multiple_choice
from quizgen.llm.offline.true_false import true_false
from quizgen.llm.offline.wording import WORDINGS
from quizgen.questions import QUESTION_MODELS, normalize_text

__all__ = ["OfflineProvider", "build_questions"]

_BUILDERS: dict[QuestionType, Builder] = {
    QuestionType.MULTIPLE_CHOICE: multiple_choice,
    QuestionType.TRUE_FALSE: true_false,
    QuestionType.FILL_IN_BLANK: fill_in_blank,
    QuestionType.MATCHING: matching,
    QuestionType.CATEGORIZATION: categorization,
}


def build_questions(request: GenerationRequest) -> list[Question]:
    """Up to `request.count` valid questions whose texts are new to the request."""
    doc = analyse(request.content)
    salt = stable_int(
        request.batch_key,
        request.question_type.value,
        request.difficulty.value,
        request.call_index,
    )
    ctx = Context(
        doc=doc,
        wording=WORDINGS[request.language],
        difficulty=request.difficulty,
        rng=random.Random(salt),
        salt=salt,
        facts=ordered_facts(doc, request.difficulty, salt),
        seen={normalize_text(text) for text in request.avoid_texts},
    )
    model = QUESTION_MODELS[request.question_type]
    questions: list[Question] = []
    for candidate in _BUILDERS[request.question_type](ctx):
        key = normalize_text(candidate["question_text"])
        if key in ctx.seen:
            continue
        try:
            model.model_validate(candidate)
        except ValidationError:
            # A heuristic produced something the rules refuse: skip it, never send it.
            continue
        ctx.seen.add(key)
        questions.append(candidate)
        if len(questions) == request.count:
            break
    return questions


def _tokens(words: int) -> int:
    """About 0.75 words per token, rounded up."""
    return -(-words * 4 // 3)


def _usage(request: GenerationRequest, raw: str) -> TokenUsage:
    """What an LLM call with this prompt and answer would roughly have cost."""
    prompt_words = (
        count_words(request.content)
        + sum(count_words(text) for text in request.avoid_texts)
        + sum(count_words(rejection.reason) for rejection in request.repair)
    )
    return TokenUsage(
        prompt_tokens=_tokens(prompt_words), completion_tokens=_tokens(count_words(raw))
    )


class OfflineProvider:
    """The default generator: questions from the module text, with no network or key.

    `latency_seconds` makes each call wait that long before answering, like a
    real LLM would, so a demo's progress can be watched; 0 (the default) is
    instant. Repair requests need nothing special: the rejected questions are
    replaced by `request.count` fresh ones (the caller asks for what it needs).
    """

    def __init__(self, *, latency_seconds: float = 0.0) -> None:
        if latency_seconds < 0:
            raise ValueError(f"latency_seconds must be >= 0, not {latency_seconds}")
        self._latency_seconds = latency_seconds

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        questions = build_questions(request)
        raw = json.dumps({"questions": questions}, ensure_ascii=False)
        if self._latency_seconds:
            await asyncio.sleep(self._latency_seconds)
        return GenerationResponse(raw=raw, usage=_usage(request, raw))

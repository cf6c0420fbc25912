"""A provider of synthetic questions of real-LLM size, for full-size quiz tests.

The offline generator writes short questions from a module's sentences; a
real model writes 1-1.5 KB per question with its explanation. This one writes
valid multiple-choice and true/false questions of about `question_bytes`
each, with texts unique in the quiz (batch key, call and a counter) that
respect the request's `avoid_texts`, the way a model is asked to.
"""

from __future__ import annotations

import json
from typing import Any

from quizgen.domain import QuestionType, TokenUsage
from quizgen.llm.base import GenerationRequest, GenerationResponse
from quizgen.questions import normalize_text

_FILLER = (
    "Photosynthesis turns light energy into chemical energy stored in glucose, "
    "and the Calvin cycle fixes carbon dioxide in the stroma of the chloroplast. "
)


def _filler(chars: int) -> str:
    return (_FILLER * (chars // len(_FILLER) + 1))[:chars].strip()


class BulkProvider:
    def __init__(self, question_bytes: int = 1500) -> None:
        # ~40% in the question text, the rest in the explanation (at most 1,000).
        self._text_chars = max(question_bytes - 1000, 200)
        self._explanation_chars = min(question_bytes - self._text_chars, 1000)

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        avoid = {normalize_text(t) for t in request.avoid_texts}
        questions: list[dict[str, Any]] = []
        n = 0
        while len(questions) < request.count:
            head = (
                f"Question {n} of call {request.call_index} attempt {request.attempt} "
                f"for batch {request.batch_key}: "
            )
            n += 1
            text = head + _filler(self._text_chars - len(head))
            if normalize_text(text) in avoid:
                continue
            questions.append(self._question(request.question_type, text, n))
        raw = json.dumps({"questions": questions})
        return GenerationResponse(
            raw=raw, usage=TokenUsage(prompt_tokens=100, completion_tokens=len(raw) // 4)
        )

    def _question(self, question_type: QuestionType, text: str, n: int) -> dict[str, Any]:
        explanation = _filler(self._explanation_chars)
        if question_type is QuestionType.TRUE_FALSE:
            return {"question_text": text, "correct_answer": n % 2 == 0, "explanation": explanation}
        if question_type is QuestionType.MULTIPLE_CHOICE:
            return {
                "question_text": text,
                "option_a": "chloroplast stroma",
                "option_b": "mitochondrial matrix",
                "option_c": "nuclear envelope",
                "option_d": "cell membrane",
                "correct_answer": "A",
                "explanation": explanation,
            }
        raise ValueError(f"BulkProvider writes true/false and multiple choice, not {question_type}")

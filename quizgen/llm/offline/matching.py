"""matching: 3-5 cloze statements paired with their missing terms.

Harder questions have more pairs and add distractor terms that complete none
of the statements.
"""

from __future__ import annotations

from collections.abc import Iterator

from quizgen.domain import Difficulty
from quizgen.llm.offline.context import Context, Question, groups

__all__ = ["matching"]

_MATCHING_PAIRS = {Difficulty.EASY: 3, Difficulty.MEDIUM: 4, Difficulty.HARD: 5}
_MATCHING_DISTRACTORS = {Difficulty.EASY: 0, Difficulty.MEDIUM: 1, Difficulty.HARD: 2}


def matching(ctx: Context) -> Iterator[Question]:
    size = _MATCHING_PAIRS[ctx.difficulty]
    extra = _MATCHING_DISTRACTORS[ctx.difficulty]
    for group in groups(ctx, size):
        pairs = [{"question": ctx.cloze(f), "answer": ctx.answer(f)} for f in group]
        distractors = ctx.other_terms(group[0], ctx.blocked_stems(group), extra) if extra else []
        terms = sorted([p["answer"] for p in pairs] + distractors, key=str.casefold)
        text = ctx.wording.matching.format(terms=ctx.wording.listing(terms))
        if not ctx.fresh(text):
            continue
        yield {
            "question_text": text,
            "pairs": pairs,
            "distractors": distractors,
            "explanation": ctx.wording.matching_explanation,
        }

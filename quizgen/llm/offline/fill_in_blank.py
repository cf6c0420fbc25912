"""fill_in_blank: a module sentence with `[blank_1]` (and, when hard, `[blank_2]`).

Each blank's answer is the term exactly as written in the sentence; its
mid-sentence form ("plants" for a sentence-initial "Plants") is accepted too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from quizgen.domain import Difficulty
from quizgen.llm.offline.context import Context, Question
from quizgen.llm.offline.document import Fact

__all__ = ["fill_in_blank"]

# Characters between two blanks of one sentence: more than a single short word.
_MIN_BLANK_GAP = 6


def _blank(ctx: Context, fact: Fact, position: int) -> dict[str, Any]:
    answer = ctx.answer(fact)
    variations = [answer] if answer != fact.token.text else []
    return {
        "position": position,
        "correct_answer": fact.token.text,
        "answer_variations": variations,
    }


def _fill_in_blank_text(ctx: Context, facts: Sequence[Fact]) -> tuple[str, list[dict[str, Any]]]:
    ordered = sorted(facts, key=lambda f: f.token.start)
    text = ctx.sentence(ordered[0])
    # Replace from the end so earlier offsets stay right.
    for position, fact in reversed(list(enumerate(ordered, start=1))):
        text = text[: fact.token.start] + f"[blank_{position}]" + text[fact.token.end :]
    return text, [_blank(ctx, f, p) for p, f in enumerate(ordered, start=1)]


def _apart(first: Fact, second: Fact) -> bool:
    """Two blanks side by side ("some [blank_1] [blank_2] light") cannot be answered."""
    left, right = sorted((first.token, second.token), key=lambda t: t.start)
    return left.start != right.start and right.start - left.end > _MIN_BLANK_GAP


def fill_in_blank(ctx: Context) -> Iterator[Question]:
    by_sentence: dict[int, list[Fact]] = {}
    for fact in ctx.facts:
        by_sentence.setdefault(fact.sentence, []).append(fact)
    for fact in ctx.facts:
        choices: list[list[Fact]] = []
        if ctx.difficulty is Difficulty.HARD:
            # Hard questions leave two terms out of the sentence when it has two.
            choices = [[fact, other] for other in by_sentence[fact.sentence] if _apart(fact, other)]
        choices.append([fact])
        for blanks in choices:
            text, answers = _fill_in_blank_text(ctx, blanks)
            if ctx.fresh(text):
                yield {
                    "question_text": text,
                    "blanks": answers,
                    "explanation": ctx.wording.source.format(sentence=ctx.sentence(fact)),
                }
                break

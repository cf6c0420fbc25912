"""multiple_choice: a cloze of one module sentence, its missing term among three others.

"Which term best completes the statement?" + the sentence with the term
blanked out; the options are the term and three other terms of the module
(look-alikes on hard questions), in an order drawn from the seeded RNG.
"""

from __future__ import annotations

from collections.abc import Iterator

from quizgen.llm.offline.context import Context, Question

__all__ = ["multiple_choice"]

_LETTERS = "ABCD"


def multiple_choice(ctx: Context) -> Iterator[Question]:
    for fact in ctx.facts:
        text = ctx.wording.multiple_choice.format(statement=ctx.cloze(fact))
        if not ctx.fresh(text):
            continue
        options = ctx.other_terms(fact, ctx.blocked_stems([fact]), 3)
        if len(options) < 3:
            continue
        correct = ctx.rng.randrange(4)
        options.insert(correct, ctx.answer(fact))
        yield {
            "question_text": text,
            "option_a": options[0],
            "option_b": options[1],
            "option_c": options[2],
            "option_d": options[3],
            "correct_answer": _LETTERS[correct],
            "explanation": ctx.wording.source.format(sentence=ctx.sentence(fact)),
        }

"""true_false: a module sentence as written (true), or with its term swapped (false).

Which of the two a fact becomes is drawn from the seeded RNG; when that one is
unavailable (the sentence was already used as a true statement, or no swap
gives a new false one) the other is tried.
"""

from __future__ import annotations

from collections.abc import Iterator

from quizgen.llm.offline.context import Context, Question

__all__ = ["true_false"]


def true_false(ctx: Context) -> Iterator[Question]:
    used_true: set[int] = set()
    for fact in ctx.facts:
        want_true = ctx.rng.random() < 0.5
        for truth in (want_true, not want_true):
            if truth:
                # A sentence makes one true statement, however many terms it has.
                statement = None if fact.sentence in used_true else ctx.sentence(fact)
            else:
                statement = ctx.falsify(fact)
            if statement is not None and ctx.fresh(statement):
                break
        else:
            continue
        if truth:
            used_true.add(fact.sentence)
        source = ctx.wording.true_source if truth else ctx.wording.false_source
        yield {
            "question_text": statement,
            "correct_answer": truth,
            "explanation": source.format(sentence=ctx.sentence(fact)),
        }

"""categorization: statements sorted under the term that completes them, or into true/false.

Two kinds of question alternate: cloze statements sorted under the term that
completes them ("sort by term", with statements that fit no category as
distractors on harder questions), and groups of statements, some swapped to
be false, sorted into true and false ("sort by truth").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import combinations

from quizgen.domain import Difficulty
from quizgen.llm.offline.context import (
    TARGET,
    Context,
    Question,
    groups,
)
from quizgen.llm.offline.document import Fact, Term
from quizgen.llm.offline.lexicon import word_stems

__all__ = ["categorization"]

_CATEGORIES = {Difficulty.EASY: 2, Difficulty.MEDIUM: 3, Difficulty.HARD: 4}
_CATEGORY_DISTRACTORS = {Difficulty.EASY: 0, Difficulty.MEDIUM: 1, Difficulty.HARD: 2}
_TRUTH_GROUP = {Difficulty.EASY: 4, Difficulty.MEDIUM: 5, Difficulty.HARD: 6}
_ITEMS_PER_CATEGORY = 4
_MIN_ITEMS = 4
_MAX_HUBS = 10
_MAX_TOPICS = 4


def _hubs(ctx: Context) -> list[Term]:
    """Category terms: those with several blankable sentences, nearest the target first."""
    target = TARGET[ctx.difficulty]
    sentences: dict[str, set[int]] = {}
    for fact in ctx.facts:
        sentences.setdefault(fact.token.stem, set()).add(fact.sentence)
    hubs = [t for t in ctx.doc.terms.values() if t.stem in sentences]
    # A category with one statement is a weak category: terms with more come first.
    hubs.sort(
        key=lambda t: (
            len(sentences[t.stem]) < 2,
            abs(t.rarity - target),
            t.tiebreak ^ ctx.salt,
        )
    )
    return hubs[:_MAX_HUBS]


def _sort_by_term_question(
    ctx: Context, hubs: Sequence[Term], facts_by_stem: dict[str, list[Fact]]
) -> Question | None:
    chosen = {h.stem for h in hubs}
    all_words = [word_stems(h.display) for h in hubs]
    if sum(len(w) for w in all_words) != len(frozenset().union(*all_words)):
        return None  # "carbon" and "carbon dioxide" side by side would be ambiguous
    placed: list[tuple[int, Fact]] = []
    names: list[str] = []
    for number, hub in enumerate(hubs):
        name = ctx.answer(facts_by_stem[hub.stem][0])
        mine = [
            f
            for f in facts_by_stem[hub.stem]
            # The name must complete each statement as written ("vikinger" is not "vikingene"),
            # and a statement that also holds another category's term would fit two.
            if ctx.answer(f).casefold() == name.casefold()
            and ctx.doc.sentences[f.sentence].stems & chosen == {hub.stem}
        ][:_ITEMS_PER_CATEGORY]
        if not mine:
            return None
        names.append(name)
        placed.extend((number, f) for f in mine)
    if len(placed) < _MIN_ITEMS:
        return None
    text = ctx.wording.sort_by_term.format(
        terms=ctx.wording.listing(sorted(names, key=str.casefold))
    )
    if not ctx.fresh(text):
        return None
    used = {f.sentence for _, f in placed}
    spare: list[Fact] = []
    for fact in ctx.facts:
        if len(spare) == _CATEGORY_DISTRACTORS[ctx.difficulty]:
            break
        sentence = ctx.doc.sentences[fact.sentence]
        if fact.sentence not in used and not sentence.stems & chosen:
            spare.append(fact)
            used.add(fact.sentence)
    ctx.rng.shuffle(placed)
    items = [{"id": f"item_{i}", "text": ctx.cloze(f)} for i, (_, f) in enumerate(placed, 1)]
    categories = [
        {
            "id": f"cat_{number + 1}",
            "name": name,
            "correct_items": [f"item_{i}" for i, (n, _) in enumerate(placed, 1) if n == number],
        }
        for number, name in enumerate(names)
    ]
    return {
        "question_text": text,
        "categories": categories,
        "items": items,
        "distractors": [{"id": f"extra_{i}", "text": ctx.cloze(f)} for i, f in enumerate(spare, 1)],
        "explanation": ctx.wording.sort_by_term_explanation,
    }


def _sort_by_term(ctx: Context) -> Iterator[Question]:
    hubs = _hubs(ctx)
    facts_by_stem: dict[str, list[Fact]] = {}
    for fact in ctx.facts:
        facts_by_stem.setdefault(fact.token.stem, []).append(fact)
    size = min(_CATEGORIES[ctx.difficulty], len(hubs))
    if size < 2:
        return
    untried = list(combinations(range(len(hubs)), size))
    uses: Counter[int] = Counter()
    while untried:
        # Least-used hubs first, so successive questions sort by different terms.
        best = min(untried, key=lambda c: (sum(uses[h] for h in c), c))
        untried.remove(best)
        question = _sort_by_term_question(ctx, [hubs[h] for h in best], facts_by_stem)
        if question is None:
            continue
        uses.update(best)
        yield question


def _topic(ctx: Context, fact: Fact) -> str | None:
    """The most central term of the fact's sentence other than the (maybe swapped) one."""
    others = [t for t in ctx.doc.sentences[fact.sentence].tokens if t.stem != fact.token.stem]
    if not others:
        return None
    best = min(others, key=lambda t: ctx.doc.terms[t.stem].rarity)
    return ctx.doc.terms[best.stem].display


def _sort_by_truth(ctx: Context) -> Iterator[Question]:
    size = _TRUTH_GROUP[ctx.difficulty]
    for group in groups(ctx, size):
        truths = [i % 2 == 0 for i in range(len(group))]
        ctx.rng.shuffle(truths)
        statements: list[tuple[str, bool]] = []
        for fact, truth in zip(group, truths, strict=True):
            false = None if truth else ctx.falsify(fact)
            statements.append((false, False) if false else (ctx.sentence(fact), True))
        topics = sorted({t for f in group if (t := _topic(ctx, f))}, key=str.casefold)
        if {truth for _, truth in statements} != {True, False} or not topics:
            continue
        text = ctx.wording.sort_by_truth.format(topics=ctx.wording.listing(topics[:_MAX_TOPICS]))
        if not ctx.fresh(text):
            continue
        items = [{"id": f"item_{i}", "text": s} for i, (s, _) in enumerate(statements, 1)]
        categories = [
            {
                "id": f"cat_{label.casefold()}",
                "name": label,
                "correct_items": [
                    f"item_{i}" for i, (_, t) in enumerate(statements, 1) if t is truth
                ],
            }
            for label, truth in ((ctx.wording.true, True), (ctx.wording.false, False))
        ]
        yield {
            "question_text": text,
            "categories": categories,
            "items": items,
            "distractors": [],
            "explanation": ctx.wording.sort_by_truth_explanation,
        }


def categorization(ctx: Context) -> Iterator[Question]:
    """Alternate the two kinds; when one runs dry the other carries on."""
    sources = [_sort_by_term(ctx), _sort_by_truth(ctx)]
    while sources:
        for source in list(sources):
            question = next(source, None)
            if question is None:
                sources.remove(source)
            else:
                yield question

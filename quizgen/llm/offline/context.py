"""What every question builder shares: one request's view of the module.

A builder (one per question type, in the sibling modules) is a function from a
`Context` to an iterator of candidate questions. The context holds the facts
in the order the difficulty prefers, the texts already used, the wording of the
request's language, and the seeded `random.Random` that is the only source of
"randomness" (option order, true/false mix). It also knows how to turn a fact
into a cloze, an answer, wrong options and a false statement.

Difficulty picks the facts: easy prefers central terms in short sentences,
hard prefers rare terms in long sentences (and look-alike distractors), so
batches of one type at different difficulties ask different things.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from quizgen.domain import Difficulty
from quizgen.llm.offline.document import Document, Fact, Term
from quizgen.llm.offline.lexicon import OTHER_CUE, word_stems
from quizgen.llm.offline.wording import Wording
from quizgen.questions import normalize_text

__all__ = [
    "MAX_GROUP_ATTEMPTS",
    "TARGET",
    "Builder",
    "Context",
    "Question",
    "groups",
    "ordered_facts",
    "pick_group",
]

Question = dict[str, Any]

_BLANK = "_____"
# Where on the fact difficulty scale (0 = central/short, 1 = rare/long) each level looks.
TARGET = {Difficulty.EASY: 0.0, Difficulty.MEDIUM: 0.5, Difficulty.HARD: 1.0}
# Only the facts nearest the target are considered; keeps huge modules fast.
_MAX_POOL = 600
# Group builders retry when a group repeats an earlier question; this bounds them.
MAX_GROUP_ATTEMPTS = 60


def _shape(text: str) -> int:
    """Numbers, names and common words: a distractor should look like the answer."""
    if text.isdigit():
        return 0
    return 1 if text[:1].isupper() else 2


@dataclass(slots=True)
class Context:
    """One request's view of the module: wording, ordered facts, texts already used."""

    doc: Document
    wording: Wording
    difficulty: Difficulty
    rng: random.Random
    salt: int
    facts: list[Fact]
    seen: set[str]

    def fresh(self, text: str) -> bool:
        return normalize_text(text) not in self.seen

    def sentence(self, fact: Fact) -> str:
        return self.doc.sentences[fact.sentence].text

    def cloze(self, fact: Fact, placeholder: str = _BLANK) -> str:
        text = self.sentence(fact)
        return text[: fact.token.start] + placeholder + text[fact.token.end :]

    def answer(self, fact: Fact) -> str:
        """The term as it would stand mid-sentence ("Plants" at the start -> "plants")."""
        token = fact.token
        display = self.doc.terms[token.stem].display
        if token.initial and token.text[:1].isupper() and display[:1].islower():
            return token.text[0].lower() + token.text[1:]
        return token.text

    def blocked_stems(self, facts: Sequence[Fact]) -> set[str]:
        """Word stems of every term in these facts' sentences: no option may reuse them."""
        blocked: set[str] = set()
        for fact in facts:
            for token in self.doc.sentences[fact.sentence].tokens:
                blocked |= word_stems(token.text)
        return blocked

    def other_terms(
        self, reference: Fact, blocked: set[str], limit: int, *, lookalike: bool = False
    ) -> list[str]:
        """Other terms of the module to put beside `reference`'s answer (wrong ones).

        `lookalike` (and hard questions) prefer terms with the same ending and a
        similar prominence, so the option or swap reads as naturally as the answer.
        """
        term = self.doc.terms[reference.token.stem]
        answer = self.answer(reference)
        noise = self.salt ^ reference.tiebreak
        style = Difficulty.HARD if lookalike else self.difficulty
        cue = reference.token.cue

        def preference(candidate: Term) -> tuple[int, int, int, float, int]:
            shape = int(_shape(candidate.display) != _shape(answer))
            noise_key = candidate.tiebreak ^ noise
            if style is Difficulty.EASY:
                # Easy: any term of the same shape; no attempt to make it confusable.
                return shape, 0, 0, 0.0, noise_key
            # Seen in the same kind of slot (after "the", after "to", ...): reads naturally.
            slot = int(cue != OTHER_CUE and cue not in candidate.cues)
            closeness = abs(candidate.rarity - term.rarity)
            if style is Difficulty.MEDIUM:
                return shape, slot, 0, closeness, noise_key
            ending = int(candidate.display[-2:].casefold() != answer[-2:].casefold())
            return shape, slot, ending, closeness, noise_key

        pool = [
            t
            for t in self.doc.candidates
            if t.is_number == term.is_number and not word_stems(t.display) & blocked
        ]
        picked: list[str] = []
        keys = {normalize_text(answer)}
        for candidate in sorted(pool, key=preference):
            key = normalize_text(candidate.display)
            if key in keys:
                continue
            keys.add(key)
            picked.append(candidate.display)
            if len(picked) == limit:
                break
        return picked

    def falsify(self, fact: Fact) -> str | None:
        """The sentence with its term swapped for another one: a false statement."""
        text = self.sentence(fact)
        # Always look-alike: an ungrammatical swap would give a false statement away.
        candidates = self.other_terms(fact, self.blocked_stems([fact]), 3, lookalike=True)
        for replacement in candidates:
            if fact.token.initial:
                replacement = replacement[:1].upper() + replacement[1:]
            statement = text[: fact.token.start] + replacement + text[fact.token.end :]
            # A swap that happens to reproduce another sentence of the module is true.
            if normalize_text(statement) not in self.doc.sentence_keys:
                return statement
        return None


# A question type's generator: candidates in preference order, checked by the caller.
Builder = Callable[[Context], Iterator[Question]]


def _spread(facts: Sequence[Fact]) -> list[Fact]:
    """Keep the order, but let no sentence or term come back before all others had a turn."""
    out: list[Fact] = []
    remaining = list(facts)
    while remaining:
        sentences: set[int] = set()
        stems: set[str] = set()
        deferred: list[Fact] = []
        for fact in remaining:
            if fact.sentence in sentences or fact.token.stem in stems:
                deferred.append(fact)
                continue
            sentences.add(fact.sentence)
            stems.add(fact.token.stem)
            out.append(fact)
        remaining = deferred
    return out


def ordered_facts(doc: Document, difficulty: Difficulty, salt: int) -> list[Fact]:
    target = TARGET[difficulty]
    ranked = sorted(doc.facts, key=lambda f: (abs(f.difficulty - target), f.tiebreak ^ salt))
    return _spread(ranked[:_MAX_POOL])


def groups(ctx: Context, size: int) -> Iterator[list[Fact]]:
    """Groups of `size` facts (see `pick_group`), each least used so far, until none is left
    or `MAX_GROUP_ATTEMPTS` were offered."""
    sentence_uses: Counter[int] = Counter()
    fact_uses: Counter[int] = Counter()
    for _ in range(MAX_GROUP_ATTEMPTS):
        group = pick_group(ctx, size, sentence_uses, fact_uses)
        if group is None:
            return
        yield group


def pick_group(
    ctx: Context, size: int, sentence_uses: Counter[int], fact_uses: Counter[int]
) -> list[Fact] | None:
    """`size` facts from different sentences with unrelated answers, least-used first."""
    order = sorted(
        range(len(ctx.facts)),
        key=lambda i: (sentence_uses[ctx.facts[i].sentence], fact_uses[i], i),
    )
    chosen: list[int] = []
    sentences: set[int] = set()
    stems: set[str] = set()
    for index in order:
        fact = ctx.facts[index]
        fact_stems = word_stems(ctx.answer(fact))
        if fact.sentence in sentences or fact_stems & stems:
            continue
        chosen.append(index)
        sentences.add(fact.sentence)
        stems |= fact_stems
        if len(chosen) == size:
            for i in chosen:
                fact_uses[i] += 1
                sentence_uses[ctx.facts[i].sentence] += 1
            return [ctx.facts[i] for i in chosen]
    return None

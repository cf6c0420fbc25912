"""The embedded question generator: real questions from the module text, offline.

No network, no key, no model: `OfflineProvider` reads the module's course text
and turns its sentences into questions of all five types.

Approach (see `activities.llm._text` for the text analysis):

1. The text is split into sentences and Unicode-aware word tokens; stopwords
   (English + Norwegian) are dropped, and the remaining words (and word pairs
   that recur, like "carbon dioxide") are the module's *terms*. A term found in
   many sentences is central; one found once is rare.
2. A *fact* is a term inside a sentence. Blanking it gives a cloze statement
   whose answer is the term. Every question is built from facts:

   - multiple_choice: "Which term best completes the statement?" + the cloze;
     the options are the term and three other terms of the module.
   - true_false: the sentence as written (true), or with its term swapped for
     another term of the module (false).
   - fill_in_blank: the sentence with `[blank_1]` (and, when hard, `[blank_2]`).
   - matching: 3-5 cloze statements paired with their missing terms.
   - categorization: cloze statements sorted under the term that completes
     them, alternating with groups of statements sorted into true and false.

3. Difficulty picks the facts: easy prefers central terms in short sentences,
   hard prefers rare terms in long sentences (and uses more blanks, pairs,
   categories and look-alike distractors), so batches of one type at different
   difficulties ask different things.

Every candidate is checked against the question schema and against the
request's `avoid_texts` before it is kept, so the answer is always valid JSON
of valid, distinct questions; when the text cannot give `count` of them, fewer
are returned. Output is a pure function of the request: the only "randomness"
(option order, true/false mix) comes from a `random.Random` seeded with a
SHA-256 of the batch key, type, difficulty and call index.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from pydantic import ValidationError

from activities.llm._text import (
    OTHER_CUE,
    Document,
    Fact,
    Term,
    analyse,
    count_words,
    stable_int,
    word_stems,
)
from activities.llm.base import GenerationRequest, GenerationResponse
from quizgen.domain import Difficulty, Language, QuestionType, TokenUsage
from quizgen.questions import QUESTION_MODELS, normalize_text

__all__ = ["OfflineProvider", "build_questions"]

Question = dict[str, Any]

_BLANK = "_____"
_LETTERS = "ABCD"
# Where on the fact difficulty scale (0 = central/short, 1 = rare/long) each level looks.
_TARGET = {Difficulty.EASY: 0.0, Difficulty.MEDIUM: 0.5, Difficulty.HARD: 1.0}
# Only the facts nearest the target are considered; keeps huge modules fast.
_MAX_POOL = 600
_MATCHING_PAIRS = {Difficulty.EASY: 3, Difficulty.MEDIUM: 4, Difficulty.HARD: 5}
_MATCHING_DISTRACTORS = {Difficulty.EASY: 0, Difficulty.MEDIUM: 1, Difficulty.HARD: 2}
_CATEGORIES = {Difficulty.EASY: 2, Difficulty.MEDIUM: 3, Difficulty.HARD: 4}
_CATEGORY_DISTRACTORS = {Difficulty.EASY: 0, Difficulty.MEDIUM: 1, Difficulty.HARD: 2}
_TRUTH_GROUP = {Difficulty.EASY: 4, Difficulty.MEDIUM: 5, Difficulty.HARD: 6}
_ITEMS_PER_CATEGORY = 4
_MIN_ITEMS = 4
_MAX_HUBS = 10
# Group builders retry when a group repeats an earlier question; this bounds them.
_MAX_GROUP_ATTEMPTS = 60
_MAX_TOPICS = 4
# Characters between two blanks of one sentence: more than a single short word.
_MIN_BLANK_GAP = 6


@dataclass(frozen=True, slots=True)
class _Wording:
    multiple_choice: str
    source: str
    true_source: str
    false_source: str
    matching: str
    matching_explanation: str
    sort_by_term: str
    sort_by_term_explanation: str
    sort_by_truth: str
    sort_by_truth_explanation: str
    true: str
    false: str
    conjunction: str

    def listing(self, words: Sequence[str]) -> str:
        if len(words) == 1:
            return words[0]
        return f"{', '.join(words[:-1])} {self.conjunction} {words[-1]}"


_WORDINGS = {
    Language.ENGLISH: _Wording(
        multiple_choice='Which term best completes the statement? "{statement}"',
        source='From the module: "{sentence}"',
        true_source='True. The module says: "{sentence}"',
        false_source='False. The module says: "{sentence}"',
        matching="Match each statement with the term that completes it. Terms: {terms}.",
        matching_explanation="Each statement is taken from the module with one term left out.",
        sort_by_term="Sort each statement under the term that completes it: {terms}.",
        sort_by_term_explanation=(
            "Each statement is taken from the module with its key term left out; "
            "statements that fit none of the terms are distractors."
        ),
        sort_by_truth="Sort these statements about {topics} into true and false.",
        sort_by_truth_explanation=(
            "The true statements are quoted from the module; "
            "in each false one, a term has been swapped for another."
        ),
        true="True",
        false="False",
        conjunction="and",
    ),
    Language.NORWEGIAN: _Wording(
        multiple_choice="Hvilket begrep fullfører utsagnet best? «{statement}»",
        source="Fra modulen: «{sentence}»",
        true_source="Sant. Modulen sier: «{sentence}»",
        false_source="Usant. Modulen sier: «{sentence}»",
        matching="Koble hvert utsagn til begrepet som fullfører det. Begreper: {terms}.",
        matching_explanation="Hvert utsagn er hentet fra modulen med ett begrep utelatt.",
        sort_by_term="Sorter hvert utsagn under begrepet som fullfører det: {terms}.",
        sort_by_term_explanation=(
            "Hvert utsagn er hentet fra modulen med nøkkelbegrepet utelatt; "
            "utsagn som ikke passer til noen av begrepene, er distraktorer."
        ),
        sort_by_truth="Sorter disse påstandene om {topics} i sanne og usanne.",
        sort_by_truth_explanation=(
            "De sanne påstandene er hentet fra modulen; "
            "i hver usann påstand er ett begrep byttet ut med et annet."
        ),
        true="Sant",
        false="Usant",
        conjunction="og",
    ),
}


def _shape(text: str) -> int:
    """Numbers, names and common words: a distractor should look like the answer."""
    if text.isdigit():
        return 0
    return 1 if text[:1].isupper() else 2


@dataclass(slots=True)
class _Context:
    """One request's view of the module: wording, ordered facts, texts already used."""

    doc: Document
    wording: _Wording
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


def _ordered_facts(doc: Document, difficulty: Difficulty, salt: int) -> list[Fact]:
    target = _TARGET[difficulty]
    ranked = sorted(doc.facts, key=lambda f: (abs(f.difficulty - target), f.tiebreak ^ salt))
    return _spread(ranked[:_MAX_POOL])


def _multiple_choice(ctx: _Context) -> Iterator[Question]:
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


def _true_false(ctx: _Context) -> Iterator[Question]:
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


def _blank(ctx: _Context, fact: Fact, position: int) -> dict[str, Any]:
    answer = ctx.answer(fact)
    variations = [answer] if answer != fact.token.text else []
    return {
        "position": position,
        "correct_answer": fact.token.text,
        "answer_variations": variations,
    }


def _fill_in_blank_text(ctx: _Context, facts: Sequence[Fact]) -> tuple[str, list[dict[str, Any]]]:
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


def _fill_in_blank(ctx: _Context) -> Iterator[Question]:
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


def _pick_group(
    ctx: _Context, size: int, sentence_uses: Counter[int], fact_uses: Counter[int]
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


def _matching(ctx: _Context) -> Iterator[Question]:
    size = _MATCHING_PAIRS[ctx.difficulty]
    extra = _MATCHING_DISTRACTORS[ctx.difficulty]
    sentence_uses: Counter[int] = Counter()
    fact_uses: Counter[int] = Counter()
    for _ in range(_MAX_GROUP_ATTEMPTS):
        group = _pick_group(ctx, size, sentence_uses, fact_uses)
        if group is None:
            return
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


def _hubs(ctx: _Context) -> list[Term]:
    """Category terms: those with several blankable sentences, nearest the target first."""
    target = _TARGET[ctx.difficulty]
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
    ctx: _Context, hubs: Sequence[Term], facts_by_stem: dict[str, list[Fact]]
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


def _sort_by_term(ctx: _Context) -> Iterator[Question]:
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


def _topic(ctx: _Context, fact: Fact) -> str | None:
    """The most central term of the fact's sentence other than the (maybe swapped) one."""
    others = [t for t in ctx.doc.sentences[fact.sentence].tokens if t.stem != fact.token.stem]
    if not others:
        return None
    best = min(others, key=lambda t: ctx.doc.terms[t.stem].rarity)
    return ctx.doc.terms[best.stem].display


def _sort_by_truth(ctx: _Context) -> Iterator[Question]:
    size = _TRUTH_GROUP[ctx.difficulty]
    sentence_uses: Counter[int] = Counter()
    fact_uses: Counter[int] = Counter()
    for _ in range(_MAX_GROUP_ATTEMPTS):
        group = _pick_group(ctx, size, sentence_uses, fact_uses)
        if group is None:
            return
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


def _categorization(ctx: _Context) -> Iterator[Question]:
    """Alternate the two kinds; when one runs dry the other carries on."""
    sources = [_sort_by_term(ctx), _sort_by_truth(ctx)]
    while sources:
        for source in list(sources):
            question = next(source, None)
            if question is None:
                sources.remove(source)
            else:
                yield question


_BUILDERS: dict[QuestionType, Callable[[_Context], Iterator[Question]]] = {
    QuestionType.MULTIPLE_CHOICE: _multiple_choice,
    QuestionType.TRUE_FALSE: _true_false,
    QuestionType.FILL_IN_BLANK: _fill_in_blank,
    QuestionType.MATCHING: _matching,
    QuestionType.CATEGORIZATION: _categorization,
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
    ctx = _Context(
        doc=doc,
        wording=_WORDINGS[request.language],
        difficulty=request.difficulty,
        rng=random.Random(salt),
        salt=salt,
        facts=_ordered_facts(doc, request.difficulty, salt),
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

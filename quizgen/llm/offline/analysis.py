"""Sentences, key terms and blankable "facts" from a module's course text.

Everything here is a pure function of the text: no models, no network, no
randomness. The text is split into sentences (`sentences`), each sentence into
word tokens of which the non-stopwords are terms (`lexicon`); word pairs that
recur ("carbon dioxide") are merged into one term. A term found in many
sentences is central, one found once is rare, and every single occurrence of a
term in a sentence is a `Fact` with a difficulty (see `document`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import pairwise

from quizgen.llm.offline.document import Document, Fact, Sentence, Term, Token
from quizgen.llm.offline.lexicon import WORD, cue_of, is_term, stem
from quizgen.llm.offline.sentences import split_sentences
from quizgen.questions import normalize_text

__all__ = ["analyse", "stable_int"]

# Sentences outside these bounds make poor questions (fragments, or walls of text
# that would not fit the 500-character limit of matching/categorization items).
MIN_SENTENCE_WORDS = 4
MAX_SENTENCE_WORDS = 60
MAX_SENTENCE_CHARS = 400
_MIN_PHRASE_REPEATS = 2
# Capping the term list keeps distractor searches cheap on 100k-character modules.
MAX_CANDIDATE_TERMS = 300


def stable_int(*parts: object) -> int:
    """A 64-bit integer from SHA-256: stable across processes, unlike hash()."""
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _tokens(text: str) -> tuple[int, tuple[Token, ...]]:
    words = 0
    previous = ""
    tokens: list[Token] = []
    for match in WORD.finditer(text):
        words += 1
        word = match.group()
        if is_term(word):
            cue = cue_of(previous)
            tokens.append(Token(word, match.start(), match.end(), stem(word), words == 1, cue))
        previous = word.casefold()
    return words, tuple(tokens)


def _adjacent(text: str, first: Token, second: Token) -> bool:
    return text[first.end : second.start] == " " and not (first.stem + second.stem).isdigit()


def _merge_sentence(sentence: Sentence, phrases: set[tuple[str, str]]) -> Sentence:
    merged: list[Token] = []
    rest = list(sentence.tokens)
    while rest:
        first = rest.pop(0)
        if (
            rest
            and (first.stem, rest[0].stem) in phrases
            and _adjacent(sentence.text, first, rest[0])
        ):
            second = rest.pop(0)
            first = Token(
                text=sentence.text[first.start : second.end],
                start=first.start,
                end=second.end,
                stem=f"{first.stem} {second.stem}",
                initial=first.initial,
                cue=first.cue,
            )
        merged.append(first)
    return Sentence(sentence.index, sentence.text, sentence.words, tuple(merged))


def _merge_phrases(sentences: Sequence[Sentence]) -> tuple[Sentence, ...]:
    """Two terms side by side in several sentences ("carbon dioxide") are one term."""
    pairs: Counter[tuple[str, str]] = Counter()
    for sentence in sentences:
        for first, second in pairwise(sentence.tokens):
            if _adjacent(sentence.text, first, second):
                pairs[first.stem, second.stem] += 1
    phrases = {pair for pair, n in pairs.items() if n >= _MIN_PHRASE_REPEATS}
    if not phrases:
        return tuple(sentences)
    return tuple(_merge_sentence(sentence, phrases) for sentence in sentences)


def _sentences(content: str) -> tuple[Sentence, ...]:
    result: list[Sentence] = []
    seen: set[str] = set()
    for text in split_sentences(content):
        key = normalize_text(text)
        if key in seen or len(text) > MAX_SENTENCE_CHARS:
            continue
        words, tokens = _tokens(text)
        if not MIN_SENTENCE_WORDS <= words <= MAX_SENTENCE_WORDS or not tokens:
            continue
        seen.add(key)
        result.append(Sentence(len(result), text, words, tokens))
    return _merge_phrases(result)


def _percentiles(values: Sequence[float]) -> list[float]:
    """Rank of each value in [0, 1], ties sharing their average rank."""
    if len(values) < 2:
        return [0.5 for _ in values]
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 / (len(values) - 1)
        start = end + 1
    return ranks


def _display(forms: Counter[str], initial_forms: Counter[str]) -> str:
    if forms:
        return forms.most_common(1)[0][0]
    word = initial_forms.most_common(1)[0][0]
    # Seen only at the start of sentences: "Photosynthesis" stands for "photosynthesis".
    if word[:1].isupper() and word[1:].islower():
        return word[0].lower() + word[1:]
    return word


def _terms(sentences: Sequence[Sentence]) -> dict[str, Term]:
    forms: dict[str, Counter[str]] = {}
    initial_forms: dict[str, Counter[str]] = {}
    where: dict[str, set[int]] = {}
    cues: dict[str, set[str]] = {}
    occurrences: Counter[str] = Counter()
    for sentence in sentences:
        for token in sentence.tokens:
            forms.setdefault(token.stem, Counter())
            initial_forms.setdefault(token.stem, Counter())
            (initial_forms if token.initial else forms)[token.stem][token.text] += 1
            where.setdefault(token.stem, set()).add(sentence.index)
            cues.setdefault(token.stem, set()).add(token.cue)
            occurrences[token.stem] += 1
    stems = list(where)
    # Central terms occur in many sentences; rarity is the percentile of the opposite.
    spread = [-(len(where[s]) + occurrences[s] / 1000) for s in stems]
    rarity = _percentiles(spread)
    return {
        s: Term(
            stem=s,
            display=_display(forms[s], initial_forms[s]),
            is_number=s.isdigit(),
            sentences=frozenset(where[s]),
            cues=frozenset(cues[s]),
            rarity=r,
            tiebreak=stable_int("term", s),
        )
        for s, r in zip(stems, rarity, strict=True)
    }


def _facts(sentences: Sequence[Sentence], terms: Mapping[str, Term]) -> tuple[Fact, ...]:
    length_rank = _percentiles([s.words for s in sentences])
    # Long words are the technical ones ("thylakoid"); short ones are everyday ("air").
    stems = sorted(terms)
    term_length = dict(zip(stems, _percentiles([len(s) for s in stems]), strict=True))
    facts: list[Fact] = []
    for sentence in sentences:
        per_stem = Counter(t.stem for t in sentence.tokens)
        for token in sentence.tokens:
            # A term twice in one sentence would give its own answer away.
            if per_stem[token.stem] != 1:
                continue
            difficulty = (
                0.5 * terms[token.stem].rarity
                + 0.25 * length_rank[sentence.index]
                + 0.25 * term_length[token.stem]
            )
            tiebreak = stable_int("fact", sentence.index, token.start)
            facts.append(Fact(sentence.index, token, difficulty, tiebreak))
    return tuple(facts)


@lru_cache(maxsize=16)
def analyse(content: str) -> Document:
    """Cached: a batch's repair and top-up calls re-read the same module text."""
    sentences = _sentences(content)
    terms = _terms(sentences)
    candidates = sorted(terms.values(), key=lambda t: (t.rarity, t.tiebreak))
    return Document(
        sentences=sentences,
        terms=terms,
        candidates=tuple(candidates[:MAX_CANDIDATE_TERMS]),
        facts=_facts(sentences, terms),
        sentence_keys=frozenset(normalize_text(s.text) for s in sentences),
    )

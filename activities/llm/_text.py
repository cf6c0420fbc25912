"""Sentences, key terms and blankable "facts" from a module's course text.

Used by the offline provider. Everything here is a pure function of the text:
no models, no network, no randomness. English and Norwegian (bokmål) are
handled by one pipeline: Unicode-aware regexes (æ, ø, å are word characters),
a merged stopword list and a crude suffix-stripping stemmer that only has to be
good enough to tell "plant"/"plants" or "viking"/"vikingene" apart from
genuinely different terms.

A *fact* is one term token inside one sentence (the term occurs exactly once
there), so blanking it gives a cloze statement with one well-defined answer.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from quizgen.questions import normalize_text

__all__ = [
    "OTHER_CUE",
    "Document",
    "Fact",
    "Sentence",
    "Term",
    "Token",
    "analyse",
    "count_words",
    "stable_int",
    "word_stems",
]

# A word: letters/digits (any script), optionally joined by hyphens or apostrophes.
_WORD = re.compile(r"\w+(?:[-'\u2019]\w+)*")
_LETTER = re.compile(r"[^\W\d_]")
# End of sentence: terminal punctuation, optional closing quotes/brackets, then space.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"'»”\u2019)\]]*\s+")
_BULLET = re.compile(r"^(?:[-*•·\u2013\u2014]+|\(?\d{1,3}[.)])\s+")
_TERMINAL = (".", "!", "?", "…", ":", ";", ",", '"', "»", "”", ")")

# Sentences outside these bounds make poor questions (fragments, or walls of text
# that would not fit the 500-character limit of matching/categorization items).
MIN_SENTENCE_WORDS = 4
MAX_SENTENCE_WORDS = 60
MAX_SENTENCE_CHARS = 400
# A short line without end punctuation is a heading, not part of a wrapped paragraph.
_HEADING_MAX_WORDS = 9

_STOPWORDS_EN = """
a about above across after again against ago all almost along also although always am among an
and another any anyone anything are around as at away back be became because become becomes been
before being below between both but by called can cannot could did do does doing done down due
during each either else enough especially etc even ever every example few first for from further
get gets given go goes got had has have having he her here hers herself him himself his how
however i if in including inside instead into is it its itself just known last least less let
like made main mainly make makes making many may me might more most mostly much must my myself
near nearly need needs never new next no nor not now of off often on once one only onto or other
others otherwise our ours out outside over own part per perhaps place put quite rather really
same see seen several she should since small so some something sometimes still such take taken
takes than that the their theirs them themselves then there therefore these they thing things
this those though three through thus tiny to together too took toward towards two under until up
upon us use used uses using usually very via was way ways we well were what whatever when where
whether which while who whom whose why will with within without would yet you your yours
"""

_STOPWORDS_NO = """
alle allerede alltid andre annen annet av bare begge bl blant ble bli blir blitt bort brukes
brukt både ca da dag dager de deg dei deires del delt dem den denne der deres derfor dermed
dessuten det dette din disse ditt du eks eller en enda ene enn er et ett etter f fem fikk fire
fleire flere for fordi fra fram frem før første gikk gjennom gjerne gjorde godt gå går ha hadde
han hans har hele helt hennar henne hennes her hit hjå ho hoe hun hva hvem hver hvilke hvilken
hvis hvor hvordan hvorfor i ikke ikkje ingen inn inni ja jeg kalles kalt kan kjent kom kommer
kun kunne lage langt man mange med meg meget mellom men mer mest mitt mot mye må måtte ned noe
noen nok nå når ofte og også om omkring opp oss over på regnes rundt sa samme se seg seks selv
senere sin sine sitt sjøl skal skulle slik slike slutt som spesielt svært så særlig tatt ti
tidlig tidligere til to tok tre under ut uten vanligvis var ved vi vil ville vår være vært år
"""

STOPWORDS: frozenset[str] = frozenset((_STOPWORDS_EN + _STOPWORDS_NO).split())

# A poor man's part-of-speech tagger: the word before a term says what kind of slot
# it fills. A swapped-in term that was seen in the same kind of slot reads naturally.
_CUES = {
    "nominal": """
        the a an this these those its their his her our of in on at from into by with for
        through during about under over between within en et ei den det de denne disse sin
        sitt sine hans hennes i på av fra til med om ved mellom gjennom mot etter før
    """,
    "verbal": "to can will may must should would could might å kan skal vil må kunne skulle ville",
    "copula": "is are was were be been being er var ble blir blitt vært",
}
_CUE_OF: dict[str, str] = {word: cue for cue, words in _CUES.items() for word in words.split()}
OTHER_CUE = "other"

# Longest first; one suffix is stripped at most. "ies" is special-cased to "y".
_SUFFIXES = ("ene", "ane", "ing", "ers", "er", "en", "et", "es", "ed", "s", "a", "e")
_MIN_STEM = 3
_MIN_PHRASE_REPEATS = 2
# Capping the term list keeps distractor searches cheap on 100k-character modules.
MAX_CANDIDATE_TERMS = 300


@dataclass(frozen=True, slots=True)
class Token:
    """A term occurrence inside a sentence (offsets are into `Sentence.text`)."""

    text: str
    start: int
    end: int
    stem: str
    initial: bool
    # The kind of slot, from the word before: "nominal", "verbal", "copula" or "other".
    cue: str


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    text: str
    words: int
    tokens: tuple[Token, ...]

    @property
    def stems(self) -> frozenset[str]:
        return frozenset(t.stem for t in self.tokens)


@dataclass(frozen=True, slots=True)
class Term:
    stem: str
    # The form used when the term stands on its own (an option, a category name).
    display: str
    is_number: bool
    sentences: frozenset[int]
    cues: frozenset[str]
    # 0.0 = the module's most central term, 1.0 = its rarest.
    rarity: float
    tiebreak: int


@dataclass(frozen=True, slots=True)
class Fact:
    sentence: int
    token: Token
    # 0.0 = easy (central term, short sentence), 1.0 = hard (rare term, long sentence).
    difficulty: float
    tiebreak: int


@dataclass(frozen=True, slots=True)
class Document:
    sentences: tuple[Sentence, ...]
    terms: Mapping[str, Term]
    # The most central terms first, capped: where options and swaps are drawn from.
    candidates: tuple[Term, ...]
    facts: tuple[Fact, ...]
    # Normalised sentence texts: a "false" statement must not be one of these.
    sentence_keys: frozenset[str]


def stable_int(*parts: object) -> int:
    """A 64-bit integer from SHA-256: stable across processes, unlike hash()."""
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def stem(word: str) -> str:
    folded = word.casefold()
    if not _LETTER.search(folded):
        return folded
    if folded.endswith("ies") and len(folded) - 3 >= _MIN_STEM:
        return folded[:-3] + "y"
    for suffix in _SUFFIXES:
        if suffix == "s" and folded.endswith("ss"):
            continue
        if folded.endswith(suffix) and len(folded) - len(suffix) >= _MIN_STEM:
            return folded[: -len(suffix)]
    return folded


@lru_cache(maxsize=4096)
def word_stems(text: str) -> frozenset[str]:
    """The stems of each word of a term: "carbon dioxide" and "carbon" share one."""
    return frozenset(stem(word) for word in normalize_text(text).split())


def _is_term(word: str) -> bool:
    folded = word.casefold()
    if folded in STOPWORDS:
        return False
    if word.isdigit():
        # Years and other 3-4 digit numbers are good blanks; "2" or "150000" are not.
        return 3 <= len(word) <= 4
    if not _LETTER.search(word):
        return False
    if len(word) >= 2 and word.isupper():  # acronyms: ATP, DNA, CO2
        return True
    # English adverbs ("quickly") make poor answers; Norwegian words rarely end in -ly.
    if folded.endswith("ly") and len(folded) > 5:
        return False
    return len(word) >= 3


def _is_heading(line: str, next_line: str) -> bool:
    """A short line without end punctuation, not continued in lowercase on the next line."""
    if line.endswith(_TERMINAL) or count_words(line) > _HEADING_MAX_WORDS:
        return False
    continued = next_line[:1].islower() and not _BULLET.match(next_line)
    return not continued


def _blocks(content: str) -> list[str]:
    """Paragraphs with wrapped lines joined; headings and bullet items stand alone."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    lines = [line.strip() for line in content.splitlines()]
    for number, line in enumerate(lines):
        if not line:
            flush()
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush()
            line = line[bullet.end() :]
        next_line = lines[number + 1] if number + 1 < len(lines) else ""
        if bullet or _is_heading(line, next_line):
            flush()
            blocks.append(line)
            continue
        current.append(line)
    flush()
    return blocks


def split_sentences(content: str) -> list[str]:
    sentences: list[str] = []
    for block in _blocks(content):
        pieces: list[str] = []
        for piece in _SENTENCE_BREAK.split(block):
            piece = piece.strip()
            if not piece:
                continue
            # "e.g. the", "f.eks. ved": a break before a lowercase letter is an abbreviation.
            if pieces and piece[0].islower():
                pieces[-1] = f"{pieces[-1]} {piece}"
            else:
                pieces.append(piece)
        sentences.extend(pieces)
    return sentences


def _tokens(text: str) -> tuple[int, tuple[Token, ...]]:
    words = 0
    previous = ""
    tokens: list[Token] = []
    for match in _WORD.finditer(text):
        words += 1
        word = match.group()
        if _is_term(word):
            cue = _CUE_OF.get(previous, OTHER_CUE)
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

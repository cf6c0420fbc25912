"""What the text analysis yields: a module's sentences, terms and blankable facts.

Plain frozen records, built by `quizgen.llm.offline.analysis` and read by
the question builders. A *fact* is one term token inside one sentence (the
term occurs exactly once there), so blanking it gives a cloze statement with
one well-defined answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Document", "Fact", "Sentence", "Term", "Token"]


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

"""The stored JSON of each question type, with every rule a question must obey.

These models are the schema for LLM output too (`extra="forbid"`): a question
with an unknown field, a missing field or a broken rule is rejected, never
"fixed up" silently. Each rule's message is written for a person (a teacher, or
the LLM in a repair prompt).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from quizgen.domain import NoNul, QuestionType
from quizgen.text import require_visible_text, visible_text

__all__ = [
    "BLANK_TAG",
    "QUESTION_MODELS",
    "Blank",
    "Categorization",
    "Category",
    "CategoryItem",
    "FillInBlank",
    "Matching",
    "MatchingPair",
    "MultipleChoice",
    "Question",
    "TrueFalse",
    "normalize_text",
    "text_hash",
]


# A blank in a fill-in-the-blank question's text: `[blank_N]`.
BLANK_TAG = re.compile(r"\[blank_(\d+)\]")
# Runs of ASCII non-word characters, then runs of other non-word characters: two passes
# so that only the (rare) second kind pays for a Python call per run.
_ASCII_NON_WORD = re.compile(r"[^\w\x80-\U0010ffff]+")
_OTHER_NON_WORD = re.compile(r"[^\w\x00-\x7f]+")


def _word_break(match: re.Match[str]) -> str:
    """A run of non-word characters becomes one space, except combining marks that
    follow a letter or digit: they are part of the word (`q\u0301`, Devanagari vowel
    signs), neither a break in it nor nothing."""
    run, start = match.group(), match.start()
    marks = 0
    if start > 0 and match.string[start - 1] != " ":
        while marks < len(run) and unicodedata.category(run[marks]).startswith("M"):
            marks += 1
    return run[:marks] + (" " if marks < len(run) else "")


def normalize_text(text: str) -> str:
    """Case, punctuation, spacing and invisible characters do not make a question new.

    Invisible characters are dropped first (quizgen.text), so `Wh\u200bat` is `what`,
    not `wh at`. NFKC then makes canonically equal spellings equal (`e\u0301` and `é`)
    and folds compatibility forms (`ﬁ` and `fi`); a combining mark that NFKC leaves
    separate stays in its word, so it still tells two words apart.
    """
    folded = unicodedata.normalize("NFKC", visible_text(text)).casefold()
    spaced = _OTHER_NON_WORD.sub(_word_break, _ASCII_NON_WORD.sub(" ", folded))
    return " ".join(spaced.split())


def text_hash(text: str) -> str:
    """The key of "no two questions with the same text in a quiz": SHA-256 of the normalised text.

    Migration 0003 computes the same value in SQL for rows that existed before it;
    migration 0007 recomputes it (in Python) for rows saved before normalize_text
    dropped invisible characters and kept combining marks.
    """
    return hashlib.sha256(normalize_text(text).encode()).hexdigest()


# Invisible characters (zero-width, soft hyphen, bidi controls: quizgen.text) stay in
# the stored text as written, because some are spelling (a ZWNJ in Persian, a ZWJ in
# Indic scripts and emoji) and a teacher's or the LLM's text is not rewritten silently.
# They never count as text (Visible, Worded) nor as a difference between two texts
# (normalize_text, hence text_hash, the duplicate check and _distinct).
def _worded(value: str) -> str:
    # A question's duplicate key is its normal form: one without a word is no key at all
    # (it would hash like the empty text).
    if not normalize_text(value):
        raise ValueError("must contain a word (a letter or a digit), not only punctuation")
    return value


Visible = AfterValidator(require_visible_text)
Worded = AfterValidator(_worded)

# NoNul and the others go after the length/whitespace constraints (pydantic drops
# validators that come before a StringConstraints in the same Annotated chain).
QuestionText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    NoNul,
    Visible,
    Worded,
]
# May be empty, so an explanation of invisible characters only is as fine as "".
Explanation = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), NoNul]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NoNul, Visible
]


def _key(value: str) -> str:
    """What options, answers, names and ids are compared by: the normal form, or for a
    text without a word (`<`, `≠`) its visible characters, case and spacing folded."""
    if key := normalize_text(value):
        return key
    return " ".join(unicodedata.normalize("NFKC", visible_text(value)).casefold().split())


def _distinct(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        key = _key(value)
        if key in seen:
            hint = " (invisible characters do not count)" if visible_text(value) != value else ""
            raise ValueError(f"{what} must be distinct; {value!r} appears more than once{hint}")
        seen.add(key)


class _Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question_text: QuestionText
    explanation: Explanation = ""


class MultipleChoice(_Question):
    option_a: ShortText
    option_b: ShortText
    option_c: ShortText
    option_d: ShortText
    correct_answer: Literal["A", "B", "C", "D"]

    @model_validator(mode="after")
    def _options_distinct(self) -> Self:
        _distinct([self.option_a, self.option_b, self.option_c, self.option_d], "options")
        return self


class TrueFalse(_Question):
    # Strict: "yes" or 1 is a broken answer to repair, not a boolean to guess.
    correct_answer: StrictBool


class Blank(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    position: Annotated[StrictInt, Field(ge=1, le=10)]
    correct_answer: ShortText
    answer_variations: Annotated[list[ShortText], Field(max_length=10)] = []


class FillInBlank(_Question):
    blanks: Annotated[list[Blank], Field(min_length=1, max_length=10)]

    @model_validator(mode="after")
    def _tags_match_blanks(self) -> Self:
        tags = [int(n) for n in BLANK_TAG.findall(self.question_text)]
        positions = [b.position for b in self.blanks]
        if len(set(tags)) != len(tags):
            raise ValueError("each [blank_N] tag may appear only once in question_text")
        if len(set(positions)) != len(positions):
            raise ValueError("each blank position may be used only once")
        if not tags:
            raise ValueError("question_text must contain at least one [blank_N] tag")
        if set(tags) != set(positions):
            raise ValueError(
                f"the [blank_N] tags in question_text ({sorted(tags)}) must match "
                f"the blank positions ({sorted(positions)}) exactly"
            )
        return self


class MatchingPair(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question: ShortText
    answer: ShortText


class Matching(_Question):
    pairs: Annotated[list[MatchingPair], Field(min_length=3, max_length=10)]
    distractors: Annotated[list[ShortText], Field(max_length=5)] = []

    @model_validator(mode="after")
    def _pairs_unique_and_distractors_wrong(self) -> Self:
        _distinct([p.question for p in self.pairs], "pair questions")
        _distinct([p.answer for p in self.pairs], "pair answers")
        _distinct(self.distractors, "distractors")
        answers = {_key(p.answer) for p in self.pairs}
        for distractor in self.distractors:
            if _key(distractor) in answers:
                raise ValueError(f"distractor {distractor!r} is also a correct answer")
        return self


class CategoryItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(min_length=1, max_length=50), NoNul]
    text: ShortText


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(min_length=1, max_length=50), NoNul]
    name: ShortText
    correct_items: Annotated[list[str], Field(min_length=1)]


class Categorization(_Question):
    categories: Annotated[list[Category], Field(min_length=2, max_length=8)]
    items: Annotated[list[CategoryItem], Field(min_length=4, max_length=20)]
    distractors: Annotated[list[CategoryItem], Field(max_length=5)] = []

    @model_validator(mode="after")
    def _every_item_in_exactly_one_category(self) -> Self:
        _distinct([c.id for c in self.categories], "category ids")
        _distinct([c.name for c in self.categories], "category names")
        all_items = self.items + self.distractors
        _distinct([i.id for i in all_items], "item and distractor ids")
        _distinct([i.text for i in all_items], "item and distractor texts")
        item_ids = {i.id for i in self.items}
        distractor_ids = {d.id for d in self.distractors}
        placed: dict[str, str] = {}
        for category in self.categories:
            for ref in category.correct_items:
                if ref in distractor_ids:
                    raise ValueError(
                        f"category {category.id!r} lists distractor {ref!r} as a correct item"
                    )
                if ref not in item_ids:
                    raise ValueError(f"category {category.id!r} refers to unknown item {ref!r}")
                if placed.get(ref) == category.id:
                    raise ValueError(f"category {category.id!r} lists item {ref!r} twice")
                if ref in placed:
                    raise ValueError(
                        f"item {ref!r} is in both category {placed[ref]!r} and {category.id!r}"
                    )
                placed[ref] = category.id
        unplaced = sorted(item_ids - placed.keys())
        if unplaced:
            raise ValueError(f"items {unplaced} belong to no category")
        return self


Question = MultipleChoice | TrueFalse | FillInBlank | Matching | Categorization

QUESTION_MODELS: dict[QuestionType, type[Question]] = {
    QuestionType.MULTIPLE_CHOICE: MultipleChoice,
    QuestionType.TRUE_FALSE: TrueFalse,
    QuestionType.FILL_IN_BLANK: FillInBlank,
    QuestionType.MATCHING: Matching,
    QuestionType.CATEGORIZATION: Categorization,
}

"""Characters a reader cannot see, and text that holds nothing a reader can see.

One definition for every place that decides "is this text empty?" (a quiz title, a
module's name or content, a question's text, options and answers) and "are these two
texts the same?" (`quizgen.questions.normalize_text`, the duplicate check and its hash).

Invisible here means: format characters (Unicode category Cf: zero-width space,
joiners, word joiner, BOM, soft hyphen, bidi marks, embeddings, overrides and isolates,
invisible operators, tags), the other default-ignorable code points (variation
selectors, Hangul fillers, the combining grapheme joiner, ...), and control characters
that are not whitespace. Not invisible: whitespace (it separates words), combining
marks such as U+0301 (they change a letter: `é`), and the prepended concatenation marks
(U+0600..U+0605 and the like: Cf, but drawn as visible signs).

The set is listed by code point, not read from `unicodedata` at run time, so a newer
Python's Unicode tables cannot change which characters are dropped, and with them a
stored `text_hash`. Pure: no I/O (workflows import this through `quizgen.domain`).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "has_visible_text",
    "is_invisible",
    "require_visible_text",
    "strip_controls",
    "visible_text",
]

# Inclusive ranges: category Cf and Default_Ignorable_Code_Point (Unicode 15.1), minus
# Prepended_Concatenation_Mark, plus the C0/C1 controls Python does not count as space.
_INVISIBLE_RANGES = (
    (0x0000, 0x0008),  # C0 controls before TAB
    (0x000E, 0x001B),  # C0 controls between CR and the separators U+001C..U+001F
    (0x007F, 0x0084),  # DEL, C1 controls before NEL
    (0x0086, 0x009F),  # C1 controls after NEL
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner (ignorable, not a combining mark)
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong / jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),  # zero-width space, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated formats
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFFB),  # reserved ignorables, interlinear annotation controls
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags, variation selectors supplement, reserved ignorables
)

# For str.translate: every invisible code point maps to None (deleted).
_DROP_INVISIBLE: dict[int, None] = {
    code: None for first, last in _INVISIBLE_RANGES for code in range(first, last + 1)
}


def is_invisible(char: str) -> bool:
    """Whether the single character `char` is one a reader cannot see (see the module)."""
    return ord(char) in _DROP_INVISIBLE


def visible_text(text: str) -> str:
    """`text` without its invisible characters; everything else (whitespace, combining
    marks, letters, punctuation) kept as written."""
    return text.translate(_DROP_INVISIBLE)


def has_visible_text(text: str) -> bool:
    """Whether `text` holds a character a reader can see: not only whitespace, nor only
    invisible characters (a zero-width space, a BOM, a bidi mark)."""
    # Almost always the first character past the whitespace answers it: translating a
    # 100,000-character module only to find its first letter visible is most of its cost.
    for char in text:
        if char.isspace() or is_invisible(char):
            continue
        return True
    return False


def require_visible_text(value: str, what: str = "") -> str:
    """`value` if it has visible text, else a ValueError worded for a person (for
    validators; `what` names the field when the error's location does not)."""
    if not has_visible_text(value):
        subject = f"{what} must" if what else "must"
        raise ValueError(f"{subject} contain text, not only whitespace or invisible characters")
    return value


# C0/C1 control characters but tab, newline and carriage return (all whitespace anyway).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """Text read from a page or a file, as stored: NFC, without control characters."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))

"""Course text to sentences: paragraphs, headings and bullet items, then sentence breaks.

Course text arrives as a pasted or uploaded document: wrapped lines, headings
without end punctuation, bullet lists. Wrapped lines are joined back into
paragraphs, and headings and bullet items stand alone, so no sentence straddles
a heading or two list items.
"""

from __future__ import annotations

import re

from quizgen.llm.offline.lexicon import count_words

__all__ = ["split_sentences"]

# End of sentence: terminal punctuation, optional closing quotes/brackets, then space.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"'»”\u2019)\]]*\s+")
_BULLET = re.compile(r"^(?:[-*•·\u2013\u2014]+|\(?\d{1,3}[.)])\s+")
_TERMINAL = (".", "!", "?", "…", ":", ";", ",", '"', "»", "”", ")")
# A short line without end punctuation is a heading, not part of a wrapped paragraph.
_HEADING_MAX_WORDS = 9


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

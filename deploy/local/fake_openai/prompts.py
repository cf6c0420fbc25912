"""Reading a prompt the way a model would: the question type, the count, the course content,
the "do not repeat" list and the rejected questions of a repair prompt, from its text alone
(English or Norwegian)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

from quizgen.domain import Difficulty, Language, QuestionType

# --- reading a prompt the way a model would -------------------------------------------------


@cache
def _words(language: Language) -> dict[str, dict[str, str]]:
    text = files("quizgen.llm.prompts").joinpath(language.value, "words.json").read_text("utf-8")
    words: dict[str, dict[str, str]] = json.loads(text)
    return words


_AVOID_HEADER = {
    Language.ENGLISH: "These questions already exist; do not repeat or paraphrase them:",
    Language.NORWEGIAN: "Disse spørsmålene finnes allerede; ikke gjenta eller omformuler dem:",
}
_TYPE_PATTERNS = {
    Language.ENGLISH: [
        re.compile(r"Write exactly \d+ (?:more )?(.+?) questions of "),
        re.compile(r"These (.+?) questions \("),
    ],
    Language.NORWEGIAN: [
        re.compile(r"spørsmål av typen (.+?) med "),
        re.compile(r"spørsmålene av typen (.+?) \("),
    ],
}
_REJECTED_LINE = re.compile(r"^- (.*)\n  reason: (.*)$", re.MULTILINE)
_COUNT = re.compile(r"(?:exactly|nøyaktig) (\d+)")
# The content between the prompt's marker lines, whose tag the content cannot hold: a
# marker line of another tag inside the content is content.
_CONTENT = re.compile(
    r"^<<<CONTENT-([0-9a-f]{16})>>>\n(.*?)\n<<<END-CONTENT-\1>>>$", re.MULTILINE | re.DOTALL
)


PromptKind = Literal["generate", "topup", "repair"]


@dataclass(frozen=True)
class ParsedPrompt:
    """What a prompt asks for, read from its text alone."""

    language: Language
    kind: PromptKind
    module_name: str | None
    content: str | None
    count: int | None
    question_type: QuestionType | None
    difficulty: Difficulty | None
    avoid_texts: list[str]
    # (question as shown, reason) per rejected question of a repair prompt.
    rejected: list[tuple[dict[str, Any] | None, str]]


def parse_prompt(user: str) -> ParsedPrompt:
    # As a model told so would: the content is data; only the rest of the prompt instructs.
    content = _CONTENT.search(user)
    if content:
        user = user[: content.start()] + "<<<CONTENT>>>" + user[content.end() :]
    language = Language.NORWEGIAN if "Fagstoff:" in user else Language.ENGLISH
    words = _words(language)
    repair, topup = {
        Language.ENGLISH: ("were rejected", r"Write exactly \d+ more "),
        Language.NORWEGIAN: ("ble avvist", r"nøyaktig \d+ nye "),
    }[language]
    kind: PromptKind = (
        "repair" if repair in user else "topup" if re.search(topup, user) else "generate"
    )
    name = re.search(r"^(?:Module|Modul): (.*)$", user, re.MULTILINE)
    counts = _COUNT.findall(user)
    type_names = {text: QuestionType(key) for key, text in words["question_type"].items()}
    question_type = None
    for pattern in _TYPE_PATTERNS[language]:
        if (found := pattern.search(user)) and found.group(1) in type_names:
            question_type = type_names[found.group(1)]
            break
    difficulty = next(
        (Difficulty(key) for key, text in words["difficulty"].items() if text in user), None
    )
    avoid: list[str] = []
    header = _AVOID_HEADER[language]
    if header in user:
        for line in user.split(header, 1)[1].lstrip("\n").splitlines():
            if not line.startswith("- "):
                break
            avoid.append(line[2:])
    rejected: list[tuple[dict[str, Any] | None, str]] = []
    for shown, reason in _REJECTED_LINE.findall(user.split(header, 1)[0]):
        question = None if shown == "(not shown)" else json.loads(shown)
        rejected.append((question, reason))
    return ParsedPrompt(
        language=language,
        kind=kind,
        module_name=name.group(1) if name else None,
        content=content.group(2) if content else None,
        # Every template ends with "... exactly N items"; rules may say "exactly one".
        count=int(counts[-1]) if counts else None,
        question_type=question_type,
        difficulty=difficulty,
        avoid_texts=avoid,
        rejected=rejected,
    )

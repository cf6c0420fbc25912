"""Prompts for the LLM, kept as files per language (`en/`, `no/`), filled from a request.

- `generate.txt`: the batch's first call of a round.
- `repair.txt`: sends back only the rejected questions, each with its reason.
- `topup.txt`: asks for the missing count; the accepted questions are listed
  (`avoid.txt`) so that the model does not repeat them.
- `types/<question_type>.txt`: the rules of each question type, in words.
- `words.json`: tone, difficulty and type names in the language.

Templates use `string.Template` (`$name`), so JSON braces in them need no escaping.

The module's content is untrusted text, and it may hold anything, instructions
and fake markers included. It goes between the marker lines
`<<<CONTENT-{tag}>>>` and `<<<END-CONTENT-{tag}>>>` (`content_markers`), whose
tag is 16 hex digits the content cannot hold (another is drawn if it does),
and the system prompt and the template say that what is between them is
course material: data to write questions about, never instructions.

The tag is keyed with a secret drawn (`secrets`) when the process starts, so
nobody writing content can know it; it is the same for every call about the
same content in one worker, so that the prompts of a module's calls keep
sharing their prefix through the content (prompt caching, below). A tag drawn
anew per call would end that prefix before the content.

Layout for prompt caching: what all calls of a module share (the system
prompt, the module's content) comes first, then what all batches of a type
share (the rules), and only then what varies (count, difficulty, the
questions to avoid or repair). Providers with automatic prompt caching bill
the repeated prefix at a fraction of the price.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from pydantic import BaseModel, create_model

from quizgen.domain import Language, QuestionType
from quizgen.llm.base import GenerationRequest
from quizgen.questions import QUESTION_MODELS
from quizgen.validation import Rejection

__all__ = [
    "MAX_AVOID_IN_PROMPT",
    "Prompt",
    "build_prompt",
    "content_markers",
    "response_schema",
]

# Listing every existing question costs tokens; the validator checks them all anyway.
MAX_AVOID_IN_PROMPT = 60
MAX_REJECTED_IN_PROMPT = 20


# This process's key for content tags: nobody who writes content can know it.
_TAG_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str


def content_markers(content: str, *others: str) -> tuple[str, str]:
    """The lines that open and close `content` in a prompt, with a tag none of the texts hold.

    `others` are more untrusted texts of the prompt (the module's name) that must
    not hold the tag either.
    """
    texts = (content, *others)
    data = content.encode("utf-8", "surrogatepass")
    draw = 0
    while True:
        message = draw.to_bytes(4, "big") + data
        tag = hmac.new(_TAG_KEY, message, hashlib.sha256).hexdigest()[:16]
        if not any(tag in text for text in texts):
            return f"<<<CONTENT-{tag}>>>", f"<<<END-CONTENT-{tag}>>>"
        draw += 1


@cache
def _text(language: Language, name: str) -> str:
    return files(__name__).joinpath(language.value, name).read_text(encoding="utf-8")


@cache
def _words(language: Language) -> dict[str, dict[str, str]]:
    words: dict[str, dict[str, str]] = json.loads(_text(language, "words.json"))
    return words


def _avoid_block(request: GenerationRequest) -> str:
    if not request.avoid_texts:
        return ""
    listed = "\n".join(f"- {text}" for text in request.avoid_texts[:MAX_AVOID_IN_PROMPT])
    return Template(_text(request.language, "avoid.txt")).substitute(questions=listed)


def _shown_rejections(request: GenerationRequest) -> list[Rejection]:
    # A rejection too large to echo cannot be fixed by the model; it is simply replaced.
    return [r for r in request.repair if r.question is not None][:MAX_REJECTED_IN_PROMPT]


def _rejected_block(rejections: list[Rejection]) -> str:
    return "\n".join(
        f"- {json.dumps(r.question, ensure_ascii=False)}\n  reason: {r.reason}" for r in rejections
    )


def _new_questions(language: Language, extra: int) -> str:
    """The repair prompt's request for questions beyond the fixed ones."""
    if extra <= 0:
        return ""
    if language is Language.NORWEGIAN:
        return f" Skriv i tillegg {extra} nye spørsmål."
    return f" Also write {extra} new questions."


def build_prompt(request: GenerationRequest) -> Prompt:
    words = _words(request.language)
    shown = _shown_rejections(request)
    if shown:
        template = "repair.txt"
    elif request.call_index > 0:
        template = "topup.txt"
    else:
        template = "generate.txt"
    begin, end = content_markers(request.content, request.module_name)
    fields: dict[str, Any] = {
        "module_name": request.module_name,
        "content": request.content,
        "begin": begin,
        "end": end,
        "count": request.count,
        "type_name": words["question_type"][request.question_type.value],
        "difficulty": words["difficulty"][request.difficulty.value],
        "type_rules": _text(request.language, f"types/{request.question_type.value}.txt").strip(),
        "avoid": _avoid_block(request),
        "rejected": _rejected_block(shown),
        "new_questions": _new_questions(request.language, request.count - len(shown)),
    }
    system = Template(_text(request.language, "system.txt")).substitute(
        tone=words["tone"][request.tone.value]
    )
    user = Template(_text(request.language, template)).substitute(fields)
    return Prompt(system=system.strip(), user=user.strip())


@cache
def _envelope(question_type: QuestionType) -> type[BaseModel]:
    return create_model(
        f"{question_type.value.title().replace('_', '')}Questions",
        questions=(list[QUESTION_MODELS[question_type]], ...),  # type: ignore[valid-type]
    )


def response_schema(question_type: QuestionType) -> dict[str, Any]:
    """JSON schema of `{"questions": [...]}` for the type, from the pydantic models."""
    return _envelope(question_type).model_json_schema()

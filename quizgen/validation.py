"""Turn untrusted generator output into valid questions plus readable rejections.

LLM output is input from outside (invariant 6): it is size-limited, parsed as
JSON only (never evaluated), checked against the question type's schema and
rules, and de-duplicated on normalised question text against the questions the
quiz already has and against each other.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from quizgen.domain import QuestionType
from quizgen.errors import MAX_REASON_CHARS, OutputFormatError, cap_message
from quizgen.questions import QUESTION_MODELS, normalize_text, text_hash

__all__ = [
    "DUPLICATE_REASON",
    "MAX_OUTPUT_CHARS",
    "Rejection",
    "ValidationReport",
    "describe_problems",
    "parse_output",
    "validate_output",
    "validate_questions",
]

MAX_OUTPUT_CHARS = 400_000
# Rejected questions are echoed back to the LLM in repair prompts: keep them short.
_MAX_ECHO_CHARS = 4_000
# No question type nests deeper than 4 (categorization: items -> item -> field);
# anything much deeper is garbage, refused before it reaches a schema or a database.
MAX_QUESTION_DEPTH = 8
# The reason of a question whose text the quiz (or the same answer) already has.
DUPLICATE_REASON = "duplicate: the quiz already has a question with this text"


class Rejection(BaseModel):
    """A question that was not accepted, and why, in words a person can act on.

    `reason` is short valid UTF-8 whatever the LLM wrote; `question` is the
    candidate itself, kept only when it is small and well-formed enough to be
    stored and shown to the LLM again for repair.
    """

    model_config = ConfigDict(frozen=True)

    index: int
    reason: Annotated[str, AfterValidator(lambda r: cap_message(r, MAX_REASON_CHARS))]
    question: dict[str, Any] | None = None


class ValidationReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    question_type: QuestionType
    valid: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    # Set when the output as a whole was unusable (not JSON, too large, wrong shape).
    output_error: str | None = None


def parse_output(raw: str) -> list[Any]:
    """Accept `{"questions": [...]}` or a bare list; anything else is refused."""
    if len(raw) > MAX_OUTPUT_CHARS:
        raise OutputFormatError(
            f"output is {len(raw)} characters long; at most {MAX_OUTPUT_CHARS} are accepted"
        )
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise OutputFormatError(
            f"output is not valid JSON ({exc.msg} at position {exc.pos})"
        ) from None
    except (ValueError, RecursionError) as exc:
        # Absurd nesting or numbers: still untrusted input, never a crash.
        raise OutputFormatError(f"output is not usable JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("questions"), list):
        return list(data["questions"])
    if isinstance(data, list):
        return data
    raise OutputFormatError('output must be a JSON object {"questions": [...]} or a JSON list')


_MAX_ERRORS_DESCRIBED = 5


def describe_problems(exc: ValidationError) -> str:
    """A question's rule violations in words a person (or the LLM) can act on."""
    parts = []
    errors = exc.errors(include_url=False)
    for error in errors[:_MAX_ERRORS_DESCRIBED]:
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    if len(errors) > _MAX_ERRORS_DESCRIBED:
        parts.append(f"and {len(errors) - _MAX_ERRORS_DESCRIBED} more problems")
    return "; ".join(parts)


def _echo(candidate: dict[str, Any]) -> dict[str, Any] | None:
    return candidate if len(json.dumps(candidate)) <= _MAX_ECHO_CHARS else None


def _malformed(candidate: dict[str, Any]) -> str | None:
    """Why a parsed candidate cannot even be checked against a schema, or None.

    Walks iteratively: a candidate nested thousands of levels deep must not
    exhaust the stack here either.
    """
    stack: list[tuple[Any, int]] = [(candidate, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not _encodable(value):
                return "text contains an invalid Unicode character (a lone surrogate)"
            if "\x00" in value:
                # PostgreSQL stores no NUL in text or JSON: not even a rejected draft could keep it.
                return "text contains the NUL character (U+0000)"
        elif isinstance(value, dict | list):
            if depth > MAX_QUESTION_DEPTH:
                return f"the question is nested more than {MAX_QUESTION_DEPTH} levels deep"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    stack.append((key, depth))
                stack.append((item, depth + 1))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_questions(
    question_type: QuestionType,
    candidates: list[Any],
    existing_texts: Iterable[str] = (),
    existing_hashes: Collection[str] = (),
) -> ValidationReport:
    """Check each candidate against its type's rules and against the quiz's questions.

    `existing_texts` are texts the quiz already has; `existing_hashes` are
    `text_hash`es of more of them (cheaper to read than the texts).
    """
    model = QUESTION_MODELS[question_type]
    seen = {normalize_text(text) for text in existing_texts}
    valid: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    for index, candidate in enumerate(candidates):
        if not isinstance(candidate, dict):
            rejected.append(Rejection(index=index, reason="a question must be a JSON object"))
            continue
        if (problem := _malformed(candidate)) is not None:
            rejected.append(Rejection(index=index, reason=problem))
            continue
        try:
            question = model.model_validate(candidate)
        except ValidationError as exc:
            rejected.append(
                Rejection(index=index, reason=describe_problems(exc), question=_echo(candidate))
            )
            continue
        key = normalize_text(question.question_text)
        if key in seen or (
            existing_hashes and text_hash(question.question_text) in existing_hashes
        ):
            rejected.append(
                Rejection(index=index, reason=DUPLICATE_REASON, question=_echo(candidate))
            )
            continue
        seen.add(key)
        valid.append(question.model_dump(mode="json"))
    return ValidationReport(question_type=question_type, valid=valid, rejected=rejected)


def validate_output(
    question_type: QuestionType,
    raw: str,
    existing_texts: Iterable[str] = (),
    existing_hashes: Collection[str] = (),
) -> ValidationReport:
    """Parse and validate one generator answer."""
    try:
        candidates = parse_output(raw)
    except OutputFormatError as exc:
        return ValidationReport(question_type=question_type, output_error=str(exc))
    return validate_questions(question_type, candidates, existing_texts, existing_hashes)

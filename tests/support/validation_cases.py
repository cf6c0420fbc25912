"""Builders of candidate questions for the validation tests (tests/test_validation_*.py):
each returns a fresh, valid question, and `edit` changes a copy of one. A rule is one
`pytest.param(qtype, ok, bad, reason)` (`rule`); candidates go through `validate_output` as
JSON text, the way generator output does (`validate`)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from quizgen.domain import QuestionType
from quizgen.validation import validate_output

MC = QuestionType.MULTIPLE_CHOICE
TF = QuestionType.TRUE_FALSE
FIB = QuestionType.FILL_IN_BLANK
MATCHING = QuestionType.MATCHING
CAT = QuestionType.CATEGORIZATION

Q = dict[str, Any]


# --- builders: each returns a fresh, valid question -------------------------------------------


def mc(**over: Any) -> Q:
    return {
        "question_text": "Which planet is the largest?",
        "option_a": "Jupiter",
        "option_b": "Mars",
        "option_c": "Venus",
        "option_d": "Earth",
        "correct_answer": "A",
        "explanation": "Jupiter is the largest planet.",
        **over,
    }


def tf(**over: Any) -> Q:
    return {"question_text": "The sky is blue.", "correct_answer": True, "explanation": "", **over}


def blank(position: int, variations: int = 0) -> Q:
    return {
        "position": position,
        "correct_answer": f"answer {position}",
        "answer_variations": [f"variant {v}" for v in range(variations)],
    }


def fib(n: int = 1, **over: Any) -> Q:
    tags = " ".join(f"[blank_{i}]" for i in range(1, n + 1))
    return {
        "question_text": f"Fill in: {tags}",
        "blanks": [blank(i) for i in range(1, n + 1)],
        **over,
    }


def matching(n: int = 3, distractors: int = 0, **over: Any) -> Q:
    return {
        "question_text": "Match each country to its capital.",
        "pairs": [{"question": f"Country {i}", "answer": f"Capital {i}"} for i in range(n)],
        "distractors": [f"Wrong {i}" for i in range(distractors)],
        **over,
    }


def categorization(categories: int = 2, items: int = 4, distractors: int = 0, **over: Any) -> Q:
    """Items are dealt round-robin into the categories (so items >= categories)."""
    item_ids = [f"i{k}" for k in range(items)]
    return {
        "question_text": "Sort the items into their categories.",
        "categories": [
            {"id": f"c{c}", "name": f"Category {c}", "correct_items": item_ids[c::categories]}
            for c in range(categories)
        ],
        "items": [{"id": i, "text": f"Item {i}"} for i in item_ids],
        "distractors": [{"id": f"d{k}", "text": f"Distractor {k}"} for k in range(distractors)],
        **over,
    }


def edit(question: Q, change: Callable[[Q], object]) -> Q:
    """A copy of `question` with `change` applied in place (its return value is ignored)."""
    question = copy.deepcopy(question)
    change(question)
    return question


def rule(rule_id: str, qtype: QuestionType, ok: Q, bad: Q, reason: str) -> Any:
    return pytest.param(qtype, ok, bad, reason, id=rule_id)


def validate(qtype: QuestionType, *questions: object, existing: list[str] | None = None) -> Any:
    raw = json.dumps({"questions": list(questions)})
    return validate_output(qtype, raw, existing_texts=existing or [])

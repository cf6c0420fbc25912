"""Every validation rule of every question type, each with a passing and a failing case: a
rule is one `pytest.param(qtype, ok, bad, reason)`, where `ok` is a valid question at the
edge of the rule, `bad` is the same kind of question with only that rule broken, and
`reason` is the part of the rejection reason that names the offending field or rule (the
rules shared by every type are here, those of each type in tests/support/validation_rules.py);
and what a valid question is stored as. Candidates go through `validate_output` as JSON
text, the way generator output does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from quizgen.domain import QuestionType
from tests.support.validation_cases import (
    CAT,
    FIB,
    MATCHING,
    MC,
    TF,
    Q,
    blank,
    categorization,
    fib,
    matching,
    mc,
    rule,
    tf,
    validate,
)
from tests.support.validation_rules import (
    CAT_RULES,
    FIB_RULES,
    MATCHING_RULES,
    MC_RULES,
    TF_RULES,
)

pytestmark = pytest.mark.fast

BUILDERS: dict[QuestionType, Callable[..., Q]] = {
    MC: mc,
    TF: tf,
    FIB: fib,
    MATCHING: matching,
    CAT: categorization,
}
REQUIRED = {
    MC: ["question_text", "option_a", "option_b", "option_c", "option_d", "correct_answer"],
    TF: ["question_text", "correct_answer"],
    FIB: ["question_text", "blanks"],
    MATCHING: ["question_text", "pairs"],
    CAT: ["question_text", "categories", "items"],
}


def without(question: Q, field: str) -> Q:
    return {k: v for k, v in question.items() if k != field}


def text_of_length(question: Q, length: int) -> Q:
    """Pad (or cut) question_text to `length` characters, keeping its start (and blank tags)."""
    text = (question["question_text"] + " " + "x" * length)[:length]
    return {**question, "question_text": text}


# --- rules shared by every type ---------------------------------------------------------------


def _common_rules() -> list[Any]:
    rules = []
    for qtype, build in BUILDERS.items():
        t = qtype.value
        rules += [
            rule(
                f"{t}-question_text-not-blank",
                qtype,
                build(),
                build(question_text="   "),
                "question_text: String should have at least 1 character",
            ),
            rule(
                f"{t}-question_text-at-most-2000",
                qtype,
                text_of_length(build(), 2000),
                text_of_length(build(), 2001),
                "question_text: String should have at most 2000 characters",
            ),
            rule(
                f"{t}-explanation-at-most-1000",
                qtype,
                build(explanation="e" * 1000),
                build(explanation="e" * 1001),
                "explanation: String should have at most 1000 characters",
            ),
            rule(
                f"{t}-extra-field-rejected",
                qtype,
                build(),
                build(difficulty="easy"),
                "difficulty: Extra inputs are not permitted",
            ),
        ]
        rules += [
            rule(
                f"{t}-missing-{field}",
                qtype,
                build(),
                without(build(), field),
                f"{field}: Field required",
            )
            for field in REQUIRED[qtype]
        ]
    return rules


@pytest.mark.parametrize(
    ("qtype", "ok", "bad", "reason"),
    [*_common_rules(), *MC_RULES, *TF_RULES, *FIB_RULES, *MATCHING_RULES, *CAT_RULES],
)
def test_rule_passes_and_fails(qtype: QuestionType, ok: Q, bad: Q, reason: str) -> None:
    passed = validate(qtype, ok)
    assert passed.output_error is None
    assert passed.rejected == []
    assert len(passed.valid) == 1

    failed = validate(qtype, bad)
    assert failed.output_error is None
    assert failed.valid == []
    [rejection] = failed.rejected
    assert rejection.index == 0
    assert reason in rejection.reason


@pytest.mark.parametrize("qtype", list(BUILDERS))
def test_explanation_is_optional_and_defaults_to_empty(qtype: QuestionType) -> None:
    report = validate(qtype, without(BUILDERS[qtype](), "explanation"))
    [question] = report.valid
    assert question["explanation"] == ""


def test_valid_question_is_stored_stripped_with_defaults() -> None:
    report = validate(FIB, {"question_text": "  [blank_1] is red ", "blanks": [blank(1)]})
    [question] = report.valid
    assert question["question_text"] == "[blank_1] is red"
    assert question["blanks"][0]["answer_variations"] == []


@pytest.mark.parametrize("value", [True, False])
def test_true_false_keeps_a_real_bool(value: bool) -> None:
    [question] = validate(TF, tf(correct_answer=value)).valid
    assert question["correct_answer"] is value


@pytest.mark.parametrize(
    ("qtype", "question"),
    [
        pytest.param(TF, tf(correct_answer="yes"), id="tf-string-yes"),
        pytest.param(TF, tf(correct_answer="true"), id="tf-string-true"),
        pytest.param(TF, tf(correct_answer="off"), id="tf-string-off"),
        pytest.param(TF, tf(correct_answer=1), id="tf-int-1"),
        pytest.param(FIB, fib(1, blanks=[{**blank(1), "position": "1"}]), id="fib-position-str"),
        pytest.param(FIB, fib(1, blanks=[{**blank(1), "position": True}]), id="fib-position-bool"),
    ],
)
def test_wrongly_typed_values_are_rejected_not_coerced(qtype: QuestionType, question: Q) -> None:
    report = validate(qtype, question)
    assert report.valid == []
    [rejection] = report.rejected
    assert "correct_answer" in rejection.reason or "position" in rejection.reason

"""Validation of generator output as a whole: duplicates on normalised question text
(within one answer and against the quiz's existing questions), the shapes of output that
are accepted, unusable, oversized or hostile output, and rejections that stay bounded.
Candidates go through `validate_output` as JSON text, the way generator output does.
"""

from __future__ import annotations

import json

import pytest

from quizgen.questions import normalize_text
from quizgen.validation import MAX_OUTPUT_CHARS, validate_output, validate_questions
from tests.support.validation_cases import MC, TF, mc, tf, validate

pytestmark = pytest.mark.fast

# --- duplicates on normalised question text ---------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        pytest.param("What is X?", "  what is x ! ", True, id="case-punctuation-spacing"),
        pytest.param("Straße?", "STRASSE", True, id="casefold"),
        pytest.param("What is X?", "What is Y?", False, id="different-words"),
    ],
)
def test_normalize_text(a: str, b: str, same: bool) -> None:
    assert (normalize_text(a) == normalize_text(b)) is same


def test_duplicate_within_one_answer_is_rejected() -> None:
    report = validate(TF, tf(question_text="What is X?"), tf(question_text="  what is x ! "))
    assert [q["question_text"] for q in report.valid] == ["What is X?"]
    [rejection] = report.rejected
    assert rejection.index == 1
    assert "duplicate" in rejection.reason


def test_distinct_questions_in_one_answer_are_all_accepted() -> None:
    report = validate(TF, tf(question_text="What is X?"), tf(question_text="What is Y?"))
    assert report.rejected == []
    assert [normalize_text(q["question_text"]) for q in report.valid] == ["what is x", "what is y"]


def test_duplicate_of_existing_question_is_rejected() -> None:
    existing = [normalize_text("What is X?")]
    report = validate(MC, mc(question_text="  what is x ! "), existing=existing)
    assert report.valid == []
    [rejection] = report.rejected
    assert "duplicate" in rejection.reason and "already has" in rejection.reason


def test_question_not_in_existing_is_accepted() -> None:
    existing = [normalize_text("What is X?")]
    report = validate(MC, mc(question_text="What is Y?"), existing=existing)
    assert report.rejected == []
    assert len(report.valid) == 1


def test_rejected_question_does_not_reserve_its_text() -> None:
    report = validate(TF, tf(correct_answer="maybe"), tf())
    assert [r.index for r in report.rejected] == [0]
    assert len(report.valid) == 1


# --- the output as a whole --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(json.dumps({"questions": [tf()]}), id="object"),
        pytest.param(json.dumps([tf()]), id="bare-list"),
        pytest.param(json.dumps({"questions": [tf()], "note": "hi"}), id="object-extra-key"),
    ],
)
def test_output_shapes_accepted(raw: str) -> None:
    report = validate_output(TF, raw)
    assert report.output_error is None
    assert len(report.valid) == 1


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        pytest.param("Here are your questions: [", "output is not valid JSON", id="not-json"),
        pytest.param("", "output is not valid JSON", id="empty"),
        pytest.param("{}", "must be a JSON object", id="object-without-questions"),
        pytest.param('{"questions": {}}', "must be a JSON object", id="questions-not-a-list"),
        pytest.param('"questions"', "must be a JSON object", id="string"),
        pytest.param("null", "must be a JSON object", id="null"),
    ],
)
def test_unusable_output_sets_output_error(raw: str, error: str) -> None:
    report = validate_output(TF, raw)
    assert report.output_error is not None and error in report.output_error
    assert report.valid == [] and report.rejected == []


def test_output_size_limit() -> None:
    body = json.dumps([tf()])
    at_limit = body + " " * (MAX_OUTPUT_CHARS - len(body))
    assert len(validate_output(TF, at_limit).valid) == 1

    report = validate_output(TF, at_limit + " ")
    assert report.valid == []
    assert report.output_error is not None
    assert f"at most {MAX_OUTPUT_CHARS}" in report.output_error


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("[" * 100_000, id="deep-nesting"),
        pytest.param(
            '[{"question_text": "q", "correct_answer": ' + "1" * 5000 + "}]",
            id="huge-integer",
        ),
    ],
)
def test_hostile_json_sets_output_error(raw: str) -> None:
    assert len(raw) <= MAX_OUTPUT_CHARS
    report = validate_output(TF, raw)
    assert report.output_error is not None
    assert report.valid == []


def test_non_object_entries_are_rejected_one_by_one() -> None:
    report = validate(TF, tf(), "The sky is blue.", 3, None, [tf()])
    assert len(report.valid) == 1
    assert [r.index for r in report.rejected] == [1, 2, 3, 4]
    for rejection in report.rejected:
        assert rejection.reason == "a question must be a JSON object"
        assert rejection.question is None


def test_rejection_echoes_the_question_only_when_short() -> None:
    short = tf(correct_answer="maybe")
    long = tf(correct_answer="maybe", question_text="x" * 5000)
    report = validate_questions(TF, [short, long])
    assert [r.question for r in report.rejected] == [short, None]


def test_a_question_with_thousands_of_problems_gets_a_bounded_reason() -> None:
    # LLM output must not be able to inflate what travels into workflow history.
    hostile = {**tf(), **{f"extra_{i}": i for i in range(5000)}}
    [rejection] = validate_questions(TF, [hostile]).rejected
    assert "Extra inputs are not permitted" in rejection.reason
    assert "more problems" in rejection.reason
    assert len(rejection.reason) < 1000
    assert rejection.question is None  # too large to echo back in a repair prompt

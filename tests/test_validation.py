"""Every validation rule of every question type, each with a passing and a failing case.

A rule is one `pytest.param(qtype, ok, bad, reason)`: `ok` is a valid question at
the edge of the rule, `bad` is the same kind of question with only that rule
broken, and `reason` is the part of the rejection reason that names the
offending field or rule. Candidates go through `validate_output` as JSON text,
the way generator output does.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from quizgen.domain import QuestionType
from quizgen.questions import normalize_text
from quizgen.validation import MAX_OUTPUT_CHARS, validate_output, validate_questions

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


def edit(question: Q, change: Callable[[Q], object]) -> Q:
    """A copy of `question` with `change` applied in place (its return value is ignored)."""
    question = copy.deepcopy(question)
    change(question)
    return question


def without(question: Q, field: str) -> Q:
    return {k: v for k, v in question.items() if k != field}


def text_of_length(question: Q, length: int) -> Q:
    """Pad (or cut) question_text to `length` characters, keeping its start (and blank tags)."""
    text = (question["question_text"] + " " + "x" * length)[:length]
    return {**question, "question_text": text}


def rule(rule_id: str, qtype: QuestionType, ok: Q, bad: Q, reason: str) -> Any:
    return pytest.param(qtype, ok, bad, reason, id=rule_id)


def validate(qtype: QuestionType, *questions: object, existing: list[str] | None = None) -> Any:
    raw = json.dumps({"questions": list(questions)})
    return validate_output(qtype, raw, existing_texts=existing or [])


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


# --- rules of each type -----------------------------------------------------------------------

MC_RULES = [
    *(
        rule(
            f"mc-option_{x}-not-empty",
            MC,
            mc(),
            mc(**{f"option_{x}": " "}),
            f"option_{x}: String should have at least 1 character",
        )
        for x in "abcd"
    ),
    rule(
        "mc-option-at-most-500",
        MC,
        mc(option_c="c" * 500),
        mc(option_c="c" * 501),
        "option_c: String should have at most 500 characters",
    ),
    *(
        rule(
            f"mc-correct_answer-{answer or 'empty'}-not-in-A-D",
            MC,
            mc(correct_answer="D"),
            mc(correct_answer=answer),
            "correct_answer: Input should be 'A', 'B', 'C' or 'D'",
        )
        for answer in ["E", "a", ""]
    ),
    rule(
        "mc-options-distinct",
        MC,
        mc(),
        mc(option_d="  jupiter! "),
        "options must be distinct",
    ),
]

TF_RULES = [
    *(
        rule(
            f"tf-correct_answer-{value!r}-not-bool",
            TF,
            tf(correct_answer=False),
            tf(correct_answer=value),
            "correct_answer: Input should be a valid boolean",
        )
        for value in ["maybe", None, 2, ""]
    ),
]

FIB_RULES = [
    rule(
        "fib-at-least-1-blank",
        FIB,
        fib(1),
        fib(1, blanks=[]),
        "blanks: List should have at least 1 item",
    ),
    rule(
        "fib-at-most-10-blanks",
        FIB,
        fib(10),
        fib(11),
        "blanks: List should have at most 10 items",
    ),
    rule(
        "fib-text-has-a-blank-tag",
        FIB,
        fib(1),
        fib(1, question_text="Fill in: ___"),
        "question_text must contain at least one [blank_N] tag",
    ),
    rule(
        "fib-tag-without-blank",
        FIB,
        fib(2),
        fib(2, blanks=[blank(1)]),
        "must match the blank positions ([1]) exactly",
    ),
    rule(
        "fib-blank-without-tag",
        FIB,
        fib(2),
        fib(1, blanks=[blank(1), blank(2)]),
        "the [blank_N] tags in question_text ([1]) must match",
    ),
    rule(
        "fib-tag-and-position-differ",
        FIB,
        fib(1),
        fib(1, blanks=[blank(2)]),
        "tags in question_text ([1]) must match the blank positions ([2])",
    ),
    rule(
        "fib-duplicate-tag",
        FIB,
        fib(1),
        fib(1, question_text="[blank_1] and again [blank_1]"),
        "each [blank_N] tag may appear only once",
    ),
    rule(
        "fib-duplicate-position",
        FIB,
        fib(1),
        fib(1, blanks=[blank(1), blank(1)]),
        "each blank position may be used only once",
    ),
    rule(
        "fib-position-at-least-1",
        FIB,
        fib(1),
        fib(1, question_text="[blank_0]", blanks=[blank(0)]),
        "blanks.0.position: Input should be greater than or equal to 1",
    ),
    rule(
        "fib-position-at-most-10",
        FIB,
        fib(1, question_text="[blank_10]", blanks=[blank(10)]),
        fib(1, question_text="[blank_11]", blanks=[blank(11)]),
        "blanks.0.position: Input should be less than or equal to 10",
    ),
    rule(
        "fib-at-most-10-answer_variations",
        FIB,
        fib(1, blanks=[blank(1, variations=10)]),
        fib(1, blanks=[blank(1, variations=11)]),
        "blanks.0.answer_variations: List should have at most 10 items",
    ),
    rule(
        "fib-blank-correct_answer-not-empty",
        FIB,
        fib(1),
        edit(fib(1), lambda q: q["blanks"][0].update(correct_answer="")),
        "blanks.0.correct_answer: String should have at least 1 character",
    ),
    rule(
        "fib-blank-missing-correct_answer",
        FIB,
        fib(1),
        edit(fib(1), lambda q: q["blanks"][0].pop("correct_answer")),
        "blanks.0.correct_answer: Field required",
    ),
    rule(
        "fib-blank-extra-field",
        FIB,
        fib(1),
        edit(fib(1), lambda q: q["blanks"][0].update(hint="x")),
        "blanks.0.hint: Extra inputs are not permitted",
    ),
]

MATCHING_RULES = [
    rule(
        "matching-at-least-3-pairs",
        MATCHING,
        matching(3),
        matching(2),
        "pairs: List should have at least 3 items",
    ),
    rule(
        "matching-at-most-10-pairs",
        MATCHING,
        matching(10),
        matching(11),
        "pairs: List should have at most 10 items",
    ),
    rule(
        "matching-unique-pair-questions",
        MATCHING,
        matching(),
        edit(matching(), lambda q: q["pairs"][1].update(question="country 0.")),
        "pair questions must be distinct",
    ),
    rule(
        "matching-unique-pair-answers",
        MATCHING,
        matching(),
        edit(matching(), lambda q: q["pairs"][1].update(answer="CAPITAL 0")),
        "pair answers must be distinct",
    ),
    rule(
        "matching-at-most-5-distractors",
        MATCHING,
        matching(distractors=5),
        matching(distractors=6),
        "distractors: List should have at most 5 items",
    ),
    rule(
        "matching-distractors-distinct",
        MATCHING,
        matching(distractors=2),
        {**matching(), "distractors": ["Wrong", "wrong!"]},
        "distractors must be distinct",
    ),
    rule(
        "matching-distractor-is-a-correct-answer",
        MATCHING,
        matching(distractors=1),
        {**matching(), "distractors": ["Capital 2"]},
        "distractor 'Capital 2' is also a correct answer",
    ),
    rule(
        "matching-distractor-is-a-correct-answer-ignoring-case-and-punctuation",
        MATCHING,
        matching(distractors=1),
        {**matching(), "distractors": ["  capital-2! "]},
        "is also a correct answer",
    ),
    rule(
        "matching-pair-answer-not-empty",
        MATCHING,
        matching(),
        edit(matching(), lambda q: q["pairs"][0].update(answer="")),
        "pairs.0.answer: String should have at least 1 character",
    ),
    rule(
        "matching-pair-missing-question",
        MATCHING,
        matching(),
        edit(matching(), lambda q: q["pairs"][2].pop("question")),
        "pairs.2.question: Field required",
    ),
    rule(
        "matching-pair-extra-field",
        MATCHING,
        matching(),
        edit(matching(), lambda q: q["pairs"][0].update(score=1)),
        "pairs.0.score: Extra inputs are not permitted",
    ),
]


CAT_RULES = [
    rule(
        "cat-at-least-2-categories",
        CAT,
        categorization(categories=2),
        categorization(categories=1),
        "categories: List should have at least 2 items",
    ),
    rule(
        "cat-at-most-8-categories",
        CAT,
        categorization(categories=8, items=8),
        categorization(categories=9, items=9),
        "categories: List should have at most 8 items",
    ),
    rule(
        "cat-at-least-4-items",
        CAT,
        categorization(items=4),
        categorization(items=3),
        "items: List should have at least 4 items",
    ),
    rule(
        "cat-at-most-20-items",
        CAT,
        categorization(items=20),
        categorization(items=21),
        "items: List should have at most 20 items",
    ),
    rule(
        "cat-at-most-5-distractors",
        CAT,
        categorization(distractors=5),
        categorization(distractors=6),
        "distractors: List should have at most 5 items",
    ),
    rule(
        "cat-item-in-two-categories",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["categories"][1]["correct_items"].append("i0")),
        "item 'i0' is in both category 'c0' and 'c1'",
    ),
    rule(
        "cat-item-twice-in-one-category",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["categories"][0]["correct_items"].append("i0")),
        "category 'c0' lists item 'i0' twice",
    ),
    rule(
        "cat-item-in-no-category",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["categories"][0]["correct_items"].remove("i2")),
        "items ['i2'] belong to no category",
    ),
    rule(
        "cat-reference-to-unknown-item",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["categories"][1]["correct_items"].append("i99")),
        "category 'c1' refers to unknown item 'i99'",
    ),
    rule(
        "cat-distractor-listed-as-correct-item",
        CAT,
        categorization(distractors=1),
        edit(
            categorization(distractors=1),
            lambda q: q["categories"][0]["correct_items"].append("d0"),
        ),
        "category 'c0' lists distractor 'd0' as a correct item",
    ),
    rule(
        "cat-category-has-an-item",
        CAT,
        categorization(),
        edit(categorization(categories=3), lambda q: q["categories"][2].update(correct_items=[])),
        "categories.2.correct_items: List should have at least 1 item",
    ),
    rule(
        "cat-unique-category-ids",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["categories"][1].update(id="c0")),
        "category ids must be distinct",
    ),
    rule(
        "cat-unique-category-names",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["categories"][1].update(name="category 0")),
        "category names must be distinct",
    ),
    rule(
        "cat-unique-item-ids",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["items"][3].update(id="i0")),
        "item and distractor ids must be distinct",
    ),
    rule(
        "cat-distractor-id-differs-from-item-ids",
        CAT,
        categorization(distractors=1),
        edit(categorization(distractors=1), lambda q: q["distractors"][0].update(id="i0")),
        "item and distractor ids must be distinct",
    ),
    rule(
        "cat-unique-item-texts",
        CAT,
        categorization(distractors=1),
        edit(categorization(distractors=1), lambda q: q["distractors"][0].update(text="item i1")),
        "item and distractor texts must be distinct",
    ),
    rule(
        "cat-item-missing-text",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["items"][0].pop("text")),
        "items.0.text: Field required",
    ),
    rule(
        "cat-category-missing-name",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["categories"][0].pop("name")),
        "categories.0.name: Field required",
    ),
    rule(
        "cat-item-extra-field",
        CAT,
        categorization(),
        edit(categorization(), lambda q: q["items"][0].update(colour="red")),
        "items.0.colour: Extra inputs are not permitted",
    ),
]


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

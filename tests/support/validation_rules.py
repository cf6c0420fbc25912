"""The validation rules of each question type (`pytest.param(qtype, ok, bad, reason)`, see
tests/core/test_validation_rules.py), for `test_rule_passes_and_fails` there."""

from __future__ import annotations

from tests.support.validation_cases import (
    CAT,
    FIB,
    MATCHING,
    MC,
    TF,
    blank,
    categorization,
    edit,
    fib,
    matching,
    mc,
    rule,
    tf,
)

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

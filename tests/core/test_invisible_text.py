"""Invisible characters (zero-width, soft hyphen, bidi controls, BOM, ...) neither make a
text new nor count as text: two question texts, options, answers or names that differ only
by them are the same; a text, title or name made only of them is empty and refused (a
question as a readable rejection, never an exception). Combining marks are not invisible:
they count as the normal form (NFKC) says. Stored texts keep what was written."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from quizgen.domain import QuizSpec
from quizgen.questions import normalize_text, text_hash
from quizgen.text import has_visible_text, is_invisible, visible_text
from quizgen.validation import validate_questions
from tests.support.validation_cases import (
    CAT,
    FIB,
    MATCHING,
    MC,
    TF,
    categorization,
    edit,
    fib,
    matching,
    mc,
    tf,
    validate,
)

pytestmark = pytest.mark.fast

PLAIN = "What is mitosis?"

INVISIBLE = {
    "zero-width-space": "\u200b",
    "zwnj": "\u200c",
    "zwj": "\u200d",
    "word-joiner": "\u2060",
    "bom": "\ufeff",
    "soft-hyphen": "\u00ad",
    "lrm": "\u200e",
    "rlm": "\u200f",
    "lre": "\u202a",
    "rle": "\u202b",
    "pdf": "\u202c",
    "lro": "\u202d",
    "rlo": "\u202e",
    "lri": "\u2066",
    "rli": "\u2067",
    "fsi": "\u2068",
    "pdi": "\u2069",
    "arabic-letter-mark": "\u061c",
    "mongolian-vowel-separator": "\u180e",
    "hangul-filler": "\u3164",
    "variation-selector-16": "\ufe0f",
    "tag-a": "\U000e0041",
    "bell": "\x07",
}

VISIBLE = {
    "letter": "a",
    "combining-acute": "\u0301",
    "devanagari-vowel-sign": "\u093f",
    "arabic-number-sign": "\u0600",
    "space": " ",
    "tab": "\t",
    "newline": "\n",
    "no-break-space": "\u00a0",
}


# --- the definition ---------------------------------------------------------------------------


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_characters(char: str) -> None:
    assert is_invisible(char)
    assert visible_text(f"Wh{char}at") == "What"
    assert not has_visible_text(char * 3)
    assert not has_visible_text(f" {char}\t{char} ")


@pytest.mark.parametrize("char", VISIBLE.values(), ids=VISIBLE.keys())
def test_characters_that_are_not_invisible_are_kept(char: str) -> None:
    assert not is_invisible(char)
    assert visible_text(f"Wh{char}at") == f"Wh{char}at"


def test_whitespace_is_kept_but_is_not_visible_text() -> None:
    assert not has_visible_text(" \t\n\u00a0\u3000")
    assert has_visible_text("\u200b a \u200b")


# --- question texts: the duplicate key ----------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param("Wh\u200bat is mitosis?", id="zero-width-space"),
        pytest.param("What is mi\u00adto\u00adsis?", id="soft-hyphen"),
        pytest.param("\u202eWhat is mitosis?\u202c", id="bidi-override"),
        pytest.param("\u2067What\u2069 is \u200emitosis?\u200f", id="bidi-isolates-and-marks"),
        pytest.param("\ufeffWhat\u2060 is\u200d mitosis?", id="bom-joiners"),
    ],
)
def test_invisible_characters_do_not_make_a_question_new(variant: str) -> None:
    assert normalize_text(variant) == normalize_text(PLAIN) == "what is mitosis"
    assert text_hash(variant) == text_hash(PLAIN)
    within_one_answer = validate(TF, tf(question_text=PLAIN), tf(question_text=variant))
    assert [q["question_text"] for q in within_one_answer.valid] == [PLAIN]
    assert [r.reason for r in within_one_answer.rejected] == [
        "duplicate: the quiz already has a question with this text"
    ]
    against_texts = validate(MC, mc(question_text=variant), existing=[PLAIN])
    assert against_texts.valid == [] and "duplicate" in against_texts.rejected[0].reason
    against_hashes = validate_questions(
        TF, [tf(question_text=variant)], existing_hashes={text_hash(PLAIN)}
    )
    assert against_hashes.valid == [] and "duplicate" in against_hashes.rejected[0].reason


def test_a_question_keeps_its_invisible_characters_as_written() -> None:
    written = "\u2067What\u2069 is mi\u00adto\u00adsis?"
    report = validate(TF, tf(question_text=written))
    assert [q["question_text"] for q in report.valid] == [written]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        pytest.param("Café?", "Cafe\u0301?", True, id="nfc-equal-composed"),
        pytest.param("ﬁsh", "fish", True, id="nfkc-compatibility"),
        pytest.param("Café?", "Cafe?", False, id="accent-counts"),
        pytest.param("q\u0301 is?", "q is?", False, id="uncomposable-mark-counts"),
        pytest.param("किताब", "कताब", False, id="devanagari-vowel-sign-counts"),
        pytest.param("किताब", "क ताब", False, id="mark-does-not-split-a-word"),
        pytest.param("a \u0301b", "a b", True, id="detached-mark-is-punctuation"),
    ],
)
def test_combining_marks_count_as_the_normal_form_says(a: str, b: str, same: bool) -> None:
    assert (normalize_text(a) == normalize_text(b)) is same
    assert (text_hash(a) == text_hash(b)) is same


def test_a_combining_mark_is_not_stripped() -> None:
    assert normalize_text("e\u0301") == normalize_text("é") == "é"
    assert normalize_text("q\u0301") == "q\u0301"
    assert has_visible_text("e\u0301")


# --- empty texts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\u200b", id="zero-width-space"),
        pytest.param("\u200b\u00ad\u202e\ufeff", id="mixed-invisible"),
        pytest.param(" \u2060 \u200d ", id="invisible-and-spaces"),
    ],
)
def test_a_question_text_of_invisible_characters_is_rejected_not_raised(text: str) -> None:
    report = validate(TF, tf(question_text=text), tf())
    assert len(report.valid) == 1
    [rejection] = report.rejected
    assert rejection.index == 0
    assert rejection.reason.startswith("question_text: must contain text")
    assert "invisible characters" in rejection.reason


def test_the_hash_of_nothing_is_no_question() -> None:
    # "\u200b" hashes like "" (both normalise to nothing): neither is a question.
    assert text_hash("\u200b") == text_hash("") == text_hash("?!")
    for text in ["", "\u200b", "?!", "\u200b?"]:
        report = validate_questions(TF, [tf(question_text=text)], existing_hashes={text_hash("")})
        assert report.valid == [], text
        assert report.rejected[0].reason.startswith("question_text: "), text
    [punctuation] = validate(TF, tf(question_text="?!")).rejected
    assert "must contain a word" in punctuation.reason


def test_an_explanation_of_invisible_characters_is_as_fine_as_an_empty_one() -> None:
    report = validate(TF, tf(explanation="\u200b"))
    assert report.rejected == []


@pytest.mark.parametrize(
    ("qtype", "question", "where"),
    [
        pytest.param(MC, mc(option_c="\u200b"), "option_c", id="mc-option"),
        pytest.param(
            FIB,
            edit(fib(), lambda q: q["blanks"][0].update(correct_answer="\u00ad")),
            "blanks.0.correct_answer",
            id="blank-answer",
        ),
        pytest.param(
            FIB,
            edit(fib(), lambda q: q["blanks"][0].update(answer_variations=["\ufeff"])),
            "blanks.0.answer_variations.0",
            id="blank-variation",
        ),
        pytest.param(
            MATCHING,
            edit(matching(), lambda q: q["pairs"][1].update(answer="\u2066\u2069")),
            "pairs.1.answer",
            id="pair-answer",
        ),
        pytest.param(
            CAT,
            edit(categorization(), lambda q: q["items"][2].update(text="\u200d")),
            "items.2.text",
            id="item-text",
        ),
        pytest.param(
            CAT,
            edit(categorization(), lambda q: q["categories"][0].update(name="\u200e")),
            "categories.0.name",
            id="category-name",
        ),
    ],
)
def test_an_answer_or_option_of_invisible_characters_is_rejected(
    qtype: Any, question: dict[str, Any], where: str
) -> None:
    report = validate(qtype, question)
    assert report.valid == []
    [rejection] = report.rejected
    assert rejection.reason.startswith(f"{where}: must contain text, not only whitespace")


# --- distinct options, pairs, categories, items -------------------------------------------------


@pytest.mark.parametrize(
    ("qtype", "question", "reason"),
    [
        pytest.param(
            MC,
            mc(option_a="Paris", option_b="Par\u200bis"),
            "options must be distinct; 'Par\\u200bis' appears more than once "
            "(invisible characters do not count)",
            id="mc-options-zero-width",
        ),
        pytest.param(
            MC, mc(option_a="Paris", option_b="Pa\u00adris"), "options must be", id="soft-hyphen"
        ),
        pytest.param(
            MC,
            mc(option_a="Paris", option_b="\u202eParis\u202c"),
            "options must be",
            id="bidi-override",
        ),
        pytest.param(MC, mc(option_a="<", option_b="\u200b<"), "options must be", id="no-word"),
        pytest.param(
            MATCHING,
            edit(matching(), lambda q: q["pairs"][1].update(question="Coun\u2060try 0")),
            "pair questions must be distinct",
            id="pair-questions",
        ),
        pytest.param(
            MATCHING,
            edit(matching(), lambda q: q["pairs"][1].update(answer="Capital \ufeff0")),
            "pair answers must be distinct",
            id="pair-answers",
        ),
        pytest.param(
            MATCHING,
            edit(matching(), lambda q: q.update(distractors=["Capi\u200dtal 1"])),
            "is also a correct answer",
            id="distractor-is-an-answer",
        ),
        pytest.param(
            CAT,
            edit(categorization(), lambda q: q["categories"][1].update(name="Category\u200b 0")),
            "category names must be distinct",
            id="category-names",
        ),
        pytest.param(
            CAT,
            edit(categorization(), lambda q: q["items"][1].update(text="Item\u00ad i0")),
            "item and distractor texts must be distinct",
            id="item-texts",
        ),
    ],
)
def test_texts_differing_only_by_invisible_characters_are_not_distinct(
    qtype: Any, question: dict[str, Any], reason: str
) -> None:
    report = validate(qtype, question)
    assert report.valid == []
    [rejection] = report.rejected
    assert reason in rejection.reason


def test_options_without_words_are_still_told_apart() -> None:
    report = validate(MC, mc(option_a="<", option_b=">", option_c="=", option_d="≠"))
    assert report.rejected == []


def test_options_differing_by_a_combining_mark_are_distinct() -> None:
    assert validate(MC, mc(option_a="Cafe", option_b="Café")).rejected == []
    [rejection] = validate(MC, mc(option_a="Café", option_b="Cafe\u0301")).rejected
    assert "options must be distinct" in rejection.reason


# --- the quiz spec: title, module name and content ---------------------------------------------


def _spec(**over: Any) -> dict[str, Any]:
    module = {
        "module_id": "m1",
        "name": "Cells",
        "content": "Mitosis is cell division.",
        "batches": [{"question_type": "true_false", "count": 1}],
        **over.pop("module", {}),
    }
    return {"title": "Biology", "modules": [module], **over}


@pytest.mark.parametrize(
    ("spec", "loc", "message"),
    [
        pytest.param(_spec(title="\u200b"), ("title",), "title must contain text", id="title"),
        pytest.param(
            _spec(title="\u202e\u2066\u00ad "), ("title",), "title must contain", id="title-bidi"
        ),
        pytest.param(
            _spec(module={"name": "\u200b"}),
            ("modules", 0, "name"),
            "name must contain text, not only whitespace or invisible characters",
            id="module-name",
        ),
        pytest.param(
            _spec(module={"name": "\u200e\u200f"}),
            ("modules", 0, "name"),
            "name must contain text",
            id="module-name-bidi-marks",
        ),
        pytest.param(
            _spec(module={"name": "   "}),
            ("modules", 0, "name"),
            "name must contain text",
            id="module-name-whitespace",
        ),
        pytest.param(
            _spec(module={"content": "\ufeff\u200b\n"}),
            ("modules", 0, "content"),
            "content must contain text",
            id="module-content",
        ),
    ],
)
def test_a_spec_text_of_invisible_characters_is_refused(
    spec: dict[str, Any], loc: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        QuizSpec.model_validate(spec)
    [error] = caught.value.errors()
    assert error["loc"] == loc
    assert message in error["msg"]


def test_a_spec_keeps_invisible_characters_as_written() -> None:
    spec = QuizSpec.model_validate(
        _spec(title="\u2067Biologi\u2069", module={"name": "Cel\u00adler", "content": "e\u0301"})
    )
    assert spec.title == "\u2067Biologi\u2069"
    assert spec.modules[0].name == "Cel\u00adler"
    assert spec.modules[0].content == "e\u0301"

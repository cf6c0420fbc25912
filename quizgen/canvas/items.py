"""quizgen's questions as Canvas New Quizzes items, and New Quizzes items read back.

`new_quiz_item(...)` is the JSON body of
`POST /api/quiz/v1/courses/:course_id/quizzes/:assignment_id/items`, shaped as the
"Appendix: Question Types" of
https://developerdocs.instructure.com/services/canvas/resources/new_quiz_items shows each
type. It is pure: every id in it (choices, matching questions, categories, blanks) is a
UUID 5 of the question id, a role and an index, so the same question always gives the same
payload. `parse_new_quiz_item(...)` turns an item as Canvas stores and lists it back into
`(QuestionType, question JSON)`.

Common to every type: `item[entry_type]` "Item", `item[position]`, `item[points_possible]`,
`item[entry][title]` `"quizgen:<question_id>"` (the reconciliation key: after a lost
response, the exporter finds its item among the quiz's items by this title),
`item[entry][item_body]` the question text escaped as HTML in a `<p>` (`<script>` is
shown, not run; line breaks become `<br>`, as in quizgen.export.qti_items),
`calculator_type` "none", and the explanation, when not empty, as
`item[entry][feedback][neutral]` (shown after any answer, like QTI's `general_fb`).

- multiple_choice → `choice`: choices A-D (positions 1-4, bodies HTML), scoring_data
  value the right choice's id, `Equivalence`; not shuffled (as the QTI export).
- true_false → `true-false`: true_choice "True", false_choice "False" (as the QTI
  export: Canvas shows them in the course's language), value a boolean, `Equivalence`.
- matching → `matching`: one question per pair (body HTML); answers are the pairs'
  answers plus the distractors, sorted by text (so the k-th question's answer is not the
  k-th answer, as in the QTI export); value maps question id to answer text;
  `edit_data` keeps matches and distractors in quizgen's order; `PartialDeep`.
- categorization → `categorization`: categories in quizgen's order (`category_order`);
  the items and the distractors are all the draggable `distractors` of Canvas, each
  category scoring the ids of its items (`AllOrNothing`); quizgen's distractors are the
  entries no category scores. New Quizzes has such items natively, so the QTI export's
  extra "None of these" category is not needed here. `Categorization`.
- fill_in_blank → `rich-fill-blank`: each `[blank_N]` becomes
  `<span id="blank_<id>"></span>` in the body; each blank is `openEntry`, scored by
  `TextInChoices` with the correct answer and its variations (all accepted, as in the QTI
  export), blank_text the correct answer; `working_item_body` is the text with the
  correct answers in backticks; `MultipleMethods`.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from quizgen.domain import QuestionType
from quizgen.export.qti_items import answer_order, html_text, text_of_html
from quizgen.questions import (
    BLANK_TAG,
    QUESTION_MODELS,
    Categorization,
    FillInBlank,
    Matching,
    MultipleChoice,
    Question,
    TrueFalse,
)

__all__ = ["TITLE_PREFIX", "item_title", "new_quiz_item", "parse_new_quiz_item"]

TITLE_PREFIX = "quizgen:"
SLUGS: dict[QuestionType, str] = {
    QuestionType.MULTIPLE_CHOICE: "choice",
    QuestionType.TRUE_FALSE: "true-false",
    QuestionType.MATCHING: "matching",
    QuestionType.CATEGORIZATION: "categorization",
    QuestionType.FILL_IN_BLANK: "rich-fill-blank",
}
_TYPES = {slug: question_type for question_type, slug in SLUGS.items()}
# The namespace of every id quizgen gives a part of a New Quizzes item.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://quizgen/canvas/new-quiz-items")
_BLANK_SPAN = re.compile(r'<span id="blank_([^"]+)"></span>')
_MAX_BLANK = 10  # quizgen's Blank.position is 1..10


def part_id(question_id: str, role: str, index: int) -> str:
    """The deterministic id of one part (a choice, a blank, ...) of a question's item."""
    return str(uuid.uuid5(_NAMESPACE, f"{question_id}/{role}/{index}"))


def item_title(question_id: str) -> str:
    """The item's title: the key that finds a question's item in a quiz again."""
    return f"{TITLE_PREFIX}{question_id}"


def _html(text: str) -> str:
    return f"<p>{html_text(text)}</p>"


def _plain(body: str) -> str:
    """The text `_html` (or html_text) made into HTML."""
    if body.startswith("<p>") and body.endswith("</p>"):
        body = body[3:-4]
    return text_of_html(body)


def new_quiz_item(
    question_type: QuestionType | str,
    question_data: dict[str, Any],
    *,
    position: int,
    points: float,
    question_id: str,
) -> dict[str, Any]:
    """The `{"item": {...}}` body that creates this question in a New Quiz.

    `question_data` is checked against its type's model first (a `ValueError` if it does
    not fit). `item[entry][title]` is `"quizgen:<question_id>"`: it is the reconciliation
    key, by which an exporter that lost Canvas's answer finds the item it created.
    """
    kind = QuestionType(question_type)
    question = QUESTION_MODELS[kind].model_validate(question_data)
    entry: dict[str, Any] = {
        "title": item_title(question_id),
        "item_body": _html(question.question_text),
        "calculator_type": "none",
        "interaction_type_slug": SLUGS[kind],
    }
    entry.update(_entry(question, question_id))
    if question.explanation:
        entry["feedback"] = {"neutral": _html(question.explanation)}
    return {
        "item": {
            "position": position,
            "points_possible": points,
            "entry_type": "Item",
            "entry": entry,
        }
    }


def _entry(question: Question, qid: str) -> dict[str, Any]:
    if isinstance(question, MultipleChoice):
        return _choice(question, qid)
    if isinstance(question, TrueFalse):
        return {
            "interaction_data": {"true_choice": "True", "false_choice": "False"},
            "scoring_data": {"value": question.correct_answer},
            "scoring_algorithm": "Equivalence",
        }
    if isinstance(question, Matching):
        return _matching(question, qid)
    if isinstance(question, Categorization):
        return _categorization(question, qid)
    return _fill_blank(question, qid)


def _choice(q: MultipleChoice, qid: str) -> dict[str, Any]:
    options = [q.option_a, q.option_b, q.option_c, q.option_d]
    choices = [
        {"id": part_id(qid, "choice", i), "position": i + 1, "item_body": _html(text)}
        for i, text in enumerate(options)
    ]
    return {
        "interaction_data": {"choices": choices},
        "properties": {"shuffle_rules": {"choices": {"to_lock": [], "shuffled": False}}},
        "scoring_data": {"value": part_id(qid, "choice", "ABCD".index(q.correct_answer))},
        "scoring_algorithm": "Equivalence",
    }


def _matching(q: Matching, qid: str) -> dict[str, Any]:
    ids = [part_id(qid, "match", i) for i in range(len(q.pairs))]
    texts = [p.answer for p in q.pairs] + list(q.distractors)
    answers = sorted(texts, key=answer_order)
    matches = [
        {"question_id": mid, "question_body": _html(p.question), "answer_body": p.answer}
        for mid, p in zip(ids, q.pairs, strict=True)
    ]
    return {
        "interaction_data": {
            "questions": [
                {"id": mid, "item_body": _html(p.question)}
                for mid, p in zip(ids, q.pairs, strict=True)
            ],
            "answers": answers,
        },
        "properties": {"shuffle_rules": {"questions": {"shuffled": False}}},
        "scoring_data": {
            "value": {mid: p.answer for mid, p in zip(ids, q.pairs, strict=True)},
            "edit_data": {"matches": matches, "distractors": list(q.distractors)},
        },
        "scoring_algorithm": "PartialDeep",
    }


def _categorization(q: Categorization, qid: str) -> dict[str, Any]:
    category_ids = [part_id(qid, "category", i) for i in range(len(q.categories))]
    entries = [*q.items, *q.distractors]
    entry_ids = {e.id: part_id(qid, "item", i) for i, e in enumerate(entries)}
    return {
        "interaction_data": {
            "categories": {
                cid: {"id": cid, "item_body": _html(c.name)}
                for cid, c in zip(category_ids, q.categories, strict=True)
            },
            "distractors": {
                entry_ids[e.id]: {"id": entry_ids[e.id], "item_body": _html(e.text)}
                for e in entries
            },
            "category_order": category_ids,
        },
        "scoring_data": {
            "value": [
                {
                    "id": cid,
                    "scoring_data": {"value": [entry_ids[ref] for ref in c.correct_items]},
                    "scoring_algorithm": "AllOrNothing",
                }
                for cid, c in zip(category_ids, q.categories, strict=True)
            ],
            "score_method": "all_or_nothing",
        },
        "scoring_algorithm": "Categorization",
    }


def _fill_blank(q: FillInBlank, qid: str) -> dict[str, Any]:
    by_position = {b.position: b for b in q.blanks}

    def span(match: re.Match[str]) -> str:
        return f'<span id="blank_{part_id(qid, "blank", int(match.group(1)))}"></span>'

    def answer(match: re.Match[str]) -> str:
        return f"`{html.escape(by_position[int(match.group(1))].correct_answer)}`"

    return {
        "item_body": BLANK_TAG.sub(span, _html(q.question_text)),
        "interaction_data": {
            "blanks": [
                {"id": part_id(qid, "blank", b.position), "answer_type": "openEntry"}
                for b in q.blanks
            ]
        },
        "properties": {
            "shuffle_rules": {
                "blanks": {"children": {str(i): {"children": None} for i in range(len(q.blanks))}}
            }
        },
        "scoring_data": {
            "value": [
                {
                    "id": part_id(qid, "blank", b.position),
                    "scoring_algorithm": "TextInChoices",
                    "scoring_data": {
                        "value": [b.correct_answer, *b.answer_variations],
                        "blank_text": b.correct_answer,
                    },
                }
                for b in q.blanks
            ],
            "working_item_body": BLANK_TAG.sub(answer, _html(q.question_text)),
        },
        "scoring_algorithm": "MultipleMethods",
    }


# --- reading items back -------------------------------------------------------------------


def parse_new_quiz_item(item_json: dict[str, Any]) -> tuple[QuestionType, dict[str, Any]]:
    """A New Quizzes item (as `GET .../items` lists it, or a `new_quiz_item` body) as
    quizgen's question type and JSON, checked against the type's model.

    Categorization ids are not Canvas's: categories become `category_1`, ... and items
    (then distractors) `item_1`, ... in the item's order. Fill-in-the-blank positions are
    recovered from the blank ids, which needs the title quizgen gave the item.
    """
    item = item_json.get("item", item_json)
    entry: dict[str, Any] = item["entry"]
    kind = _TYPES.get(entry.get("interaction_type_slug", ""))
    if kind is None:
        raise ValueError(f"not a quizgen item type: {entry.get('interaction_type_slug')!r}")
    data: dict[str, Any] = entry["interaction_data"]
    scoring: dict[str, Any] = entry["scoring_data"]
    question: dict[str, Any] = {"question_text": _plain(entry["item_body"])}
    if kind is QuestionType.MULTIPLE_CHOICE:
        choices = sorted(data["choices"], key=lambda c: c["position"])
        for letter, choice in zip("abcd", choices, strict=True):
            question[f"option_{letter}"] = _plain(choice["item_body"])
        ids = [c["id"] for c in choices]
        question["correct_answer"] = "ABCD"[ids.index(scoring["value"])]
    elif kind is QuestionType.TRUE_FALSE:
        question["correct_answer"] = scoring["value"]
    elif kind is QuestionType.MATCHING:
        question.update(_parse_matching(data, scoring))
    elif kind is QuestionType.CATEGORIZATION:
        question.update(_parse_categorization(data, scoring))
    else:
        question.update(_parse_fill_blank(entry, data, scoring))
    feedback = (entry.get("feedback") or {}).get("neutral")
    if feedback:
        question["explanation"] = _plain(feedback)
    model = QUESTION_MODELS[kind].model_validate(question)
    return kind, model.model_dump(mode="json")


def _parse_matching(data: dict[str, Any], scoring: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, str] = scoring["value"]
    pairs = [
        {"question": _plain(q["item_body"]), "answer": value[q["id"]]} for q in data["questions"]
    ]
    edit_data = scoring.get("edit_data") or {}
    if "distractors" in edit_data:
        distractors = list(edit_data["distractors"])
    else:
        used = set(value.values())
        distractors = [a for a in data["answers"] if a not in used]
    return {"pairs": pairs, "distractors": distractors}


def _parse_categorization(data: dict[str, Any], scoring: dict[str, Any]) -> dict[str, Any]:
    entry_ids = {cid: f"item_{i}" for i, cid in enumerate(data["distractors"], start=1)}
    members = {rule["id"]: rule["scoring_data"]["value"] for rule in scoring["value"]}
    placed = {ref for refs in members.values() for ref in refs}
    categories = [
        {
            "id": f"category_{i}",
            "name": _plain(data["categories"][cid]["item_body"]),
            "correct_items": [entry_ids[ref] for ref in members[cid]],
        }
        for i, cid in enumerate(data["category_order"], start=1)
    ]
    entries = [
        {"id": entry_ids[cid], "text": _plain(e["item_body"]), "placed": cid in placed}
        for cid, e in data["distractors"].items()
    ]
    return {
        "categories": categories,
        "items": [{"id": e["id"], "text": e["text"]} for e in entries if e["placed"]],
        "distractors": [{"id": e["id"], "text": e["text"]} for e in entries if not e["placed"]],
    }


def _parse_fill_blank(
    entry: dict[str, Any], data: dict[str, Any], scoring: dict[str, Any]
) -> dict[str, Any]:
    title = entry.get("title") or ""
    if not title.startswith(TITLE_PREFIX):
        raise ValueError("a fill-in-the-blank item without quizgen's title cannot be read back")
    qid = title.removeprefix(TITLE_PREFIX)
    positions = {part_id(qid, "blank", n): n for n in range(1, _MAX_BLANK + 1)}

    def tag(match: re.Match[str]) -> str:
        return f"[blank_{positions[match.group(1)]}]"

    rules = {rule["id"]: rule for rule in scoring["value"]}
    blanks = []
    for blank in data["blanks"]:
        accepted = rules[blank["id"]]["scoring_data"]["value"]
        if isinstance(accepted, str):
            accepted = [accepted]
        blanks.append(
            {
                "position": positions[blank["id"]],
                "correct_answer": accepted[0],
                "answer_variations": list(accepted[1:]),
            }
        )
    return {"question_text": _plain(_BLANK_SPAN.sub(tag, entry["item_body"])), "blanks": blanks}

"""quizgen.canvas.items against the Canvas stand-in: every question type, in English and
Norwegian and with HTML-special characters, is accepted as a New Quizzes item and reads
back as the same question; payloads are deterministic; no scoring data, no item."""

from __future__ import annotations

import copy
import json

import httpx
import pytest

from deploy.local.canvas import CanvasStandIn
from quizgen.canvas.items import item_title, new_quiz_item, parse_new_quiz_item
from quizgen.domain import QuestionType
from tests.support.canvas_questions import CASES
from tests.support.canvas_questions import canonical as _canonical
from tests.support.canvas_questions import questions as _questions

pytestmark = pytest.mark.fast


async def _teacher(canvas: CanvasStandIn) -> tuple[int, httpx.AsyncClient]:
    course = canvas.add_course("Biologi 101", "BIO101")
    token = canvas.add_user("Åse Lærer", teacher_of=[course])
    http = httpx.AsyncClient(
        base_url=canvas.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return course, http


async def _quiz(http: httpx.AsyncClient, course: int) -> str:
    response = await http.post(
        f"/api/quiz/v1/courses/{course}/quizzes", json={"quiz": {"title": "Celler æøå"}}
    )
    assert response.status_code == 200, response.text
    quiz_id = response.json()["id"]
    assert isinstance(quiz_id, str)
    return f"/api/quiz/v1/courses/{course}/quizzes/{quiz_id}/items"


@pytest.mark.parametrize(("kind", "lang"), CASES)
async def test_accepted_and_read_back(kind: QuestionType, lang: str) -> None:
    question = _questions(lang)[kind]
    qid = f"q-{kind.value}-{lang}"
    payload = new_quiz_item(kind, question, position=1, points=2.5, question_id=qid)
    async with CanvasStandIn() as canvas:
        course, http = await _teacher(canvas)
        async with http:
            url = await _quiz(http, course)
            created = await http.post(url, json=payload)
            assert created.status_code == 200, created.text
            listed = (await http.get(url)).json()
    assert len(listed) == 1
    item = listed[0]
    assert item["entry_type"] == "Item" and item["position"] == 1
    assert item["points_possible"] == 2.5
    assert item["entry"]["title"] == item_title(qid) == f"quizgen:{qid}"
    assert (
        item["entry"]["interaction_type_slug"]
        == {
            QuestionType.MULTIPLE_CHOICE: "choice",
            QuestionType.TRUE_FALSE: "true-false",
            QuestionType.FILL_IN_BLANK: "rich-fill-blank",
            QuestionType.MATCHING: "matching",
            QuestionType.CATEGORIZATION: "categorization",
        }[kind]
    )
    # The text is escaped: no markup of the question's own reaches Canvas.
    body = item["entry"]["item_body"]
    assert "<script>" not in body and "<b>" not in body and "<div>" not in body
    assert "&lt;" in body and "&amp;" in body
    assert "<script>" not in json.dumps(item["entry"], ensure_ascii=False)
    if lang == "no":
        assert any(c in body for c in "æøå")
    parsed_kind, parsed = parse_new_quiz_item(item)
    assert parsed_kind is kind
    assert parsed == _canonical(kind, question)
    # The POST body reads back the same way.
    assert parse_new_quiz_item(payload) == (kind, parsed)


def test_deterministic() -> None:
    for lang in ("en", "no"):
        for kind, question in _questions(lang).items():
            first = new_quiz_item(kind, question, position=3, points=1, question_id="abc")
            again = new_quiz_item(
                kind.value, copy.deepcopy(question), position=3, points=1, question_id="abc"
            )
            assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
            other = new_quiz_item(kind, question, position=3, points=1, question_id="abd")
            assert other["item"]["entry"]["title"] != first["item"]["entry"]["title"]
            if kind not in (QuestionType.TRUE_FALSE,):
                assert (
                    other["item"]["entry"]["scoring_data"] != first["item"]["entry"]["scoring_data"]
                ), kind


def test_rich_fill_blank_body_holds_the_blanks() -> None:
    question = _questions("en")[QuestionType.FILL_IN_BLANK]
    entry = new_quiz_item(
        QuestionType.FILL_IN_BLANK, question, position=1, points=1, question_id="q"
    )["item"]["entry"]
    ids = [b["id"] for b in entry["interaction_data"]["blanks"]]
    for blank_id in ids:
        assert f'<span id="blank_{blank_id}"></span>' in entry["item_body"]
    assert "[blank_" not in entry["item_body"]
    working = entry["scoring_data"]["working_item_body"]
    assert "`mitochondrion`" in working and "`&lt;ribosome&gt;`" in working
    rules = {r["id"]: r for r in entry["scoring_data"]["value"]}
    assert rules[ids[1]]["scoring_data"]["value"] == ["mitochondrion", "mitochondria", "A & B"]
    assert rules[ids[1]]["scoring_algorithm"] == "TextInChoices"


def test_invalid_question_is_refused_before_canvas() -> None:
    broken = dict(_questions("en")[QuestionType.MULTIPLE_CHOICE], correct_answer="E")
    with pytest.raises(ValueError):
        new_quiz_item(QuestionType.MULTIPLE_CHOICE, broken, position=1, points=1, question_id="q")


@pytest.mark.parametrize("kind", list(QuestionType))
async def test_missing_scoring_data_is_refused(kind: QuestionType) -> None:
    payload = new_quiz_item(
        kind, _questions("no")[kind], position=1, points=1, question_id="q-missing"
    )
    del payload["item"]["entry"]["scoring_data"]
    async with CanvasStandIn() as canvas:
        course, http = await _teacher(canvas)
        async with http:
            url = await _quiz(http, course)
            response = await http.post(url, json=payload)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "item[entry][scoring_data]"
            assert (await http.get(url)).json() == []

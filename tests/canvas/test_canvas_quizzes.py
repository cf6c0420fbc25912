"""New Quizzes on the stand-in through real HTTP: quizzes, the five item types quizgen exports
accepted in their documented shape and refused out of it, PATCH and DELETE."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.canvas import payloads
from tests.canvas.conftest import Setup
from tests.canvas.test_canvas_reads import follow, links

pytestmark = pytest.mark.fast


async def new_quiz(setup: Setup, **fields: Any) -> str:
    body = {"quiz": {"title": "Cells", "points_possible": 10, **fields}}
    response = await setup.http.post(f"/api/quiz/v1/courses/{setup.course}/quizzes", json=body)
    assert response.status_code == 200, response.text
    quiz_id = response.json()["id"]
    assert isinstance(quiz_id, str)
    return quiz_id


def quizzes_url(setup: Setup) -> str:
    return f"/api/quiz/v1/courses/{setup.course}/quizzes"


def items_url(setup: Setup, quiz: str) -> str:
    return f"/api/quiz/v1/courses/{setup.course}/quizzes/{quiz}/items"


async def test_quiz_create_show_delete(setup: Setup) -> None:
    quiz = await new_quiz(setup, instructions="<p>Go</p>", published=False)
    url = f"/api/quiz/v1/courses/{setup.course}/quizzes/{quiz}"
    shown = (await setup.http.get(url)).json()
    assert shown["title"] == "Cells" and shown["points_possible"] == 10.0
    assert shown["instructions"] == "<p>Go</p>" and shown["published"] is False
    assert setup.canvas.quizzes(setup.course)[0]["id"] == quiz

    bad = await setup.http.post(
        f"/api/quiz/v1/courses/{setup.course}/quizzes", json={"quiz": {"points_possible": "ten"}}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quiz[title]"

    assert (await setup.http.delete(url)).json()["id"] == quiz
    assert (await setup.http.get(url)).status_code == 404
    assert setup.canvas.quizzes(setup.course) == []


async def test_list_quizzes_oldest_first(setup: Setup) -> None:
    assert (await setup.http.get(quizzes_url(setup))).json() == []
    ids = [await new_quiz(setup, title=f"Quiz {i}") for i in range(3)]
    listed = await setup.http.get(quizzes_url(setup))
    assert listed.status_code == 200, listed.text
    assert [q["id"] for q in listed.json()] == ids
    assert [q["title"] for q in listed.json()] == ["Quiz 0", "Quiz 1", "Quiz 2"]
    assert listed.json() == setup.canvas.quizzes(setup.course)  # what show answers, each
    shown = await setup.http.get(f"{quizzes_url(setup)}/{ids[1]}")
    assert listed.json()[1] == shown.json()
    assert set(links(listed)) == {"current", "first", "last"}  # one page

    await setup.http.delete(f"{quizzes_url(setup)}/{ids[0]}")
    assert [q["id"] for q in (await setup.http.get(quizzes_url(setup))).json()] == ids[1:]


async def test_list_quizzes_refusals(setup: Setup) -> None:
    await new_quiz(setup)
    other = setup.canvas.add_course("Chemistry 101")
    student = setup.canvas.add_user("Sam Student", student_of=[setup.course])
    stranger = setup.canvas.add_user("Olly Outsider", teacher_of=[other])
    for token in (student, stranger):
        async with httpx.AsyncClient(
            base_url=setup.canvas.base_url, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            response = await http.get(quizzes_url(setup))
            assert response.status_code == 403, response.text
            assert response.json()["status"] == "unauthorized"
    for course in ("424242", "abc"):
        missing = await setup.http.get(f"/api/quiz/v1/courses/{course}/quizzes")
        assert missing.status_code == 404, missing.text


async def test_list_quizzes_follow_link_next(setup: Setup) -> None:
    ids = [await new_quiz(setup, title=f"Quiz {i}") for i in range(5)]
    url = f"{quizzes_url(setup)}?per_page=2"
    first = await setup.http.get(url)
    assert [q["id"] for q in first.json()] == ids[:2]
    rels = links(first)
    assert set(rels) == {"current", "next", "first", "last"}  # no prev on the first page
    for link in rels.values():
        assert link.startswith(f"{setup.canvas.base_url}{quizzes_url(setup)}?")
        assert "per_page=2" in link

    second = await setup.http.get(rels["next"])
    assert [q["id"] for q in second.json()] == ids[2:4]
    assert set(links(second)) == {"current", "next", "prev", "first", "last"}

    last = await setup.http.get(rels["last"])
    assert [q["id"] for q in last.json()] == ids[4:]
    assert "next" not in links(last) and "prev" in links(last)

    rows, pages = await follow(setup.http, url)
    assert [row["id"] for row in rows] == ids and pages == 3

    bad = await setup.http.get(f"{quizzes_url(setup)}?per_page=two")
    assert bad.status_code == 400


@pytest.mark.parametrize("slug", list(payloads.ALL))
async def test_each_type_accepted_in_its_documented_shape(setup: Setup, slug: str) -> None:
    quiz = await new_quiz(setup)
    payload = payloads.ALL[slug]()
    response = await setup.http.post(items_url(setup, quiz), json=payload)
    assert response.status_code == 200, response.text
    item = response.json()
    assert isinstance(item["id"], str) and item["position"] == 1 and item["entry_type"] == "Item"
    assert item["entry"] == payload["item"]["entry"]
    stored = setup.canvas.quiz_items(setup.course, quiz)
    assert [i["entry"]["interaction_type_slug"] for i in stored] == [slug]
    assert (await setup.http.get(items_url(setup, quiz))).json() == stored


def _parent(payload: dict[str, Any], path: str) -> tuple[Any, str | int]:
    *parents, last = path.split(".")
    target: Any = payload["item"]
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    return target, int(last) if isinstance(target, list) else last


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        target, key = _parent(payload, path)
        del target[key]

    return change


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        target, key = _parent(payload, path)
        target[key] = value

    return change


VARIANTS = "rich-fill-blank-variants"
# (type, change, field as a dotted path under item: "entry.scoring_data" is
# item[entry][scoring_data])
REFUSED = [
    # missing scoring data, per type
    *[(slug, _drop("entry.scoring_data"), "entry.scoring_data") for slug in payloads.ALL],
    # wrong types and values
    ("choice", _set("entry.scoring_data.value", "c9"), "entry.scoring_data.value"),
    (
        "choice",
        _set("entry.interaction_data.choices", {"c1": "A"}),
        "entry.interaction_data.choices",
    ),
    ("choice", _set("entry.scoring_algorithm", "AllOrNothing"), "entry.scoring_algorithm"),
    ("true-false", _set("entry.scoring_data.value", "true"), "entry.scoring_data.value"),
    (
        "true-false",
        _drop("entry.interaction_data.false_choice"),
        "entry.interaction_data.false_choice",
    ),
    (
        "matching",
        _set("entry.scoring_data.value", {"q1": "Energy"}),
        "entry.scoring_data.value",
    ),
    (
        "matching",
        _set("entry.interaction_data.answers", "Energy"),
        "entry.interaction_data.answers",
    ),
    (
        "categorization",
        _set("entry.interaction_data.category_order", ["k1"]),
        "entry.interaction_data.category_order",
    ),
    (
        "categorization",
        _set("entry.scoring_data.value", {"k1": ["d1"]}),
        "entry.scoring_data.value",
    ),
    (
        "rich-fill-blank",
        _drop("entry.scoring_data.working_item_body"),
        "entry.scoring_data.working_item_body",
    ),
    (
        "rich-fill-blank",
        _set("entry.interaction_data.blanks.0.answer_type", "free"),
        "entry.interaction_data.blanks.0.answer_type",
    ),
    (
        "rich-fill-blank",
        _set("entry.scoring_data.value.0.scoring_data.value", 7),
        "entry.scoring_data.value.0.scoring_data.value",
    ),
    (
        VARIANTS,
        _set("entry.scoring_data.value.0.scoring_data.value", "Plant"),
        "entry.scoring_data.value.0.scoring_data.value",
    ),
    (
        VARIANTS,
        _set("entry.scoring_data.value.0.scoring_algorithm", "TextEquivalence"),
        "entry.scoring_data.value.0.scoring_algorithm",
    ),
    (
        VARIANTS,
        _set("entry.scoring_data.value.1.scoring_data.edit_distance", 0),
        "entry.scoring_data.value.1.scoring_data.edit_distance",
    ),
    (
        VARIANTS,
        _set("entry.scoring_data.value.2.scoring_data.value", "cellulose"),
        "entry.scoring_data.value.2.scoring_data.value",
    ),
    (VARIANTS, _drop("entry.scoring_data.value.2"), "entry.scoring_data.value"),
    # the item's own fields, and unknown types
    ("choice", _set("points_possible", "1"), "points_possible"),
    ("choice", _set("points_possible", 0), "points_possible"),
    ("choice", _set("entry_type", "Stimulus"), "entry_type"),
    ("choice", _set("position", "first"), "position"),
    ("choice", _drop("entry.item_body"), "entry.item_body"),
    ("choice", _set("entry.feedback", {"neutral": 3}), "entry.feedback.neutral"),
    (
        "choice",
        _set("entry.interaction_type_slug", "multiple-choice"),
        "entry.interaction_type_slug",
    ),
    (
        "essay",
        _set("entry.interaction_type_slug", "fill-in-the-blank"),
        "entry.interaction_type_slug",
    ),
]


@pytest.mark.parametrize(("slug", "change", "field"), REFUSED)
async def test_out_of_shape_payloads_are_refused(
    setup: Setup, slug: str, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    quiz = await new_quiz(setup)
    build = payloads.ALL.get(slug, payloads.choice)
    if slug == "rich-fill-blank-variants":
        build = payloads.rich_fill_blank_variants
    payload = copy.deepcopy(build())
    change(payload)
    response = await setup.http.post(items_url(setup, quiz), json=payload)
    assert response.status_code == 422, response.text
    brackets = "".join(f"[{part}]" for part in field.split("."))
    assert response.json()["errors"][0]["field"] == f"item{brackets}"
    assert setup.canvas.quiz_items(setup.course, quiz) == []


async def test_other_documented_slugs_and_bodies(setup: Setup) -> None:
    quiz = await new_quiz(setup)
    variants = payloads.rich_fill_blank_variants()
    variants = await setup.http.post(items_url(setup, quiz), json=variants)
    assert variants.status_code == 200, variants.text
    essay = {
        "item": {
            "entry_type": "Item",
            "points_possible": 5,
            "entry": {
                "item_body": "<p>Explain osmosis.</p>",
                "interaction_type_slug": "essay",
                "interaction_data": {"rce": True, "word_count": True},
                "scoring_data": {"value": ""},
                "scoring_algorithm": "None",
            },
        }
    }
    assert (await setup.http.post(items_url(setup, quiz), json=essay)).status_code == 200
    form = await setup.http.post(items_url(setup, quiz), data={"item[entry_type]": "Item"})
    assert form.status_code == 400
    junk = await setup.http.post(
        items_url(setup, quiz), content=b"{", headers={"content-type": "application/json"}
    )
    assert junk.status_code == 400
    missing = await setup.http.post(
        f"/api/quiz/v1/courses/{setup.course}/quizzes/424242/items", json=payloads.choice()
    )
    assert missing.status_code == 404


async def test_positions_patch_and_delete(setup: Setup) -> None:
    quiz = await new_quiz(setup)
    url = items_url(setup, quiz)
    ids = [
        (await setup.http.post(url, json=build())).json()["id"]
        for build in (payloads.choice, payloads.true_false, payloads.matching)
    ]
    inserted = payloads.categorization()
    inserted["item"]["position"] = 1
    first = (await setup.http.post(url, json=inserted)).json()
    order = [i["id"] for i in setup.canvas.quiz_items(setup.course, quiz)]
    assert order == [first["id"], *ids]
    assert [i["position"] for i in setup.canvas.quiz_items(setup.course, quiz)] == [1, 2, 3, 4]
    # "Returns all items (questions) in a quiz": one answer, no Link, per_page or not.
    listed = await setup.http.get(url, params={"per_page": 2})
    assert [i["id"] for i in listed.json()] == order and "link" not in listed.headers

    patch = {"item": {"points_possible": 3, "entry": {"item_body": "<p>Changed</p>"}}}
    patched = await setup.http.patch(f"{url}/{ids[0]}", json=patch)
    assert patched.status_code == 200, patched.text
    assert patched.json()["points_possible"] == 3.0
    assert patched.json()["entry"]["item_body"] == "<p>Changed</p>"
    assert patched.json()["entry"]["scoring_data"] == {"value": "c1"}  # merged, not replaced

    broken = {"item": {"entry": {"scoring_data": {"value": 1}}}}
    refused = await setup.http.patch(f"{url}/{ids[1]}", json=broken)
    assert refused.status_code == 422
    kept = (await setup.http.get(f"{url}/{ids[1]}")).json()
    assert kept["entry"]["scoring_data"] == {"value": True}

    moved = await setup.http.patch(f"{url}/{ids[2]}", json={"item": {"position": 1}})
    assert moved.json()["position"] == 1

    assert (await setup.http.delete(f"{url}/{first['id']}")).status_code == 200
    left = setup.canvas.quiz_items(setup.course, quiz)
    assert [i["id"] for i in left] == [ids[2], ids[0], ids[1]]
    assert [i["position"] for i in left] == [1, 2, 3]
    assert (await setup.http.get(f"{url}/{first['id']}")).status_code == 404
    assert (await setup.http.delete(f"{url}/{first['id']}")).status_code == 404


async def test_students_cannot_build_quizzes(setup: Setup) -> None:
    student = setup.canvas.add_user("Sam Student", student_of=[setup.course])
    async with httpx.AsyncClient(
        base_url=setup.canvas.base_url, headers={"Authorization": f"Bearer {student}"}
    ) as http:
        response = await http.post(
            f"/api/quiz/v1/courses/{setup.course}/quizzes", json={"quiz": {"title": "x"}}
        )
        assert response.status_code == 403
    assert setup.canvas.quizzes(setup.course) == []

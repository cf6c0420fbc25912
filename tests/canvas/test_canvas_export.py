"""Exporting to Canvas New Quizzes through the API, a worker and the Canvas stand-in: every
type round-trips, rejected questions stay out, a re-export after an edit updates one item
and adds none, undo deletes the Canvas quiz, and what cannot work is refused in words."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE
from quizgen.canvas.items import item_title, parse_new_quiz_item
from quizgen.domain import QuestionType
from tests.support.api import error_of
from tests.support.api_flows import get_quiz
from tests.support.canvas_questions import canonical, questions
from tests.support.exports import (
    HEADERS,
    export_stack,
    exportable_quiz,
    numbered_questions,
    question_ids,
    set_review,
)


async def test_every_type_round_trips_in_order_and_rejected_stay_out(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    cases = [(kind, data) for lang in ("en", "no") for kind, data in questions(lang).items()]
    quiz_id = await exportable_quiz(engine, "alice", cases)
    ids = await question_ids(engine, quiz_id)
    rejected = ids[3]
    await set_review(engine, quiz_id, "rejected", [rejected])
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        accepted = await stack.export(quiz_id, title="Cells, exported", points_per_question=2)
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["state"] == "running"
        assert (await get_quiz(stack.api, ALICE, str(quiz_id)))["status"] in (
            "exporting_to_canvas",
            "published",
        )
        done = await stack.wait_for_state(quiz_id, "published", "failed")
        assert done["state"] == "published", done
        assert done["progress"] == f"{len(ids) - 1} of {len(ids) - 1} questions exported"
        assert done["canvas_quiz_url"].endswith(
            f"/courses/{stack.course}/assignments/{done['canvas_quiz_id']}"
        )
        quiz = await get_quiz(stack.api, ALICE, str(quiz_id))
        assert quiz["status"] == "published"

        (canvas_quiz,) = stack.canvas.quizzes(stack.course)
        assert canvas_quiz["title"] == "Cells, exported"
        assert canvas_quiz["published"] is False
        items = stack.items(done)
        kept = [qid for qid in ids if qid != rejected]
        # Every approved question once, in the quiz's order; nothing for the rejected one.
        assert [i["entry"]["title"] for i in items] == [item_title(str(q)) for q in kept]
        assert [i["position"] for i in items] == list(range(1, len(kept) + 1))
        assert all(i["points_possible"] == 2 for i in items)
        expected = [c for n, c in enumerate(cases) if ids[n] != rejected]
        for item, (kind, data) in zip(items, expected, strict=True):
            assert parse_new_quiz_item(item) == (kind, canonical(kind, data))

        # Exporting again with nothing changed (no body: where it went last time): no call
        # creates or changes an item.
        before = len(stack.canvas.requests)
        again = await stack.api.post(f"/quizzes/{quiz_id}/export", headers=HEADERS)
        assert again.status_code == 202, again.text
        await stack.wait_for_state(quiz_id, "published")
        changes = [
            r for r in stack.canvas.requests[before:] if r.method in ("POST", "PATCH", "DELETE")
        ]
        assert changes == [], changes
        assert stack.items(done) == items


async def test_edit_after_export_updates_one_item_and_undo_deletes_the_quiz(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    quiz_id = await exportable_quiz(
        engine, "alice", [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(5)]
    )
    ids = await question_ids(engine, quiz_id)
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        assert (await stack.export(quiz_id)).status_code == 202
        first = await stack.wait_for_state(quiz_id, "published", "failed")
        assert first["state"] == "published", first
        items = stack.items(first)
        assert len(items) == 5

        # An edit (approved with it) marks the question changed ...
        question = (
            await stack.api.get(f"/quizzes/{quiz_id}/questions/{ids[2]}", headers=HEADERS)
        ).json()
        data = {**question["question_data"], "question_text": "Edited: do cells divide?"}
        edited = await stack.api.patch(
            f"/quizzes/{quiz_id}/questions/{ids[2]}",
            json={"question_data": data, "is_approved": True},
            headers=HEADERS,
        )
        assert edited.status_code == 200, edited.text
        status = await stack.status(quiz_id)
        assert (status["exported"], status["changed"], status["total"]) == (4, 1, 5)

        # ... and the next export updates that item in place, adding none.
        before = len(stack.canvas.requests)
        assert (await stack.export(quiz_id)).status_code == 202
        second = await stack.wait_for_state(quiz_id, "published", "failed")
        assert second["state"] == "published" and second["changed"] == 0
        writes = [(r.method, r.path) for r in stack.canvas.requests[before:] if r.method != "GET"]
        assert writes == [("PATCH", f"{_items_path(stack.course, first)}/{items[2]['id']}")]
        after = stack.items(second)
        assert [i["id"] for i in after] == [i["id"] for i in items]
        assert "Edited: do cells divide?" in after[2]["entry"]["item_body"]

        # Undo: the Canvas quiz is deleted, the export forgotten, the quiz back in review.
        undo = await stack.api.delete(f"/quizzes/{quiz_id}/export", headers=HEADERS)
        assert undo.status_code == 202, undo.text
        await stack.wait_until_undone(quiz_id)
        assert stack.canvas.quizzes(stack.course) == []
        assert (await get_quiz(stack.api, ALICE, str(quiz_id)))["status"] == "ready_for_review"


async def test_refusals_in_plain_words(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    quiz_id = await exportable_quiz(
        engine, "alice", [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(2)]
    )
    pending = await exportable_quiz(
        engine,
        "alice",
        [(QuestionType.TRUE_FALSE, q) for q in numbered_questions(2)],
        approve=False,
    )
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        # Nothing approved: 409, before anything starts.
        error_of(await stack.export(pending), 409, "conflict")
        # Not the caller's quiz: 404.
        other = await stack.api.post(
            f"/quizzes/{uuid.uuid4()}/export", json={"course_id": "1"}, headers=HEADERS
        )
        error_of(other, 404, "not_found")
        # A course the teacher does not teach: the export fails with the reason, and the
        # quiz is back in review.
        elsewhere = stack.canvas.add_course("Not mine")
        response = await stack.api.post(
            f"/quizzes/{quiz_id}/export", json={"course_id": str(elsewhere)}, headers=HEADERS
        )
        assert response.status_code == 202, response.text
        failed = await stack.wait_for_state(quiz_id, "failed")
        assert "check that you are a teacher of it" in failed["message"], failed
        assert (await get_quiz(stack.api, ALICE, str(quiz_id)))["status"] == "ready_for_review"
        # Undoing it works although Canvas refuses to show that course: nothing was made.
        undo = await stack.api.delete(f"/quizzes/{quiz_id}/export", headers=HEADERS)
        assert undo.status_code == 202, undo.text
        await stack.wait_until_undone(quiz_id)
        missing = await stack.export(quiz_id, course_id="999999")
        assert missing.status_code == 202
        failed = await stack.wait_for_state(quiz_id, "failed")
        assert "has no course 999999" in failed["message"], failed
        # Retry to the right course: published.
        assert (await stack.export(quiz_id)).status_code == 202
        assert (await stack.wait_for_state(quiz_id, "published", "failed"))["state"] == (
            "published"
        )


def _items_path(course: int, export: dict[str, object]) -> str:
    return f"/api/quiz/v1/courses/{course}/quizzes/{export['canvas_quiz_id']}/items"

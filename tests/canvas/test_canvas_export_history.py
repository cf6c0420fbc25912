"""What an export leaves in Temporal: ids, counts and short reasons. No question text or
explanation, no Canvas token, no key, across every run of `quiz-{id}-export` (an export
that waited for a reconnect, a re-export after an edit, an undo); every payload small.
With `QUIZGEN_RECORD_HISTORIES=1` the runs are recorded for the replay test."""

from __future__ import annotations

import os

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from quizgen.names import export_workflow_id
from tests.support.canvas_questions import questions
from tests.support.exports import HEADERS, KEY, export_stack, exportable_quiz, question_ids
from tests.support.histories import HISTORIES
from tests.support.history_scan import workflow_histories

# Far above any payload of the export (its plan lists question ids: 36 bytes each).
MAX_PAYLOAD_BYTES = 16 * 1024


async def test_export_histories_hold_no_content_and_no_token(
    engine: AsyncEngine, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    cases = [(kind, data) for lang in ("en", "no") for kind, data in questions(lang).items()]
    quiz_id = await exportable_quiz(engine, "alice", cases)
    ids = await question_ids(engine, quiz_id)
    async with export_stack(engine, database_url, temporal_env, task_queue) as stack:
        stack.canvas.expire(stack.token)
        assert (await stack.export(quiz_id)).status_code == 202
        await stack.wait_for_state(quiz_id, "waiting_for_canvas")
        fresh = stack.canvas.issue_token(stack.canvas.user(stack.token).id)
        await stack.connect(fresh)
        assert (await stack.wait_for_state(quiz_id, "published", "failed"))["state"] == (
            "published"
        )
        question = (
            await stack.api.get(f"/quizzes/{quiz_id}/questions/{ids[0]}", headers=HEADERS)
        ).json()
        data = {**question["question_data"], "question_text": "An edited question, secret"}
        await stack.api.patch(
            f"/quizzes/{quiz_id}/questions/{ids[0]}",
            json={"question_data": data, "is_approved": True},
            headers=HEADERS,
        )
        assert (await stack.export(quiz_id)).status_code == 202
        await stack.wait_for_state(quiz_id, "published", "failed")
        assert (await stack.api.delete(f"/quizzes/{quiz_id}/export", headers=HEADERS)).is_success
        await stack.wait_until_undone(quiz_id)

    client = temporal_env.client
    workflow_id = export_workflow_id(quiz_id)
    runs = await workflow_histories(client, [workflow_id])
    assert len(runs) == 3, "waited-and-resumed export, re-export, undo"
    payloads = [data for run in runs for data in run.payloads()]
    assert payloads and max(len(p) for p in payloads) < MAX_PAYLOAD_BYTES
    text = b"\n".join(payloads).decode()
    secrets = {"old token": stack.token, "new token": fresh, "key": KEY}
    assert [name for name, secret in secrets.items() if secret in text] == []
    texts = [d["question_text"] for _, d in cases] + ["An edited question, secret"]
    explanations = [d["explanation"] for _, d in cases if d.get("explanation")]
    assert [t for t in texts + explanations if t in text] == []
    assert "question_text" not in text and "item_body" not in text
    # The workflow's own words are there: counts, the wait, the Canvas link.
    assert "reconnect Canvas" in text

    if os.environ.get("QUIZGEN_RECORD_HISTORIES") == "1":
        for n, run in enumerate(sorted(runs, key=lambda r: r.history.events[0].event_time.seconds)):
            (HISTORIES / f"export.run-{n + 1}.json").write_text(run.history.to_json())

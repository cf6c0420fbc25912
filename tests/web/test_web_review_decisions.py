"""The review pages deciding what goes out: reject and restore (with the counts), a
question added by hand through the add form (the same rules, errors shown), and moving
questions up and down; in both languages, with CSRF."""

from __future__ import annotations

import html
import json
import re
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.api import ALICE
from quizgen.db import review
from quizgen.domain import Language
from tests.support.web import QUESTIONS, csrf_of, error_for, quiz_with_questions, sign_in


def _article(page: httpx.Response, question_id: object) -> str:
    match = re.search(rf'id="q-{question_id}".*?</article>', page.text, re.S)
    assert match, f"question {question_id} is not on {page.url}"
    return match.group(0)


def _order(page: httpx.Response) -> list[str]:
    return re.findall(r'<article class="question[^"]*" id="q-([0-9a-f-]{36})"', page.text)


async def _questions(engine: AsyncEngine, quiz_id: uuid.UUID) -> list[review.QuestionPublic]:
    found, _ = await review.list_questions(
        engine, quiz_id, review.QuestionFilter(), offset=0, limit=50
    )
    return found


async def test_a_question_is_rejected_kept_counted_and_restored_on_the_page(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    await sign_in(client, ALICE)
    listing = f"/ui/quizzes/{quiz_id}/questions"
    page = await client.get(listing)
    assert "Approved: 0 · Pending: 5 · Rejected: 0 · To export: 0" in page.text
    first = (await _questions(engine, quiz_id))[0]
    assert f"/questions/{first.id}/reject" in _article(page, first.id)

    fields = {"csrf_token": csrf_of(page), "back": listing, "version": str(first.version)}
    # Without the CSRF token nothing happens.
    refused = await client.post(f"{listing}/{first.id}/reject", data={"back": listing})
    assert refused.status_code == 403
    rejected = await client.post(f"{listing}/{first.id}/reject", data=fields)
    assert rejected.status_code == 303
    assert rejected.headers["location"] == f"{listing}?notice=rejected"
    stored = await review.get_question(engine, quiz_id, first.id)
    assert stored.review_status is review.ReviewStatus.REJECTED

    shown = await client.get(rejected.headers["location"])
    assert "It is kept but will not be exported" in shown.text
    assert "Approved: 0 · Pending: 4 · Rejected: 1 · To export: 0" in shown.text
    article = _article(shown, first.id)
    assert "Rejected</span>" in article and f"/questions/{first.id}/restore" in article
    quiz_page = await client.get(f"/ui/quizzes/{quiz_id}")
    assert "Approved: 0 · Pending: 4 · Rejected: 1 · To export: 0" in quiz_page.text
    # The approve-a-page form leaves the rejected question out.
    approve_all = re.search(r'action="[^"]*/questions/approve".*?</form>', shown.text, re.S)
    assert approve_all and str(first.id) not in approve_all.group(0)
    only_rejected = await client.get(listing, params={"status": "rejected"})
    assert _order(only_rejected) == [str(first.id)]

    # Restoring from the page that showed the old version changes nothing.
    stale = await client.post(f"{listing}/{first.id}/restore", data=fields)
    assert stale.headers["location"] == f"{listing}?notice=decision_changed"
    assert (await review.get_question(engine, quiz_id, first.id)).review_status == "rejected"
    fresh = {**fields, "version": str(stored.version)}
    restored = await client.post(f"{listing}/{first.id}/restore", data=fresh)
    assert restored.headers["location"] == f"{listing}?notice=restored"
    assert (await review.get_question(engine, quiz_id, first.id)).review_status == "pending"


async def test_the_decisions_and_counts_are_in_norwegian_too(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice", language=Language.NORWEGIAN)
    await sign_in(client, ALICE)
    page = await client.get(f"/ui/quizzes/{quiz_id}/questions")
    text = html.unescape(page.text)
    assert "Godkjent: 0 · Venter: 5 · Avvist: 0 · Skal eksporteres: 0" in text
    for words in ("Avvis", "Flytt opp", "Flytt ned", "Legg til et spørsmål"):
        assert words in text
    added = await client.get(f"/ui/quizzes/{quiz_id}/questions/new")
    assert "Vanskelighetsgrad" in added.text


async def test_a_teacher_adds_a_question_by_hand_through_the_form(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    await sign_in(client, ALICE)
    listing = f"/ui/quizzes/{quiz_id}/questions"
    form = await client.get(f"{listing}/new", params={"type": "matching"})
    assert form.status_code == 200
    assert '"pairs"' in html.unescape(form.text), "the JSON to fill in for a matching question"
    assert 'name="question_type" value="matching"' in form.text

    matching = QUESTIONS["matching"]
    details = {k: v for k, v in matching.items() if k != "question_text"}
    fields = {
        "csrf_token": csrf_of(form),
        "back": listing,
        "question_type": "matching",
        "module": "m2",
        "difficulty": "hard",
        "question_text": "Match each organ to its system.",
        "explanation": "",
    }
    # Two pairs are too few: the form comes back with the error, nothing is saved.
    few = {**details, "pairs": matching["pairs"][:2]}  # type: ignore[index]
    refused = await client.post(f"{listing}/new", data={**fields, "details": _json(few)})
    assert refused.status_code == 422
    assert error_for(refused, "details")
    assert len(await _questions(engine, quiz_id)) == 5
    # The text of a question the quiz has: refused by the no-duplicates rule.
    same = {**fields, "question_text": matching["question_text"], "details": _json(details)}
    duplicate = await client.post(f"{listing}/new", data=same)
    assert duplicate.status_code == 422
    assert "already has this text" in (error_for(duplicate, "question_text") or "")

    saved = await client.post(f"{listing}/new", data={**fields, "details": _json(details)})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{listing}?notice=added"
    *_, last = await _questions(engine, quiz_id)
    assert last.source is review.QuestionSource.MANUAL and last.batch_key is None
    assert last.module_id == "m2" and last.difficulty.value == "hard"
    assert last.question_data["question_text"] == "Match each organ to its system."
    page = await client.get(saved.headers["location"])
    assert "Written by hand" in _article(page, last.id)
    assert "Pending: 6" in page.text


def _json(value: object) -> str:
    return json.dumps(value)


async def test_questions_are_moved_up_and_down(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    await sign_in(client, ALICE)
    listing = f"/ui/quizzes/{quiz_id}/questions"
    page = await client.get(listing)
    before = _order(page)
    assert before == [str(q.id) for q in await _questions(engine, quiz_id)]
    csrf = csrf_of(page)

    async def move(question_id: str, direction: str) -> httpx.Response:
        data = {"csrf_token": csrf, "back": listing, "direction": direction}
        return await client.post(f"{listing}/{question_id}/move", data=data)

    down = await move(before[0], "down")
    assert down.headers["location"] == f"{listing}?notice=moved"
    assert _order(await client.get(listing)) == [before[1], before[0], *before[2:]]
    await move(before[4], "up")
    await move(before[0], "up")
    after = [before[0], before[1], before[2], before[4], before[3]]
    assert _order(await client.get(listing)) == after
    # At the top already: it stays.
    await move(before[0], "up")
    assert [str(q.id) for q in await _questions(engine, quiz_id)] == after
    refused = await client.post(f"{listing}/{before[0]}/move", data={"direction": "down"})
    assert refused.status_code == 403
    assert _order(await client.get(listing)) == after

"""The review pages over HTTP: questions rendered per type, filtered, approved and
edited; languages; a quiz left generating without a workflow; edits and approvals
made on a page that another reviewer's change has overtaken.
"""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.api import ALICE
from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.domain import (
    BatchSpec,
    Difficulty,
    Language,
    ModuleSpec,
    QuestionType,
    QuizSpec,
    QuizStatus,
)
from tests.support.batches import ref, save_questions
from tests.support.web import (
    QUESTIONS,
    SAMPLE,
    csrf_of,
    error_for,
    quiz_with_questions,
    sign_in,
    version_in,
)


async def test_questions_are_rendered_per_type_filtered_and_approved(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    await sign_in(client, ALICE)
    page = await client.get(f"/ui/quizzes/{quiz_id}/questions")
    assert page.status_code == 200
    text = page.text
    assert "5 questions" in text
    assert "Chloroplast <strong>✓ correct</strong>" in text
    assert "Answer: <strong>True</strong>" in text
    assert 'Plants take in <span class="blank">____ (1)</span>' in text
    assert "Blank 1: <strong>carbon dioxide</strong> (also accepted: CO2)" in text
    assert "<td>Calvin cycle</td>" in text and "<strong>Stroma</strong>" in text
    assert "<dt>Inputs</dt>" in text and "<dd>Carbon dioxide, Water</dd>" in text

    only_tf = await client.get(f"/ui/quizzes/{quiz_id}/questions", params={"type": "true_false"})
    assert "1 questions" in only_tf.text
    assert "Photosynthesis releases oxygen." in only_tf.text
    assert "Chloroplast" not in only_tf.text

    questions, _ = await review.list_questions(
        engine, quiz_id, review.QuestionFilter(), offset=0, limit=10
    )
    first = questions[0]
    back = f"/ui/quizzes/{quiz_id}/questions?type=true_false&page=1"
    approved = await client.post(
        f"/ui/quizzes/{quiz_id}/questions/{first.id}/approve",
        data={"csrf_token": csrf_of(page), "back": back},
    )
    assert approved.status_code == 303
    assert approved.headers["location"] == back + "&notice=approved"
    assert (await review.get_question(engine, quiz_id, first.id)).is_approved
    # A "back" that leads elsewhere is not followed.
    elsewhere = await client.post(
        f"/ui/quizzes/{quiz_id}/questions/{first.id}/approve",
        data={"csrf_token": csrf_of(page), "back": "https://evil.example/"},
    )
    assert elsewhere.headers["location"] == f"/ui/quizzes/{quiz_id}/questions?notice=approved"

    not_yet = await client.get(f"/ui/quizzes/{quiz_id}/questions", params={"approved": "no"})
    ids = re.findall(r'name="question_id" value="([^"]+)"', not_yet.text)
    assert len(ids) == 4 and str(first.id) not in ids
    all_page = await client.post(
        f"/ui/quizzes/{quiz_id}/questions/approve",
        data={"csrf_token": csrf_of(not_yet), "question_id": ids},
    )
    assert all_page.status_code == 303
    questions, _ = await review.list_questions(
        engine, quiz_id, review.QuestionFilter(), offset=0, limit=10
    )
    assert all(q.is_approved for q in questions)


async def test_approving_on_a_later_page_returns_to_that_page(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    spec = QuizSpec(
        title="Long",
        modules=[
            ModuleSpec(
                module_id="m1",
                name="Module",
                content=SAMPLE,
                batches=[
                    BatchSpec(question_type=QuestionType.TRUE_FALSE, count=20),
                    BatchSpec(
                        question_type=QuestionType.TRUE_FALSE, count=5, difficulty=Difficulty.HARD
                    ),
                ],
            )
        ],
    )
    quiz_id = await repo.create_quiz(engine, "alice", spec)
    for n, (count, difficulty) in enumerate([(20, Difficulty.MEDIUM), (5, Difficulty.HARD)]):
        batch = ref("m1", QuestionType.TRUE_FALSE, count=count, difficulty=difficulty)
        statements = [
            {"question_text": f"Statement {n}-{i} holds.", "correct_answer": True}
            for i in range(count)
        ]
        await save_questions(engine, quiz_id, batch, statements)
    await sign_in(client, ALICE)

    page = await client.get(f"/ui/quizzes/{quiz_id}/questions", params={"page": 2})
    match = re.search(r'name="back" value="([^"]+)"', page.text)
    assert match is not None
    back = html.unescape(match.group(1))
    assert back.endswith("page=2")
    question_id = re.findall(r'name="question_id" value="([^"]+)"', page.text)[0]
    approved = await client.post(
        f"/ui/quizzes/{quiz_id}/questions/{question_id}/approve",
        data={"csrf_token": csrf_of(page), "back": back},
    )
    assert approved.headers["location"] == back + "&notice=approved"


async def test_an_edit_is_checked_like_the_api_and_errors_are_shown_inline(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    await sign_in(client, ALICE)
    questions, _ = await review.list_questions(
        engine, quiz_id, review.QuestionFilter(), offset=0, limit=10
    )
    by_type = {q.question_type.value: q for q in questions}
    mc = by_type["multiple_choice"]
    url = f"/ui/quizzes/{quiz_id}/questions/{mc.id}/edit"
    form = await client.get(url)
    assert 'value="Chloroplast"' in form.text
    fields: dict[str, Any] = {
        "csrf_token": csrf_of(form),
        **{k: v for k, v in QUESTIONS["multiple_choice"].items()},
    }

    same_options = await client.post(url, data={**fields, "option_b": "chloroplast"})
    assert same_options.status_code == 422
    assert "options must be distinct" in same_options.text
    empty_text = await client.post(url, data={**fields, "question_text": ""})
    assert "at least 1 character" in (error_for(empty_text, "question_text") or "")
    duplicate = await client.post(
        url, data={**fields, "question_text": QUESTIONS["true_false"]["question_text"]}
    )
    assert "already has this text" in (error_for(duplicate, "question_text") or "")
    assert (await review.get_question(engine, quiz_id, mc.id)).question_data == mc.question_data

    saved = await client.post(url, data={**fields, "option_d": "Golgi body"})
    assert saved.status_code == 303
    assert (await review.get_question(engine, quiz_id, mc.id)).question_data[
        "option_d"
    ] == "Golgi body"

    matching = by_type["matching"]
    url = f"/ui/quizzes/{quiz_id}/questions/{matching.id}/edit"
    form = await client.get(url)
    base = {"csrf_token": csrf_of(form), "question_text": "Match them.", "explanation": ""}
    not_json = await client.post(url, data={**base, "details": "{pairs: "})
    assert "This is not a JSON object" in (error_for(not_json, "details") or "")
    nested = await client.post(url, data={**base, "details": '{"a":' * 5000 + "1" + "}" * 5000})
    assert nested.status_code == 422
    assert "This is not a JSON object" in (error_for(nested, "details") or "")
    too_few = await client.post(url, data={**base, "details": '{"pairs": []}'})
    assert "at least 3 items" in (error_for(too_few, "details") or "")


async def test_edit_errors_are_said_in_the_quizs_language(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice", language=Language.NORWEGIAN)
    await sign_in(client, ALICE)
    questions, _ = await review.list_questions(
        engine, quiz_id, review.QuestionFilter(), offset=0, limit=10
    )
    by_type = {q.question_type.value: q for q in questions}
    url = f"/ui/quizzes/{quiz_id}/questions/{by_type['multiple_choice'].id}/edit"
    form = await client.get(url)
    fields = {"csrf_token": csrf_of(form), **QUESTIONS["multiple_choice"]}
    empty_text = await client.post(url, data={**fields, "question_text": ""})
    assert error_for(empty_text, "question_text") == "Kan ikke være tom."

    url = f"/ui/quizzes/{quiz_id}/questions/{by_type['matching'].id}/edit"
    form = await client.get(url)
    base = {"csrf_token": csrf_of(form), "question_text": "Match them.", "explanation": ""}
    too_few = await client.post(url, data={**base, "details": '{"pairs": []}'})
    assert error_for(too_few, "details") == "Det må være minst 3."
    not_json = await client.post(url, data={**base, "details": "{pairs: "})
    assert (error_for(not_json, "details") or "").startswith("Dette er ikke et JSON-objekt")


async def test_the_page_speaks_the_quizs_language_unless_the_reader_switches(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice", language=Language.NORWEGIAN)
    await sign_in(client, ALICE)
    page = await client.get(f"/ui/quizzes/{quiz_id}")
    assert '<html lang="no">' in page.text
    assert "5 spørsmål generert (0 gjenstår)" in page.text
    filtered = await client.get(
        f"/ui/quizzes/{quiz_id}/questions", params={"type": "true_false", "notice": "saved"}
    )
    # The language switch keeps the page's filters (and does not repeat its notice).
    switch = re.search(r'<a href="([^"]*)" hreflang="en"', filtered.text)
    assert switch is not None
    assert html.unescape(switch.group(1)) == "?type=true_false&lang=en"
    switched = await client.get(f"/ui/quizzes/{quiz_id}", params={"lang": "en"})
    assert '<html lang="en">' in switched.text
    assert "5 questions generated successfully (0 remaining)" in switched.text
    # The choice is remembered.
    again = await client.get(f"/ui/quizzes/{quiz_id}/questions")
    assert '<html lang="en">' in again.text


async def test_a_quiz_left_generating_without_a_workflow_offers_the_restart(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    async with repo.locked_quiz(engine, quiz_id) as lock:
        await lock.set_status(QuizStatus.GENERATING_QUESTIONS)
    await sign_in(client, ALICE)
    page = await client.get(f"/ui/quizzes/{quiz_id}")
    assert ">Generating</span>" in page.text
    # Nothing runs, so the page neither polls forever nor hides the way out.
    assert 'data-generating="false"' in page.text
    assert ">Retry Question Generation</button>" in page.text


async def test_a_stale_edit_keeps_the_other_reviewers_version_and_says_so_calmly(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    await sign_in(client, ALICE)
    questions, _ = await review.list_questions(
        engine, quiz_id, review.QuestionFilter(), offset=0, limit=10
    )
    mc = {q.question_type.value: q for q in questions}["multiple_choice"]
    url = f"/ui/quizzes/{quiz_id}/questions/{mc.id}/edit"
    form = await client.get(url)
    assert version_in(form) == "1"
    mine = {
        "csrf_token": csrf_of(form),
        "version": version_in(form),
        **QUESTIONS["multiple_choice"],
        "option_d": "Golgi body",
    }
    # Another reviewer saves first.
    theirs = {**mc.question_data, "option_d": "Vacuole"}
    await review.update_question(engine, quiz_id, mc.id, question_data=theirs)

    stale = await client.post(url, data=mine)
    assert stale.status_code == 409
    text = html.unescape(stale.text)
    assert (
        "Someone changed this question while you were editing it. Their version is shown "
        "below; your changes were not saved."
    ) in text
    assert 'class="notice" role="status"' in stale.text and "Something went wrong" not in text
    # The form shows their version (and is based on it now); mine is there to copy from.
    assert 'name="option_d" value="Vacuole"' in stale.text
    assert version_in(stale) == "2"
    assert "Option D: Golgi body" in text
    stored = await review.get_question(engine, quiz_id, mc.id)
    assert stored.question_data["option_d"] == "Vacuole" and stored.version == 2

    # Saved again from the form shown, it is saved.
    again = await client.post(url, data={**mine, "version": version_in(stale)})
    assert again.status_code == 303
    assert (await review.get_question(engine, quiz_id, mc.id)).question_data[
        "option_d"
    ] == "Golgi body"
    # A form with errors, shown again, stays based on the version it was rendered with;
    # a change made meanwhile is the calm 409 before any error of the form.
    invalid = await client.post(url, data={**mine, "version": "3", "question_text": ""})
    assert invalid.status_code == 422 and version_in(invalid) == "3"
    await review.update_question(engine, quiz_id, mc.id, is_approved=True)
    both = await client.post(url, data={**mine, "version": "3", "question_text": ""})
    assert both.status_code == 409 and version_in(both) == "4"


async def test_a_stale_edit_is_explained_in_the_quizs_language(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice", language=Language.NORWEGIAN)
    await sign_in(client, ALICE)
    questions, _ = await review.list_questions(
        engine, quiz_id, review.QuestionFilter(), offset=0, limit=10
    )
    tf = {q.question_type.value: q for q in questions}["true_false"]
    url = f"/ui/quizzes/{quiz_id}/questions/{tf.id}/edit"
    form = await client.get(url)
    await review.update_question(engine, quiz_id, tf.id, is_approved=True)
    fields = {"csrf_token": csrf_of(form), "version": version_in(form)}
    stale = await client.post(url, data={**fields, **QUESTIONS["true_false"], "explanation": "Ny."})
    assert stale.status_code == 409
    assert "Noen endret dette spørsmålet mens du redigerte det." in html.unescape(stale.text)
    assert (await review.get_question(engine, quiz_id, tf.id)).question_data == tf.question_data


async def test_an_edit_clears_the_approval_and_a_stale_approval_is_not_made(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    await sign_in(client, ALICE)
    questions, _ = await review.list_questions(
        engine, quiz_id, review.QuestionFilter(), offset=0, limit=10
    )
    by_type = {q.question_type.value: q for q in questions}
    tf = by_type["true_false"]
    listing = f"/ui/quizzes/{quiz_id}/questions"

    # Approved, then edited on the page: the approval is gone, and the list says so.
    await review.update_question(engine, quiz_id, tf.id, is_approved=True)
    url = f"{listing}/{tf.id}/edit"
    form = await client.get(url)
    fields = {"csrf_token": csrf_of(form), "version": version_in(form), "back": listing}
    edited = await client.post(url, data={**fields, **QUESTIONS["true_false"], "explanation": "."})
    assert edited.headers["location"] == f"{listing}?notice=saved_unapproved"
    assert not (await review.get_question(engine, quiz_id, tf.id)).is_approved
    shown = await client.get(edited.headers["location"])
    assert "It changed, so it is no longer approved" in shown.text

    # Approving what the page showed, after someone else changed it: not approved.
    page = await client.get(listing)
    article = re.search(rf'id="q-{tf.id}".*?</article>', page.text, re.S)
    assert article is not None
    shown_version = re.search(r'name="version" value="(\d+)"', article.group(0))
    assert shown_version is not None
    await review.update_question(
        engine, quiz_id, tf.id, question_data={**tf.question_data, "explanation": "Theirs."}
    )
    approve = await client.post(
        f"{listing}/{tf.id}/approve",
        data={"csrf_token": csrf_of(page), "version": shown_version.group(1), "back": listing},
    )
    assert approve.headers["location"] == f"{listing}?notice=question_changed"
    assert not (await review.get_question(engine, quiz_id, tf.id)).is_approved
    again = await client.get(approve.headers["location"])
    assert "Someone changed that question after this page was shown" in again.text

    # Approving a page: the changed question is left, the others are approved.
    ids = re.findall(r'name="question_id" value="([^"]+)"', page.text)
    versions = dict(re.findall(r'name="version-([^"]+)" value="(\d+)"', page.text))
    assert set(versions) == set(ids)
    all_page = await client.post(
        f"{listing}/approve",
        data={"csrf_token": csrf_of(page), "question_id": ids, "back": listing}
        | {f"version-{i}": v for i, v in versions.items()},
    )
    assert all_page.headers["location"] == f"{listing}?notice=page_changed"
    after, _ = await review.list_questions(
        engine, quiz_id, review.QuestionFilter(), offset=0, limit=10
    )
    assert {str(q.id) for q in after if not q.is_approved} == {str(tf.id)}

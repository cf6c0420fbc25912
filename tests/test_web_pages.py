"""The review pages over HTTP (no browser): sign-in, CSRF, forms and their inline errors,
per-type rendering, approval and editing, languages, and isolation between teachers.

The browser flow against a running worker is in test_web_browser.py.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.domain import BatchSpec, Language, ModuleSpec, QuestionType, QuizSpec, QuizStatus
from quizgen.settings import Settings
from tests.support.api import ALICE, BOB, api_client, auth
from tests.support.batches import ref, save_questions
from tests.support.web import QUESTIONS, csrf_of, error_for, sign_in

CAROL = "carol-token-0123456789"
SAMPLE = "Photosynthesis turns light into chemical energy. Chloroplasts hold chlorophyll."


def quiz_form(csrf: str, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "title": "Plants",
        "language": "en",
        "tone": "academic",
        "modules-0-name": "Cell biology",
        "modules-0-content": SAMPLE,
        "modules-0-batches-0-question_type": "multiple_choice",
        "modules-0-batches-0-count": "3",
        "modules-0-batches-0-difficulty": "easy",
        "modules-0-batches-1-question_type": "true_false",
        "modules-0-batches-1-count": "2",
        "modules-0-batches-1-difficulty": "medium",
        "action": "create",
    }
    return {**form, **overrides}


async def new_quiz_page(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/ui/quizzes/new")
    assert page.status_code == 200, page.text
    return page


async def create_through_form(client: httpx.AsyncClient, **overrides: str) -> str:
    csrf = csrf_of(await new_quiz_page(client))
    response = await client.post("/ui/quizzes/new", data=quiz_form(csrf, **overrides))
    assert response.status_code == 303, response.text
    match = re.fullmatch(
        r"/ui/quizzes/([0-9a-f-]{36})\?notice=created", response.headers["location"]
    )
    assert match, response.headers["location"]
    return match.group(1)


async def test_pages_need_a_session_and_sign_in_takes_a_valid_token_only(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/ui/quizzes", "/ui/quizzes/new", f"/ui/quizzes/{uuid.uuid4()}"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/sign-in"

    refused = await sign_in(client, "not-a-token-0000000000")
    assert refused.status_code == 401
    assert "That token is not valid." in refused.text
    assert "quizgen_session" not in client.cookies

    accepted = await sign_in(client, ALICE)
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/ui/quizzes"
    cookie = accepted.headers["set-cookie"]
    assert "quizgen_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    # The token is in no URL, no cookie and no page.
    assert ALICE not in cookie and ALICE not in str(accepted.headers)
    listing = await client.get("/ui/quizzes")
    assert listing.status_code == 200
    assert ALICE not in listing.text
    assert "Sign out (alice)" in listing.text
    assert listing.headers["content-security-policy"].startswith("default-src 'self'")

    signed_out = await client.post("/ui/sign-out", data={"csrf_token": csrf_of(listing)})
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/ui/sign-in?notice=signed_out"
    assert (await client.get("/ui/quizzes")).status_code == 303


async def test_a_forged_or_tampered_session_is_refused(client: httpx.AsyncClient) -> None:
    await sign_in(client, ALICE)
    value = client.cookies["quizgen_session"]
    payload, mac = value.split(".")
    client.cookies.set("quizgen_session", f"{payload}.{mac[:-2]}AA", path="/ui")
    assert (await client.get("/ui/quizzes")).status_code == 303


async def test_sign_in_needs_the_forms_own_csrf_token(client: httpx.AsyncClient) -> None:
    await client.get("/ui/sign-in")
    response = await client.post("/ui/sign-in", data={"token": ALICE, "csrf_token": "forged"})
    assert response.status_code == 403
    assert "quizgen_session" not in client.cookies


async def test_posts_without_the_csrf_token_or_from_another_origin_change_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(client, ALICE)
    csrf = csrf_of(await new_quiz_page(client))
    before = (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1]

    missing = await client.post("/ui/quizzes/new", data=quiz_form(""))
    assert missing.status_code == 403
    assert "nothing was changed" in missing.text
    foreign = await client.post(
        "/ui/quizzes/new", data=quiz_form(csrf), headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1] == before


async def test_the_new_quiz_form_creates_a_quiz_the_api_shows(client: httpx.AsyncClient) -> None:
    await sign_in(client, ALICE)
    quiz_id = await create_through_form(client, title="Form quiz")

    quiz = (await client.get(f"/quizzes/{quiz_id}", headers=auth(ALICE))).json()
    assert quiz["title"] == "Form quiz"
    assert quiz["status"] == "created"
    [module] = quiz["modules"]
    assert module["module_id"] == "cell-biology"
    assert module["name"] == "Cell biology"
    assert module["batches"] == [
        {"question_type": "multiple_choice", "count": 3, "difficulty": "easy"},
        {"question_type": "true_false", "count": 2, "difficulty": "medium"},
    ]

    page = await client.get(f"/ui/quizzes/{quiz_id}?notice=created")
    assert "The quiz was created." in page.text
    assert "0 questions generated successfully (5 remaining)" in page.text
    assert ">Generate Questions</button>" in page.text
    assert f"/workflows/quiz-{quiz_id}" in page.text
    listing = await client.get("/ui/quizzes")
    assert "Form quiz" in listing.text


async def test_form_errors_are_shown_next_to_their_fields_and_keep_the_input(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(client, ALICE)
    csrf = csrf_of(await new_quiz_page(client))
    before = (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1]
    response = await client.post(
        "/ui/quizzes/new",
        data=quiz_form(
            csrf,
            **{
                "title": "  ",
                "modules-0-content": "kept content",
                "modules-0-batches-0-count": "25",
                "modules-0-batches-1-count": "two",
            },
        ),
    )
    assert response.status_code == 422
    assert "The quiz was not created." in response.text
    assert "only whitespace" in (error_for(response, "title") or "")
    assert "less than or equal to 20" in (error_for(response, "modules-0-batches-0-count") or "")
    assert error_for(response, "modules-0-batches-1-count") == "Enter a whole number."
    assert error_for(response, "modules-0-content") is None
    assert "kept content</textarea>" in response.text
    assert 'aria-invalid="true"' in response.text

    same_pair = quiz_form(
        csrf,
        **{
            "modules-0-batches-1-question_type": "multiple_choice",
            "modules-0-batches-1-difficulty": "easy",
        },
    )
    twice = await client.post("/ui/quizzes/new", data=same_pair)
    assert "merge them into one batch" in (error_for(twice, "modules-0-batches") or "")
    no_rows = await client.post(
        "/ui/quizzes/new",
        data=quiz_form(
            csrf,
            **{"modules-0-batches-0-question_type": "", "modules-0-batches-1-question_type": ""},
        ),
    )
    assert "at least one batch" in (error_for(no_rows, "modules-0-batches") or "")
    assert (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1] == before


async def test_modules_are_added_removed_and_uploaded_as_text_files(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client, ALICE)
    csrf = csrf_of(await new_quiz_page(client))
    added = await client.post("/ui/quizzes/new", data=quiz_form(csrf, action="add_module"))
    assert added.status_code == 200
    assert 'name="modules-1-name"' in added.text
    assert "<legend>Module 2</legend>" in added.text

    second = {
        "modules-1-name": "Cell biology",
        "modules-1-content": "",
        "modules-1-batches-0-question_type": "fill_in_blank",
        "modules-1-batches-0-count": "2",
        "modules-1-batches-0-difficulty": "hard",
    }
    removed = await client.post(
        "/ui/quizzes/new", data=quiz_form(csrf, action="remove_module-0", **second)
    )
    assert 'name="modules-1-name"' not in removed.text
    assert 'value="fill_in_blank" selected' in removed.text

    bad = await client.post(
        "/ui/quizzes/new",
        data=quiz_form(csrf),
        files={"modules-0-file": ("notes.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert bad.status_code == 422
    assert error_for(bad, "modules-0-content") == "Upload a UTF-8 .txt or .md file."

    uploaded = await client.post(
        "/ui/quizzes/new",
        data=quiz_form(csrf, **second),
        files={"modules-1-file": ("notes.md", b"# Cells\nMitochondria make ATP.", "")},
    )
    assert uploaded.status_code == 303, uploaded.text
    quiz_id = uploaded.headers["location"].split("/")[3].split("?")[0]
    record = await repo.get_quiz(client_engine(client), uuid.UUID(quiz_id))
    # Two modules with the same name get distinct ids; the file became the content.
    assert [m.module_id for m in record.spec.modules] == ["cell-biology", "cell-biology-2"]
    assert record.spec.modules[1].content == "# Cells\nMitochondria make ATP."


def client_engine(client: httpx.AsyncClient) -> AsyncEngine:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    engine: AsyncEngine = transport.app.state.engine  # type: ignore[attr-defined]
    return engine


async def _quiz_with_questions(
    engine: AsyncEngine, owner: str, language: Language = Language.ENGLISH
) -> uuid.UUID:
    # Two modules (a module holds at most four batches), one question of each type.
    modules = {"m1": list(QUESTIONS)[:3], "m2": list(QUESTIONS)[3:]}
    spec = QuizSpec(
        title="Reviewed",
        language=language,
        modules=[
            ModuleSpec(
                module_id=module_id,
                name=f"Module {module_id}",
                content=SAMPLE,
                batches=[BatchSpec(question_type=QuestionType(t), count=1) for t in types],
            )
            for module_id, types in modules.items()
        ],
    )
    quiz_id = await repo.create_quiz(engine, owner, spec)
    for module_id, types in modules.items():
        for question_type in types:
            batch = ref(module_id, QuestionType(question_type), count=1)
            await save_questions(engine, quiz_id, batch, [QUESTIONS[question_type]])
    return quiz_id


async def test_questions_are_rendered_per_type_filtered_and_approved(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await _quiz_with_questions(engine, "alice")
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


async def test_an_edit_is_checked_like_the_api_and_errors_are_shown_inline(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await _quiz_with_questions(engine, "alice")
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
    too_few = await client.post(url, data={**base, "details": '{"pairs": []}'})
    assert "at least 3 items" in (error_for(too_few, "details") or "")


async def test_another_teachers_quiz_is_not_found(
    settings: Settings, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await _quiz_with_questions(engine, "alice")
    async with api_client(settings) as bob:
        await sign_in(bob, BOB)
        for path in (f"/ui/quizzes/{quiz_id}", f"/ui/quizzes/{quiz_id}/questions"):
            response = await bob.get(path)
            assert response.status_code == 404
            assert "This page does not exist." in response.text
            assert "Reviewed" not in response.text
        page = await bob.get("/ui/quizzes")
        generate = await bob.post(
            f"/ui/quizzes/{quiz_id}/generate", data={"csrf_token": csrf_of(page)}
        )
        assert generate.status_code == 404
    assert (await repo.get_quiz(engine, quiz_id)).status.value == "created"
    await sign_in(client, ALICE)
    malformed = await client.get("/ui/quizzes/not-a-uuid")
    assert malformed.status_code == 404
    assert malformed.headers["content-type"].startswith("text/html")


async def test_the_page_speaks_the_quizs_language_unless_the_reader_switches(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await _quiz_with_questions(engine, "alice", language=Language.NORWEGIAN)
    await sign_in(client, ALICE)
    page = await client.get(f"/ui/quizzes/{quiz_id}")
    assert '<html lang="no">' in page.text
    assert "5 spørsmål generert (0 gjenstår)" in page.text
    switched = await client.get(f"/ui/quizzes/{quiz_id}", params={"lang": "en"})
    assert '<html lang="en">' in switched.text
    assert "5 questions generated successfully (0 remaining)" in switched.text
    # The choice is remembered.
    again = await client.get(f"/ui/quizzes/{quiz_id}/questions")
    assert '<html lang="en">' in again.text


async def test_the_json_api_keeps_its_json_errors(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/quizzes/{uuid.uuid4()}", headers=auth(ALICE))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_a_quiz_left_generating_without_a_workflow_offers_the_restart(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await _quiz_with_questions(engine, "alice")
    async with repo.locked_status(engine, quiz_id) as lock:
        await lock.set(QuizStatus.GENERATING_QUESTIONS)
    await sign_in(client, ALICE)
    page = await client.get(f"/ui/quizzes/{quiz_id}")
    assert ">Generating</span>" in page.text
    # Nothing runs, so the page neither polls forever nor hides the way out.
    assert 'data-generating="false"' in page.text
    assert ">Retry Question Generation</button>" in page.text


async def test_the_quiz_list_pages_newest_first(settings: Settings, engine: AsyncEngine) -> None:
    spec = QuizSpec(
        title="Listed",
        modules=[
            ModuleSpec(
                module_id="m1",
                name="m1",
                content=SAMPLE,
                batches=[BatchSpec(question_type=QuestionType.TRUE_FALSE, count=3)],
            )
        ],
    )
    # A user of this test's own: other tests' quizzes share the database.
    user = f"carol-{uuid.uuid4().hex[:8]}"
    ids = [
        await repo.create_quiz(engine, user, spec.model_copy(update={"title": f"Carol {n}"}))
        for n in range(21)
    ]
    carols = settings.model_copy(update={"api_tokens": SecretStr(f"{user}:{CAROL}")})
    async with api_client(carols) as carol:
        await sign_in(carol, CAROL)
        first = await carol.get("/ui/quizzes")
        assert "Page 1 of 2" in first.text
        titles = re.findall(r'<a href="/ui/quizzes/[^"]+">(Carol \d+)</a>', first.text)
        assert titles == [f"Carol {n}" for n in range(20, 0, -1)]
        assert 'href="/ui/quizzes?page=2"' in first.text
        assert "0 questions generated successfully (3 remaining)" in first.text
        second = await carol.get("/ui/quizzes", params={"page": 2})
        assert re.findall(r">(Carol \d+)</a>", second.text) == ["Carol 0"]
        assert f"/ui/quizzes/{ids[0]}" in second.text

"""The review pages over HTTP: the new-quiz form (inline errors, modules, uploads)
and the quiz list.
"""

from __future__ import annotations

import re
import uuid

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from api.limits import MAX_BODY_BYTES
from cli.quizfile import derive_module_ids
from deploy.local.api import ALICE, api_client, auth
from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.domain import (
    BatchSpec,
    ModuleSpec,
    QuestionType,
    QuizSpec,
)
from quizgen.settings import Settings
from tests.support.web import (
    CAROL,
    SAMPLE,
    client_engine,
    create_through_form,
    csrf_of,
    error_for,
    new_quiz_page,
    quiz_form,
    sign_in,
)


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


async def test_the_form_derives_module_ids_as_a_quiz_file_does(
    client: httpx.AsyncClient,
) -> None:
    """The same quiz written on the page or in a `quizgen` file gets the same batch keys."""
    await sign_in(client, ALICE)
    name = "På Østlandet"
    quiz_id = await create_through_form(client, **{"modules-0-name": name})
    quiz = (await client.get(f"/quizzes/{quiz_id}", headers=auth(ALICE))).json()
    [from_file] = derive_module_ids({"modules": [{"name": name}]})["modules"]
    assert quiz["modules"][0]["module_id"] == from_file["module_id"] == "pa-stlandet"


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
    huge = await client.post(
        "/ui/quizzes/new",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413  # a page, as everywhere under /ui, not the API's JSON
    assert huge.headers["content-type"].startswith("text/html")
    assert "too large to send" in huge.text
    pasted = await client.post(
        "/ui/quizzes/new", data=quiz_form(csrf, **{"modules-0-content": "word " * 300_000})
    )
    assert pasted.status_code == 422  # 1.5 MB: the form's own error, not a 400 page
    assert "at most 100000 characters" in (error_for(pasted, "modules-0-content") or "")
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


async def test_form_errors_are_said_in_norwegian_on_a_norwegian_page(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client, ALICE)
    page = await client.get("/ui/quizzes/new", params={"lang": "no"})
    assert '<html lang="no">' in page.text
    response = await client.post(
        "/ui/quizzes/new",
        data=quiz_form(
            csrf_of(page),
            **{
                "title": "x" * 201,
                "modules-0-name": "",
                "modules-0-batches-0-count": "25",
                "modules-0-batches-1-count": "0",
            },
        ),
    )
    assert response.status_code == 422
    assert error_for(response, "title") == "Skriv høyst 200 tegn."
    assert error_for(response, "modules-0-name") == "Kan ikke være tom."
    assert error_for(response, "modules-0-batches-0-count") == "Kan være høyst 20."
    assert error_for(response, "modules-0-batches-1-count") == "Må være minst 1."

    english = await client.post(
        "/ui/quizzes/new?lang=en", data=quiz_form(csrf_of(page), title="x" * 201)
    )
    assert "at most 200 characters" in (error_for(english, "title") or "")


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
        files={"modules-0-file": ("notes.docx", b"PK\x03\x04", "application/msword")},
    )
    assert bad.status_code == 422
    assert error_for(bad, "modules-0-content") == "Upload a PDF, or a UTF-8 .txt or .md file."
    # Longer than a module may be, in 3-byte characters: the read stops inside one.
    long = ("\u20ac" * 150_000).encode()
    too_long = await client.post(
        "/ui/quizzes/new",
        data=quiz_form(csrf),
        files={"modules-0-file": ("euros.txt", long, "text/plain")},
    )
    assert too_long.status_code == 422
    assert "at most 100000 characters" in (error_for(too_long, "modules-0-content") or "")

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
        # A page past the end is the last one; junk is the first, never an error page.
        past = await carol.get("/ui/quizzes", params={"page": 500})
        assert re.findall(r">(Carol \d+)</a>", past.text) == ["Carol 0"]
        assert "Page 2 of 2" in past.text
        for junk in ("abc", "", "1.5", "-3"):
            page = await carol.get("/ui/quizzes", params={"page": junk})
            assert page.status_code == 200 and "Page 1 of 2" in page.text


# --- bounded work: a form is read within the limits of the largest quiz ----------------------

"""The review pages over HTTP: the new-quiz form (inline errors, modules, uploads)
and the quiz list.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from api.limits import MAX_BODY_BYTES, MAX_FORM_ESCAPES, MAX_FORM_FIELDS
from api.web import forms
from api.web.forms import (
    FORM_ERROR,
    QUIZ_FORM_MAX_FIELDS,
    QUIZ_FORM_MAX_FILES,
    BatchInput,
    ModuleInput,
    QuizForm,
)
from api.web.i18n import Translator
from cli.quizfile import derive_module_ids
from deploy.local.api import ALICE, api_client, auth
from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.domain import (
    MAX_BATCHES_PER_MODULE,
    MAX_MODULES,
    BatchSpec,
    Language,
    ModuleSpec,
    QuestionType,
    QuizSpec,
)
from quizgen.module_ids import unique_module_ids
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
    quiz_with_questions,
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
        files={"modules-0-file": ("notes.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert bad.status_code == 422
    assert error_for(bad, "modules-0-content") == "Upload a UTF-8 .txt or .md file."
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


def _as_a_browser_posts(fields: dict[str, str], empty_files: list[str]) -> tuple[bytes, str]:
    """multipart/form-data as a browser sends it, file inputs left empty included (a
    part with `filename=""`, which httpx would leave out); the body and its Content-Type."""
    boundary = "----quizgenFormBoundary7MA4YWxkTrZu0gW"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
        for name in empty_files
    ]
    body = "".join(parts) + f"--{boundary}--\r\n"
    return body.encode(), f"multipart/form-data; boundary={boundary}"


def _quiz_form_of(page: httpx.Response) -> str:
    start = page.text.index('<form method="post" action="/ui/quizzes/new"')
    return page.text[start : page.text.index("</form>", start)]


async def test_the_largest_form_the_page_renders_is_read_whole(
    client: httpx.AsyncClient,
) -> None:
    """Every field of the page at its largest (20 modules), posted as a browser posts it,
    fits the bounds the post is parsed with, and makes the quiz."""
    await sign_in(client, ALICE)
    csrf = csrf_of(await new_quiz_page(client))
    names = {f"modules-{m}-name": f"Module {m}" for m in range(MAX_MODULES)}
    page = await client.post("/ui/quizzes/new", data=quiz_form(csrf, action="add_module", **names))
    assert page.status_code == 200
    html_form = _quiz_form_of(page)
    assert f'name="modules-{MAX_MODULES - 1}-name"' in html_form
    assert "add_module" not in html_form  # the page offers no more
    files = set(re.findall(r'name="([^"]+)" type="file"', html_form))
    fields = set(re.findall(r'name="([^"]+)"', html_form)) - files
    assert len(files) == QUIZ_FORM_MAX_FILES
    assert len(fields) + len(files) == QUIZ_FORM_MAX_FIELDS, sorted(fields)

    types = ["multiple_choice", "true_false", "fill_in_blank", "matching"]
    assert len(types) == MAX_BATCHES_PER_MODULE
    posted = {"csrf_token": csrf, "title": "Largest", "language": "en", "tone": "academic"}
    posted["action"] = "create"
    for m in range(MAX_MODULES):
        posted |= {f"modules-{m}-name": "Cells", f"modules-{m}-content": SAMPLE}
        for row, question_type in enumerate(types):
            prefix = f"modules-{m}-batches-{row}"
            posted |= {f"{prefix}-question_type": question_type, f"{prefix}-count": "1"}
            posted[f"{prefix}-difficulty"] = "medium"
    assert set(posted) == fields
    body, content_type = _as_a_browser_posts(posted, empty_files=sorted(files))
    headers = {"Content-Type": content_type}
    created = await client.post("/ui/quizzes/new", content=body, headers=headers)
    assert created.status_code == 303, created.text[:500]
    quiz_id = created.headers["location"].split("/")[3].split("?")[0]
    record = await repo.get_quiz(client_engine(client), uuid.UUID(quiz_id))
    ids = [m.module_id for m in record.spec.modules]
    assert ids == ["cells"] + [f"cells-{n}" for n in range(2, MAX_MODULES + 1)]
    assert record.spec.question_target == MAX_MODULES * MAX_BATCHES_PER_MODULE


async def test_more_modules_than_a_quiz_may_have_get_the_forms_own_error(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Within the field limit (name-only modules), the 21st module is the form's error."""
    await sign_in(client, ALICE)
    csrf = csrf_of(await new_quiz_page(client))
    before = (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1]
    extra = {f"modules-{m}-name": "a" for m in range(1, MAX_MODULES + 5)}
    for action in ("create", "add_module", "remove_module-0"):
        response = await client.post(
            "/ui/quizzes/new", data=quiz_form(csrf, action=action, **extra)
        )
        assert response.status_code == 422, action
        message = error_for(response, FORM_ERROR) or ""
        assert f"at most {MAX_MODULES} modules" in message, action
        assert f'name="modules-{MAX_MODULES - 1}-name"' in response.text
        assert f'name="modules-{MAX_MODULES}-name"' not in response.text
    norwegian = await client.post("/ui/quizzes/new?lang=no", data=quiz_form(csrf, **extra))
    assert f"høyst {MAX_MODULES} moduler" in (error_for(norwegian, FORM_ERROR) or "")
    assert (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1] == before


async def test_more_fields_or_files_than_the_form_has_are_refused_while_parsed(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(client, ALICE)
    csrf = csrf_of(await new_quiz_page(client))
    before = (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1]
    one_field_too_many = {f"extra-{n}": "x" for n in range(QUIZ_FORM_MAX_FIELDS)}
    assert len(quiz_form(csrf, **one_field_too_many)) > QUIZ_FORM_MAX_FIELDS
    files = [
        (f"modules-{m}-file", ("notes.txt", b"Cells divide.", "text/plain"))
        for m in range(QUIZ_FORM_MAX_FILES + 1)
    ]
    refused = [
        await client.post("/ui/quizzes/new", data=quiz_form(csrf, **one_field_too_many)),
        await client.post("/ui/quizzes/new", data=quiz_form(csrf), files=files),
        await client.post("/ui/quizzes/new?lang=no", data=quiz_form(csrf, **one_field_too_many)),
    ]
    for response in refused:
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("text/html")
    assert "more fields than the new-quiz form can have" in refused[0].text
    assert f"at most {MAX_MODULES} modules of {MAX_BATCHES_PER_MODULE} batches" in refused[1].text
    assert f"høyst {MAX_MODULES} moduler med {MAX_BATCHES_PER_MODULE} satser" in refused[2].text
    # Another site's post is refused before it is parsed; a bad token once it is.
    foreign = await client.post(
        "/ui/quizzes/new",
        data=quiz_form(csrf, **one_field_too_many),
        headers={"Origin": "https://elsewhere.example"},
    )
    assert foreign.status_code == 403
    stale = await client.post("/ui/quizzes/new", data=quiz_form("not-the-token"))
    assert stale.status_code == 403
    assert (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1] == before


def test_module_ids_are_derived_once_per_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not once per module (990 modules named "a" once took minutes)."""
    calls = 0

    def counting(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
        nonlocal calls
        calls += 1
        return unique_module_ids(names, taken)

    monkeypatch.setattr(forms, "unique_module_ids", counting)
    batch = BatchInput(question_type="true_false", count="1", difficulty="easy")
    quiz = QuizForm(
        title="Twenty",
        modules=[ModuleInput(name="a", content=SAMPLE, batches=[batch]) for _ in range(20)],
    )
    spec = quiz.check(Translator(Language.ENGLISH))
    assert spec is not None, quiz.errors
    assert calls == 1
    assert [m.module_id for m in spec.modules] == ["a"] + [f"a-{n}" for n in range(2, 21)]


async def test_a_question_edit_with_absurdly_many_json_values_is_refused_before_parsing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    await sign_in(client, ALICE)
    questions, _ = await review.list_questions(
        engine,
        quiz_id,
        review.QuestionFilter(question_type=QuestionType.MATCHING),
        offset=0,
        limit=1,
    )
    [matching] = questions
    url = f"/ui/quizzes/{quiz_id}/questions/{matching.id}/edit"
    form = await client.get(url)
    base = {"csrf_token": csrf_of(form), "question_text": "Match them.", "explanation": ""}
    # Four million lists: 1.4 s of json.loads on the event loop, were it parsed.
    flood = "[" + ",".join(["[]"] * 2_000_000) + "]"
    body, content_type = _as_a_browser_posts({**base, "details": flood}, empty_files=[])
    assert len(body) < MAX_BODY_BYTES
    headers = {"Content-Type": content_type}
    refused = await client.post(url, content=body, headers=headers)
    assert refused.status_code == 422
    assert "far more values than a question can have" in (error_for(refused, "details") or "")
    assert (await review.get_question(engine, quiz_id, matching.id)).version == matching.version


async def test_an_urlencoded_form_is_counted_as_it_streams_in(client: httpx.AsyncClient) -> None:
    """The sign-in form, open to anyone: up to the limits it is read (a wrong token is a
    401), one `&` or `%` more and it is a 413 page before the form parser sees it."""
    csrf = csrf_of(await client.get("/ui/sign-in"))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    base = f"csrf_token={csrf}&token=wrong-token-0123456789".encode()
    cases = [
        (base + b"&" * (MAX_FORM_FIELDS - 2), 401),  # MAX_FORM_FIELDS fields, some empty
        (base + b"&" * (MAX_FORM_FIELDS - 1), 413),
        (base + b"%41" * MAX_FORM_ESCAPES, 401),
        (base + b"%41" * (MAX_FORM_ESCAPES + 1), 413),
    ]
    for body, status in cases:
        response = await client.post("/ui/sign-in", content=body, headers=headers)
        assert response.status_code == status, (len(body), response.text[:300])
        assert response.headers["content-type"].startswith("text/html")

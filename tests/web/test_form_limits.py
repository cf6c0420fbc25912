"""The new-quiz and question-edit forms at their limits: the largest form the page renders is
read whole; more modules, fields, files or JSON values than a quiz can have are refused
before (or while) they are parsed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

import httpx
import pytest
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
from deploy.local.api import ALICE
from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.domain import (
    MAX_BATCHES_PER_MODULE,
    MAX_MODULES,
    Language,
    QuestionType,
)
from quizgen.module_ids import unique_module_ids
from tests.support.web import (
    SAMPLE,
    client_engine,
    csrf_of,
    error_for,
    new_quiz_page,
    quiz_form,
    quiz_with_questions,
    sign_in,
)


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

"""The API against its own OpenAPI schema, fuzzed by Schemathesis (bounded and deterministic).

Every operation FastAPI documents is called in-process over ASGI, as alice, against a database
of this module's own (seeded with a quiz and its questions) and the session's Temporal dev
server; the app runs its lifespan (engine, Temporal gateway, tokens). All of Schemathesis'
checks run, none is disabled: not_a_server_error, status_code_conformance,
content_type_conformance, response_headers_conformance, response_schema_conformance,
negative_data_rejection, positive_data_acceptance, missing_required_header, ignored_auth,
unsupported_method, allow_header_conformance (use_after_free, ensure_resource_availability and
object_level_authorization have nothing to act on: no DELETE, one user).

The one kind of failure let through (`_known_problem`) is not a defect: a body that satisfies
the JSON Schema but breaks a rule JSON Schema cannot state, answered with the documented 422.
The tests after the fuzz run pin problems the fuzzer found once (or that it only rarely
generates, like NUL characters), so that they stay fixed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.testing import WorkflowEnvironment

from api import create_app
from api.models import QuestionUpdate, QuizCreate
from deploy.local.api import ALICE, auth, local_settings
from deploy.local.migrations import upgrade
from deploy.local.postgres import create_database, drop_database
from deploy.local.temporal import server_address
from quizgen.contracts import BatchRef
from quizgen.db import repository as repo
from quizgen.db.engine import make_engine
from quizgen.domain import BatchSpec, ModuleSpec, QuestionType, QuizSpec
from quizgen.settings import Settings
from tests.support.batches import save_questions


class _AppSlot:
    """The ASGI app Schemathesis calls, installed by the `seeded` fixture.

    The schema has to exist when the module is collected, the app only once fixtures give it a
    database and a Temporal address. (`schemathesis.pytest.from_fixture` would load the schema
    from a fixture instead, but Schemathesis 4.32.5 reads `request.node._nodeid`, which pytest 9.2
    no longer has.) Schemathesis' ASGI transport enters the lifespan of the app behind the slot on
    the first request of each test and leaves it when the test is torn down.
    """

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            raise RuntimeError("no app installed: the `seeded` fixture has not run")
        await self.app(scope, receive, send)


APP = _AppSlot()
# The document FastAPI serves at /openapi.json (it does not depend on settings).
OPENAPI = create_app(local_settings()).openapi()

schema = schemathesis.openapi.from_dict(
    OPENAPI,
    config=schemathesis.Config.from_dict(
        {
            # Reproducible in CI: derandomized Hypothesis, no example database carried over.
            "seed": 20240601,
            "generation": {"max-examples": 20, "deterministic": True, "database": "none"},
            "auth": {"openapi": {"HTTPBearer": {"bearer": ALICE}}},
        }
    ),
)
schema.app = APP


@dataclass
class Seeded:
    settings: Settings
    # A quiz of alice's with its only batch saved: questions to review, nothing to generate.
    quiz_id: str
    question_ids: list[str]
    # A quiz of alice's never generated: `generate-questions` starts it (202), then 409s.
    fresh_quiz_id: str


SEEDED: list[Seeded] = []


@schema.hook("flatmap_path_parameters")
def _sometimes_seeded(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Besides random ids (404), draw ids of the seeded quiz and question, so the operations
    on `/quizzes/{quiz_id}` also answer with real data."""
    if not SEEDED or not path_parameters or "quiz_id" not in path_parameters:
        return st.just(path_parameters)
    seeded = SEEDED[0]
    real_quiz = {**path_parameters, "quiz_id": seeded.quiz_id}
    options = [path_parameters, real_quiz]
    if "question_id" in path_parameters:
        options.append({**real_quiz, "question_id": seeded.question_ids[0]})
    label = context.operation.label if context.operation else ""
    # Only here: reading a quiz whose workflow has no worker waits out a 5 s progress query.
    if label.endswith("/generate-questions"):
        options.append({**path_parameters, "quiz_id": seeded.fresh_quiz_id})
    return st.sampled_from(options)


_BODY_MODELS: dict[str, type[BaseModel]] = {
    "POST /quizzes": QuizCreate,
    "PATCH /quizzes/{quiz_id}/questions/{question_id}": QuestionUpdate,
}


def _error(response: schemathesis.Response) -> dict[str, Any]:
    """The `error` object of an ErrorBody response, or {}."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _validation_error(
    model: type[BaseModel], body: bytes | str | None, *, strict: bool
) -> ValidationError | None:
    try:
        model.model_validate_json(body or b"", strict=strict)
    except ValidationError as exc:
        return exc
    return None


def _known_problem(
    failure: Any, case: schemathesis.Case, response: schemathesis.Response
) -> str | None:
    """Why this failure is not a defect, or None to report it."""
    code = getattr(failure, "code", None)
    status = response.status_code
    model = _BODY_MODELS.get(case.operation.label)
    sent = response.request.body
    error = _error(response)
    if code == "ST202" and status == 422:
        # The body satisfies the JSON Schema but breaks a rule JSON Schema cannot state (one
        # batch per type and difficulty, distinct module ids, text not only whitespace, no NUL,
        # total content size; a question's own rules on PATCH), and the answer is the
        # documented 422. Only those rules are let through: every error must
        # come from a custom validator (`value_error`), or be the question rules' `unprocessable`.
        if error.get("code") == "unprocessable":
            return "question rules refused an edit"
        refusal = _validation_error(model, sent, strict=False) if model is not None else None
        if refusal is not None and all(e["type"] == "value_error" for e in refusal.errors()):
            return "cross-field rule the schema cannot express"
    return None


@schema.hook("filter_failure")
def _report_unknown_problems(
    _: schemathesis.HookContext,
    failure: Any,
    case: schemathesis.Case,
    response: schemathesis.Response,
) -> bool:
    return _known_problem(failure, case, response) is None


@pytest.fixture(scope="module")
def schema_database_url(postgres_server_url: str) -> Iterator[str]:
    """A database of this module's own: the fuzzer creates dozens of quizzes for alice."""
    url = create_database(postgres_server_url)
    upgrade(url)
    yield url
    drop_database(url)


async def _seed(database_url: str) -> tuple[uuid.UUID, list[uuid.UUID], uuid.UUID]:
    module = ModuleSpec(
        module_id="m1",
        name="Cells",
        content="Cells are the basic unit of life.",
        batches=[BatchSpec(question_type=QuestionType.TRUE_FALSE, count=2)],
    )
    spec = QuizSpec(title="Biology", modules=[module])
    engine = make_engine(database_url)
    try:
        quiz_id = await repo.create_quiz(engine, "alice", spec)
        saved = await save_questions(
            engine,
            quiz_id,
            BatchRef.of(module, module.batches[0]),
            [
                {"question_text": f"Cells statement {i}", "correct_answer": True, "explanation": ""}
                for i in range(2)
            ],
        )
        fresh_id = await repo.create_quiz(engine, "alice", spec)
    finally:
        await engine.dispose()
    return quiz_id, saved.question_ids, fresh_id


@pytest.fixture(scope="module", autouse=True)
async def seeded(
    schema_database_url: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[Seeded]:
    quiz_id, question_ids, fresh_id = await _seed(schema_database_url)
    settings = local_settings(
        database_url=schema_database_url,
        temporal_address=server_address(temporal_env),
        # No worker polls it: a started generation stays running and touches nothing else.
        temporal_task_queue=f"schema-{uuid.uuid4().hex[:10]}",
    )
    data = Seeded(settings, str(quiz_id), [str(q) for q in question_ids], str(fresh_id))
    SEEDED.append(data)
    APP.app = create_app(settings)
    try:
        yield data
    finally:
        APP.app = None
        SEEDED.clear()


@schema.parametrize()
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()


# Problems found once, each pinned with the exact request that showed it.


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Like tests.support.api.api_client, but an unexpected exception is the 500 a server
    sends rather than an exception in the test."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://quizgen.test", headers=auth(ALICE)
        ) as client:
            yield client


def _documented(method: str, path: str) -> set[int]:
    return {int(code) for code in OPENAPI["paths"][path][method.lower()]["responses"]}


def _quiz_body(**changes: Any) -> dict[str, Any]:
    module = {
        "module_id": "m1",
        "name": "Cells",
        "content": "Cells are the basic unit of life.",
        "batches": [{"question_type": "true_false", "count": 2}],
    }
    return {"title": "Biology", "modules": [module], **changes}


async def test_405_lists_every_allowed_method(seeded: Seeded) -> None:
    async with _client(seeded.settings) as client:
        response = await client.request("TRACE", "/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers.get("allow", "")


async def test_undecodable_body_gets_a_documented_status(seeded: Seeded) -> None:
    headers = {"Content-Type": "application/json"}
    async with _client(seeded.settings) as client:
        response = await client.post("/quizzes", content=b"\xff{}", headers=headers)
    assert response.status_code in _documented("POST", "/quizzes")


async def test_wrong_json_types_are_refused_not_coerced(seeded: Seeded) -> None:
    async with _client(seeded.settings) as client:
        response = await client.post("/quizzes", json=_quiz_body(temperature=False))
    assert response.status_code == 422


async def test_nul_in_a_body_is_a_422_not_a_500(seeded: Seeded) -> None:
    async with _client(seeded.settings) as client:
        response = await client.post("/quizzes", json=_quiz_body(title="Bio\x00logy"))
    assert response.status_code < 500


async def test_nul_in_a_filter_is_a_422_not_a_500(seeded: Seeded) -> None:
    async with _client(seeded.settings) as client:
        response = await client.get(
            f"/quizzes/{seeded.quiz_id}/questions", params={"module_id": "m\x001"}
        )
    assert response.status_code < 500


async def test_nul_in_a_question_edit_is_a_422_not_a_500(seeded: Seeded) -> None:
    edit = {"question_data": {"question_text": "Cells\x00 divide", "correct_answer": True}}
    async with _client(seeded.settings) as client:
        response = await client.patch(
            f"/quizzes/{seeded.quiz_id}/questions/{seeded.question_ids[1]}", json=edit
        )
    assert response.status_code < 500


def test_422_is_documented_with_the_error_shape() -> None:
    wrong = [
        f"{method.upper()} {path}"
        for path, methods in OPENAPI["paths"].items()
        for method, operation in methods.items()
        if "HTTPValidationError" in json.dumps(operation["responses"].get("422", {}))
    ]
    assert wrong == []

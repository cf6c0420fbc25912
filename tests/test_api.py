"""The HTTP API end to end: the app in-process, a real Temporal dev server and
PostgreSQL, workers of the test's own running the offline LLM (with injected faults)."""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.llm.faults import FaultInjectingProvider
from activities.llm.offline import OfflineProvider
from api.limits import MAX_BODY_BYTES
from quizgen.domain import (
    MAX_BATCHES_PER_MODULE,
    MAX_MODULE_CONTENT_CHARS,
    MAX_MODULES,
    MAX_QUESTIONS_PER_BATCH,
    MAX_QUIZ_CONTENT_CHARS,
    Difficulty,
    QuestionType,
    QuizStatus,
)
from quizgen.names import quiz_workflow_id
from quizgen.questions import normalize_text
from quizgen.settings import Settings
from tests.support.api import ALICE, BOB, TOKENS, api_client, api_settings, auth, error_of
from tests.support.api_flows import (
    all_questions,
    create_quiz,
    dev_server,
    get_quiz,
    quiz_body,
    wait_for_quiz,
)
from tests.support.flows import (
    FOUR_BATCHES,
    Batch,
    force_status,
    keys_of,
    plan_breaking,
    running_worker,
)
from tests.support.temporal import server_address

KEYS = keys_of(FOUR_BATCHES)
TARGETS = {key: batch[2] for key, batch in zip(KEYS, FOUR_BATCHES, strict=True)}
TARGET = sum(TARGETS.values())
ONE_BATCH: list[Batch] = [("cells", QuestionType.TRUE_FALSE, 3, Difficulty.EASY)]

Json = dict[str, Any]


def generate(
    client: httpx.AsyncClient, quiz_id: str, token: str = ALICE
) -> Coroutine[Any, Any, httpx.Response]:
    return client.post(f"/quizzes/{quiz_id}/generate-questions", headers=auth(token))


def texts_of(questions: list[Json]) -> list[str]:
    return [normalize_text(q["question_data"]["question_text"]) for q in questions]


async def generated_quiz(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    batches: Sequence[Batch],
) -> tuple[Json, list[Json]]:
    """A quiz of Alice's, generated completely through the API; with its questions."""
    quiz = await create_quiz(client, ALICE, batches)
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        assert (await generate(client, quiz["id"])).status_code == 202
        quiz = await wait_for_quiz(client, ALICE, quiz["id"])
    assert quiz["status"] == "ready_for_review"
    return quiz, await all_questions(client, ALICE, quiz["id"])


# --- 1. the whole flow: partial failure, then a retry of only the failed batch ---------------


async def test_partial_failure_then_retry_of_only_the_failed_batch(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    broken = KEYS[2]
    good = [k for k in KEYS if k != broken]
    created = await create_quiz(client, ALICE, FOUR_BATCHES)
    quiz_id = created["id"]
    assert created["status"] == "created"
    assert created["progress"]["message"] == (
        f"0 questions generated successfully ({TARGET} remaining)"
    )
    assert [b["status"] for b in created["progress"]["batches"]] == ["pending"] * len(KEYS)
    # The public model shows the content's size, never the content itself.
    assert [set(m) for m in created["modules"]] == [
        {"module_id", "name", "content_chars", "batches"}
    ] * 2

    faulty = FaultInjectingProvider(OfflineProvider(), plan_breaking(KEYS, [broken]))
    async with running_worker(temporal_env.client, engine, faulty, task_queue):
        started = await generate(client, quiz_id)
        assert started.status_code == 202, started.text
        assert started.json()["batch_keys"] == KEYS
        assert started.json()["status"] == "generating_questions"
        quiz = await wait_for_quiz(client, ALICE, quiz_id)

    # Progress, per-batch status, saved questions and metadata all tell the same story.
    assert quiz["status"] == "ready_for_review_partial"
    assert quiz["failure_reason"] is None
    saved = TARGET - TARGETS[broken]
    progress = quiz["progress"]
    assert progress["questions_saved"] == saved
    assert progress["questions_target"] == TARGET
    assert progress["questions_remaining"] == TARGETS[broken]
    assert progress["message"] == (
        f"{saved} questions generated successfully ({TARGETS[broken]} remaining)"
    )
    batches = {b["batch_key"]: b for b in progress["batches"]}
    assert {k: b["status"] for k, b in batches.items()} == {
        k: "failed" if k == broken else "succeeded" for k in KEYS
    }
    assert "injected permanent fault" in batches[broken]["last_error"]
    assert all(b["attempts"] == 1 for b in batches.values())

    first_questions = await all_questions(client, ALICE, quiz_id)
    assert len(first_questions) == saved
    assert {q["batch_key"] for q in first_questions} == set(good)
    for key in good:
        assert sum(q["batch_key"] == key for q in first_questions) == TARGETS[key]

    meta = quiz["generation_metadata"]
    assert sorted(meta["successful_batches"]) == sorted(good)
    assert meta["failed_batches"] == [broken]
    assert meta["total_questions_saved"] == saved
    assert meta["total_questions_target"] == TARGET
    [attempt] = meta["generation_attempts"]
    assert attempt["overall_status"] == "partial_success"
    assert attempt["batch_results"][broken]["status"] == "failed"
    assert attempt["batch_results"][broken]["error"] == batches[broken]["last_error"]

    # The LLM is healthy again: a retry runs the failed batch only.
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        retried = await generate(client, quiz_id)
        assert retried.status_code == 202, retried.text
        assert retried.json()["batch_keys"] == [broken]
        quiz = await wait_for_quiz(client, ALICE, quiz_id, attempts=2)

    assert quiz["status"] == "ready_for_review"
    assert quiz["progress"]["message"] == f"{TARGET} questions generated successfully (0 remaining)"
    assert {b["status"] for b in quiz["progress"]["batches"]} == {"succeeded"}
    questions = await all_questions(client, ALICE, quiz_id)
    assert len(questions) == TARGET
    assert len(set(texts_of(questions))) == TARGET
    # Nothing generated earlier was deleted or replaced.
    earlier = {q["id"]: q["question_data"] for q in first_questions}
    assert {q["id"]: q["question_data"] for q in questions if q["batch_key"] != broken} == earlier
    meta = quiz["generation_metadata"]
    assert [sorted(a["batch_results"]) for a in meta["generation_attempts"]] == [
        sorted(KEYS),
        [broken],
    ]
    assert meta["failed_batches"] == []
    assert sorted(meta["successful_batches"]) == sorted(KEYS)
    assert meta["total_questions_saved"] == TARGET
    listed = await client.get("/quizzes", params={"limit": 1}, headers=auth(ALICE))
    [summary] = listed.json()["data"]
    assert summary["id"] == quiz_id
    assert summary["status"] == "ready_for_review"
    assert summary["questions_saved"] == TARGET
    assert summary["questions_target"] == TARGET


# --- 2. live progress while generating; 409 while running and when nothing is left ---------


async def test_live_progress_while_generating_and_conflicts(
    database_url: str,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    # One batch at a time, each LLM call slowed down: progress grows step by step.
    settings = api_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
        max_concurrent_batches=1,
    )
    slow = OfflineProvider(latency_seconds=0.3)
    async with (
        api_client(settings) as client,
        running_worker(temporal_env.client, engine, slow, task_queue),
    ):
        quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
        assert (await generate(client, quiz_id)).status_code == 202

        # Wait for a moment when some batches are saved and one is running.
        async with asyncio.timeout(20):
            while True:
                quiz = await get_quiz(client, ALICE, quiz_id)
                progress = quiz["progress"]
                statuses = [b["status"] for b in progress["batches"]]
                if 0 < progress["questions_saved"] < TARGET and "running" in statuses:
                    break
                assert quiz["status"] == "generating_questions", quiz["status"]
                await asyncio.sleep(0.05)
        assert quiz["status"] == progress["status"] == "generating_questions"
        assert progress["questions_target"] == TARGET
        assert progress["message"] == (
            f"{progress['questions_saved']} questions generated successfully "
            f"({progress['questions_remaining']} remaining)"
        )
        # What the live view calls saved is in the database already.
        assert len(await all_questions(client, ALICE, quiz_id)) >= progress["questions_saved"]

        conflict = error_of(await generate(client, quiz_id), 409, "conflict")
        assert "already running" in conflict["message"]
        details = conflict["details"]
        assert details["status"] == "generating_questions"
        assert details["questions_target"] == TARGET
        assert details["questions_saved"] >= progress["questions_saved"]
        assert {b["batch_key"] for b in details["batches"]} == set(KEYS)

        quiz = await wait_for_quiz(client, ALICE, quiz_id)
        assert quiz["status"] == "ready_for_review"
        done = error_of(await generate(client, quiz_id), 409, "conflict")
        assert "nothing left to generate" in done["message"]
        quiz = await get_quiz(client, ALICE, quiz_id)
    assert quiz["status"] == "ready_for_review"
    assert len(quiz["generation_metadata"]["generation_attempts"]) == 1


# --- 3. a double click: one trigger wins ----------------------------------------------------


async def test_two_simultaneous_triggers_start_one_generation(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        responses = await asyncio.gather(generate(client, quiz_id), generate(client, quiz_id))
        codes = sorted(r.status_code for r in responses)
        assert codes == [202, 409], [r.text for r in responses]
        quiz = await wait_for_quiz(client, ALICE, quiz_id)

    # Whatever the answers, one generation ran: no duplicates, nothing generated twice.
    assert quiz["status"] == "ready_for_review"
    assert len(quiz["generation_metadata"]["generation_attempts"]) == 1
    questions = await all_questions(client, ALICE, quiz_id)
    assert len(questions) == TARGET
    assert len(set(texts_of(questions))) == TARGET
    [loser] = [r for r in responses if r.status_code == 409]
    message = error_of(loser, 409, "conflict")["message"]
    assert "already running" in message or "just started by another request" in message


async def test_a_quiz_stuck_in_generating_without_a_workflow_can_be_triggered_again(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
    await _stuck_in_generating(engine, quiz_id)
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        started = await generate(client, quiz_id)
        assert started.status_code == 202, started.text
        assert started.json()["batch_keys"] == KEYS
        quiz = await wait_for_quiz(client, ALICE, quiz_id)
    assert quiz["status"] == "ready_for_review"
    assert len(await all_questions(client, ALICE, quiz_id)) == TARGET


async def test_simultaneous_triggers_on_a_stuck_quiz_are_accepted_once(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
    await _stuck_in_generating(engine, quiz_id)
    async with running_worker(temporal_env.client, engine, OfflineProvider(), task_queue):
        responses = await asyncio.gather(*(generate(client, quiz_id) for _ in range(5)))
        quiz = await wait_for_quiz(client, ALICE, quiz_id)
    assert quiz["status"] == "ready_for_review"
    codes = sorted(r.status_code for r in responses)
    assert codes == [202, 409, 409, 409, 409], codes


async def _stuck_in_generating(engine: AsyncEngine, quiz_id: str) -> None:
    """What a trigger sees when the quiz says generating_questions but no workflow runs:
    the workflow was terminated, or another trigger has set the status and not yet
    started the workflow."""
    await force_status(
        engine,
        uuid.UUID(quiz_id),
        QuizStatus.GENERATING_QUESTIONS,
        allowed_from={QuizStatus.CREATED},
    )


# --- 4. auth -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param({}, "Authorization: Bearer", id="no-token"),
        pytest.param(auth("not-a-token-of-anyone-at-all"), "not valid", id="wrong-token"),
        pytest.param({"Authorization": f"Basic {ALICE}"}, "Bearer", id="basic-scheme"),
        pytest.param({"Authorization": "Bearer"}, "Bearer", id="empty-bearer"),
    ],
)
async def test_requests_without_a_valid_token_are_refused(
    client: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    quiz_id = (await create_quiz(client, ALICE, ONE_BATCH))["id"]
    requests = [
        client.get("/quizzes", headers=headers),
        client.post("/quizzes", json=quiz_body(ONE_BATCH), headers=headers),
        # An existing quiz is not revealed: 401, not 200 or 404.
        client.get(f"/quizzes/{quiz_id}", headers=headers),
        client.post(f"/quizzes/{quiz_id}/generate-questions", headers=headers),
        client.get(f"/quizzes/{quiz_id}/questions", headers=headers),
    ]
    for response in await asyncio.gather(*requests):
        error = error_of(response, 401, "unauthorized")
        assert message in error["message"]
        assert response.headers["WWW-Authenticate"] == "Bearer"
    # Nothing happened to Alice's quiz.
    assert (await get_quiz(client, ALICE, quiz_id))["status"] == "created"


async def test_another_users_quiz_is_not_found(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz, [question, *_] = await generated_quiz(client, temporal_env, engine, task_queue, ONE_BATCH)
    quiz_id, question_id = quiz["id"], question["id"]
    untouched = await create_quiz(client, ALICE, ONE_BATCH)
    edit = {"question_data": {**question["question_data"], "question_text": "Bob was here?"}}

    attempts = [
        client.get(f"/quizzes/{quiz_id}", headers=auth(BOB)),
        client.get(f"/quizzes/{quiz_id}/questions", headers=auth(BOB)),
        client.post(f"/quizzes/{quiz_id}/generate-questions", headers=auth(BOB)),
        client.post(f"/quizzes/{untouched['id']}/generate-questions", headers=auth(BOB)),
        client.patch(f"/quizzes/{quiz_id}/questions/{question_id}", json=edit, headers=auth(BOB)),
        client.post(f"/quizzes/{quiz_id}/questions/{question_id}/approve", headers=auth(BOB)),
    ]
    for response in await asyncio.gather(*attempts):
        error = error_of(response, 404, "not_found")
        # Indistinguishable from a quiz that does not exist.
        assert error["message"].startswith("quiz ") and error["message"].endswith("not found")

    assert (await get_quiz(client, ALICE, untouched["id"]))["status"] == "created"
    after = await get_quiz(client, ALICE, quiz_id)
    assert after["generation_metadata"] == quiz["generation_metadata"]
    [same] = [q for q in await all_questions(client, ALICE, quiz_id) if q["id"] == question_id]
    assert same["question_data"] == question["question_data"]
    assert same["is_approved"] is False


async def test_list_quizzes_shows_only_the_callers_own_page_by_page(
    settings: Settings,
) -> None:
    # Two users of this test's own, so the counts are exact whatever else the database holds.
    carol, dave = "carol-token-0123456789", "dave-token-0123456789a"
    own_users = settings.model_copy(
        update={"api_tokens": SecretStr(f"{TOKENS},carol:{carol},dave:{dave}")}
    )
    async with api_client(own_users) as client:
        carols = [
            (await create_quiz(client, carol, ONE_BATCH, f"Carol {i}"))["id"] for i in range(3)
        ]
        daves = (await create_quiz(client, dave, ONE_BATCH, "Dave"))["id"]
        alices = (await create_quiz(client, ALICE, ONE_BATCH, "Alice"))["id"]

        async def page(token: str, **params: int) -> Json:
            response = await client.get("/quizzes", params=params, headers=auth(token))
            assert response.status_code == 200, response.text
            body: Json = response.json()
            return body

        first = await page(carol, limit=2)
        second = await page(carol, offset=2, limit=2)
        assert first["count"] == second["count"] == 3
        # Newest first, no overlap, nothing missing.
        assert [q["id"] for q in first["data"] + second["data"]] == carols[::-1]
        assert [q["title"] for q in first["data"]] == ["Carol 2", "Carol 1"]
        assert all(q["status"] == "created" and q["questions_saved"] == 0 for q in first["data"])
        assert (await page(carol, offset=3))["data"] == []

        dave_page = await page(dave)
        assert dave_page["count"] == 1
        assert [q["id"] for q in dave_page["data"]] == [daves]
        alice_ids = {q["id"] for q in (await page(ALICE, limit=100))["data"]}
        assert alices in alice_ids
        assert alice_ids.isdisjoint({*carols, daves})

        for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
            response = await client.get("/quizzes", params=params, headers=auth(carol))
            error_of(response, 422, "invalid_request")


# --- 5. limits: 422 naming the problem, 413 before the body is read ------------------------


def _module(module_id: str, content: str = "Cells divide by mitosis. " * 4) -> Json:
    return {
        "module_id": module_id,
        "name": f"Module {module_id}",
        "content": content,
        "batches": [{"question_type": "true_false", "count": 3, "difficulty": "easy"}],
    }


def _set(path: str, value: Any) -> Callable[[Json], None]:
    """Set `body[a][b]...` (path "a.b.0.c") to value."""

    def change(body: Json) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


_FIVE_BATCHES = [
    {"question_type": t, "count": 2, "difficulty": "easy"}
    for t in ("multiple_choice", "true_false", "fill_in_blank", "matching", "categorization")
]
_BIG_MODULES = MAX_QUIZ_CONTENT_CHARS // MAX_MODULE_CONTENT_CHARS + 1
assert _BIG_MODULES <= MAX_MODULES and len(_FIVE_BATCHES) > MAX_BATCHES_PER_MODULE

INVALID_QUIZZES = [
    pytest.param(
        _set("modules.0.content", "x" * (MAX_MODULE_CONTENT_CHARS + 1)),
        "body.modules.0.content",
        f"at most {MAX_MODULE_CONTENT_CHARS} characters",
        id="module-content-too-large",
    ),
    pytest.param(
        _set(
            "modules",
            [_module(f"m{i}", "y" * MAX_MODULE_CONTENT_CHARS) for i in range(_BIG_MODULES)],
        ),
        "body",
        f"a quiz may have at most {MAX_QUIZ_CONTENT_CHARS}",
        id="quiz-content-too-large",
    ),
    pytest.param(
        _set("modules", [_module(f"m{i}") for i in range(MAX_MODULES + 1)]),
        "body.modules",
        f"at most {MAX_MODULES} items",
        id="too-many-modules",
    ),
    pytest.param(_set("modules", []), "body.modules", "at least 1 item", id="no-modules"),
    pytest.param(
        _set("modules.0.batches", []), "body.modules.0.batches", "at least 1 item", id="0-batches"
    ),
    pytest.param(
        _set("modules.0.batches", _FIVE_BATCHES),
        "body.modules.0.batches",
        f"at most {MAX_BATCHES_PER_MODULE} items",
        id="5-batches",
    ),
    pytest.param(
        _set("modules.0.batches.0.count", 0),
        "body.modules.0.batches.0.count",
        "greater than or equal to 1",
        id="count-0",
    ),
    pytest.param(
        _set("modules.0.batches.0.count", MAX_QUESTIONS_PER_BATCH + 1),
        "body.modules.0.batches.0.count",
        f"less than or equal to {MAX_QUESTIONS_PER_BATCH}",
        id="count-21",
    ),
    pytest.param(
        _set("modules.0.batches.0.question_type", "essay"),
        "body.modules.0.batches.0.question_type",
        "'multiple_choice'",
        id="unknown-question-type",
    ),
    pytest.param(
        _set("modules.0.batches", [_FIVE_BATCHES[1], {**_FIVE_BATCHES[1], "count": 5}]),
        "body.modules.0",
        "asks twice for true_false questions of difficulty easy",
        id="duplicate-type-and-difficulty",
    ),
    pytest.param(_set("language", "de"), "body.language", "'en' or 'no'", id="bad-language"),
    pytest.param(_set("tone", "sarcastic"), "body.tone", "'academic'", id="bad-tone"),
    pytest.param(
        _set("title", ""),
        "body.title",
        "at least 1 character",
        id="empty-title",
    ),
    pytest.param(
        _set("title", " \t\n "), "body.title", "title must contain text", id="whitespace-title"
    ),
    pytest.param(
        _set("modules.0.content", "   "),
        "body.modules.0.content",
        "content must contain text",
        id="whitespace-content",
    ),
    pytest.param(
        _set("modules", [_module("m1"), _module("m2"), _module("m1")]),
        "body",
        "module_id must be unique within a quiz; repeated: ['m1']",
        id="duplicate-module-id",
    ),
    pytest.param(
        _set("modules.0.module_id", "bio_1"),
        "body.modules.0.module_id",
        "should match pattern",
        id="module-id-with-underscore",
    ),
    pytest.param(
        _set("modules.0.module_id", "../etc"),
        "body.modules.0.module_id",
        "should match pattern",
        id="module-id-with-slash",
    ),
    pytest.param(
        _set("owner_id", "bob"), "body.owner_id", "Extra inputs are not permitted", id="extra-field"
    ),
    pytest.param(
        _set("modules.0.batches.0.hint", "x"),
        "body.modules.0.batches.0.hint",
        "Extra inputs are not permitted",
        id="extra-batch-field",
    ),
]


@pytest.mark.parametrize(("change", "loc", "message"), INVALID_QUIZZES)
async def test_invalid_quiz_is_refused_naming_the_problem(
    client: httpx.AsyncClient, change: Callable[[Json], None], loc: str, message: str
) -> None:
    body = copy.deepcopy({**quiz_body(ONE_BATCH), "modules": [_module("m1")]})
    assert (await client.post("/quizzes", json=body, headers=auth(ALICE))).status_code == 201
    change(body)
    response = await client.post("/quizzes", json=body, headers=auth(ALICE))
    error = error_of(response, 422, "invalid_request")
    assert message in error["message"]
    assert any(".".join(d["loc"]) == loc and message in d["message"] for d in error["details"]), (
        error["details"]
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "body: Field required", id="empty-body"),
        pytest.param(b"{}", "body.title: Field required", id="empty-object"),
        pytest.param(b'{"title": ', "JSON decode error", id="broken-json"),
        pytest.param(b"[]", "body", id="not-an-object"),
    ],
)
async def test_malformed_body_is_refused(
    client: httpx.AsyncClient, content: bytes, message: str
) -> None:
    headers = {**auth(ALICE), "Content-Type": "application/json"}
    response = await client.post("/quizzes", content=content, headers=headers)
    error = error_of(response, 422, "invalid_request")
    assert message in error["message"]


class _Stream:
    """A request body produced chunk by chunk; remembers how much was pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            size = min(self.chunk, self.total - self.pulled)
            self.pulled += size
            yield b" " * size


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_oversized_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, declared: bool
) -> None:
    stream = _Stream(total=4 * MAX_BODY_BYTES)
    headers = {**auth(ALICE), "Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(stream.total)
    response = await client.post("/quizzes", content=stream.__aiter__(), headers=headers)
    error = error_of(response, 413, "payload_too_large")
    assert str(MAX_BODY_BYTES) in error["message"]
    if declared:
        assert stream.pulled <= stream.chunk
    else:
        assert "Content-Length" not in response.request.headers
        assert stream.pulled <= MAX_BODY_BYTES + stream.chunk


async def test_a_body_just_under_the_limit_is_read(client: httpx.AsyncClient) -> None:
    body = quiz_body(ONE_BATCH)
    raw = httpx.Request("POST", "/", json=body).content
    padded = raw[:-1] + b" " * (MAX_BODY_BYTES - len(raw)) + raw[-1:]
    assert len(padded) == MAX_BODY_BYTES
    headers = {**auth(ALICE), "Content-Type": "application/json"}
    response = await client.post("/quizzes", content=padded, headers=headers)
    assert response.status_code == 201, response.text


# --- 6. reviewing questions ---------------------------------------------------------------

REVIEW_BATCHES: list[Batch] = [
    ("cells", QuestionType.MULTIPLE_CHOICE, 3, Difficulty.EASY),
    ("cells", QuestionType.TRUE_FALSE, 2, Difficulty.MEDIUM),
    ("leaves", QuestionType.MULTIPLE_CHOICE, 2, Difficulty.HARD),
]


async def test_questions_can_be_filtered_paged_edited_and_approved(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    quiz, questions = await generated_quiz(client, temporal_env, engine, task_queue, REVIEW_BATCHES)
    base = f"/quizzes/{quiz['id']}/questions"
    headers = auth(ALICE)
    assert len(questions) == 7
    assert not any(q["is_approved"] for q in questions)

    async def listing(**params: Any) -> Json:
        response = await client.get(base, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    # Filters.
    cells = await listing(module_id="cells")
    assert cells["count"] == 5 and {q["module_id"] for q in cells["data"]} == {"cells"}
    mc_key = keys_of(REVIEW_BATCHES)[0]
    by_key = await listing(batch_key=mc_key)
    assert by_key["count"] == 3 and {q["batch_key"] for q in by_key["data"]} == {mc_key}
    mc = await listing(question_type="multiple_choice")
    assert mc["count"] == 5 and {q["question_type"] for q in mc["data"]} == {"multiple_choice"}
    both = await listing(module_id="leaves", question_type="multiple_choice")
    assert both["count"] == 2 and {q["difficulty"] for q in both["data"]} == {"hard"}
    assert (await listing(module_id="nowhere"))["count"] == 0
    assert (await listing(is_approved="false"))["count"] == 7
    assert (await listing(is_approved="true"))["count"] == 0
    # Pages: stable order, no overlap, count is the total.
    pages = [await listing(offset=offset, limit=3) for offset in (0, 3, 6)]
    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    assert {p["count"] for p in pages} == {7}
    assert [q["id"] for p in pages for q in p["data"]] == [q["id"] for q in questions]
    for params in ({"limit": 0}, {"limit": 201}, {"question_type": "essay"}):
        error_of(await client.get(base, params=params, headers=headers), 422, "invalid_request")

    first, second = by_key["data"][0], by_key["data"][1]
    url = f"{base}/{first['id']}"

    # A valid edit is saved.
    changed = {**first["question_data"], "question_text": "Which organelle makes ATP?"}
    response = await client.patch(url, json={"question_data": changed}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["question_data"] == changed
    [stored] = (await listing(batch_key=mc_key, limit=1))["data"]
    assert stored["id"] == first["id"] and stored["question_data"] == changed

    # Edits that break a rule change nothing.
    bad_edits = [
        ({**changed, "correct_answer": "E"}, "correct_answer"),
        ({**changed, "option_b": changed["option_a"]}, "options must be distinct"),
        ({**changed, "hint": "look it up"}, "hint"),
        ({k: v for k, v in changed.items() if k != "option_d"}, "option_d"),
        # Same text as another question (case and punctuation do not make it new).
        (
            {**changed, "question_text": second["question_data"]["question_text"].upper() + "!"},
            "already has this text",
        ),
    ]
    for data, problem in bad_edits:
        response = await client.patch(url, json={"question_data": data}, headers=headers)
        error = error_of(response, 422, "unprocessable")
        assert "not changed" in error["message"] and problem in error["message"]
    response = await client.patch(url, json={"question_data": changed, "x": 1}, headers=headers)
    error_of(response, 422, "invalid_request")
    [stored] = (await listing(batch_key=mc_key, limit=1))["data"]
    assert stored["question_data"] == changed

    # Approving.
    response = await client.post(f"{url}/approve", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["is_approved"] is True
    approved = await listing(is_approved="true")
    assert approved["count"] == 1 and approved["data"][0]["id"] == first["id"]
    assert (await listing(is_approved="false"))["count"] == 6

    # Unknown questions.
    missing = "00000000-0000-4000-8000-000000000000"
    for response in (
        await client.patch(f"{base}/{missing}", json={"is_approved": True}, headers=headers),
        await client.post(f"{base}/{missing}/approve", headers=headers),
    ):
        assert missing in error_of(response, 404, "not_found")["message"]
    response = await client.patch(f"{base}/not-a-uuid", json={}, headers=headers)
    error_of(response, 422, "invalid_request")
    # Nothing was added or removed by any of it.
    assert len(await all_questions(client, ALICE, quiz["id"])) == 7


async def test_a_question_of_another_quiz_is_not_found(
    client: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
) -> None:
    _, [question, *_] = await generated_quiz(client, temporal_env, engine, task_queue, ONE_BATCH)
    other = await create_quiz(client, ALICE, ONE_BATCH)
    url = f"/quizzes/{other['id']}/questions/{question['id']}"
    error_of(await client.post(f"{url}/approve", headers=auth(ALICE)), 404, "not_found")


async def test_unknown_quiz_and_route(client: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    error = error_of(await client.get(f"/quizzes/{missing}", headers=auth(ALICE)), 404, "not_found")
    assert missing in error["message"]
    error_of(await generate(client, missing), 404, "not_found")
    error_of(await client.get("/quizzes/nope", headers=auth(ALICE)), 422, "invalid_request")
    error_of(await client.get("/nowhere", headers=auth(ALICE)), 404, "not_found")
    error_of(await client.delete("/quizzes", headers=auth(ALICE)), 405, "method_not_allowed")


# --- 7. Temporal down: 503, nothing half-written, then it works again ------------------------


async def test_temporal_down_answers_503_and_recovers(
    database_url: str, engine: AsyncEngine, task_queue: str, tmp_path: Path
) -> None:
    async with dev_server(tmp_path / "temporal.db") as server:
        settings = api_settings(
            database_url=database_url,
            temporal_address=server.address,
            temporal_task_queue=task_queue,
        )
        async with api_client(settings) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text

            await server.stop()
            # PostgreSQL alone is enough to create and show a quiz.
            quiz_id = (await create_quiz(client, ALICE, ONE_BATCH))["id"]
            error = error_of(await generate(client, quiz_id), 503, "service_unavailable")
            assert "Temporal is unavailable" in error["message"]
            quiz = await get_quiz(client, ALICE, quiz_id)
            assert quiz["status"] == "created"
            assert quiz["generation_metadata"]["generation_attempts"] == []
            assert quiz["progress"]["questions_saved"] == 0
            error = error_of(await client.get("/readyz"), 503, "service_unavailable")
            assert error["details"] == {"database": True, "temporal": False}
            assert "Temporal" in error["message"]
            assert (await client.get("/healthz")).status_code == 200

            # The same server comes back (same port, same database file).
            await server.start()
            worker_client = await server.connect()
            with pytest.raises(RPCError) as missing:
                await worker_client.get_workflow_handle(quiz_workflow_id(quiz_id)).describe()
            assert missing.value.status is RPCStatusCode.NOT_FOUND
            async with running_worker(worker_client, engine, OfflineProvider(), task_queue):
                started = await generate(client, quiz_id)
                assert started.status_code == 202, started.text
                quiz = await wait_for_quiz(client, ALICE, quiz_id)
            assert quiz["status"] == "ready_for_review"
            assert len(await all_questions(client, ALICE, quiz_id)) == ONE_BATCH[0][2]
            assert (await client.get("/readyz")).status_code == 200


async def test_temporal_down_is_reported_promptly(
    database_url: str, task_queue: str, tmp_path: Path
) -> None:
    async with dev_server(tmp_path / "temporal.db") as server:
        settings = api_settings(
            database_url=database_url,
            temporal_address=server.address,
            temporal_task_queue=task_queue,
        )
        async with api_client(settings) as client:
            assert (await client.get("/readyz")).status_code == 200
            await server.stop()
            quiz_id = (await create_quiz(client, ALICE, ONE_BATCH))["id"]
            async with asyncio.timeout(3):
                response = await generate(client, quiz_id)
            error_of(response, 503, "service_unavailable")


async def test_progress_is_shown_promptly_while_no_worker_runs(
    client: httpx.AsyncClient,
) -> None:
    quiz_id = (await create_quiz(client, ALICE, ONE_BATCH))["id"]
    # Started, but no worker polls this test's task queue (all workers down or busy).
    assert (await generate(client, quiz_id)).status_code == 202
    started = time.monotonic()
    async with asyncio.timeout(2):
        quiz = await get_quiz(client, ALICE, quiz_id)
    assert quiz["status"] == "generating_questions"
    assert time.monotonic() - started < 2


# --- 8. health ------------------------------------------------------------------------------


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": True, "temporal": True}

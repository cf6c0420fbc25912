"""PostgreSQL refusing connections: the API answers 503 in the error shape, then recovers.

The app's engine reaches PostgreSQL through a `PostgresGate` of the test's own, so only this
app sees the outage. The gate refuses the way a real server does: asyncpg raises
CannotConnectNowError (57P03) or TooManyConnectionsError (53300), which SQLAlchemy wraps in a
bare `DBAPIError` -- not an OperationalError -- so only the SQLSTATE tells it from a bad query.
"""

from __future__ import annotations

import asyncio
import errno
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
import sqlalchemy.exc
from fastapi import FastAPI
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from api.errors import install_error_handlers
from deploy.local.api import ALICE, auth, local_settings
from deploy.local.temporal import server_address
from quizgen.db.engine import make_engine
from quizgen.db.outage import is_database_outage
from quizgen.settings import Settings
from tests.support.api import error_of
from tests.support.api_cases import ONE_BATCH, UNAVAILABLE, database_requests
from tests.support.api_flows import create_quiz
from tests.support.pg_gate import PostgresGate, Refusal

Json = dict[str, Any]


@pytest.fixture
async def gate() -> AsyncIterator[PostgresGate]:
    async with PostgresGate() as gate:
        yield gate


@pytest.fixture
def settings(
    gate: PostgresGate, database_url: str, temporal_env: WorkflowEnvironment, task_queue: str
) -> Settings:
    return local_settings(
        database_url=gate.url_for(database_url),
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
    )


@pytest.mark.parametrize("refusal", list(Refusal), ids=lambda refusal: refusal.name.lower())
async def test_database_refusing_connections_answers_503_then_recovers(
    client: httpx.AsyncClient, gate: PostgresGate, refusal: Refusal
) -> None:
    quiz_id = (await create_quiz(client, ALICE, ONE_BATCH))["id"]
    assert gate.open_connections > 0, "the pool should hold connections through the gate"

    # The pooled connections drop (pre-ping notices) and every new one is refused.
    gate.refuse(refusal)
    assert gate.open_connections == 0
    for method, path, body in database_requests(quiz_id):
        response = await client.request(method, path, json=body, headers=auth(ALICE))
        error = error_of(response, 503, "service_unavailable")
        assert error["message"] == UNAVAILABLE, f"{method} {path}"
    if refusal.sqlstate:
        assert gate.refused >= len(database_requests(quiz_id))
    error = error_of(await client.get("/readyz"), 503, "service_unavailable")
    assert error["details"] == {"database": False, "temporal": True}
    assert error["message"] == "not ready: PostgreSQL unreachable"
    assert (await client.get("/healthz")).status_code == 200

    # The same pool serves again once PostgreSQL accepts connections (the quiz is still there).
    gate.allow()
    for path in ("/quizzes", f"/quizzes/{quiz_id}", f"/quizzes/{quiz_id}/questions"):
        response = await client.get(path, headers=auth(ALICE))
        assert response.status_code == 200, f"{path}: {response.text}"
    assert (await client.get(f"/quizzes/{quiz_id}", headers=auth(ALICE))).json()["id"] == quiz_id
    ready = await client.get("/readyz")
    assert ready.json() == {"status": "ok", "database": True, "temporal": True}
    await create_quiz(client, ALICE, ONE_BATCH)


# --- other database errors: still 500, unless the connection itself was lost ---------------


@pytest.fixture
async def direct_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sql_client(direct_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """An app with the API's error handlers and one route running the SQL it is given."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/sql")
    async def run(sql: str) -> None:
        async with direct_engine.connect() as conn:
            await conn.execute(sa.text(sql))

    # The generic handler answers 500 and re-raises to the server; only the answer matters here.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://quizgen.test") as client:
        yield client


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1 / 0", "SELEC 1", "SELECT 'x'::int"],
    ids=["division-by-zero", "syntax", "invalid-text"],
)
async def test_other_database_errors_answer_500(sql_client: httpx.AsyncClient, sql: str) -> None:
    response = await sql_client.post("/sql", params={"sql": sql})
    error_of(response, 500, "internal_error")


async def test_a_terminated_connection_answers_503(
    sql_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """pg_terminate_backend sends the client FATAL 57P01 mid-query; asyncpg reports it as
    ConnectionDoesNotExistError (08003), another bare DBAPIError."""
    # A text of its own: pg_stat_activity shows every database's sessions (other runs' too).
    sleep = f"SELECT pg_sleep(30) /* to be terminated: {uuid.uuid4()} */"
    request = asyncio.create_task(sql_client.post("/sql", params={"sql": sleep}))
    find = sa.text("SELECT pid FROM pg_stat_activity WHERE query = :sql")
    async with asyncio.timeout(10), engine.connect() as conn:
        # Autocommit: pg_stat_activity is a snapshot taken once per transaction.
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        while True:
            pid = await conn.scalar(find, {"sql": sleep})
            if pid is not None:
                break
            assert not request.done(), f"answered before it was terminated: {request.result()}"
            await asyncio.sleep(0.05)
        assert await conn.scalar(sa.select(sa.func.pg_terminate_backend(pid)))
        response = await request
    error = error_of(response, 503, "service_unavailable")
    assert error["message"] == UNAVAILABLE


# --- which errors count as "the database is unavailable" -----------------------------------


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (asyncpg.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.TooManyConnectionsError("sorry, too many clients already"), True),
        (asyncpg.AdminShutdownError("terminating connection due to administrator command"), True),
        (asyncpg.CrashShutdownError("terminating connection because of crash"), True),
        (asyncpg.ConnectionFailureError("connection failure"), True),
        (asyncpg.ConnectionDoesNotExistError("connection was closed"), True),
        (
            asyncpg.ObjectNotInPrerequisiteStateError(
                'database "quizgen" is not currently accepting connections'
            ),
            True,
        ),
        (asyncpg.ObjectNotInPrerequisiteStateError("cannot ALTER TABLE now"), False),
        (asyncpg.QueryCanceledError("canceling statement due to statement timeout"), False),
        (asyncpg.DiskFullError("could not extend file"), False),
        (asyncpg.UniqueViolationError("duplicate key value"), False),
        (asyncpg.PostgresSyntaxError('syntax error at or near "SELEC"'), False),
    ],
    ids=lambda value: getattr(value, "sqlstate", None) or str(value),
)
def test_is_database_outage_by_sqlstate(error: asyncpg.PostgresError, unavailable: bool) -> None:
    # Wrapped as SQLAlchemy's asyncpg dialect wraps a server error it has no class for.
    dbapi = postgresql_asyncpg.dialect.import_dbapi()  # type: ignore[no-untyped-call]
    wrapped = sqlalchemy.exc.DBAPIError.instance(
        "SELECT 1", None, dbapi.Error(error.args[0], error), dbapi.Error
    )
    assert type(wrapped) is sqlalchemy.exc.DBAPIError
    assert is_database_outage(wrapped) is unavailable


def test_unreachable_server_errors_are_unavailable() -> None:
    assert is_database_outage(ConnectionRefusedError(111, "Connect call failed"))
    assert is_database_outage(TimeoutError())
    assert is_database_outage(sqlalchemy.exc.TimeoutError("QueuePool limit reached"))
    assert not is_database_outage(ValueError("not a database error"))


async def test_an_oserror_is_an_outage_only_when_the_driver_raised_it(tmp_path: Path) -> None:
    # A Unix socket that is gone: asyncpg raises a bare FileNotFoundError (no file name).
    with pytest.raises(FileNotFoundError) as gone:
        await asyncpg.connect(host=str(tmp_path / "no-server"), user="postgres", timeout=3)
    assert is_database_outage(gone.value)
    # The same error from anything else (a missing upload, a full /tmp) is not.
    with pytest.raises(OSError) as elsewhere:
        (tmp_path / "missing.txt").read_text()
    assert not is_database_outage(elsewhere.value)
    with pytest.raises(OSError) as full:
        raise OSError(errno.ENOSPC, "No space left on device")
    assert not is_database_outage(full.value)

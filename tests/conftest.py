"""Shared fixtures: a fresh PostgreSQL database of the test run's own.

PostgreSQL comes from `DATABASE_URL` when set, else the server on
127.0.0.1:5432, else an embedded server started for the run. The run creates
its own database there, builds it with `alembic upgrade head`, and drops it at
the end.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from quizgen.db.embedded import start_embedded_postgres, stop_embedded_postgres
from quizgen.db.engine import make_engine
from quizgen.settings import Settings, normalize_database_url
from tests.support.api import api_client, api_settings
from tests.support.migrations import upgrade
from tests.support.temporal import server_address, start_dev_server

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def _dsn(url: str) -> str:
    """SQLAlchemy URL -> asyncpg DSN (drops the +asyncpg driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(_dsn(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def _server_url(embedded_dir: Path) -> str:
    if env := os.environ.get("DATABASE_URL"):
        return normalize_database_url(env)
    if asyncio.run(_reachable(LOCAL_POSTGRES)):
        return LOCAL_POSTGRES
    return start_embedded_postgres(embedded_dir)


async def _admin(url: str, sql: str) -> None:
    maintenance = make_url(url).set(database="postgres")
    conn = await asyncpg.connect(_dsn(maintenance.render_as_string(hide_password=False)))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(server_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    name = f"quizgen_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    embedded_dir = tmp_path_factory.mktemp("pg") / "embedded-postgres"
    yield _server_url(embedded_dir)
    if (embedded_dir / "postmaster.pid").exists():
        stop_embedded_postgres(embedded_dir)


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    url = create_database(postgres_server_url)
    upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def temporal_env(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server(tmp_path_factory.mktemp("temporal") / "temporal.db")
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    """A task queue of the test's own, so no other test's worker picks up its work."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(database_url: str, temporal_env: WorkflowEnvironment, task_queue: str) -> Settings:
    """API settings on the test's database, dev server and task queue."""
    return api_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process (lifespan included), over httpx."""
    async with api_client(settings) as client:
        yield client

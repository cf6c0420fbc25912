"""Shared fixtures: a fresh PostgreSQL database of the test run's own, and the dev server.

PostgreSQL comes from `DATABASE_URL` when set, else the server on
127.0.0.1:5432, else an embedded server started for the run. The run creates
its own database there, builds it with `alembic upgrade head`, and drops it at
the end.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import api_client, local_settings
from deploy.local.migrations import upgrade
from deploy.local.postgres import create_database, drop_database, server_url, stop_embedded_postgres
from deploy.local.temporal import server_address, start_dev_server
from quizgen.db.engine import make_engine
from quizgen.settings import Settings
from tests.support.log_capture import SessionLog

SESSION_LOG = pytest.StashKey[SessionLog]()


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    embedded_dir = tmp_path_factory.mktemp("pg") / "embedded-postgres"
    yield server_url(embedded_dir)
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
    return local_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process (lifespan included), over httpx."""
    async with api_client(settings) as client:
        yield client


# The fast tier (`./dev test -m fast`) stays fast: nothing in it may need the dev server.
_DEV_SERVER_FIXTURES = frozenset({"temporal_env"})
# Scans what every other test logged: it runs last.
_LAST = "test_log_hygiene.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        needs = _DEV_SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("fast") and needs:
            raise pytest.UsageError(f"{item.nodeid} is marked fast but needs {sorted(needs)}")
    items.sort(key=lambda item: item.path.name == _LAST)


def pytest_configure(config: pytest.Config) -> None:
    """Every log line of the run, at INFO as deployed, for tests/test_log_hygiene.py."""
    config.stash[SESSION_LOG] = handler = SessionLog()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level, logging.INFO) or logging.INFO)


@pytest.fixture(scope="session")
def session_log(pytestconfig: pytest.Config) -> SessionLog:
    return pytestconfig.stash[SESSION_LOG]

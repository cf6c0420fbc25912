"""Running Alembic against a chosen database, the way `alembic upgrade head` does.

`upgrade`/`downgrade` run in this process (tests, bench); `upgrade_as_operator`
runs `python -m alembic upgrade head` from the repo root, exactly as an
operator would (the demo).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from alembic import command
from alembic.config import Config

from deploy.local.paths import REPO_ROOT

__all__ = ["alembic_config", "downgrade", "upgrade", "upgrade_as_operator"]


def alembic_config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    # ConfigParser treats "%" as interpolation; a password may contain one.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # Leave pytest's logging alone.
    config.attributes["configure_logging"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base", *, force: bool = False) -> None:
    """`alembic downgrade`; `force` is `-x force=true` (see quizgen/db/downgrades.py)."""
    config = alembic_config(url)
    if force:
        config.cmd_opts = argparse.Namespace(x=["force=true"])
    command.downgrade(config, revision)


async def upgrade_as_operator(url: str) -> None:
    """`alembic upgrade head` as its own process, with `DATABASE_URL=url`."""
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

"""Alembic environment: async (asyncpg), URL from settings unless the caller set one."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from pydantic import ValidationError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from quizgen.db.tables import metadata
from quizgen.settings import Settings, describe_settings_error, normalize_database_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name)


def _url() -> str:
    # Tests pass their own database via `sqlalchemy.url`; otherwise DATABASE_URL.
    configured = config.get_main_option("sqlalchemy.url")
    if configured:
        return normalize_database_url(configured)
    try:
        return Settings().database_url
    except ValidationError as err:
        # Not pydantic's own text: it quotes the values, and DATABASE_URL holds a password.
        raise SystemExit(f"alembic: invalid settings:\n{describe_settings_error(err)}") from None


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())

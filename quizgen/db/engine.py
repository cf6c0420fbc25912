"""Building the async engine (asyncpg) from a DATABASE_URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from quizgen.settings import normalize_database_url

__all__ = ["make_engine", "single_statement", "snapshot"]


def make_engine(database_url: str, *, pool_size: int = 5, pre_ping: bool = True) -> AsyncEngine:
    """An engine on asyncpg.

    `pre_ping` tests every pooled connection before use (one round trip per
    checkout): right for the API, whose requests have no retry of their own.
    Workers turn it off: their activities retry, so a connection that died
    with a database restart costs one failed attempt, not a ping per query.
    """
    return create_async_engine(
        normalize_database_url(database_url),
        pool_size=pool_size,
        pool_pre_ping=pre_ping,
        # Errors and logs show the SQL without its values: they hold module content,
        # question texts and session nonces.
        hide_parameters=True,
    )


@asynccontextmanager
async def single_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for a read of one statement, outside any transaction.

    One statement sees one snapshot by itself; a transaction around it would
    only add a BEGIN and a ROLLBACK, two round trips on reads the API makes on
    every request. (The isolation level is reset when the connection returns to
    the pool.)
    """
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose statements all see one snapshot (REPEATABLE READ).

    For a page and its total count: read in two statements under READ COMMITTED, a
    batch saved between them makes the count disagree with the page.
    """
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            yield conn

"""Building the async engine (asyncpg) from a DATABASE_URL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from quizgen.settings import normalize_database_url

__all__ = ["make_engine"]


def make_engine(database_url: str, *, pool_size: int = 5, pre_ping: bool = True) -> AsyncEngine:
    """An engine on asyncpg.

    `pre_ping` tests every pooled connection before use (one round trip per
    checkout): right for the API, whose requests have no retry of their own.
    Workers turn it off: their activities retry, so a connection that died
    with a database restart costs one failed attempt, not a ping per query.
    """
    return create_async_engine(
        normalize_database_url(database_url), pool_size=pool_size, pool_pre_ping=pre_ping
    )

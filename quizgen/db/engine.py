"""Building the async engine (asyncpg) from a DATABASE_URL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from quizgen.settings import normalize_database_url

__all__ = ["make_engine"]


def make_engine(database_url: str, *, pool_size: int = 5) -> AsyncEngine:
    # pool_pre_ping: a worker outlives database restarts; a dead pooled
    # connection must not turn into a failed activity attempt.
    return create_async_engine(
        normalize_database_url(database_url), pool_size=pool_size, pool_pre_ping=True
    )

"""Review-page sessions ended by signing out (their signed cookies refused from then on)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db.engine import single_statement
from quizgen.db.tables import EndedSessionRow

__all__ = ["end_session", "session_ended"]

_ended = EndedSessionRow.__table__  # type: ignore[attr-defined]


async def end_session(engine: AsyncEngine, nonce: str, expires_at: int) -> None:
    """Refuse the session `nonce` until `expires_at` (Unix seconds), when its cookie would
    have expired anyway; rows of sessions past that are dropped on the way."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(_ended.delete().where(_ended.c.expires_at < now))
        await conn.execute(
            insert(_ended)
            .values(nonce=nonce, expires_at=datetime.fromtimestamp(expires_at, UTC))
            .on_conflict_do_nothing()
        )


async def session_ended(engine: AsyncEngine, nonce: str) -> bool:
    async with single_statement(engine) as conn:
        found = await conn.execute(sa.select(sa.literal(1)).where(_ended.c.nonce == nonce))
        return found.first() is not None

"""Each teacher's Canvas connection: who they are in Canvas, and their token, encrypted.

The token is stored only as `quizgen.canvas.tokens.TokenCipher` made it; this module
never sees it in clear. Deleting the connection deletes the token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db.engine import single_statement
from quizgen.db.tables import CanvasConnectionRow

__all__ = [
    "CanvasConnection",
    "delete_connection",
    "get_connection",
    "refresh_locked",
    "save_connection",
]


_connection = CanvasConnectionRow.__table__  # type: ignore[attr-defined]


class CanvasConnection(BaseModel):
    model_config = ConfigDict(frozen=True)

    owner_id: str
    canvas_user_id: str
    canvas_user_name: str
    token_ciphertext: bytes
    connected_at: datetime
    # Signed in with Canvas (OAuth2): the refresh token's ciphertext and the access
    # token's expiry; None for a pasted personal access token.
    refresh_token_ciphertext: bytes | None = None
    expires_at: datetime | None = None


async def save_connection(engine: AsyncEngine, connection: CanvasConnection) -> None:
    """Connect (or reconnect, replacing the token) the teacher."""
    values = connection.model_dump()
    async with engine.begin() as conn:
        await conn.execute(
            insert(_connection)
            .values(**values)
            .on_conflict_do_update(index_elements=[_connection.c.owner_id], set_=values)
        )


async def get_connection(engine: AsyncEngine, owner: str) -> CanvasConnection | None:
    async with single_statement(engine) as conn:
        row = (
            await conn.execute(sa.select(_connection).where(_connection.c.owner_id == owner))
        ).first()
    return CanvasConnection.model_validate(row._mapping) if row is not None else None


async def delete_connection(engine: AsyncEngine, owner: str) -> bool:
    async with engine.begin() as conn:
        result = await conn.execute(_connection.delete().where(_connection.c.owner_id == owner))
    return bool(result.rowcount)


async def refresh_locked(
    engine: AsyncEngine,
    owner: str,
    renew: Callable[[CanvasConnection], Awaitable[CanvasConnection | None]],
) -> CanvasConnection | None:
    """Renew `owner`'s tokens with the row locked (`SELECT ... FOR UPDATE`): `renew` gets
    the connection as stored now (another process may have just renewed it) and answers the
    new one to store, or None to keep it. Concurrent renewals run one after the other, so
    the second sees the first one's token and need not call Canvas. Answers what is stored
    afterwards (None when the teacher has no connection)."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                sa.select(_connection).where(_connection.c.owner_id == owner).with_for_update()
            )
        ).first()
        if row is None:
            return None
        current = CanvasConnection.model_validate(row._mapping)
        renewed = await renew(current)
        if renewed is None:
            return current
        await conn.execute(
            _connection.update()
            .where(_connection.c.owner_id == owner)
            .values(
                token_ciphertext=renewed.token_ciphertext,
                refresh_token_ciphertext=renewed.refresh_token_ciphertext,
                expires_at=renewed.expires_at,
            )
        )
        return renewed

"""Each teacher's Canvas connection: who they are in Canvas, and their token, encrypted.

The token is stored only as `quizgen.canvas.tokens.TokenCipher` made it; this module
never sees it in clear. Deleting the connection deletes the token.
"""

from __future__ import annotations

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

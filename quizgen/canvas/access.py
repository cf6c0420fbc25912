"""A teacher's Canvas, ready to call: their connection read from PostgreSQL, the token
decrypted, a `CanvasClient` open on `CANVAS_BASE_URL`.

Every caller that acts for a teacher (the export and extraction activities, the API's
course and module lists) opens Canvas here, so the token is handled in one place: it is
read, decrypted and handed to the client, never returned, logged or put in history.
(With OAuth2 sign-in, this is also where an access token near its expiry is refreshed.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.canvas.client import CanvasClient
from quizgen.canvas.tokens import TokenCipher
from quizgen.db.canvas_connections import get_connection
from quizgen.errors import CanvasAuthError, ConfigurationError
from quizgen.settings import Settings

__all__ = ["CanvasNotConfiguredError", "open_canvas"]


class CanvasNotConfiguredError(ConfigurationError):
    """This deployment has no Canvas (`CANVAS_BASE_URL`, `CANVAS_TOKEN_KEYS`)."""


@asynccontextmanager
async def open_canvas(
    engine: AsyncEngine, settings: Settings, owner: str
) -> AsyncIterator[CanvasClient]:
    """The teacher's Canvas. `CanvasAuthError` when they have not connected it (they
    must, as when Canvas refuses their token); `CanvasNotConfiguredError` without Canvas."""
    if not settings.canvas_base_url or settings.canvas_token_keys is None:
        raise CanvasNotConfiguredError("Canvas is not configured on this server (CANVAS_BASE_URL)")
    connection = await get_connection(engine, owner)
    if connection is None:
        raise CanvasAuthError("Canvas is not connected: reconnect Canvas")
    cipher = TokenCipher(settings.canvas_token_keys.get_secret_value())
    token = cipher.decrypt(connection.token_ciphertext)
    timeout = settings.canvas_call_timeout.total_seconds()
    async with CanvasClient(settings.canvas_base_url, token, timeout=timeout) as canvas:
        yield canvas

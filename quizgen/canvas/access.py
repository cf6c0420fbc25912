"""A teacher's Canvas, ready to call: their connection read from PostgreSQL, the token
decrypted, a `CanvasClient` open on `CANVAS_BASE_URL`.

Every caller that acts for a teacher (the export and extraction activities, the API's
course and module lists) opens Canvas here, so the token is handled in one place: it is
read, decrypted and handed to the client, never returned, logged or put in history.

With "Sign in with Canvas" (OAuth2), this is also where an access token near its expiry
is renewed: Canvas's docs say "Developer keys issued after Oct 2015 generate tokens with a
1 hour expiration. Applications must use refresh tokens to generate new access tokens"
(https://developerdocs.instructure.com/services/canvas/oauth2/file.oauth_endpoints). A
token expiring within `REFRESH_MARGIN` (or past) is renewed with the stored refresh token
under a row lock, so two activities renewing at once do not trip over each other: the
second finds the first one's fresh token and uses it. Canvas refusing the refresh token
(revoked, key deleted) is a `CanvasAuthError`: the teacher signs in (reconnects) again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.canvas.client import CanvasClient
from quizgen.canvas.oauth import oauth_client, oauth_configured
from quizgen.canvas.tokens import TokenCipher
from quizgen.db.canvas_connections import CanvasConnection, get_connection, refresh_locked
from quizgen.errors import CanvasAuthError, ConfigurationError
from quizgen.settings import Settings

__all__ = [
    "REFRESH_MARGIN",
    "CanvasNotConfiguredError",
    "canvas_of",
    "needs_refresh",
    "open_canvas",
]

# An access token with less than this left is renewed before use.
REFRESH_MARGIN = timedelta(seconds=60)


class CanvasNotConfiguredError(ConfigurationError):
    """This deployment has no Canvas (`CANVAS_BASE_URL`, `CANVAS_TOKEN_KEYS`)."""


def canvas_of(settings: Settings) -> tuple[str, TokenCipher]:
    """The deployment's Canvas address and the cipher of its teachers' tokens;
    `CanvasNotConfiguredError` without them."""
    if not settings.canvas_base_url or settings.canvas_token_keys is None:
        raise CanvasNotConfiguredError("Canvas is not configured on this server (CANVAS_BASE_URL)")
    return settings.canvas_base_url, TokenCipher(settings.canvas_token_keys.get_secret_value())


@asynccontextmanager
async def open_canvas(
    engine: AsyncEngine, settings: Settings, owner: str
) -> AsyncIterator[CanvasClient]:
    """The teacher's Canvas. `CanvasAuthError` when they have not connected it (they
    must, as when Canvas refuses their token); `CanvasNotConfiguredError` without Canvas."""
    base_url, cipher = canvas_of(settings)
    connection = await get_connection(engine, owner)
    if connection is None:
        raise CanvasAuthError("Canvas is not connected: reconnect Canvas")
    if needs_refresh(connection):
        connection = await _refreshed(engine, settings, cipher, owner)
    token = cipher.decrypt(connection.token_ciphertext)
    timeout = settings.canvas_call_timeout.total_seconds()
    async with CanvasClient(base_url, token, timeout=timeout) as canvas:
        yield canvas


def needs_refresh(connection: CanvasConnection, *, now: datetime | None = None) -> bool:
    """Whether the stored access token expires within `REFRESH_MARGIN` (or has) and can be
    renewed (a refresh token is stored)."""
    if connection.expires_at is None or connection.refresh_token_ciphertext is None:
        return False
    return connection.expires_at - (now or datetime.now(UTC)) < REFRESH_MARGIN


async def _refreshed(
    engine: AsyncEngine, settings: Settings, cipher: TokenCipher, owner: str
) -> CanvasConnection:
    if not oauth_configured(settings):
        raise CanvasAuthError(
            "the Canvas sign-in expired and Sign in with Canvas is not configured: reconnect Canvas"
        )

    async def renew(current: CanvasConnection) -> CanvasConnection | None:
        if not needs_refresh(current):
            return None  # renewed meanwhile by another caller (it held the lock)
        assert current.refresh_token_ciphertext is not None
        refresh_token = cipher.decrypt(current.refresh_token_ciphertext)
        try:
            tokens = await oauth_client(settings).refresh(refresh_token)
        except CanvasAuthError:
            raise CanvasAuthError(
                "Canvas refused to renew the sign-in (revoked or expired): reconnect Canvas"
            ) from None
        return current.model_copy(
            update={
                "token_ciphertext": cipher.encrypt(tokens.access_token),
                "refresh_token_ciphertext": cipher.encrypt(tokens.refresh_token)
                if tokens.refresh_token
                else current.refresh_token_ciphertext,
                "expires_at": tokens.expires_at,
            }
        )

    connection = await refresh_locked(engine, owner, renew)
    if connection is None:
        raise CanvasAuthError("Canvas is not connected: reconnect Canvas")
    return connection

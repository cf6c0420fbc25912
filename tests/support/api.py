"""The API app in-process (httpx over ASGI, lifespan included), for HTTP tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from api import create_app
from quizgen.settings import Settings

ALICE = "alice-token-0123456789"
BOB = "bob-token-0123456789ab"
TOKENS = f"alice:{ALICE},bob:{BOB}"


def api_settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, api_tokens=TOKENS, **overrides)  # type: ignore[arg-type]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://quizgen.test") as client:
            yield client


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The `error` object of an error response, after checking its status and shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error

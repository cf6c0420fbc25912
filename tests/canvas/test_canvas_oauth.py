"""Canvas's OAuth2 endpoints in the stand-in, quizgen's OAuth2 client against them, and
`open_canvas` renewing an expiring access token with the refresh token (stored encrypted,
concurrent renewals one after the other, a refused refresh token → "reconnect Canvas").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.api import ALICE, api_client, auth, local_settings
from deploy.local.canvas import CanvasStandIn
from quizgen.canvas.access import open_canvas
from quizgen.canvas.oauth import OAuthClient, OAuthTokens
from quizgen.canvas.tokens import TokenCipher
from quizgen.db import canvas_connections as connections
from quizgen.errors import CanvasAuthError
from quizgen.settings import Settings

pytestmark = pytest.mark.fast

KEY = Fernet.generate_key().decode()
REDIRECT = "http://quizgen.test/ui/oauth/canvas/callback"


@dataclass
class Setup:
    canvas: CanvasStandIn
    client: OAuthClient
    user_id: int
    course: int
    settings: Settings


@pytest.fixture
async def setup(database_url: str) -> AsyncIterator[Setup]:
    async with CanvasStandIn() as canvas:
        course = canvas.add_course("Biology 101", "BIO101")
        user_id = canvas.user(canvas.add_user("Ada Teacher", teacher_of=[course])).id
        client_id, secret = canvas.oauth.add_client(REDIRECT)
        settings = local_settings(
            database_url=database_url,
            canvas_base_url=canvas.base_url,
            canvas_token_keys=KEY,
            canvas_client_id=client_id,
            canvas_client_secret=secret,
            canvas_redirect_uri=REDIRECT,
        )
        client = OAuthClient(canvas.base_url, client_id, secret, REDIRECT, timeout=10)
        yield Setup(canvas, client, user_id, course, settings)


async def _code(setup: Setup, *, redirect_uri: str = REDIRECT) -> str:
    async with httpx.AsyncClient(base_url=setup.canvas.base_url, timeout=10) as http:
        back = await http.post(
            "/login/oauth2/auth",
            data={
                "client_id": setup.client.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "state": "s1",
                "user_id": str(setup.user_id),
                "decision": "authorize",
            },
        )
    assert back.status_code == 302, back.text
    query = parse_qs(urlsplit(back.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


async def _store(engine: AsyncEngine, owner: str, tokens: OAuthTokens) -> None:
    cipher = TokenCipher(KEY)
    assert tokens.refresh_token is not None
    await connections.save_connection(
        engine,
        connections.CanvasConnection(
            owner_id=owner,
            canvas_user_id=tokens.user_id,
            canvas_user_name=tokens.user_name,
            token_ciphertext=cipher.encrypt(tokens.access_token),
            connected_at=datetime.now(UTC),
            refresh_token_ciphertext=cipher.encrypt(tokens.refresh_token),
            expires_at=tokens.expires_at,
        ),
    )


async def test_the_code_is_exchanged_once_for_tokens_as_documented(setup: Setup) -> None:
    tokens = await setup.client.exchange_code(await _code(setup))
    assert tokens.user_id == str(setup.user_id) and tokens.user_name == "Ada Teacher"
    assert tokens.refresh_token and tokens.expires_at is not None
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    assert tokens.refresh_token in CanvasStandIn.issued_tokens  # scanned for in every log
    assert setup.canvas.user(tokens.access_token).id == setup.user_id
    with pytest.raises(CanvasAuthError):
        await setup.client.exchange_code("a-code-canvas-never-gave")


async def test_a_code_is_single_use_and_bound_to_its_redirect_uri(setup: Setup) -> None:
    code = await _code(setup)
    await setup.client.exchange_code(code)
    with pytest.raises(CanvasAuthError):
        await setup.client.exchange_code(code)
    other = OAuthClient(
        setup.canvas.base_url,
        setup.client.client_id,
        setup.client._secret,
        REDIRECT + "?x=1",
        timeout=10,
    )
    with pytest.raises(CanvasAuthError):
        await other.exchange_code(await _code(setup))


async def test_the_client_secret_is_checked(setup: Setup) -> None:
    wrong = OAuthClient(setup.canvas.base_url, setup.client.client_id, "nope", REDIRECT)
    with pytest.raises(CanvasAuthError):
        await wrong.exchange_code(await _code(setup))


async def test_an_unknown_client_or_redirect_uri_gets_canvas_s_error_not_a_redirect(
    setup: Setup,
) -> None:
    async with httpx.AsyncClient(base_url=setup.canvas.base_url, timeout=10) as http:
        unknown = await http.get(
            "/login/oauth2/auth",
            params={"client_id": "1", "response_type": "code", "redirect_uri": REDIRECT},
        )
        assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
        elsewhere = await http.get(
            "/login/oauth2/auth",
            params={
                "client_id": setup.client.client_id,
                "response_type": "code",
                "redirect_uri": "https://evil.example/cb",
            },
        )
        assert elsewhere.status_code == 400 and "location" not in elsewhere.headers
        assert "redirect_uri does not match" in elsewhere.json()["error_description"]


async def test_refreshing_keeps_the_refresh_token_and_retires_the_old_access_token(
    setup: Setup,
) -> None:
    first = await setup.client.exchange_code(await _code(setup))
    assert first.refresh_token is not None
    renewed = await setup.client.refresh(first.refresh_token)
    assert renewed.refresh_token == first.refresh_token
    assert renewed.access_token != first.access_token
    assert first.access_token not in setup.canvas.registry.tokens
    await setup.client.revoke(renewed.access_token)
    assert setup.canvas.oauth.revoked == [renewed.access_token]
    with pytest.raises(CanvasAuthError):  # the refresh token went with it
        await setup.client.refresh(first.refresh_token)


async def test_an_expired_access_token_is_renewed_by_open_canvas_and_stored_encrypted(
    setup: Setup, engine: AsyncEngine
) -> None:
    """Alice (an API token) connected through OAuth; her access token expires at Canvas
    and its stored expiry is past: `GET /canvas/courses` still answers, with a new token."""
    tokens = await setup.client.exchange_code(await _code(setup))
    await _store(engine, "alice", tokens)
    setup.canvas.expire(tokens.access_token)
    await connections.refresh_locked(engine, "alice", _expired)
    async with api_client(setup.settings) as api:
        courses = await api.get("/canvas/courses", headers=auth(ALICE))
    assert courses.status_code == 200, courses.text
    assert [c["name"] for c in courses.json()] == ["Biology 101"]
    stored = await connections.get_connection(engine, "alice")
    assert stored is not None and stored.expires_at is not None
    assert stored.expires_at > datetime.now(UTC) + timedelta(minutes=50)
    new = TokenCipher(KEY).decrypt(stored.token_ciphertext)
    assert new != tokens.access_token and new.encode() not in stored.token_ciphertext
    assert setup.canvas.user(new).id == setup.user_id
    refreshes = [
        r for r in setup.canvas.requests if r.method == "POST" and r.path == "/login/oauth2/token"
    ]
    assert len(refreshes) == 2  # the code, then one refresh
    await connections.delete_connection(engine, "alice")


async def _expired(current: connections.CanvasConnection) -> connections.CanvasConnection:
    return current.model_copy(update={"expires_at": datetime.now(UTC) - timedelta(seconds=5)})


async def test_concurrent_renewals_refresh_once_and_all_get_a_working_token(
    setup: Setup, engine: AsyncEngine
) -> None:
    owner = "canvas-concurrent-test"
    tokens = await setup.client.exchange_code(await _code(setup))
    await _store(engine, owner, tokens)
    await connections.refresh_locked(engine, owner, _expired)
    setup.canvas.latency = 0.05  # a refresh takes a while: the others queue on the lock

    async def one() -> str:
        async with open_canvas(engine, setup.settings, owner) as canvas:
            me = await canvas.self_user()
        return str(me["name"])

    assert await asyncio.gather(*(one() for _ in range(5))) == ["Ada Teacher"] * 5
    refreshes = [
        r for r in setup.canvas.requests if r.method == "POST" and r.path == "/login/oauth2/token"
    ]
    assert len(refreshes) == 2  # the code, then exactly one refresh
    await connections.delete_connection(engine, owner)


async def test_a_refused_refresh_token_asks_to_reconnect(setup: Setup, engine: AsyncEngine) -> None:
    owner = "canvas-refused-test"
    tokens = await setup.client.exchange_code(await _code(setup))
    await _store(engine, owner, tokens)
    await setup.client.revoke(tokens.access_token)  # revoked elsewhere: refresh token gone
    await connections.refresh_locked(engine, owner, _expired)
    with pytest.raises(CanvasAuthError, match="reconnect Canvas"):
        async with open_canvas(engine, setup.settings, owner):
            pass
    await connections.delete_connection(engine, owner)


async def test_the_stand_in_can_make_issued_tokens_expire_by_time(setup: Setup) -> None:
    setup.canvas.oauth.access_token_seconds = 0.2
    tokens = await setup.client.exchange_code(await _code(setup))
    assert not setup.canvas.registry.tokens[tokens.access_token].expired
    await asyncio.sleep(0.4)
    assert setup.canvas.registry.tokens[tokens.access_token].expired

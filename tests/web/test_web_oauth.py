"""Sign in with Canvas over HTTP: the authorization-code flow through the review pages and
the Canvas stand-in's authorize page (redirects followed by hand), state bound to the
browser (forged, replayed and foreign states refused), a wrong code refused, the tokens
stored encrypted as the teacher's Canvas connection, and sign-out revoking at Canvas.

The API in-process on the run's database, the stand-in over real HTTP; no Temporal.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.api import api_client, local_settings
from deploy.local.canvas import CanvasStandIn
from quizgen.canvas.tokens import TokenCipher
from quizgen.db import canvas_connections as connections
from tests.support.web import csrf_of

pytestmark = pytest.mark.fast

KEY = Fernet.generate_key().decode()
API = "http://quizgen.test"
CALLBACK = f"{API}/ui/oauth/canvas/callback"


@dataclass
class Setup:
    canvas: CanvasStandIn
    api: httpx.AsyncClient
    user_id: int
    course: int


@pytest.fixture
async def setup(database_url: str) -> AsyncIterator[Setup]:
    async with CanvasStandIn() as canvas:
        course = canvas.add_course("Biology 101", "BIO101")
        token = canvas.add_user("Ada Teacher", teacher_of=[course])
        client_id, secret = canvas.oauth.add_client(CALLBACK)
        settings = local_settings(
            database_url=database_url,
            canvas_base_url=canvas.base_url,
            canvas_token_keys=KEY,
            canvas_client_id=client_id,
            canvas_client_secret=secret,
        )
        async with api_client(settings) as api:
            yield Setup(canvas, api, canvas.user(token).id, course)


async def _authorize_url(setup: Setup) -> str:
    """The sign-in page's button → /ui/oauth/canvas/start → Canvas's authorize URL."""
    page = await setup.api.get("/ui/sign-in")
    assert 'href="/ui/oauth/canvas/start"' in page.text and "Sign in with Canvas" in page.text
    start = await setup.api.get("/ui/oauth/canvas/start")
    assert start.status_code == 303
    location = start.headers["location"]
    assert location.startswith(f"{setup.canvas.base_url}/login/oauth2/auth?")
    return location


async def _approve(setup: Setup, authorize_url: str) -> str:
    """At Canvas: the authorize page, the teacher picks themselves and authorizes; the
    redirect back to the API (its URL)."""
    async with httpx.AsyncClient(timeout=10) as browser_at_canvas:
        page = await browser_at_canvas.get(authorize_url)
        assert page.status_code == 200 and "Authorize" in page.text
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
        fields.update(user_id=str(setup.user_id), decision="authorize")
        back = await browser_at_canvas.post(
            f"{setup.canvas.base_url}/login/oauth2/auth", data=fields
        )
    assert back.status_code == 302
    location = back.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return location


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def _signed_in(setup: Setup) -> httpx.Response:
    callback = await setup.api.get(await _approve(setup, await _authorize_url(setup)))
    return callback


async def test_signing_in_with_canvas_connects_the_teacher_and_starts_a_session(
    setup: Setup, engine: AsyncEngine
) -> None:
    callback = await _signed_in(setup)
    assert callback.status_code == 200, callback.text
    assert "Signed in with Canvas as Ada Teacher." in callback.text
    assert 'http-equiv="refresh" content="0; url=/ui/"' in callback.text
    owner = f"canvas-{setup.user_id}"
    quizzes = await setup.api.get("/ui/", follow_redirects=True)
    assert quizzes.status_code == 200 and str(quizzes.url).endswith("/ui/quizzes")
    assert f"({owner})" in quizzes.text  # the sign-out button names the owner
    # The teacher is connected: the tokens are stored encrypted, as the export reads them.
    stored = await connections.get_connection(engine, owner)
    assert stored is not None and stored.canvas_user_name == "Ada Teacher"
    assert stored.refresh_token_ciphertext is not None and stored.expires_at is not None
    cipher = TokenCipher(KEY)
    access = cipher.decrypt(stored.token_ciphertext)
    assert setup.canvas.user(access).id == setup.user_id
    assert access.encode() not in stored.token_ciphertext
    canvas_page = await setup.api.get("/ui/canvas")
    assert "Connected as Ada Teacher" in canvas_page.text
    # The token exchange carried the client secret and the same redirect_uri.
    assert any(
        r.method == "POST" and r.path == "/login/oauth2/token" for r in setup.canvas.requests
    )


async def test_signing_out_revokes_the_token_at_canvas_and_forgets_it(
    setup: Setup, engine: AsyncEngine
) -> None:
    assert (await _signed_in(setup)).status_code == 200
    owner = f"canvas-{setup.user_id}"
    stored = await connections.get_connection(engine, owner)
    assert stored is not None
    access = TokenCipher(KEY).decrypt(stored.token_ciphertext)
    page = await setup.api.get("/ui/quizzes")
    out = await setup.api.post("/ui/sign-out", data={"csrf_token": csrf_of(page)})
    assert out.status_code == 303
    assert setup.canvas.oauth.revoked == [access]
    assert access not in setup.canvas.registry.tokens
    assert await connections.get_connection(engine, owner) is None
    after = await setup.api.get("/ui/quizzes")
    assert after.status_code == 303 and after.headers["location"] == "/ui/sign-in"


async def test_a_forged_state_is_refused(setup: Setup) -> None:
    back = await _approve(setup, await _authorize_url(setup))
    params = _query(back)
    forged = await setup.api.get(
        "/ui/oauth/canvas/callback", params={"code": params["code"], "state": "forged-state"}
    )
    assert forged.status_code == 403
    assert "cannot be finished here" in forged.text
    assert (await setup.api.get("/ui/quizzes")).status_code == 303  # not signed in


async def test_a_state_from_another_browser_is_refused(setup: Setup) -> None:
    back = await _approve(setup, await _authorize_url(setup))
    # The callback URL carried to a browser without the state cookie (a login CSRF).
    setup.api.cookies.clear()
    refused = await setup.api.get(back)
    assert refused.status_code == 403 and "cannot be finished here" in refused.text


async def test_a_replayed_state_is_refused(setup: Setup) -> None:
    back = await _approve(setup, await _authorize_url(setup))
    state_cookie = setup.api.cookies.get("quizgen_oauth_state")
    assert state_cookie
    first = await setup.api.get(back)
    assert first.status_code == 200
    # The same callback again, even with the state cookie put back.
    setup.api.cookies.set("quizgen_oauth_state", state_cookie, domain="quizgen.test", path="/ui")
    again = await setup.api.get(back)
    assert again.status_code == 403 and "cannot be finished here" in again.text


async def test_a_wrong_code_is_refused(setup: Setup) -> None:
    back = await _approve(setup, await _authorize_url(setup))
    params = _query(back)
    wrong = await setup.api.get(
        "/ui/oauth/canvas/callback", params={"code": "not-a-code", "state": params["state"]}
    )
    assert wrong.status_code == 400 and "Canvas did not accept this sign-in" in wrong.text
    assert (await setup.api.get("/ui/quizzes")).status_code == 303


async def test_cancelling_at_canvas_is_said_in_words(setup: Setup) -> None:
    authorize = await _authorize_url(setup)
    async with httpx.AsyncClient(timeout=10) as at_canvas:
        page = await at_canvas.get(authorize)
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
        back = await at_canvas.post(
            f"{setup.canvas.base_url}/login/oauth2/auth", data={**fields, "decision": "cancel"}
        )
    assert _query(back.headers["location"])["error"] == "access_denied"
    cancelled = await setup.api.get(back.headers["location"])
    assert cancelled.status_code == 400 and "was cancelled in Canvas" in cancelled.text


async def test_without_a_client_id_the_sign_in_page_has_no_canvas_button(
    database_url: str,
) -> None:
    async with CanvasStandIn() as canvas:
        settings = local_settings(
            database_url=database_url, canvas_base_url=canvas.base_url, canvas_token_keys=KEY
        )
        async with api_client(settings) as api:
            page = await api.get("/ui/sign-in")
            assert page.status_code == 200
            assert "Sign in with Canvas" not in page.text and 'name="token"' in page.text
            start = await api.get("/ui/oauth/canvas/start")
            assert start.status_code == 303 and start.headers["location"] == "/ui/sign-in"

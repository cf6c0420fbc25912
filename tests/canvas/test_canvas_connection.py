"""Connecting Canvas: a token checked with Canvas and kept encrypted; the teacher's courses,
every page of them; a token Canvas stops taking asks for a reconnect; keys rotate.

The API in-process on the run's database, against the Canvas stand-in over real HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from deploy.local.api import ALICE, BOB, api_client, auth, local_settings, serving
from deploy.local.canvas import CanvasStandIn
from quizgen.canvas.client import CanvasClient
from quizgen.canvas.tokens import TokenCipher
from quizgen.errors import CanvasAuthError, CanvasRefusedError
from tests.support.api import error_of

pytestmark = pytest.mark.fast

KEY = Fernet.generate_key().decode()


@dataclass
class Setup:
    canvas: CanvasStandIn
    api: httpx.AsyncClient
    token: str
    courses: list[int]


@pytest.fixture
async def setup(database_url: str) -> AsyncIterator[Setup]:
    async with CanvasStandIn() as canvas:
        courses = [canvas.add_course(f"Course {n}") for n in range(130)]
        other = canvas.add_course("Somebody else's")
        token = canvas.add_user("Ada Teacher", teacher_of=courses, student_of=[other])
        settings = local_settings(
            database_url=database_url, canvas_base_url=canvas.base_url, canvas_token_keys=KEY
        )
        async with api_client(settings) as api:
            # The run's database is shared: Alice starts each test unconnected.
            assert (await api.delete("/canvas/connection", headers=auth(ALICE))).status_code == 204
            yield Setup(canvas, api, token, courses)


async def _connect(setup: Setup, token: str, as_user: str = ALICE) -> httpx.Response:
    return await setup.api.put("/canvas/connection", json={"token": token}, headers=auth(as_user))


async def test_a_token_is_checked_with_canvas_and_kept_encrypted(
    setup: Setup, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connected = await _connect(setup, setup.token)
    assert connected.status_code == 200, connected.text
    assert connected.json()["canvas_user"]["name"] == "Ada Teacher"
    assert setup.token not in connected.text

    shown = await setup.api.get("/canvas/connection", headers=auth(ALICE))
    assert shown.json()["connected"] is True
    assert setup.token not in shown.text
    assert (await setup.api.get("/canvas/connection", headers=auth(BOB))).json() == {
        "connected": False,
        "canvas_user": None,
        "connected_at": None,
    }
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                sa.text("SELECT token_ciphertext FROM canvas_connection WHERE owner_id = 'alice'")
            )
        ).scalar_one()
    assert setup.token.encode() not in stored
    assert TokenCipher(KEY).decrypt(stored) == setup.token
    assert setup.token not in caplog.text


async def test_a_token_canvas_refuses_is_not_kept(setup: Setup) -> None:
    refused = await _connect(setup, "not-a-canvas-token")
    assert "Canvas refused this token" in error_of(refused, 422, "unprocessable")["message"]
    shown = await setup.api.get("/canvas/connection", headers=auth(ALICE))
    assert shown.json()["connected"] is False


async def test_the_teachers_courses_every_page_of_them(setup: Setup) -> None:
    await _connect(setup, setup.token)
    listed = await setup.api.get("/canvas/courses", headers=auth(ALICE))
    assert listed.status_code == 200, listed.text
    assert sorted(int(c["id"]) for c in listed.json()) == sorted(setup.courses)
    # 130 courses at Canvas's 100 a page: the client followed the Link header once.
    pages = [r for r in setup.canvas.requests if r.path == "/api/v1/courses"]
    assert len(pages) == 2


async def test_an_expired_token_asks_for_a_reconnect_and_a_new_one_works(setup: Setup) -> None:
    await _connect(setup, setup.token)
    setup.canvas.expire(setup.token)
    stale = await setup.api.get("/canvas/courses", headers=auth(ALICE))
    assert "reconnect Canvas" in error_of(stale, 409, "canvas_reconnect_required")["message"]
    fresh = setup.canvas.issue_token(setup.canvas.user(setup.token).id)
    assert (await _connect(setup, fresh)).status_code == 200
    assert (await setup.api.get("/canvas/courses", headers=auth(ALICE))).status_code == 200


async def test_canvas_throttling_is_a_503_and_disconnect_forgets_the_token(setup: Setup) -> None:
    await _connect(setup, setup.token)
    setup.canvas.throttle(30)
    throttled = await setup.api.get("/canvas/courses", headers=auth(ALICE))
    assert "throttling" in error_of(throttled, 503, "service_unavailable")["message"]
    gone = await setup.api.delete("/canvas/connection", headers=auth(ALICE))
    assert gone.status_code == 204
    error_of(await setup.api.get("/canvas/courses", headers=auth(ALICE)), 409, "conflict")


async def test_without_canvas_settings_the_routes_say_so(database_url: str) -> None:
    async with api_client(local_settings(database_url=database_url)) as api:
        answer = await api.put("/canvas/connection", json={"token": "x"}, headers=auth(ALICE))
        assert "not configured" in error_of(answer, 409, "conflict")["message"]


def test_keys_rotate_old_ciphertexts_still_read_and_unknown_keys_ask_to_reconnect() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = TokenCipher(old).encrypt("canvas-token")
    rotating = TokenCipher(f"{new},{old}")
    assert rotating.decrypt(stored) == "canvas-token"
    rotated = rotating.rotate(stored)
    assert TokenCipher(new).decrypt(rotated) == "canvas-token"
    with pytest.raises(CanvasAuthError, match="reconnect Canvas"):
        TokenCipher(new).decrypt(stored)


async def test_the_token_never_follows_a_next_link_to_another_host() -> None:
    """A Canvas whose `Link: rel="next"` points elsewhere (a bug, or an attacker who can
    shape its answers): the client stops instead of sending the token there."""
    seen: list[str] = []

    async def courses(request: Request) -> JSONResponse:
        seen.append(request.headers.get("authorization", ""))
        link = '<http://elsewhere.example/api/v1/courses?page=2>; rel="next"'
        return JSONResponse([{"id": 1, "name": "One"}], headers={"Link": link})

    app = Starlette(routes=[Route("/api/v1/courses", courses)])
    async with serving(app) as url, CanvasClient(url, "secret-canvas-token") as canvas:
        with pytest.raises(CanvasRefusedError, match="another host"):
            await canvas.teacher_courses()
    assert seen == ["Bearer secret-canvas-token"]

"""The Canvas page over HTTP: connect with a token (checked with Canvas, kept encrypted),
refused and unreachable Canvas said in words, disconnect, CSRF, and `next` kept on the site.

The API in-process on the run's database, against the Canvas stand-in over real HTTP; no
Temporal (the pages here never start a workflow).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography.fernet import Fernet

import api.routes.canvas
import api.web.canvas_pages
from api.web.canvas_pages import safe_next
from deploy.local.api import ALICE, api_client, auth, local_settings
from deploy.local.canvas import CanvasStandIn
from tests.support.web import csrf_of, sign_in

pytestmark = pytest.mark.fast

KEY = Fernet.generate_key().decode()


@dataclass
class Setup:
    canvas: CanvasStandIn
    client: httpx.AsyncClient
    token: str


@pytest.fixture
async def setup(database_url: str) -> AsyncIterator[Setup]:
    async with CanvasStandIn() as canvas:
        course = canvas.add_course("Biology 101", "BIO101")
        token = canvas.add_user("Ada Teacher", teacher_of=[course])
        settings = local_settings(
            database_url=database_url, canvas_base_url=canvas.base_url, canvas_token_keys=KEY
        )
        async with api_client(settings) as client:
            # The run's database is shared: Alice starts each test unconnected.
            assert (
                await client.delete("/canvas/connection", headers=auth(ALICE))
            ).status_code == 204
            assert (await sign_in(client, ALICE)).status_code == 303
            yield Setup(canvas, client, token)


async def _connection(setup: Setup) -> dict[str, object]:
    shown = await setup.client.get("/canvas/connection", headers=auth(ALICE))
    assert shown.status_code == 200, shown.text
    answer: dict[str, object] = shown.json()
    return answer


async def _post_connect(
    setup: Setup, token: str, *, next_path: str | None = None
) -> httpx.Response:
    page = await setup.client.get("/ui/canvas")
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_of(page), "token": token}
    if next_path is not None:
        data["next"] = next_path
    return await setup.client.post("/ui/canvas/connect", data=data)


async def test_a_good_token_connects_and_the_page_shows_the_canvas_name(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    before = await setup.client.get("/ui/canvas")
    assert "Canvas is not connected." in before.text
    assert 'type="password"' in before.text and 'autocomplete="off"' in before.text
    assert ">Disconnect</button>" not in before.text
    assert 'href="/ui/canvas">Canvas</a>' in before.text  # in the page header

    posted = await _post_connect(setup, f"  {setup.token}  ")
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"] == "/ui/canvas?notice=canvas_connected"
    page = await setup.client.get(posted.headers["location"])
    assert page.status_code == 200
    assert "Connected to Canvas as Ada Teacher." in page.text
    assert "Connected as Ada Teacher since" in page.text
    assert ">Disconnect</button>" in page.text
    assert ">Connect with a new token</button>" in page.text

    connection = await _connection(setup)
    assert connection["connected"] is True
    assert connection["canvas_user"] == {
        "id": str(setup.canvas.user(setup.token).id),
        "name": "Ada Teacher",
    }
    assert setup.token not in page.text
    assert setup.token not in posted.text + str(posted.headers)
    assert setup.token not in caplog.text


async def test_the_page_speaks_norwegian_too(setup: Setup) -> None:
    await _post_connect(setup, setup.token)
    page = await setup.client.get("/ui/canvas?lang=no&notice=canvas_connected")
    assert "Koblet til Canvas som Ada Teacher." in page.text
    assert ">Koble fra</button>" in page.text
    assert 'href="/ui/canvas">Canvas</a>' in page.text


async def test_a_token_canvas_refuses_is_said_in_words_and_nothing_is_kept(
    setup: Setup,
) -> None:
    refused = await _post_connect(setup, "7~not-a-canvas-token")
    assert refused.status_code == 422
    assert "Canvas refused this token" in refused.text
    assert "7~not-a-canvas-token" not in refused.text
    assert "Traceback" not in refused.text
    assert (await _connection(setup))["connected"] is False

    empty = await _post_connect(setup, "   ")
    assert empty.status_code == 422
    assert "Paste a Canvas access token." in empty.text


async def test_canvas_throttled_or_down_is_said_in_words(setup: Setup) -> None:
    setup.canvas.throttle(30)
    throttled = await _post_connect(setup, setup.token)
    assert throttled.status_code == 503
    assert "Canvas could not be reached or is busy" in throttled.text
    assert setup.token not in throttled.text
    assert (await _connection(setup))["connected"] is False


async def test_disconnect_forgets_the_token(setup: Setup) -> None:
    await _post_connect(setup, setup.token)
    page = await setup.client.get("/ui/canvas")
    gone = await setup.client.post("/ui/canvas/disconnect", data={"csrf_token": csrf_of(page)})
    assert gone.status_code == 303
    assert gone.headers["location"] == "/ui/canvas?notice=canvas_disconnected"
    after = await setup.client.get(gone.headers["location"])
    assert "Canvas is disconnected; the token was forgotten." in after.text
    assert "Canvas is not connected." in after.text
    assert (await _connection(setup))["connected"] is False


async def test_posts_without_the_csrf_token_or_from_elsewhere_are_refused(setup: Setup) -> None:
    no_csrf = await setup.client.post("/ui/canvas/connect", data={"token": setup.token})
    assert no_csrf.status_code == 403
    assert (await _connection(setup))["connected"] is False

    page = await setup.client.get("/ui/canvas")
    elsewhere = await setup.client.post(
        "/ui/canvas/connect",
        data={"csrf_token": csrf_of(page), "token": setup.token},
        headers={"Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    assert (await _connection(setup))["connected"] is False

    await _post_connect(setup, setup.token)
    kept = await setup.client.post("/ui/canvas/disconnect", data={})
    assert kept.status_code == 403
    assert (await _connection(setup))["connected"] is True


@pytest.mark.parametrize(
    "outside",
    [
        "https://evil.example/ui/quizzes",
        "//evil.example/ui/quizzes",
        "/\\evil.example",
        "/quizzes",
        "/ui/../canvas/connection",
        "javascript:alert(1)",
    ],
)
async def test_next_outside_the_pages_is_ignored(setup: Setup, outside: str) -> None:
    page = await setup.client.get("/ui/canvas", params={"next": outside})
    assert 'name="next"' not in page.text
    posted = await _post_connect(setup, setup.token, next_path=outside)
    assert posted.status_code == 303
    assert posted.headers["location"] == "/ui/canvas?notice=canvas_connected"


async def test_next_to_a_page_is_where_a_connect_goes(setup: Setup) -> None:
    target = "/ui/quizzes/0b6f7a2e-2f0e-4a43-9d0c-0f0a4c1f8e11"
    page = await setup.client.get("/ui/canvas", params={"next": target})
    assert f'name="next" value="{target}"' in page.text
    posted = await setup.client.post(
        "/ui/canvas/connect",
        data={"csrf_token": csrf_of(page), "token": setup.token, "next": target},
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == target
    # A refused token stays on the page, with `next` still in the form.
    refused = await _post_connect(setup, "7~wrong", next_path=target)
    assert refused.status_code == 422
    assert f'name="next" value="{target}"' in refused.text


async def test_both_ways_of_connecting_call_the_after_connect_hook(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[str] = []

    async def record(app_state: object, owner: str) -> None:
        assert hasattr(app_state, "engine")
        called.append(owner)

    monkeypatch.setattr(api.web.canvas_pages, "after_connect", record)
    monkeypatch.setattr(api.routes.canvas, "after_connect", record)
    await _post_connect(setup, "7~wrong")
    assert called == []
    await _post_connect(setup, setup.token)
    put = await setup.client.put(
        "/canvas/connection", json={"token": setup.token}, headers=auth(ALICE)
    )
    assert put.status_code == 200, put.text
    assert called == ["alice", "alice"]


async def test_without_canvas_settings_the_page_says_so(database_url: str) -> None:
    async with api_client(local_settings(database_url=database_url)) as client:
        await sign_in(client, ALICE)
        page = await client.get("/ui/canvas")
        assert page.status_code == 200
        assert "Canvas is not set up on this server" in page.text
        assert 'name="token"' not in page.text
        posted = await client.post(
            "/ui/canvas/connect", data={"csrf_token": csrf_of(page), "token": "7~x"}
        )
        assert posted.status_code == 409
        assert "Canvas is not set up on this server" in posted.text


def test_safe_next_keeps_pages_of_this_site_only() -> None:
    assert safe_next("/ui/quizzes/abc?tab=export") == "/ui/quizzes/abc?tab=export"
    for bad in (None, "", "/ui", "/ui//evil.example", "/ui/%2e%2e/x", "/ui/a\nb", 5):
        assert safe_next(bad) is None, bad

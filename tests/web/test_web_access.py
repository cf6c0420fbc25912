"""The review pages over HTTP: sign-in, sessions, CSRF, and teachers kept apart.

The browser flow against a running worker is in test_web_browser.py.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.api import ALICE, BOB, api_client, auth
from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.settings import Settings
from tests.support.web import (
    csrf_of,
    new_quiz_page,
    quiz_form,
    quiz_with_questions,
    sign_in,
)


async def test_pages_need_a_session_and_sign_in_takes_a_valid_token_only(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/ui/quizzes", "/ui/quizzes/new", f"/ui/quizzes/{uuid.uuid4()}"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/sign-in"

    refused = await sign_in(client, "not-a-token-0000000000")
    assert refused.status_code == 401
    assert "That token is not valid." in refused.text
    assert "quizgen_session" not in client.cookies

    accepted = await sign_in(client, ALICE)
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/ui/quizzes"
    cookie = accepted.headers["set-cookie"]
    assert "quizgen_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    # The token is in no URL, no cookie and no page.
    assert ALICE not in cookie and ALICE not in str(accepted.headers)
    listing = await client.get("/ui/quizzes")
    assert listing.status_code == 200
    assert ALICE not in listing.text
    assert "Sign out (alice)" in listing.text
    assert listing.headers["content-security-policy"].startswith("default-src 'self'")

    copied = client.cookies["quizgen_session"]
    signed_out = await client.post("/ui/sign-out", data={"csrf_token": csrf_of(listing)})
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/ui/sign-in?notice=signed_out"
    assert (await client.get("/ui/quizzes")).status_code == 303
    # A copy of the cookie kept from before is no session either: signing out ended it.
    client.cookies.set("quizgen_session", copied, path="/ui")
    assert (await client.get("/ui/quizzes")).status_code == 303


async def test_a_forged_or_tampered_session_is_refused(client: httpx.AsyncClient) -> None:
    await sign_in(client, ALICE)
    value = client.cookies["quizgen_session"]
    payload, mac = value.split(".")
    client.cookies.set("quizgen_session", f"{payload}.{mac[:-2]}AA", path="/ui")
    assert (await client.get("/ui/quizzes")).status_code == 303


async def test_a_sign_in_form_opened_twice_still_signs_in(client: httpx.AsyncClient) -> None:
    first = csrf_of(await client.get("/ui/sign-in"))
    await client.get("/ui/sign-in")  # a second tab, or a reload
    response = await client.post("/ui/sign-in", data={"token": ALICE, "csrf_token": first})
    assert response.status_code == 303
    assert "quizgen_session" in client.cookies


async def test_a_session_cookie_of_any_characters_is_refused_not_an_error(
    client: httpx.AsyncClient,
) -> None:
    for cookie in ("quizgen_session=\u00e9\u00e9.\u00e9", "quizgen_session=a.\u00ff"):
        response = await client.get("/ui/quizzes", headers=[(b"cookie", cookie.encode("latin-1"))])
        assert response.status_code == 303, response.text


@pytest.mark.parametrize("token", ["forged", "\u00e9", "\u0444\u043e\u0440\u043c"])
async def test_sign_in_needs_the_forms_own_csrf_token(
    client: httpx.AsyncClient, token: str
) -> None:
    await client.get("/ui/sign-in")
    response = await client.post("/ui/sign-in", data={"token": ALICE, "csrf_token": token})
    assert response.status_code == 403
    assert "quizgen_session" not in client.cookies


async def test_posts_without_the_csrf_token_or_from_another_origin_change_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(client, ALICE)
    csrf = csrf_of(await new_quiz_page(client))
    before = (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1]

    missing = await client.post("/ui/quizzes/new", data=quiz_form(""))
    assert missing.status_code == 403
    assert "nothing was changed" in missing.text
    not_ascii = await client.post("/ui/quizzes/new", data=quiz_form("\u00e9"))
    assert not_ascii.status_code == 403
    foreign = await client.post(
        "/ui/quizzes/new", data=quiz_form(csrf), headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert (await review.list_quizzes(engine, "alice", offset=0, limit=1))[1] == before


async def test_another_teachers_quiz_is_not_found(
    settings: Settings, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    quiz_id = await quiz_with_questions(engine, "alice")
    async with api_client(settings) as bob:
        await sign_in(bob, BOB)
        for path in (f"/ui/quizzes/{quiz_id}", f"/ui/quizzes/{quiz_id}/questions"):
            response = await bob.get(path)
            assert response.status_code == 404
            assert "This page does not exist." in response.text
            assert "Reviewed" not in response.text
        page = await bob.get("/ui/quizzes")
        generate = await bob.post(
            f"/ui/quizzes/{quiz_id}/generate", data={"csrf_token": csrf_of(page)}
        )
        assert generate.status_code == 404
    assert (await repo.get_quiz(engine, quiz_id)).status.value == "created"
    await sign_in(client, ALICE)
    malformed = await client.get("/ui/quizzes/not-a-uuid")
    assert malformed.status_code == 404
    assert malformed.headers["content-type"].startswith("text/html")


async def test_the_json_api_keeps_its_json_errors(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/quizzes/{uuid.uuid4()}", headers=auth(ALICE))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_guessing_tokens_is_slowed_down_even_for_a_right_guess(
    client: httpx.AsyncClient,
) -> None:
    for n in range(10):
        refused = await sign_in(client, f"guess-{n:02d}-0123456789abcdef")
        assert refused.status_code == 401
    # Past the limit even the right token is answered 429, so a guesser learns nothing.
    throttled = await sign_in(client, ALICE)
    assert throttled.status_code == 429
    assert "Too many failed sign-ins from here" in throttled.text
    assert "quizgen_session" not in client.cookies
    # The JSON API, with its bearer token, is not affected.
    assert (await client.get("/quizzes", headers=auth(ALICE))).status_code == 200

"""The Canvas stand-in's read side through real HTTP: tokens, the course list and its
pagination, modules with their items, pages and files, and refusals."""

from __future__ import annotations

import re

import httpx
import pytest

from deploy.local.canvas import CanvasStandIn
from tests.canvas.conftest import Setup

pytestmark = pytest.mark.fast

LINK = re.compile(r'<([^>]+)>; rel="([a-z]+)"')


def links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in LINK.findall(response.headers["link"])}


async def follow(http: httpx.AsyncClient, url: str) -> tuple[list[dict[str, object]], int]:
    """Every row, following rel="next" until there is none; and how many pages that took."""
    rows: list[dict[str, object]] = []
    pages = 0
    next_url: str | None = url
    while next_url is not None:
        response = await http.get(next_url)
        assert response.status_code == 200, response.text
        rows += response.json()
        pages += 1
        next_url = links(response).get("next")
    return rows, pages


async def test_users_self_and_token_refusals(setup: Setup) -> None:
    canvas, http = setup.canvas, setup.http
    me = (await http.get("/api/v1/users/self")).json()
    assert me["id"] == canvas.user(setup.token).id and me["name"] == "Ada Teacher"
    assert me["sortable_name"] == "Teacher, Ada"

    # No token: "user authorization required", and no WWW-Authenticate.
    async with httpx.AsyncClient(base_url=canvas.base_url) as anonymous:
        response = await anonymous.get("/api/v1/users/self")
        assert response.status_code == 401 and "www-authenticate" not in response.headers
        assert response.json()["errors"][0]["message"] == "user authorization required"
        # ?access_token= works as well as the header.
        ok = await anonymous.get("/api/v1/users/self", params={"access_token": _url_token(setup)})
        assert ok.status_code == 200

    bad = await http.get("/api/v1/users/self", headers={"Authorization": "Bearer 7~nope"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == 'Bearer realm="canvas-lms"'
    assert bad.json() == {"errors": [{"message": "Invalid access token."}]}

    canvas.expire(setup.token)
    expired = await http.get("/api/v1/users/self")
    assert expired.status_code == 401 and "www-authenticate" in expired.headers
    fresh = canvas.issue_token(me["id"])
    again = await http.get("/api/v1/users/self", headers={"Authorization": f"Bearer {fresh}"})
    assert again.status_code == 200


async def test_teacher_courses_follow_link_next(setup: Setup) -> None:
    canvas = setup.canvas
    user = canvas.user(setup.token)
    for i in range(22):
        user.teacher_of.add(canvas.add_course(f"Course {i}"))
    for i in range(3):
        user.student_of.add(canvas.add_course(f"Taken {i}"))
    canvas.add_course("Someone else's")

    url = "/api/v1/courses?enrollment_type=teacher&per_page=5"
    first = await setup.http.get(url)
    rels = links(first)
    assert set(rels) == {"current", "next", "first", "last"}  # no prev on the first page
    for link in rels.values():
        assert link.startswith(f"{canvas.base_url}/api/v1/courses?")
        assert "enrollment_type=teacher" in link and "per_page=5" in link
    assert "page=bookmark%3A" in rels["next"]  # opaque, not a page number

    rows, pages = await follow(setup.http, url)
    assert len(rows) == 23 and pages == 5
    assert len({row["id"] for row in rows}) == 23
    assert all(row["enrollments"][0]["type"] == "teacher" for row in rows)  # type: ignore[index]

    last = await setup.http.get(rels["last"])
    assert "next" not in links(last) and "prev" in links(last) and len(last.json()) == 3
    # The default page is 10 rows; all courses the user sees without enrollment_type.
    assert len((await setup.http.get("/api/v1/courses")).json()) == 10
    everything, _ = await follow(setup.http, "/api/v1/courses?per_page=100")
    assert len(everything) == 26
    # An access_token parameter is not carried into the links (the docs say so).
    async with httpx.AsyncClient(base_url=canvas.base_url) as anonymous:
        by_param = await anonymous.get(f"{url}&access_token={_url_token(setup)}")
        assert by_param.status_code == 200 and "access_token" not in by_param.headers["link"]


async def test_modules_with_items_pages_and_files(setup: Setup) -> None:
    canvas, course, http = setup.canvas, setup.course, setup.http
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    week1 = canvas.add_module(course, "Week 1")
    page_url = canvas.add_page(course, "Cell Basics", "<h1>Cells</h1><p>Text.</p>", module_id=week1)
    file_id = canvas.add_file(course, "cells.pdf", pdf, module_id=week1)
    canvas.add_module_item(course, week1, "Readings", "SubHeader")
    canvas.add_module_item(
        course, week1, "Wiki", "ExternalUrl", external_url="https://en.wikipedia.org/wiki/Cell"
    )
    for i in range(11):
        canvas.add_module(course, f"Week {i + 2}")

    modules, pages = await follow(
        http, f"/api/v1/courses/{course}/modules?include[]=items&per_page=4"
    )
    assert len(modules) == 12 and pages == 3
    assert [m["position"] for m in modules] == list(range(1, 13))
    items = modules[0]["items"]
    assert isinstance(items, list)
    assert [i["type"] for i in items] == ["Page", "File", "SubHeader", "ExternalUrl"]
    page_item, file_item = items[0], items[1]
    assert page_item["page_url"] == page_url == "cell-basics"
    assert file_item["content_id"] == file_id
    without = (await http.get(f"/api/v1/courses/{course}/modules")).json()
    assert "items" not in without[0] and without[0]["items_count"] == 4

    page = (await http.get(page_item["url"])).json()
    assert page["body"] == "<h1>Cells</h1><p>Text.</p>" and page["title"] == "Cell Basics"
    by_id = await http.get(f"/api/v1/courses/{course}/pages/{page['page_id']}")
    assert by_id.json()["url"] == "cell-basics"

    meta = (await http.get(file_item["url"])).json()
    assert meta["size"] == len(pdf) and meta["content-type"] == "application/pdf"
    async with httpx.AsyncClient() as plain:  # the verifier in the url is the credential
        download = await plain.get(meta["url"])
        assert download.content == pdf
        assert download.headers["content-type"] == "application/pdf"
        forged = await plain.get(meta["url"].replace("verifier=", "verifier=x"))
        assert forged.status_code == 404


async def test_courses_the_user_cannot_see(setup: Setup) -> None:
    canvas, http = setup.canvas, setup.http
    other = canvas.add_course("Not yours")
    refused = await http.get(f"/api/v1/courses/{other}/modules")
    assert refused.status_code == 403 and "www-authenticate" not in refused.headers
    assert refused.json()["status"] == "unauthorized"
    missing = await http.get("/api/v1/courses/999999/modules")
    assert missing.status_code == 404
    assert missing.json() == {"errors": [{"message": "The specified resource does not exist."}]}
    assert (await http.get(f"/api/v1/courses/{setup.course}/pages/none")).status_code == 404
    assert (await http.get(f"/api/v1/courses/{setup.course}/files/5")).status_code == 404


async def test_pagination_is_per_request(canvas: CanvasStandIn) -> None:
    token = canvas.add_user("Empty")
    async with httpx.AsyncClient(
        base_url=canvas.base_url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        response = await http.get("/api/v1/courses?enrollment_type=teacher")
        assert response.json() == []
        assert set(links(response)) == {"current", "first", "last"}
        assert (await http.get("/api/v1/courses?page=bookmark:%%%")).status_code == 400


def _url_token(setup: Setup) -> str:
    """A token of the same user for a URL: httpx logs every URL it requests, so this one is
    left out of the scan for logged tokens (tests/test_log_hygiene.py); quizgen itself only
    ever sends tokens in the Authorization header."""
    token = setup.canvas.issue_token(setup.canvas.user(setup.token).id)
    CanvasStandIn.issued_tokens.discard(token)
    return token

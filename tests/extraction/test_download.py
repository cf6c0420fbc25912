"""CanvasClient.download: a File's bytes, capped, with the token kept on Canvas's host."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from deploy.local.canvas import CanvasStandIn
from deploy.local.servers import LocalServer
from quizgen.canvas.client import CanvasClient
from quizgen.errors import CanvasRefusedError, CanvasUnavailableError
from quizgen.extraction import MAX_FILE_BYTES, TooLarge
from tests.support.course_files import oversized_pdf, text_pdf

pytestmark = pytest.mark.fast


@pytest.fixture
async def canvas() -> AsyncIterator[CanvasStandIn]:
    async with CanvasStandIn() as stand_in:
        yield stand_in


async def _file_url(canvas: CanvasStandIn, token: str, course: int, file_id: int) -> str:
    async with CanvasClient(canvas.base_url, token) as client:
        info = await client.request("GET", f"/api/v1/courses/{course}/files/{file_id}")
    return str(info["url"])


async def test_download_returns_the_files_bytes(canvas: CanvasStandIn) -> None:
    course = canvas.add_course("Biologi")
    token = canvas.add_user("Ada", teacher_of=[course])
    data = text_pdf()
    url = await _file_url(canvas, token, course, canvas.add_file(course, "a.pdf", data))
    async with CanvasClient(canvas.base_url, token) as client:
        assert await client.download(url, max_bytes=MAX_FILE_BYTES) == data
        # A path on Canvas's host works as well as the absolute url.
        path = url.removeprefix(canvas.base_url)
        assert await client.download(path, max_bytes=len(data)) == data


async def test_over_the_cap_is_too_large(canvas: CanvasStandIn) -> None:
    course = canvas.add_course("Biologi")
    token = canvas.add_user("Ada", teacher_of=[course])
    url = await _file_url(
        canvas, token, course, canvas.add_file(course, "stor.pdf", oversized_pdf())
    )
    async with CanvasClient(canvas.base_url, token) as client:
        with pytest.raises(TooLarge, match="limit of 10 MB"):
            await client.download(url, max_bytes=MAX_FILE_BYTES)
        with pytest.raises(TooLarge, match="limit of 100 bytes"):
            await client.download(url, max_bytes=100)


async def test_canvas_errors_map_as_for_other_calls(canvas: CanvasStandIn) -> None:
    course = canvas.add_course("Biologi")
    token = canvas.add_user("Ada", teacher_of=[course])
    url = await _file_url(canvas, token, course, canvas.add_file(course, "a.pdf", b"%PDF"))
    async with CanvasClient(canvas.base_url, token) as client:
        with pytest.raises(CanvasRefusedError) as refused:
            await client.download(url.replace("verifier=", "verifier=feil"), max_bytes=1000)
        assert refused.value.status == 404
        canvas.fail_next(1, 503)
        with pytest.raises(CanvasUnavailableError, match=r"error \(503\)"):
            await client.download(url, max_bytes=1000)
        canvas.throttle(30)
        with pytest.raises(CanvasUnavailableError, match="throttling"):
            await client.download(url, max_bytes=1000)


@dataclass
class TwoHosts:
    """A Canvas that redirects downloads to a file store on another port (another origin),
    both recording the Authorization header each request carried."""

    canvas_url: str
    store_url: str
    seen: list[tuple[str, str | None]] = field(default_factory=list)


@pytest.fixture
async def two_hosts() -> AsyncIterator[TwoHosts]:
    hosts = TwoHosts("", "")

    async def store(request: Request) -> Response:
        hosts.seen.append((f"store{request.url.path}", request.headers.get("authorization")))
        if request.url.path == "/blob/back":  # a redirect back to Canvas
            return RedirectResponse(f"{hosts.canvas_url}/files/1/direct", status_code=302)
        if request.url.path == "/blob/endless":  # chunked: no Content-Length to check
            chunks = (b"x" * 1000 for _ in range(100))
            return StreamingResponse(chunks, media_type="application/pdf")
        return Response(b"%PDF-innhold", media_type="application/pdf")

    async def canvas(request: Request) -> Response:
        hosts.seen.append((f"canvas{request.url.path}", request.headers.get("authorization")))
        name = request.path_params["name"]
        if name == "direct":
            return Response(b"fra canvas", media_type="application/pdf")
        if name == "loop":
            return RedirectResponse(f"{hosts.canvas_url}/files/1/loop", status_code=302)
        return RedirectResponse(f"{hosts.store_url}/blob/{name}", status_code=302)

    canvas_server = LocalServer(Starlette(routes=[Route("/files/1/{name}", canvas)]), "fake Canvas")
    store_server = LocalServer(Starlette(routes=[Route("/blob/{name}", store)]), "file store")
    hosts.canvas_url = f"http://127.0.0.1:{await canvas_server.start()}"
    hosts.store_url = f"http://127.0.0.1:{await store_server.start()}"
    try:
        yield hosts
    finally:
        await canvas_server.stop()
        await store_server.stop()


async def test_redirect_to_another_host_drops_the_token(two_hosts: TwoHosts) -> None:
    async with CanvasClient(two_hosts.canvas_url, "7~hemmelig") as client:
        assert await client.download("/files/1/plain", max_bytes=1000) == b"%PDF-innhold"
    assert two_hosts.seen == [
        ("canvas/files/1/plain", "Bearer 7~hemmelig"),
        ("store/blob/plain", None),
    ]


async def test_token_is_not_sent_again_after_leaving_canvas(two_hosts: TwoHosts) -> None:
    async with CanvasClient(two_hosts.canvas_url, "7~hemmelig") as client:
        assert await client.download("/files/1/back", max_bytes=1000) == b"fra canvas"
    assert [auth for _, auth in two_hosts.seen] == ["Bearer 7~hemmelig", None, None]


async def test_streamed_body_without_length_is_cut_at_the_cap(two_hosts: TwoHosts) -> None:
    async with CanvasClient(two_hosts.canvas_url, "7~hemmelig") as client:
        with pytest.raises(TooLarge):
            await client.download("/files/1/endless", max_bytes=50_000)
        body = await client.download("/files/1/endless", max_bytes=100_000)
    assert len(body) == 100_000


async def test_endless_redirects_are_refused(two_hosts: TwoHosts) -> None:
    async with CanvasClient(two_hosts.canvas_url, "7~hemmelig") as client:
        with pytest.raises(CanvasRefusedError, match="redirected the download too many times"):
            await client.download("/files/1/loop", max_bytes=1000)

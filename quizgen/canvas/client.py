"""A small Canvas REST client: bearer token, `Link` pagination, errors in plain words.

What Canvas answers, as quizgen's errors (quizgen.errors):

- 401 → `CanvasAuthError`: invalid, expired or revoked token; the teacher reconnects.
- 403 saying "Rate Limit Exceeded", 429, 5xx, a timeout, a refused connection →
  `CanvasUnavailableError`: throttled or down; try again (Retry-After honoured).
- any other 403, 404, other 4xx → `CanvasRefusedError`: retrying cannot help.

Throttling is documented as a 403 whose body says "Rate Limit Exceeded"
(https://developerdocs.instructure.com/services/canvas/basics/file.throttling);
pagination by the `Link` header's `rel="next"`
(https://developerdocs.instructure.com/services/canvas/basics/file.pagination). A `next`
link to another host is not followed: the token goes to `CANVAS_BASE_URL` only.

`download(url, max_bytes=...)` reads a File's `url`: Canvas answers it with a redirect to
its file store (https://developerdocs.instructure.com/services/canvas/resources/files),
followed without the Authorization header once it leaves Canvas's origin; the body is
streamed and cut at `max_bytes` (`quizgen.extraction.errors.TooLarge`).
"""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from quizgen.errors import CanvasAuthError, CanvasRefusedError, CanvasUnavailableError
from quizgen.extraction.errors import TooLarge

__all__ = ["CanvasClient", "CanvasCourse", "CanvasUser", "transport_errors"]

# Canvas's lists: the most per page it serves.
_PER_PAGE = 100
_MAX_PAGES = 1000
# More than any answer we read (a page of 100 courses is a few hundred kB).
_MAX_ANSWER_BYTES = 20 * 1024 * 1024
_RATE_LIMITED = "rate limit exceeded"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
# What is read of an error's body to tell throttling from a refusal.
_ERROR_BODY_BYTES = 64 * 1024


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: building one (reading the CA bundle) costs tens
    of milliseconds, and an export makes a client per item."""
    return httpx.create_ssl_context()


class CanvasUser(dict[str, Any]):
    """`GET /api/v1/users/self` as Canvas answers it (id, name, ...)."""


class CanvasCourse(dict[str, Any]):
    """One course of `GET /api/v1/courses` (id, name, course_code, ...)."""


class CanvasClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self._origin = _origin(base_url)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=False,
            verify=_tls(),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def self_user(self) -> CanvasUser:
        """Who the token belongs to: the check that a token works."""
        return CanvasUser(await self.request("GET", "/api/v1/users/self"))

    async def teacher_courses(self) -> list[CanvasCourse]:
        """The courses where the token's user has a teacher enrollment."""
        courses = self.paginate("/api/v1/courses", {"enrollment_type": "teacher"})
        return [CanvasCourse(course) async for course in courses]

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call; its JSON answer (None for an empty one)."""
        response = await self._send(method, path, **kwargs)
        return response.json() if response.content else None

    async def paginate(
        self, path: str, params: dict[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every element of a list endpoint, following `Link: <...>; rel="next"`."""
        url: str | None = path
        query: dict[str, Any] | None = {**(params or {}), "per_page": _PER_PAGE}
        for _ in range(_MAX_PAGES):
            if url is None:
                return
            response = await self._send("GET", url, params=query)
            page = response.json()
            if not isinstance(page, list):
                raise CanvasRefusedError(f"Canvas answered {path} with no list", status=502)
            for element in page:
                if isinstance(element, dict):
                    yield element
            url, query = self._next(response), None
        raise CanvasRefusedError(f"Canvas listed more than {_MAX_PAGES} pages", status=502)

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        """A file's bytes from its `url`, at most `max_bytes` (else `TooLarge`).

        The token is sent only while the URL is on CANVAS_BASE_URL's origin: a redirect to
        another host (Canvas's file store) is followed without it, and once the download
        has left Canvas it never carries it again. Errors as `request` maps them.
        """
        target = str(self._http.base_url.join(url))
        trusted = True
        for _ in range(_MAX_REDIRECTS + 1):
            trusted = trusted and _origin(target) == self._origin
            request = self._http.build_request("GET", target, headers={"Accept": "*/*"})
            if not trusted:
                del request.headers["Authorization"]
            with transport_errors():
                response = await self._http.send(request, stream=True)
                try:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        target = str(response.url.join(location))
                        continue
                    if not response.is_success:
                        head = await _read_capped(response, _ERROR_BODY_BYTES, cut=True)
                        raise _download_error(response, head, target, trusted=trusted)
                    return await _read_capped(response, max_bytes)
                finally:
                    await response.aclose()
        raise CanvasRefusedError("Canvas redirected the download too many times", status=502)

    def _next(self, response: httpx.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        if _origin(link) != self._origin:
            # The token is for CANVAS_BASE_URL; a link elsewhere would carry it away.
            raise CanvasRefusedError("Canvas's next page is on another host", status=502)
        return str(link)

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        with transport_errors(decoding=False):
            response = await self._http.request(method, url, **kwargs)
        if len(response.content) > _MAX_ANSWER_BYTES:
            raise CanvasRefusedError("Canvas's answer was too large to read", status=502)
        if response.is_success:
            return response
        raise _error(response, url)


@contextlib.contextmanager
def transport_errors(*, timeouts: bool = True, decoding: bool = True) -> Iterator[None]:
    """httpx's failures to reach Canvas as `CanvasUnavailableError`: a timeout as "did not
    answer in time", any other transport error (or an undecodable body) as "could not be
    reached", named by its type. `timeouts=False`: a timeout is named that way too;
    `decoding=False`: an undecodable body (`httpx.DecodingError`) is let through."""
    try:
        yield
    except httpx.TimeoutException as err:
        if timeouts:
            raise CanvasUnavailableError("Canvas did not answer in time") from None
        raise CanvasUnavailableError(_unreachable(err)) from None
    except (httpx.TransportError, httpx.DecodingError) as err:
        if isinstance(err, httpx.DecodingError) and not decoding:
            raise
        raise CanvasUnavailableError(_unreachable(err)) from None


def _unreachable(err: Exception) -> str:
    return f"Canvas could not be reached ({type(err).__name__})"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


async def _read_capped(response: httpx.Response, limit: int, *, cut: bool = False) -> bytes:
    """The body, decoded, streamed: over `limit` bytes → `TooLarge` (or, with `cut`, the
    first `limit` bytes). A Content-Length over the limit fails before reading."""
    declared = response.headers.get("content-length", "")
    encoded = response.headers.get("content-encoding", "identity") != "identity"
    if not cut and not encoded and declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit, int(declared))
    body = bytearray()
    async for chunk in response.aiter_bytes():
        room = limit - len(body)
        if len(chunk) > room:
            if cut:
                body += chunk[:room]
                break
            raise TooLarge(limit)
        body += chunk
    return bytes(body)


def _download_error(response: httpx.Response, head: bytes, url: str, *, trusted: bool) -> Exception:
    status = response.status_code
    if not trusted and status < 500 and status != 429:
        # Not Canvas's answer: the file store's refusal says nothing about the token.
        return CanvasRefusedError(
            f"Canvas's file store refused the download ({status})", status=status
        )
    headers = {"retry-after": response.headers.get("retry-after", "")}
    return _error(httpx.Response(status, headers=headers, content=head), url)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def _error(response: httpx.Response, url: str) -> Exception:
    status = response.status_code
    path = urlsplit(url).path or url
    if status == 401:
        return CanvasAuthError(
            "Canvas refused the saved token (expired or revoked): reconnect Canvas"
        )
    if status == 429 or (status == 403 and _RATE_LIMITED in response.text[:500].lower()):
        return CanvasUnavailableError(
            "Canvas is throttling requests; trying again shortly",
            retry_after_seconds=_retry_after(response),
        )
    if status >= 500:
        return CanvasUnavailableError(f"Canvas had an error ({status}) on {path}")
    if status == 403:
        return CanvasRefusedError(f"Canvas does not allow this ({path}): 403", status=status)
    if status == 404:
        return CanvasRefusedError(f"Canvas has no {path} (404)", status=status)
    return CanvasRefusedError(f"Canvas refused {path} ({status})", status=status)

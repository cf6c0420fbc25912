"""Reading at most `MAX_RESPONSE_BYTES` of an LLM server's answer.

An answer is untrusted input, and the openai client reads a body whole before
anything can look at it: a broken proxy or server sending gigabytes (or a few
kilobytes of gzip that inflate to gigabytes) would take the worker's memory,
and with it every call the worker has in flight. The transport here stops
that at the HTTP layer:

- a `Content-Length` over the limit is refused before the body is read;
- a body without one is counted as it arrives and cut off at the limit;
- a gzip- or deflate-encoded body is counted as it will be decoded, and one
  encoded twice over (which could inflate twice) is refused;
- every request says `Accept-Encoding: gzip, deflate, identity`, the codings
  counted here, whatever decoders the HTTP client has installed (brotli,
  zstd); a body in any other coding is refused unread rather than decoded
  uncounted.

The limit is far above any answer validation could accept
(`quizgen.validation.MAX_OUTPUT_CHARS` characters, JSON-escaped, in a chat
completion envelope), so a usable answer is never cut off.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

# The HTTP library the openai client is built on (a dependency of `openai`), not httpx.
import httpx2

__all__ = [
    "ACCEPT_ENCODING",
    "MAX_RESPONSE_BYTES",
    "CappedTransport",
    "ResponseEncodingError",
    "ResponseRefusedError",
    "ResponseTooLargeError",
]

MAX_RESPONSE_BYTES = 8 * 1024 * 1024
# Decoded in pieces of at most this, so counting a bomb never holds it.
_CHUNK = 64 * 1024
_INFLATING = {"gzip", "deflate"}
# What this transport can count: sent on every request, and all a response may use.
ACCEPT_ENCODING = "gzip, deflate, identity"
_COUNTED = {*_INFLATING, "identity"}


class ResponseRefusedError(Exception):
    """The server's answer was refused before it was read (a later answer may do)."""


class ResponseTooLargeError(ResponseRefusedError):
    """The server's answer is (or could decode to) more than the limit; it was not read."""

    def __init__(self, limit: int, what: str = "is larger than") -> None:
        super().__init__(
            f"the LLM server's answer {what} {limit // (1024 * 1024)} MiB; "
            "it was not read (check OPENAI_BASE_URL and the server's output limit)"
        )


class ResponseEncodingError(ResponseRefusedError):
    """The server's answer is in a content coding this transport cannot count."""

    def __init__(self, coding: str) -> None:
        # The server's header, bounded: it ends up in a reason a teacher may read.
        shown = "".join(c for c in coding[:24] if c.isprintable())
        super().__init__(
            f"the LLM server's answer is encoded as {shown!r}, which was not asked for "
            "(only gzip and deflate are accepted); it was not read"
        )


class _Inflated:
    """Counts the bytes a gzip or deflate body decodes to, in bounded steps."""

    def __init__(self) -> None:
        # 32 + MAX_WBITS: a gzip or a zlib header, detected from the data.
        self._inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self._raw = False

    def count(self, chunk: bytes) -> int:
        try:
            return self._count(chunk)
        except zlib.error:
            if self._raw:
                raise
            # "deflate" sent without its zlib header, which httpx2 also accepts.
            self._inflate, self._raw = zlib.decompressobj(-zlib.MAX_WBITS), True
            return self._count(chunk)

    def _count(self, data: bytes) -> int:
        total = len(self._inflate.decompress(data, _CHUNK))
        while self._inflate.unconsumed_tail:
            total += len(self._inflate.decompress(self._inflate.unconsumed_tail, _CHUNK))
        return total


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, limit: int, inflating: bool) -> None:
        self._inner = inner
        self._limit = limit
        self._inflated = _Inflated() if inflating else None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = decoded = 0
        async for chunk in self._inner:
            read += len(chunk)
            if self._inflated is not None:
                try:
                    decoded += self._inflated.count(chunk)
                except zlib.error:
                    # Not what its header says: the client's own decoder fails on it too.
                    self._inflated = None
            if max(read, decoded) > self._limit:
                raise ResponseTooLargeError(self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class CappedTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport whose responses carry at most `limit` bytes, decoded."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, limit: int = MAX_RESPONSE_BYTES) -> None:
        self._inner = inner
        self._limit = limit

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        # Whatever the client would advertise (brotli, zstd when installed): only what is counted.
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        response = await self._inner.handle_async_request(request)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self._limit:
            await response.aclose()
            raise ResponseTooLargeError(self._limit)
        header = ",".join(response.headers.get_list("content-encoding"))
        codings = [c.strip() for c in header.lower().split(",") if c.strip()]
        if uncounted := [c for c in codings if c not in _COUNTED]:
            # The client might decode it (brotli, zstd) where nothing here counts the result.
            await response.aclose()
            raise ResponseEncodingError(uncounted[0])
        inflating = sum(coding in _INFLATING for coding in codings)
        if inflating > 1:
            await response.aclose()
            raise ResponseTooLargeError(self._limit, "is compressed twice and could inflate past")
        if isinstance(response.stream, httpx2.AsyncByteStream):
            response.stream = _CappedStream(response.stream, self._limit, bool(inflating))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()

"""Refusing oversized request bodies before they are read whole."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quizgen.domain import MAX_QUIZ_CONTENT_CHARS

__all__ = ["MAX_BODY_BYTES", "BodySizeLimit"]

# The largest valid quiz however its client writes JSON, plus room for titles,
# names and structure: a character takes up to 4 bytes as UTF-8, and up to 12
# as an escaped surrogate pair (`\ud83d\ude00`, what `json.dumps` writes by default).
MAX_BODY_BYTES = 12 * MAX_QUIZ_CONTENT_CHARS + 256 * 1024


class BodySizeLimit:
    """ASGI middleware: 413 on a declared or streamed body over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared_too_large = any(
            name == b"content-length" and value.isdigit() and int(value) > self.max_bytes
            for name, value in scope.get("headers", [])
        )

        async def refusing_receive() -> Message:
            # Declared over the limit: not a byte is read. The app's handler answers
            # 413 in its surface's shape (JSON for the API, a page for /ui).
            raise HTTPException(413, self._message())

        seen = 0

        async def counting_receive() -> Message:
            # A body without Content-Length (chunked) is counted as it streams in;
            # the HTTPException reaches the API's handler as a 413 in the usual shape.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, refusing_receive if declared_too_large else counting_receive, send)

    def _message(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"

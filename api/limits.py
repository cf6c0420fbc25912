"""Refusing oversized request bodies before they are read whole, or parsed.

Every limit is answered 413 in the surface's own shape (JSON for the API, a page for
/ui), before the work it bounds is done:

- bytes: a body over `MAX_BODY_BYTES` is refused as it is declared or streams in;
- JSON tokens: a JSON body with more strings and separators than any valid request
  (`MAX_JSON_TOKENS`) is refused after a few passes over its bytes in C, before
  `json.loads` builds its objects. Within the byte limit, a body like `[[],[],...]`
  is four million lists: parsing it held the event loop for 1.4 s, and 500,000
  unknown keys took pydantic 1.9 s more to refuse one by one. Neither can be moved
  to a thread (the C parser and pydantic-core hold the GIL), so neither is started;
- an urlencoded form (every page's form but the new-quiz one, which browsers post as
  multipart) is counted as it streams in: `MAX_FORM_FIELDS` `&` or more (6 MB of `&`
  took the form parser 1.5 s, a character at a time, even on the sign-in form that
  anyone may post), or more `%` escapes than `MAX_FORM_ESCAPES` (about 300 ns each to
  decode: 6 MB of them, 0.6 s).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quizgen.domain import MAX_QUIZ_CONTENT_CHARS
from quizgen.extraction import MAX_FILE_BYTES

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_FORM_ESCAPES",
    "MAX_FORM_FIELDS",
    "MAX_JSON_TOKENS",
    "MAX_UPLOAD_BODY_BYTES",
    "UPLOAD_PATHS",
    "BodySizeLimit",
    "json_tokens_over",
]

# The largest valid quiz however its client writes JSON, plus room for titles,
# names and structure: a character takes up to 4 bytes as UTF-8, and up to 12
# as an escaped surrogate pair (`\ud83d\ude00`, what `json.dumps` writes by default).
MAX_BODY_BYTES = 12 * MAX_QUIZ_CONTENT_CHARS + 256 * 1024

# The routes that take files (PDFs of up to MAX_FILE_BYTES each) may be larger: three
# files of the most a file may have, and the form around them.
MAX_UPLOAD_BODY_BYTES = 3 * MAX_FILE_BYTES + 1024 * 1024
UPLOAD_PATHS: dict[str, int] = {
    "/quizzes/from-files": MAX_UPLOAD_BODY_BYTES,
    "/ui/quizzes/new": MAX_UPLOAD_BODY_BYTES,
}

# Strings plus `,` `:` `]` `}` outside strings. The largest valid quiz (20 modules of
# 4 batches, every optional field written) has about 1,300, a question edit under 400;
# the rest is room for a wrong request to still get its 422 with every field named
# (at this limit, 1,300 unknown fields: about 20 ms to list; at 10,000, over 100 ms).
MAX_JSON_TOKENS = 4_000

# Starlette's own default for a form's fields; the largest of the pages' forms (a new
# quiz of 20 modules) has 305.
MAX_FORM_FIELDS = 1_000
# About 60 ms of decoding. A question edit holds at most about 30,000 characters, a
# new quiz posted by a browser is multipart (no escapes at all).
MAX_FORM_ESCAPES = 200_000

_TOKENS = b',:]}"'
_NOT_TOKEN = bytes(b for b in range(256) if b not in _TOKENS)
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b",:]}")


def json_tokens_over(raw: bytes, limit: int = MAX_JSON_TOKENS) -> bool:
    """Whether the JSON text `raw` holds more than `limit` tokens: strings, and `,` `:`
    `]` `}` outside them (every value but a container's first follows a `,`, every key a
    `:`, every container ends in a `]` or `}`). Exact for valid JSON; for other bytes a
    count `json.loads` refuses anyway. Linear, in C: a few ms for 6 MB.

    Opening brackets are not counted: an unclosed `[[[[...` fails in `json.loads` at its
    recursion limit, as unreadable JSON (400), before it costs anything."""
    if len(raw.translate(None, _NOT_TOKEN)) <= limit:
        return False  # even counting both quotes of every string and what is inside them
    if b"\\" in raw:
        # Escaped backslashes, then escaped quotes: every `"` left delimits a string.
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    strings = raw.count(b'"') // 2
    if strings > limit:
        return True
    outside = b"".join(raw.split(b'"')[::2])  # at most 2 * limit + 2 parts
    return strings + len(outside.translate(None, _NOT_STRUCTURAL)) > limit


def _media_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bytes(value.split(b";", 1)[0].strip().lower())
    return b""


def _is_json(media: bytes) -> bool:
    """Whether FastAPI reads a body of this media type as JSON: none, `application/json`
    or `application/*+json`."""
    return not media or (
        media.startswith(b"application/")
        and (media == b"application/json" or media.endswith(b"+json"))
    )


class BodySizeLimit:
    """ASGI middleware: 413 on a declared or streamed body over `max_bytes`, on a JSON
    body of more than `max_json_tokens` tokens, and on an urlencoded form of
    `max_form_fields` fields or more than `max_form_escapes` %-escapes."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        max_json_tokens: int = MAX_JSON_TOKENS,
        max_form_fields: int = MAX_FORM_FIELDS,
        max_form_escapes: int = MAX_FORM_ESCAPES,
        per_path: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Paths that take files get their own (larger) byte limit.
        self.per_path = UPLOAD_PATHS if per_path is None else per_path
        self.max_json_tokens = max_json_tokens
        self.max_form_fields = max_form_fields
        self.max_form_escapes = max_form_escapes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        media = _media_type(scope)
        # Files come as multipart only: other bodies on those paths keep the usual limit.
        limit = self.max_bytes
        if media == b"multipart/form-data":
            limit = self.per_path.get(scope.get("path", ""), self.max_bytes)
        declared_too_large = any(
            name == b"content-length" and value.isdigit() and int(value) > limit
            for name, value in scope.get("headers", [])
        )

        async def refusing_receive() -> Message:
            # Declared over the limit: not a byte is read. The app's handler answers
            # 413 in its surface's shape (JSON for the API, a page for /ui).
            raise HTTPException(413, self._message(limit))

        seen = 0

        async def counting_receive() -> Message:
            # A body without Content-Length (chunked) is counted as it streams in;
            # the HTTPException reaches the API's handler as a 413 in the usual shape.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, self._message(limit))
            return message

        body_read = False

        async def json_receive() -> Message:
            # The whole body (it is read whole for JSON anyway), counted, then handed on
            # in one message; what comes after it (a disconnect) passes through.
            nonlocal body_read
            if body_read:
                return await receive()
            chunks: list[bytes] = []
            while True:
                message = await counting_receive()
                if message["type"] != "http.request":
                    return message
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body_read = True
            body = b"".join(chunks)
            if json_tokens_over(body, self.max_json_tokens):
                raise HTTPException(
                    413,
                    f"the request body has more than {self.max_json_tokens} JSON strings "
                    "and separators; no valid request has that many",
                )
            return {"type": "http.request", "body": body, "more_body": False}

        separators = escapes = 0

        async def form_receive() -> Message:
            # Counted chunk by chunk (single bytes: a chunk's edge splits nothing); n `&`
            # separate n + 1 fields.
            nonlocal separators, escapes
            message = await counting_receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                separators += chunk.count(b"&")
                escapes += chunk.count(b"%")
                if separators >= self.max_form_fields or escapes > self.max_form_escapes:
                    raise HTTPException(
                        413,
                        f"the form has more than {self.max_form_fields} fields or "
                        f"{self.max_form_escapes} %-escapes",
                    )
            return message

        checked: Receive
        if declared_too_large:
            checked = refusing_receive
        elif _is_json(media):
            checked = json_receive
        elif media == b"application/x-www-form-urlencoded":
            checked = form_receive
        else:
            checked = counting_receive
        await self.app(scope, checked, send)

    def _message(self, limit: int) -> str:
        return f"the request body is larger than {limit} bytes"

"""Who may reach the JSON API, decided before a byte of the body is read.

`AuthFirst` is the outermost check of every request to the JSON API: a
request without a valid bearer token is answered 401 from its headers alone
(a 6 MB body of malformed JSON is never parsed for an anonymous client), and
a client that keeps sending bad tokens is answered 429 with `Retry-After`
for a while (`FailureThrottle`, per real client address). The teacher it
found is handed on in the request's state (`api.deps.CurrentUser` reads it).

Open without a token: the health probes, `/` (a redirect to the review
pages), `/favicon.ico` (nothing), the review pages under `/ui` (their own
session cookie), `/metrics` (its own rule, `api.metrics`) and the OpenAPI docs
when `API_DOCS` is on.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import TokenRegistry
from api.errors import error_response
from api.throttle import FailureThrottle

__all__ = ["OPEN_PATHS", "AuthFirst", "client_address"]

OPEN_PATHS = frozenset({"/", "/favicon.ico", "/healthz", "/readyz", "/metrics"})
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
_PAGES = "/ui"
# A guesser gets this many bad tokens a minute per address before being told to wait.
MAX_BAD_TOKENS = 20


def client_address(scope: Scope) -> str:
    """The real client: behind a trusted proxy, the forwarded address (uvicorn's doing)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class AuthFirst:
    def __init__(self, app: ASGIApp, *, docs_open: bool) -> None:
        self.app = app
        self.open_paths = OPEN_PATHS | DOCS_PATHS if docs_open else OPEN_PATHS
        self.throttle = FailureThrottle(max_failures=MAX_BAD_TOKENS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in self.open_paths
            or path == _PAGES
            or path.startswith(_PAGES + "/")
        ):
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if token is None:
            message = "send an API token as 'Authorization: Bearer <token>'"
            await error_response(401, "unauthorized", message)(scope, receive, send)
            return
        # Only token attempts count and are held back: a request without one is no guess.
        client = client_address(scope)
        if self.throttle.blocked(client):
            wait = self.throttle.retry_after(client)
            response = error_response(
                429,
                "too_many_requests",
                f"too many requests with a bad API token from here; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        tokens: TokenRegistry = scope["app"].state.tokens
        user = tokens.user_for(token)
        if user is None:
            self.throttle.failed(client)
            await error_response(401, "unauthorized", "the API token is not valid")(
                scope, receive, send
            )
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, credentials = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
            return None
    return None

"""Canvas's OAuth2 endpoints in the stand-in: authorize, token (code and refresh), revoke.

From https://developerdocs.instructure.com/services/canvas/oauth2/file.oauth and
.../file.oauth_endpoints:

- `GET /login/oauth2/auth?client_id&response_type=code&redirect_uri&state`: Canvas asks
  the user to approve, then "redirects back to your request_uri with a specific query
  string ... ?code=XXX&state=YYY"; a user who declines gets `?error=access_denied` ("the
  only currently implemented error code"). Here the page has a user picker (the stand-in's
  stand-in for Canvas's login form) and "Authorize" / "Cancel" buttons. An unknown
  client_id, or a redirect_uri not matching the developer key's, is answered on Canvas's
  own side (never redirected): JSON `{"error": "invalid_client", ...}` 401 and
  `{"error": "invalid_request", "error_description": "redirect_uri does not match client
  settings"}` 400, as canvas-lms's OAuth2 provider answers.
- `POST /login/oauth2/token`, grant_type=authorization_code: client_id, client_secret,
  code, and "If a redirect_uri was passed to the initial request in step 1, the same
  redirect_uri must be given here". Codes are single-use and short-lived (RFC 6749 4.1.2,
  which the endpoint page points to). The answer: `{"access_token", "token_type": "Bearer",
  "user": {"id", "name"}, "refresh_token", "expires_in": 3600}`.
- grant_type=refresh_token: "the response will not contain a new refresh token since the
  same refresh token can be used multiple times". The grant's access token is replaced (the
  old one stops working: Canvas regenerates the token on the same record).
- `DELETE /login/oauth2/token` with the bearer token: revoked, its refresh token with it
  (one record in Canvas). Recorded in `OAuthStandIn.revoked`.
"""

from __future__ import annotations

import asyncio
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from deploy.local.canvas.gate import RecordedRequest

if TYPE_CHECKING:
    from deploy.local.canvas.server import CanvasStandIn

__all__ = ["OAUTH_PREFIX", "OAuthStandIn"]

OAUTH_PREFIX = "/login/oauth2/"
CODE_SECONDS = 600


@dataclass
class _Client:
    secret: str
    redirect_uri: str


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    user_id: int
    issued: float = field(default_factory=time.monotonic)


@dataclass
class _Grant:
    """One authorization: Canvas's AccessToken record (an access and a refresh token)."""

    client_id: str
    user_id: int
    refresh_token: str
    access_token: str


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


class OAuthStandIn:
    """The developer keys, codes and grants of one `CanvasStandIn`."""

    def __init__(self, canvas: CanvasStandIn) -> None:
        self.canvas = canvas
        self.clients: dict[str, _Client] = {}
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}  # by refresh token
        # Access tokens revoked by `DELETE /login/oauth2/token`, in order.
        self.revoked: list[str] = []
        # What `expires_in` says (Canvas: one hour).
        self.expires_in = 3600
        # When set, each issued access token really expires this many seconds after issue.
        self.access_token_seconds: float | None = None

    def add_client(self, redirect_uri: str) -> tuple[str, str]:
        """A developer key for `redirect_uri`: (client_id, client_secret)."""
        client_id = str(10000000000000 + len(self.clients) + 1)
        secret = secrets.token_urlsafe(48)
        self.clients[client_id] = _Client(secret, redirect_uri)
        return client_id, secret

    def grants_of(self, user_id: int) -> list[str]:
        """The access tokens of the user's live grants."""
        return [g.access_token for g in self._grants.values() if g.user_id == user_id]

    # -- endpoints

    def _client_error(self, client_id: str, redirect_uri: str) -> Response | None:
        client = self.clients.get(client_id)
        if client is None:
            return _oauth_error(401, "invalid_client", "unknown client")
        if redirect_uri != client.redirect_uri:
            return _oauth_error(
                400, "invalid_request", "redirect_uri does not match client settings"
            )
        return None

    async def authorize(self, request: Request) -> Response:
        q = request.query_params if request.method == "GET" else await request.form()
        client_id, redirect_uri = str(q.get("client_id", "")), str(q.get("redirect_uri", ""))
        refusal = self._client_error(client_id, redirect_uri)
        if refusal is not None:
            return refusal
        if q.get("response_type") != "code":
            return _oauth_error(400, "unsupported_response_type", "response_type must be code")
        state = str(q.get("state", ""))
        if request.method == "GET":
            return HTMLResponse(self._page(client_id, redirect_uri, state))
        back = {"state": state} if state else {}
        if q.get("decision") != "authorize":
            denied = urlencode({"error": "access_denied", **back})
            return RedirectResponse(f"{redirect_uri}?{denied}", 302)
        user_id = int(str(q.get("user_id") or 0))
        if user_id not in self.canvas.registry.users:
            return HTMLResponse(self._page(client_id, redirect_uri, state), status_code=422)
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Code(client_id, redirect_uri, user_id)
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, **back})}", 302)

    def _page(self, client_id: str, redirect_uri: str, state: str) -> str:
        users = "".join(
            f'<option value="{u.id}">{html.escape(u.name)}</option>'
            for u in self.canvas.registry.users.values()
        )
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
            for k, v in (
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("state", state),
                ("response_type", "code"),
            )
        )
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Log in to Canvas</title></head><body><main>"
            "<h1>Log in to Canvas</h1><p>An application wants to use your Canvas account.</p>"
            f'<form method="post" action="/login/oauth2/auth">{hidden}'
            f'<label for="user_id">Who are you?</label><select id="user_id" name="user_id">'
            f"{users}</select>"
            '<button type="submit" name="decision" value="authorize">Authorize</button>'
            '<button type="submit" name="decision" value="cancel">Cancel</button>'
            "</form></main></body></html>"
        )

    async def token(self, request: Request) -> Response:
        if request.method == "DELETE":
            return self._revoke(request)
        form = await request.form()
        client_id = str(form.get("client_id", ""))
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(
            str(form.get("client_secret", "")), client.secret
        ):
            return _oauth_error(401, "invalid_client", "invalid client")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            # Single use: taken out whether or not the rest matches.
            code = self._codes.pop(str(form.get("code", "")), None)
            if code is None or time.monotonic() - code.issued > CODE_SECONDS:
                return _oauth_error(400, "invalid_grant", "authorization_code not found")
            if code.client_id != client_id or form.get("redirect_uri") != code.redirect_uri:
                return _oauth_error(400, "invalid_grant", "incorrect redirect_uri")
            refresh = f"7~{secrets.token_urlsafe(48)}"
            self.canvas.issued_tokens.add(refresh)
            grant = _Grant(client_id, code.user_id, refresh, self._issue(code.user_id))
            self._grants[refresh] = grant
            return self._answer(grant, with_refresh=True)
        if grant_type == "refresh_token":
            found = self._grants.get(str(form.get("refresh_token", "")))
            if found is None or found.client_id != client_id:
                return _oauth_error(400, "invalid_grant", "refresh_token not found")
            self.canvas.registry.tokens.pop(found.access_token, None)
            found.access_token = self._issue(found.user_id)
            return self._answer(found, with_refresh=False)
        return _oauth_error(400, "unsupported_grant_type", "grant_type not supported")

    def _issue(self, user_id: int) -> str:
        token = self.canvas.issue_token(user_id)
        if self.access_token_seconds is not None:
            loop = asyncio.get_running_loop()
            loop.call_later(self.access_token_seconds, self._expire, token)
        return token

    def _expire(self, token: str) -> None:
        found = self.canvas.registry.tokens.get(token)
        if found is not None:
            found.expired = True

    def _answer(self, grant: _Grant, *, with_refresh: bool) -> JSONResponse:
        user = self.canvas.registry.users[grant.user_id]
        body: dict[str, object] = {
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "user": {"id": user.id, "name": user.name},
            "expires_in": self.expires_in,
        }
        if with_refresh:
            body["refresh_token"] = grant.refresh_token
        return JSONResponse(body)

    def _revoke(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        token = token or request.query_params.get("access_token", "")
        found = self.canvas.registry.tokens.get(token)
        if found is None or found.expired:
            response = JSONResponse({"errors": [{"message": "Invalid access token."}]}, 401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="canvas-lms"'
            return response
        del self.canvas.registry.tokens[token]
        for refresh, grant in list(self._grants.items()):
            if grant.access_token == token:
                del self._grants[refresh]
        self.revoked.append(token)
        return JSONResponse({})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/login/oauth2/auth", self.authorize, methods=["GET", "POST"]),
                Route("/login/oauth2/token", self.token, methods=["POST", "DELETE"]),
            ]
        )


class OAuthRouter:
    """ASGI: `/login/oauth2/...` to the OAuth endpoints (they authenticate by client secret
    or their own bearer check, not the API's gate), everything else to the gate."""

    def __init__(self, oauth: OAuthStandIn, gate: ASGIApp) -> None:
        self.oauth_app = oauth.app()
        self.oauth = oauth
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(OAUTH_PREFIX):
            record = RecordedRequest(
                scope["method"], scope["path"], scope.get("query_string", b"").decode()
            )
            self.oauth.canvas.requests.append(record)
            await self.oauth_app(scope, receive, send)
            return
        await self.gate(scope, receive, send)

"""Canvas's OAuth2 endpoints, as a client: "Sign in with Canvas" and token renewal.

Followed from Instructure's documentation, "OAuth2" and "OAuth2 Endpoints"
(https://developerdocs.instructure.com/services/canvas/oauth2/file.oauth and
.../file.oauth_endpoints):

- Step 1, `GET /login/oauth2/auth?client_id=XXX&response_type=code&redirect_uri=...&state=YYY`:
  "It's strongly encouraged that your application pass a unique identifier in the state
  parameter, and then verify in Step 2 that the state you receive back from Canvas is the
  same expected value" (api/web/oauth_pages.py does, bound to the browser).
- Step 2, back at the redirect URI with `?code=XXX&state=YYY`, or `?error=access_denied`
  ("the only currently implemented error code").
- Step 3, `POST /login/oauth2/token` with grant_type=authorization_code, client_id,
  client_secret, redirect_uri ("If a redirect_uri was passed to the initial request in step
  1, the same redirect_uri must be given here") and code; the answer is
  `{"access_token", "token_type": "Bearer", "user": {"id", "name"}, "refresh_token",
  "expires_in": 3600}`.
- "Developer keys issued after Oct 2015 generate tokens with a 1 hour expiration.
  Applications must use refresh tokens to generate new access tokens": the same endpoint
  with grant_type=refresh_token; "the response will not contain a new refresh token since
  the same refresh token can be used multiple times".
- Logging out: "you can revoke your own access token ... make an authenticated request"
  to `DELETE /login/oauth2/token`.

Tokens travel only in request bodies and the Authorization header, never in a URL, a log
line or an exception's message; `OAuthTokens` hides them from its repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from quizgen.canvas.client import transport_errors
from quizgen.errors import CanvasAuthError, CanvasRefusedError, CanvasUnavailableError
from quizgen.settings import Settings

__all__ = [
    "CALLBACK_PATH",
    "OAuthClient",
    "OAuthTokens",
    "configured_redirect_uri",
    "oauth_client",
    "oauth_configured",
]

CALLBACK_PATH = "/ui/oauth/canvas/callback"
_MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class OAuthTokens:
    """What `POST /login/oauth2/token` answered (the tokens never in a repr)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    user_id: str
    user_name: str


def oauth_configured(settings: Settings) -> bool:
    """Whether "Sign in with Canvas" is on: Canvas, its token keys and a developer key."""
    return bool(
        settings.canvas_configured
        and settings.canvas_client_id
        and settings.canvas_client_secret is not None
    )


def configured_redirect_uri(settings: Settings) -> str:
    """CANVAS_REDIRECT_URI, else PUBLIC_URL + the callback's path; "" when neither is set
    (the pages then use the request's own address; a refresh needs none)."""
    if settings.canvas_redirect_uri:
        return settings.canvas_redirect_uri
    return f"{settings.public_url}{CALLBACK_PATH}" if settings.public_url else ""


def oauth_client(settings: Settings, redirect_uri: str = "") -> OAuthClient:
    """The configured client (call `oauth_configured` first)."""
    if not oauth_configured(settings):
        raise CanvasAuthError("Sign in with Canvas is not configured: reconnect Canvas")
    assert settings.canvas_base_url and settings.canvas_client_id
    assert settings.canvas_client_secret is not None
    return OAuthClient(
        settings.canvas_base_url,
        settings.canvas_client_id,
        settings.canvas_client_secret.get_secret_value(),
        redirect_uri or configured_redirect_uri(settings),
        timeout=settings.canvas_call_timeout.total_seconds(),
    )


class OAuthClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        timeout: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.redirect_uri = redirect_uri
        self._timeout = timeout

    def authorize_url(self, state: str) -> str:
        """Step 1: where the browser goes to let the teacher approve."""
        query = urlencode(
            {
                "client_id": self.client_id,
                "response_type": "code",
                "redirect_uri": self.redirect_uri,
                "state": state,
            }
        )
        return f"{self.base_url}/login/oauth2/auth?{query}"

    async def exchange_code(self, code: str) -> OAuthTokens:
        """Step 3: the code for tokens. `CanvasAuthError` when Canvas refuses the code."""
        answer = await self._token({"grant_type": "authorization_code", "code": code})
        return _tokens(answer, refresh_token=None)

    async def refresh(self, refresh_token: str) -> OAuthTokens:
        """A new access token; the refresh token stays the same (as documented).
        `CanvasAuthError` when Canvas refuses it (revoked, or the key was deleted)."""
        answer = await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})
        return _tokens(answer, refresh_token=refresh_token)

    async def revoke(self, access_token: str) -> None:
        """Log out: revoke the access token (and with it its refresh token)."""
        with transport_errors(timeouts=False):
            async with self._http() as http:
                response = await http.delete(
                    "/login/oauth2/token", headers={"Authorization": f"Bearer {access_token}"}
                )
        _check(response, "revoke")

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self._timeout,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    async def _token(self, form: dict[str, str]) -> dict[str, Any]:
        body = {**form, "client_id": self.client_id, "client_secret": self._secret}
        if self.redirect_uri:
            body["redirect_uri"] = self.redirect_uri
        # The exception's text names the URL only (no body), but it is said plainly.
        with transport_errors(timeouts=False):
            async with self._http() as http:
                response = await http.post("/login/oauth2/token", data=body)
        _check(response, str(form["grant_type"]))
        if len(response.content) > _MAX_ANSWER_BYTES:
            raise CanvasRefusedError("Canvas's token answer is too large", status=502)
        try:
            answer = response.json()
        except ValueError:
            raise CanvasRefusedError("Canvas's token answer is not JSON", status=502) from None
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            raise CanvasRefusedError("Canvas's token answer has no access token", status=502)
        return answer


def _check(response: httpx.Response, what: str) -> None:
    """Canvas's answer as quizgen's errors; never quoting the body (it may echo a token)."""
    status = response.status_code
    if status < 400:
        return
    if status in (400, 401):
        # invalid_grant (an unknown, used or revoked code or refresh token), invalid_client.
        raise CanvasAuthError(f"Canvas refused the {what} request ({status}): reconnect Canvas")
    if status == 429 or status >= 500:
        raise CanvasUnavailableError(f"Canvas answered {status} to the {what} request")
    raise CanvasRefusedError(f"Canvas answered {status} to the {what} request", status=502)


def _tokens(answer: dict[str, Any], *, refresh_token: str | None) -> OAuthTokens:
    user = answer.get("user")
    if not isinstance(user, dict):
        user = {}
    expires_in = answer.get("expires_in")
    expires_at = (
        datetime.now(UTC) + timedelta(seconds=float(expires_in))
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
        else None
    )
    given = answer.get("refresh_token")
    return OAuthTokens(
        access_token=str(answer["access_token"]),
        refresh_token=given if isinstance(given, str) and given else refresh_token,
        expires_at=expires_at,
        user_id=str(user.get("id", ""))[:64],
        user_name=str(user.get("name", ""))[:255],
    )

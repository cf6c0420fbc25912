"""Sign in with Canvas: the OAuth2 authorization-code flow for the review pages.

`GET /ui/oauth/canvas/start` sends the browser to Canvas's authorize page with a random
`state`, also kept signed in a short-lived cookie of this browser
(`api.web.session.SessionSigner.issue_state`). Canvas's docs: "It's strongly encouraged
that your application pass a unique identifier in the state parameter, and then verify in
Step 2 that the state you receive back from Canvas is the same expected value. Failing to
do this opens your application to the possibility of logging the wrong person in"
(https://developerdocs.instructure.com/services/canvas/oauth2/file.oauth_endpoints).

`GET /ui/oauth/canvas/callback?code&state` accepts the state only when it equals the
cookie's, and only once (it is recorded as used, and the cookie deleted), then exchanges
the code (`quizgen.canvas.oauth`), stores the tokens encrypted as the teacher's Canvas
connection (the same row the export and extraction use: the teacher is connected), and
starts a review-page session as `canvas-<Canvas user id>`.

The state cookie is `SameSite=Lax`: the callback is a navigation coming from Canvas's
site, on which a `Strict` cookie is not sent. The session cookie stays `Strict`; so the
callback answers with a page of this site that moves on to the quizzes by itself (a
`Strict` cookie is not sent on a redirect chain that started on another site either).

Signing out of a Canvas session revokes the access token at Canvas
(`DELETE /login/oauth2/token`) and forgets the stored tokens (`sign_out_of_canvas`).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.canvas_hooks import after_connect
from api.web.pages import (
    PREFIX,
    delete_cookie,
    public_origin,
    redirect,
    render,
    set_cookie,
    signer_of,
)
from api.web.session import (
    OAUTH_STATE_COOKIE,
    OAUTH_STATE_SECONDS,
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    VIA_CANVAS,
)
from quizgen.canvas.access import canvas_of
from quizgen.canvas.oauth import CALLBACK_PATH, OAuthClient, oauth_client, oauth_configured
from quizgen.db import canvas_connections as connections
from quizgen.db.sessions import end_session, session_ended
from quizgen.errors import CanvasAuthError, CanvasError, CanvasUnavailableError
from quizgen.settings import Settings

__all__ = ["canvas_owner", "router", "sign_out_of_canvas"]

log = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# The owner id of a teacher signed in with Canvas (quiz.owner_id is String(100)).
OWNER_PREFIX = "canvas-"
_MAX_CODE_CHARS = 2000


def canvas_owner(canvas_user_id: str) -> str:
    return f"{OWNER_PREFIX}{canvas_user_id}"


def redirect_uri(request: Request) -> str:
    """CANVAS_REDIRECT_URI, else this site's public address + the callback's path."""
    settings: Settings = request.app.state.settings
    return settings.canvas_redirect_uri or f"{public_origin(request)}{CALLBACK_PATH}"


def _client(request: Request) -> OAuthClient:
    return oauth_client(request.app.state.settings, redirect_uri(request))


def _refused(request: Request, key: str, status_code: int) -> Response:
    response = render(request, "error.html", {"message_key": key}, status_code=status_code)
    _forget_state(request, response)
    return response


def _forget_state(request: Request, response: Response) -> None:
    delete_cookie(request, response, OAUTH_STATE_COOKIE, samesite="lax")


@router.get("/oauth/canvas/start")
async def start(request: Request) -> Response:
    if not oauth_configured(request.app.state.settings):
        return redirect(f"{PREFIX}/sign-in")
    state, cookie = signer_of(request).issue_state()
    response = redirect(_client(request).authorize_url(state))
    # Lax: sent on the navigation back from Canvas (see the module's text).
    set_cookie(
        request, response, OAUTH_STATE_COOKIE, cookie, max_age=OAUTH_STATE_SECONDS, samesite="lax"
    )
    return response


@router.get("/oauth/canvas/callback")
async def callback(request: Request) -> Response:
    state_app = request.app.state
    settings: Settings = state_app.settings
    if not oauth_configured(settings):
        return redirect(f"{PREFIX}/sign-in")
    query = request.query_params
    given = query.get("state")
    signer = signer_of(request)
    if not signer.state_ok(request.cookies.get(OAUTH_STATE_COOKIE), given):
        return _refused(request, "oauth.state_refused", 403)
    used = f"oauth-{given}"
    if await session_ended(state_app.engine, used):
        return _refused(request, "oauth.state_refused", 403)
    # Used once: this state is refused from now on, whatever follows.
    await end_session(state_app.engine, used, int(time.time()) + OAUTH_STATE_SECONDS)
    if query.get("error"):
        return _refused(request, "oauth.cancelled", 400)
    code = query.get("code") or ""
    if not code or len(code) > _MAX_CODE_CHARS:
        return _refused(request, "oauth.code_refused", 400)
    try:
        tokens = await _client(request).exchange_code(code)
    except CanvasAuthError:
        return _refused(request, "oauth.code_refused", 400)
    except CanvasUnavailableError:
        return _refused(request, "oauth.unavailable", 503)
    except CanvasError:
        return _refused(request, "oauth.unavailable", 502)
    if not tokens.user_id:
        return _refused(request, "oauth.code_refused", 502)
    _, cipher = canvas_of(settings)
    owner = canvas_owner(tokens.user_id)
    await connections.save_connection(
        state_app.engine,
        connections.CanvasConnection(
            owner_id=owner,
            canvas_user_id=tokens.user_id,
            canvas_user_name=tokens.user_name,
            token_ciphertext=cipher.encrypt(tokens.access_token),
            connected_at=datetime.now(UTC),
            refresh_token_ciphertext=cipher.encrypt(tokens.refresh_token)
            if tokens.refresh_token
            else None,
            expires_at=tokens.expires_at,
        ),
    )
    await after_connect(state_app, owner)
    log.info("signed in with Canvas as %s", owner)
    _, cookie = signer.issue(owner, via=VIA_CANVAS)
    response = render(
        request, "oauth_signed_in.html", {"name": tokens.user_name, "next": f"{PREFIX}/"}
    )
    set_cookie(request, response, SESSION_COOKIE, cookie, max_age=SESSION_SECONDS)
    delete_cookie(request, response, PRE_SESSION_COOKIE)
    _forget_state(request, response)
    return response


async def sign_out_of_canvas(request: Request, owner: str) -> None:
    """Revoke the teacher's access token at Canvas and forget the stored tokens. A failure
    at Canvas is logged (never the token) and does not stop the sign-out."""
    state_app = request.app.state
    settings: Settings = state_app.settings
    connection = await connections.get_connection(state_app.engine, owner)
    if connection is None:
        return
    if oauth_configured(settings):
        try:
            _, cipher = canvas_of(settings)
            await _client(request).revoke(cipher.decrypt(connection.token_ciphertext))
        except CanvasError as exc:
            log.warning("revoking %s's Canvas token failed: %s", owner, type(exc).__name__)
    await connections.delete_connection(state_app.engine, owner)

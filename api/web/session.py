"""Signed session cookies and CSRF tokens for the review pages.

A teacher signs in by posting an API token once; the browser then holds a
cookie naming the user, signed with a key derived from `API_TOKENS` (so a
cookie cannot be forged, works in every API process, and dies when the tokens
change). The token itself is never stored in the cookie, a URL or a log.

The cookie is `HttpOnly` and `SameSite=Strict`, and every state-changing form
also carries a CSRF token bound to the session (`csrf_for`), so another site
can neither read the session nor post with it. The sign-in form, which has no
session yet, is bound the same way to a short-lived pre-session cookie.

"Sign in with Canvas" (OAuth2) binds its `state` to the browser the same way: a random
state goes to Canvas and, signed, into a short-lived cookie (`issue_state`); the callback
accepts only the state that cookie holds (`read_state`), and the cookie is deleted there,
so a forged state, or one replayed from another browser or a second time, is refused.
A session started so says `via="canvas"` (its owner is `canvas-<Canvas user id>`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

__all__ = [
    "OAUTH_STATE_COOKIE",
    "OAUTH_STATE_SECONDS",
    "PRE_SESSION_COOKIE",
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "Session",
    "SessionSigner",
]

SESSION_COOKIE = "quizgen_session"
PRE_SESSION_COOKIE = "quizgen_signin"
SESSION_SECONDS = 12 * 3600
OAUTH_STATE_COOKIE = "quizgen_oauth_state"
# Long enough to sign in at Canvas; a state older than this is refused.
OAUTH_STATE_SECONDS = 600
VIA_CANVAS = "canvas"


@dataclass(frozen=True)
class Session:
    user_id: str
    nonce: str
    expires_at: int
    # How the teacher signed in: "token" (an API token) or "canvas" (OAuth2).
    via: str = "token"

    @property
    def via_canvas(self) -> bool:
        return self.via == VIA_CANVAS


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, purpose: str, payload: str) -> str:
        return _b64(
            hmac.new(self._key, f"{purpose}\x00{payload}".encode(), hashlib.sha256).digest()
        )

    def issue(
        self, user_id: str, *, now: float | None = None, via: str = "token"
    ) -> tuple[Session, str]:
        """A new session and its cookie value."""
        expires = int((now or time.time()) + SESSION_SECONDS)
        nonce = secrets.token_urlsafe(16)
        session = Session(user_id=user_id, nonce=nonce, expires_at=expires, via=via)
        fields: list[object] = [user_id, nonce, expires]
        if via != "token":
            fields.append(via)
        payload = _b64(json.dumps(fields).encode())
        return session, f"{payload}.{self._mac('session', payload)}"

    def read(self, cookie: str | None, *, now: float | None = None) -> Session | None:
        """The session a cookie holds, or None when it is missing, forged or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, mac = cookie.split(".")
        if not _same(mac, self._mac("session", payload)):
            return None
        try:
            user_id, nonce, expires, *rest = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(expires, int) or expires < (now or time.time()):
            return None
        via = str(rest[0]) if rest else "token"
        return Session(user_id=str(user_id), nonce=str(nonce), expires_at=expires, via=via)

    def issue_state(self, *, now: float | None = None) -> tuple[str, str]:
        """A new OAuth2 `state` and the cookie value that binds it to this browser."""
        state = secrets.token_urlsafe(32)
        expires = int((now or time.time()) + OAUTH_STATE_SECONDS)
        payload = _b64(json.dumps([state, expires]).encode())
        return state, f"{payload}.{self._mac('oauth-state', payload)}"

    def read_state(self, cookie: str | None, *, now: float | None = None) -> str | None:
        """The state a state cookie holds, or None when missing, forged or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, mac = cookie.split(".")
        if not _same(mac, self._mac("oauth-state", payload)):
            return None
        try:
            state, expires = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(expires, int) or expires < (now or time.time()):
            return None
        return str(state)

    def state_ok(self, cookie: str | None, given: str | None) -> bool:
        expected = self.read_state(cookie)
        return bool(expected and given) and _same(str(given), str(expected))

    def csrf_for(self, nonce: str) -> str:
        """The CSRF token of a session (or of a pre-session nonce on the sign-in form)."""
        return self._mac("csrf", nonce)

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token:
            return False
        return _same(token, self.csrf_for(nonce))


def _same(given: str, expected: str) -> bool:
    """A constant-time comparison that also takes what a client made up (any characters:
    `compare_digest` refuses non-ASCII text with a TypeError)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())

"""Signed session cookies and CSRF tokens for the review pages.

A teacher signs in by posting an API token once; the browser then holds a
cookie naming the user, signed with a key derived from `API_TOKENS` (so a
cookie cannot be forged, works in every API process, and dies when the tokens
change). The token itself is never stored in the cookie, a URL or a log.

The cookie is `HttpOnly` and `SameSite=Strict`, and every state-changing form
also carries a CSRF token bound to the session (`csrf_for`), so another site
can neither read the session nor post with it. The sign-in form, which has no
session yet, is bound the same way to a short-lived pre-session cookie.
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
    "PRE_SESSION_COOKIE",
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "Session",
    "SessionSigner",
]

SESSION_COOKIE = "quizgen_session"
PRE_SESSION_COOKIE = "quizgen_signin"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    user_id: str
    nonce: str
    expires_at: int


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

    def issue(self, user_id: str, *, now: float | None = None) -> tuple[Session, str]:
        """A new session and its cookie value."""
        expires = int((now or time.time()) + SESSION_SECONDS)
        session = Session(user_id=user_id, nonce=secrets.token_urlsafe(16), expires_at=expires)
        payload = _b64(json.dumps([user_id, session.nonce, expires]).encode())
        return session, f"{payload}.{self._mac('session', payload)}"

    def read(self, cookie: str | None, *, now: float | None = None) -> Session | None:
        """The session a cookie holds, or None when it is missing, forged or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, mac = cookie.split(".")
        if not _same(mac, self._mac("session", payload)):
            return None
        try:
            user_id, nonce, expires = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(expires, int) or expires < (now or time.time()):
            return None
        return Session(user_id=str(user_id), nonce=str(nonce), expires_at=expires)

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

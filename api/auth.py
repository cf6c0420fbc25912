"""Bearer API tokens mapped to users, from `API_TOKENS` (`user_id:token,...`).

Tokens are kept only as SHA-256 digests and compared in constant time, so
neither a memory dump nor timing reveals them.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from quizgen.errors import ConfigurationError

__all__ = ["TokenRegistry"]

_USER_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
MIN_TOKEN_CHARS = 16


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenRegistry:
    def __init__(self, pairs: dict[bytes, str]) -> None:
        self._users_by_digest = pairs

    @classmethod
    def parse(cls, setting: str | None) -> TokenRegistry:
        """Read `user_id:token,...`; refuse malformed entries and short tokens loudly."""
        pairs: dict[bytes, str] = {}
        for entry in (setting or "").split(","):
            if not entry.strip():
                continue
            user_id, sep, token = entry.strip().partition(":")
            if not sep or not _USER_ID.match(user_id):
                raise ConfigurationError(
                    "API_TOKENS must be comma-separated user_id:token pairs "
                    "(user ids: letters, digits, _ . @ -)"
                )
            if len(token) < MIN_TOKEN_CHARS:
                raise ConfigurationError(
                    f"API_TOKENS: the token of {user_id!r} is shorter than "
                    f"{MIN_TOKEN_CHARS} characters"
                )
            pairs[_digest(token)] = user_id
        return cls(pairs)

    def __len__(self) -> int:
        return len(self._users_by_digest)

    def has_user(self, user_id: str) -> bool:
        return user_id in self._users_by_digest.values()

    def signing_key(self) -> bytes:
        """A key for the review pages' session cookies, derived from every token.

        It is as secret as the tokens, the same in every API process with the
        same `API_TOKENS`, and changes when any token does: editing
        `API_TOKENS` signs every browser out.
        """
        return hmac.new(
            b"quizgen review-page sessions", b"".join(sorted(self._users_by_digest)), "sha256"
        ).digest()

    def user_for(self, token: str) -> str | None:
        digest = _digest(token)
        found = None
        # Compare against every digest so the time taken does not depend on the match.
        for known, user_id in self._users_by_digest.items():
            if hmac.compare_digest(known, digest):
                found = user_id
        return found

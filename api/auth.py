"""Bearer API tokens mapped to users, from `API_TOKENS` (`user_id:token,...`).

Tokens are kept only as SHA-256 digests and compared in constant time, so
neither a memory dump nor timing reveals them. A token must be strong: at
start-up the API refuses (naming the user, never the token) one that is a
placeholder from an example or a deploy file, and one under `MIN_TOKEN_BITS`
by the estimate below. `python -c "import secrets; print(secrets.token_urlsafe(32))"`
makes a good one (256 bits).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import string
from collections import Counter

from quizgen.errors import ConfigurationError

__all__ = [
    "MAX_TOKEN_CHARS",
    "MIN_TOKEN_BITS",
    "TokenRegistry",
    "check_token_strength",
    "estimated_bits",
]

_USER_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
MIN_TOKEN_BITS = 128
MAX_TOKEN_CHARS = 512
MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
# Words of the example values in this repository's docs and deploy files (and the usual
# ones): a token containing one was copied, not generated.
_PLACEHOLDERS = (
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "replaceme",
    "placeholder",
    "example",
    "your-token",
    "yourtoken",
    "token-here",
    "quizgen-demo-token",
    "xxxxxxxx",
)
_CLASSES = (
    (string.ascii_lowercase, 26),
    (string.ascii_uppercase, 26),
    (string.digits, 10),
)


def estimated_bits(token: str) -> float:
    """An estimate of a token's entropy, as if its characters were drawn at random from the
    classes it uses (lowercase, uppercase, digits, other); a token that repeats itself is
    worth no more than its own character frequencies say (`aaaa...` is worth 0)."""
    if not token:
        return 0.0
    pool = sum(size for chars, size in _CLASSES if any(c in chars for c in token))
    if any(not c.isascii() or not c.isalnum() for c in token):
        pool += 33  # ASCII punctuation and space; anything else counts as one of them
    by_pool = len(token) * math.log2(pool)
    counts = Counter(token).values()
    by_frequency = -sum(n * math.log2(n / len(token)) for n in counts)
    # Frequencies understate a short random token (22 characters seldom repeat enough to
    # show their pool); used only to catch repetition, at twice their value.
    return min(by_pool, 2 * by_frequency)


def check_token_strength(what: str, token: str) -> None:
    """Refuse a placeholder or weak token at start-up; `what` names it (never the token)."""
    lowered = token.lower()
    if any(word in lowered for word in _PLACEHOLDERS):
        raise ConfigurationError(
            f"{what} is a placeholder from an example; replace it with a random one ({MAKE_ONE})"
        )
    if len(token) > MAX_TOKEN_CHARS:
        raise ConfigurationError(f"{what} is longer than {MAX_TOKEN_CHARS} characters")
    if (bits := estimated_bits(token)) < MIN_TOKEN_BITS:
        raise ConfigurationError(
            f"{what} is too weak (about {bits:.0f} bits, at least {MIN_TOKEN_BITS} needed); "
            f"make one with {MAKE_ONE}"
        )


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenRegistry:
    def __init__(self, pairs: dict[bytes, str]) -> None:
        self._users_by_digest = pairs

    @classmethod
    def parse(cls, setting: str | None) -> TokenRegistry:
        """Read `user_id:token,...`; refuse malformed entries and weak tokens loudly."""
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
            check_token_strength(f"API_TOKENS: the token of {user_id!r}", token)
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

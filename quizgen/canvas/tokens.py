"""Teachers' Canvas tokens at rest: encrypted with Fernet under keys from settings.

`CANVAS_TOKEN_KEYS` is a comma-separated list of Fernet keys (make one with
`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).
The first encrypts; every one decrypts. Rotation: put a new key first, keep the old ones
after it, run `TokenCipher.rotate` over the stored tokens (or let each be re-encrypted when
used), then drop the old key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from quizgen.errors import CanvasAuthError, ConfigurationError

__all__ = ["TokenCipher"]


class TokenCipher:
    def __init__(self, keys: str) -> None:
        try:
            fernets = [Fernet(key.strip()) for key in keys.split(",") if key.strip()]
        except ValueError:
            raise ConfigurationError(
                "CANVAS_TOKEN_KEYS must be Fernet keys (32 url-safe base64-encoded bytes each)"
            ) from None
        if not fernets:
            raise ConfigurationError("CANVAS_TOKEN_KEYS is empty")
        self._fernet = MultiFernet(fernets)

    def encrypt(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def decrypt(self, stored: bytes) -> str:
        try:
            return self._fernet.decrypt(stored).decode()
        except InvalidToken:
            # Encrypted under a key no longer configured: the teacher connects again.
            raise CanvasAuthError(
                "the saved Canvas token cannot be read with today's keys: reconnect Canvas"
            ) from None

    def rotate(self, stored: bytes) -> bytes:
        """The same token under the first key."""
        return self._fernet.rotate(stored)

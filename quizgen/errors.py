"""Errors raised by quizgen's own code.

    QuizgenError
    ├── ConfigurationError       settings that cannot work (bad URL, unknown provider)
    ├── ProviderError            the question generator (LLM) failed
    │   ├── TransientProviderError   worth retrying (rate limit, outage, timeout)
    │   └── PermanentProviderError   retrying cannot help (bad key, refused content)
    └── PersistenceError         the database refused a write
        ├── QuizNotFoundError        no quiz with that id
        └── QuizStateConflictError   the quiz is not in a status that allows the change

Validation problems with LLM output are *not* exceptions: the validator returns
the rejected questions with readable reasons, because a batch repairs them.
"""

from __future__ import annotations

__all__ = [
    "MAX_REASON_CHARS",
    "ConfigurationError",
    "PermanentProviderError",
    "PersistenceError",
    "ProviderError",
    "QuizNotFoundError",
    "QuizStateConflictError",
    "QuizgenError",
    "TransientProviderError",
    "cap_message",
]

# Reasons and errors that travel in workflow history (once per batch, per
# round) stay this short, so a quiz of 80 batches fits any payload limit.
MAX_REASON_CHARS = 300


class QuizgenError(Exception):
    """Base of every error quizgen raises on purpose."""


class ConfigurationError(QuizgenError):
    """A setting has a value that cannot work."""


class ProviderError(QuizgenError):
    """The question generator failed to answer."""


class TransientProviderError(ProviderError):
    """A failure that a later attempt may not see (rate limit, outage, timeout)."""

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class PermanentProviderError(ProviderError):
    """A failure that retrying cannot fix (bad credentials, unknown model, refusal)."""


class PersistenceError(QuizgenError):
    """A database write could not be done."""


class QuizNotFoundError(PersistenceError):
    """No quiz exists with the given id."""


class QuizStateConflictError(PersistenceError):
    """The quiz's status does not allow the change (e.g. generating a published quiz)."""


def cap_message(message: str, limit: int = 1000) -> str:
    """Bound a message that travels in workflow history or metadata, as valid UTF-8.

    Messages may quote LLM output, which can hold lone surrogates ("\ud800" in
    JSON): those cannot be encoded, so they become "?" rather than breaking the
    payload (and with it the workflow) that carries the message.
    """
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    return message.encode("utf-8", "replace").decode("utf-8")

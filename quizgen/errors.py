"""Errors raised by quizgen's own code.

    QuizgenError
    ├── ConfigurationError       settings that cannot work (bad URL, unknown provider)
    ├── ProviderError            the question generator (LLM) failed
    │   ├── TransientProviderError   worth retrying (rate limit, outage, timeout)
    │   └── PermanentProviderError   retrying cannot help (bad key, refused content)
    ├── OutputFormatError        an LLM answer is not the JSON asked for (inside the validator)
    ├── TemporalUnavailableError Temporal cannot be reached now (the API answers 503)
    ├── CanvasError              Canvas did not do what was asked
    │   ├── CanvasUnavailableError   worth retrying: throttled, 429, 5xx, timeouts, refused
    │   ├── CanvasAuthError          the teacher's token is invalid or expired: reconnect
    │   └── CanvasRefusedError       403/404/4xx on what was asked: retrying cannot help
    ├── PersistenceError         the database refused a read or write
    │   ├── NotFoundError            what was asked for does not exist
    │   │   ├── QuizNotFoundError        no quiz with that id
    │   │   ├── QuizModuleNotFoundError  the quiz has no module with that id
    │   │   └── QuestionNotFoundError    the quiz has no question with that id
    │   └── QuizStateConflictError   the quiz is not in a status that allows the change
    └── ReviewError              a teacher's edit is refused
        ├── InvalidQuestionError     it breaks the question type's rules
        └── DuplicateQuestionError   the quiz already has a question with that text

Validation problems with LLM output are *not* exceptions to the caller: the
validator returns the rejected questions with readable reasons, because a
batch repairs them (`OutputFormatError` never leaves `validate_output`).

Errors that cross into Temporal travel as `ApplicationError` types named in
`quizgen.names` (`QUIZ_NOT_FOUND_ERROR`, `BATCH_FAILED_ERROR`, ...), never as literals.
"""

from __future__ import annotations

__all__ = [
    "MAX_REASON_CHARS",
    "CanvasAuthError",
    "CanvasError",
    "CanvasRefusedError",
    "CanvasUnavailableError",
    "ConfigurationError",
    "DuplicateQuestionError",
    "InvalidQuestionError",
    "NotFoundError",
    "OutputFormatError",
    "PermanentProviderError",
    "PersistenceError",
    "ProviderError",
    "QuestionNotFoundError",
    "QuizModuleNotFoundError",
    "QuizNotFoundError",
    "QuizStateConflictError",
    "QuizgenError",
    "ReviewError",
    "TemporalUnavailableError",
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


class OutputFormatError(QuizgenError):
    """An LLM answer is not JSON of the expected shape (caught inside the validator)."""


class TemporalUnavailableError(QuizgenError):
    """Temporal cannot be reached now; nothing was started or changed."""


class CanvasError(QuizgenError):
    """Canvas did not do what was asked; the message says why in plain words."""


class CanvasUnavailableError(CanvasError):
    """Worth trying again later: throttled, 429, 5xx, a timeout, a refused connection."""

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class CanvasAuthError(CanvasError):
    """Canvas refused the token (invalid, expired or revoked): the teacher must reconnect."""


class CanvasRefusedError(CanvasError):
    """Canvas refused the request itself (no access to the course, not found, invalid)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class PersistenceError(QuizgenError):
    """A database read or write could not be done."""


class NotFoundError(PersistenceError):
    """What was asked for does not exist (or no longer: a quiz may be deleted meanwhile)."""


class QuizNotFoundError(NotFoundError):
    """No quiz exists with the given id."""


class QuizModuleNotFoundError(NotFoundError):
    """The quiz has no module with the given id."""


class QuestionNotFoundError(NotFoundError):
    """The quiz has no question with the given id."""


class QuizStateConflictError(PersistenceError):
    """The quiz's status does not allow the change (e.g. generating a published quiz)."""


class ReviewError(QuizgenError):
    """A teacher's change to a question is refused; the message says why."""


class InvalidQuestionError(ReviewError):
    """The edit breaks the question type's rules."""


class DuplicateQuestionError(ReviewError):
    """The edit would give the quiz two questions with the same text."""


def cap_message(message: str, limit: int = 1000) -> str:
    """Bound a message that travels in workflow history or metadata, as valid UTF-8.

    Messages may quote LLM output, which can hold lone surrogates ("\ud800" in
    JSON): those cannot be encoded, so they become "?" rather than breaking the
    payload (and with it the workflow) that carries the message.
    """
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    return message.encode("utf-8", "replace").decode("utf-8")

"""Canvas's answers as Temporal's errors, for the activities that call Canvas (the export,
the extraction): the workflows decide on the types (`workflows/_canvas.py`).

| raised                       | `ApplicationError` type    | retried?                      |
|------------------------------|----------------------------|-------------------------------|
| `CanvasAuthError`            | `CANVAS_AUTH_ERROR`        | no: waits for a reconnect     |
| `CanvasRefusedError`         | `CANVAS_REFUSED_ERROR`     | no: the reason is shown       |
| `CanvasUnavailableError`     | `CANVAS_UNAVAILABLE_ERROR` | yes, Retry-After or <= 10 s   |
| `NotReady`, `CanvasNotConfiguredError` | `EXPORT_NOT_READY_ERROR` | no: not workable now |
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities._errors import retry_delay
from quizgen.canvas.access import CanvasNotConfiguredError
from quizgen.errors import (
    MAX_REASON_CHARS,
    CanvasAuthError,
    CanvasRefusedError,
    CanvasUnavailableError,
    cap_message,
)
from quizgen.names import (
    CANVAS_AUTH_ERROR,
    CANVAS_REFUSED_ERROR,
    CANVAS_UNAVAILABLE_ERROR,
    EXPORT_NOT_READY_ERROR,
)

__all__ = ["NotReady", "canvas_errors"]

# Canvas's throttle refills in seconds: a throttled call is tried again within ten.
_CANVAS_RETRY_CAP = timedelta(seconds=10)


class NotReady(Exception):
    """The quiz cannot be exported as it stands; the message says why."""


@contextmanager
def canvas_errors() -> Iterator[None]:
    """Canvas's answers (and `NotReady`) as the `ApplicationError`s the workflow decides on."""
    try:
        yield
    except CanvasAuthError as err:
        raise ApplicationError(str(err), type=CANVAS_AUTH_ERROR, non_retryable=True) from None
    except CanvasRefusedError as err:
        raise ApplicationError(
            cap_message(str(err), MAX_REASON_CHARS), type=CANVAS_REFUSED_ERROR, non_retryable=True
        ) from None
    except CanvasUnavailableError as err:
        delay = retry_delay(err.retry_after_seconds, activity.info().attempt)
        raise ApplicationError(
            cap_message(str(err), MAX_REASON_CHARS),
            type=CANVAS_UNAVAILABLE_ERROR,
            next_retry_delay=min(delay, _CANVAS_RETRY_CAP),
        ) from None
    except (NotReady, CanvasNotConfiguredError) as err:
        raise ApplicationError(str(err), type=EXPORT_NOT_READY_ERROR, non_retryable=True) from None

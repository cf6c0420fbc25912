"""quizgen's errors as Temporal's: the activity side of `workflows/_errors.py`.

Activities raise nothing but `ApplicationError`s of the types named in
`quizgen.names`, so workflows (and `workflows/_policies.py`) decide on types,
never on messages:

| raised by quizgen code   | `ApplicationError` type      | retried?                              |
|--------------------------|------------------------------|---------------------------------------|
| `NotFoundError`          | `QUIZ_NOT_FOUND_ERROR`       | no: a deleted quiz does not come back |
| `QuizStateConflictError` | `QUIZ_NOT_GENERATABLE_ERROR` | no: e.g. the quiz was published       |
| `TransientProviderError` | `TRANSIENT_PROVIDER_ERROR`   | yes, after Retry-After or a backoff   |
| `PermanentProviderError` | `PERMANENT_PROVIDER_ERROR`   | no                                    |

Anything else (a database outage that outlasted its retries, a bug) passes
through unchanged and is retried by the activity's policy.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from quizgen.errors import (
    MAX_REASON_CHARS,
    NotFoundError,
    PermanentProviderError,
    QuizStateConflictError,
    TransientProviderError,
    cap_message,
)
from quizgen.names import (
    PERMANENT_PROVIDER_ERROR,
    QUIZ_NOT_FOUND_ERROR,
    QUIZ_NOT_GENERATABLE_ERROR,
    TRANSIENT_PROVIDER_ERROR,
)

__all__ = ["MAX_RETRY_AFTER_SECONDS", "retry_delay", "temporal_errors"]

MAX_RETRY_AFTER_SECONDS = 300.0


@contextmanager
def temporal_errors() -> Iterator[None]:
    """Raise quizgen's errors from the block as the `ApplicationError`s in the table above."""
    try:
        yield
    except NotFoundError as err:
        raise ApplicationError(str(err), type=QUIZ_NOT_FOUND_ERROR, non_retryable=True) from err
    except QuizStateConflictError as err:
        raise ApplicationError(
            str(err), type=QUIZ_NOT_GENERATABLE_ERROR, non_retryable=True
        ) from err
    # Provider errors `from None`: the message says why; the client library's
    # exception chain would push a retried failure over Temporal's size limit
    # and hide the reason.
    except TransientProviderError as err:
        raise ApplicationError(
            cap_message(str(err), MAX_REASON_CHARS),
            type=TRANSIENT_PROVIDER_ERROR,
            next_retry_delay=retry_delay(err.retry_after_seconds, activity.info().attempt),
        ) from None
    except PermanentProviderError as err:
        raise ApplicationError(
            cap_message(str(err), MAX_REASON_CHARS),
            type=PERMANENT_PROVIDER_ERROR,
            non_retryable=True,
        ) from None


def retry_delay(retry_after: float | None, attempt: int) -> timedelta:
    """A server's Retry-After, within reason; else exponential backoff with jitter.

    Jitter spreads the retries of many batches hit by one outage, so a
    recovering provider is not hit by all of them in the same second.
    """
    if retry_after:
        return timedelta(seconds=min(retry_after, MAX_RETRY_AFTER_SECONDS))
    # Capped at 30 s, so a provider that is back is used again within half a minute.
    base = min(2.0 ** (attempt - 1), 30.0)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))

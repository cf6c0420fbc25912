"""Following a generation round until it settles, and the exit code its outcome gives.

On a terminal the round is shown live (a bar per batch); anywhere else (a pipe,
a CI log) one line is printed per change, so logs stay readable, and the final
view once at the end.
"""

from __future__ import annotations

import time
import uuid
from types import TracebackType

from rich.console import Console
from rich.live import Live

from cli.client import ApiClient, ApiError, CliError, QuizView, Unreachable
from cli.render import progress_line, quiz_view
from quizgen.domain import QuizStatus

__all__ = ["EXIT_FAILED", "EXIT_PARTIAL", "EXIT_READY", "EXIT_UNSETTLED", "exit_code", "watch"]

EXIT_READY = 0
EXIT_FAILED = 1
EXIT_PARTIAL = 2
# `status` of a quiz that has not finished a round yet: neither success nor failure.
EXIT_UNSETTLED = 3

SETTLED = frozenset(
    {QuizStatus.READY_FOR_REVIEW, QuizStatus.READY_FOR_REVIEW_PARTIAL, QuizStatus.FAILED}
)
# Statuses after review: the questions were ready, so scripts read them as success.
_REVIEWED = frozenset({QuizStatus.EXPORTING_TO_CANVAS, QuizStatus.PUBLISHED})
# A restart of the API or a short database outage is ridden out; a longer one ends the watch.
OUTAGE_POLLS = 10


def exit_code(status: QuizStatus) -> int:
    if status is QuizStatus.READY_FOR_REVIEW or status in _REVIEWED:
        return EXIT_READY
    if status is QuizStatus.READY_FOR_REVIEW_PARTIAL:
        return EXIT_PARTIAL
    if status is QuizStatus.FAILED:
        return EXIT_FAILED
    return EXIT_UNSETTLED


def watch(
    client: ApiClient,
    quiz_id: uuid.UUID,
    out: Console,
    *,
    interval: float,
    timeout: float | None,
) -> QuizView:
    """Poll the quiz every `interval` seconds until its round settles; return its last state."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with _Display(out) as display:
        while True:
            quiz = _poll(client, quiz_id, interval)
            display.show(quiz)
            if quiz.status in SETTLED:
                return quiz
            if deadline is not None and time.monotonic() >= deadline:
                raise CliError(
                    f"still {quiz.status.value} after {timeout:g}s; the round goes on "
                    f"(quizgen status {quiz_id})"
                )
            time.sleep(interval)


def _poll(client: ApiClient, quiz_id: uuid.UUID, interval: float) -> QuizView:
    for attempt in range(1, OUTAGE_POLLS + 1):
        try:
            return client.quiz(quiz_id)
        except ApiError as exc:
            if exc.status != 503 or attempt == OUTAGE_POLLS:
                raise
        except Unreachable:
            if attempt == OUTAGE_POLLS:
                raise
        time.sleep(interval)
    raise AssertionError("unreachable: the last attempt returns or raises")


class _Display:
    """A live view on a terminal; otherwise a line per change and the final view."""

    def __init__(self, out: Console) -> None:
        self._out = out
        self._live = Live(console=out, auto_refresh=False) if out.is_terminal else None
        self._last: QuizView | None = None
        self._last_line: str | None = None

    def __enter__(self) -> _Display:
        if self._live is not None:
            self._live.start()
        return self

    def show(self, quiz: QuizView) -> None:
        self._last = quiz
        if self._live is not None:
            self._live.update(quiz_view(quiz, bars=True), refresh=True)
            return
        line = progress_line(quiz)
        if line != self._last_line:
            self._out.print(line, markup=False, highlight=False, soft_wrap=True)
            self._last_line = line

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # The live view leaves its last frame on screen; elsewhere the final view is printed.
        if self._live is not None:
            self._live.stop()
        elif self._last is not None:
            self._out.print(quiz_view(self._last, bars=True))

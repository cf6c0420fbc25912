"""Following something until it settles (a generation round, a Canvas export), and the
exit codes of a round's outcome.

`follow` polls and shows: on a terminal live (a rich renderable, redrawn), anywhere
else (a pipe, a CI log) one line per change, so logs stay readable. `watch` follows
a generation round with it; `cli.export_commands` follows a Canvas export.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.live import Live

from cli.client import ApiClient, ApiError, CliError, QuizView, Unreachable
from cli.options import EXIT_INTERRUPTED
from cli.render import progress_line, quiz_view
from quizgen.domain import QuizStatus

__all__ = [
    "EXIT_FAILED",
    "EXIT_PARTIAL",
    "EXIT_READY",
    "EXIT_UNSETTLED",
    "exit_code",
    "follow",
    "watch",
]

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

T = TypeVar("T")


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
    return follow(
        lambda: client.quiz(quiz_id),
        out,
        settled=lambda quiz: quiz.status in SETTLED,
        view=lambda quiz: quiz_view(quiz, bars=True),
        line=progress_line,
        final=lambda quiz: quiz_view(quiz, bars=True),
        still=lambda quiz: (
            f"still {quiz.status.value} after {timeout:g}s; the round goes on "
            f"(quizgen status {quiz_id})"
        ),
        interrupted=f"stopped watching; the round goes on (quizgen status {quiz_id})",
        interval=interval,
        timeout=timeout,
    )


def follow(
    poll: Callable[[], T],
    out: Console,
    *,
    settled: Callable[[T], bool],
    view: Callable[[T], RenderableType],
    line: Callable[[T], str],
    still: Callable[[T], str],
    interrupted: str,
    final: Callable[[T], RenderableType] | None = None,
    interval: float,
    timeout: float | None,
) -> T:
    """`poll()` every `interval` seconds until `settled`; return the last answer.

    Shown live as `view` on a terminal, else as `line` once per change and `final` (if
    given) at the end. After `timeout` seconds: a `CliError` saying `still(last)`. On
    Ctrl-C: `interrupted` on stderr, and the command ends with `EXIT_INTERRUPTED`.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        with _Display(out, view, line, final) as display:
            while True:
                current = _poll(poll, interval)
                display.show(current)
                if settled(current):
                    return current
                if deadline is not None and time.monotonic() >= deadline:
                    raise CliError(still(current))
                time.sleep(interval)
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _poll(poll: Callable[[], T], interval: float) -> T:
    for attempt in range(1, OUTAGE_POLLS + 1):
        try:
            return poll()
        except ApiError as exc:
            if exc.status != 503 or attempt == OUTAGE_POLLS:
                raise
        except Unreachable:
            if attempt == OUTAGE_POLLS:
                raise
        time.sleep(interval)
    raise AssertionError("unreachable: the last attempt returns or raises")


class _Display(Generic[T]):
    """A live view on a terminal; otherwise a line per change and the final view."""

    def __init__(
        self,
        out: Console,
        view: Callable[[T], RenderableType],
        line: Callable[[T], str],
        final: Callable[[T], RenderableType] | None,
    ) -> None:
        self._out = out
        self._view, self._line, self._final = view, line, final
        self._live = Live(console=out, auto_refresh=False) if out.is_terminal else None
        self._last: T | None = None
        self._last_line: str | None = None

    def __enter__(self) -> _Display[T]:
        if self._live is not None:
            self._live.start()
        return self

    def show(self, current: T) -> None:
        self._last = current
        if self._live is not None:
            self._live.update(self._view(current), refresh=True)
            return
        line = self._line(current)
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
        elif self._last is not None and self._final is not None:
            self._out.print(self._final(self._last))

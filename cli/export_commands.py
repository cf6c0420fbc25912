"""`quizgen export`: the questions as JSON or a QTI package, or the quiz to Canvas.

To Canvas (`POST/GET/DELETE /quizzes/{id}/export`), one action per run:

    --canvas COURSE_ID [--title T] [--points P]   export to this course
    --canvas-again     export again, to where the last export went: continues a failed
                       or cancelled export, updates a published one
    --status           where the export stands
    --undo             delete the Canvas quiz the export made; the quiz is back in review
    --cancel           stop the running export

With --watch each follows the export until it settles, shown as `cli.watch` shows a
round. Exit codes of the outcome: 0 published (or undone, or cancelled by --cancel),
1 failed or cancelled, 4 waiting for a new Canvas token, 3 (`--status` without
--watch) still running or undoing.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from cli import render
from cli.app import QuizId, app, config_of, exit_with, out, say
from cli.client import ApiClient, CliError, ExportView, Json
from cli.options import EXIT_RECONNECT, Timeout, watch_option
from cli.watch import EXIT_FAILED, EXIT_READY, EXIT_UNSETTLED, follow

__all__ = ["EXIT_RECONNECT", "export"]

WAITING = "waiting_for_canvas"
# Where an export stops moving by itself.
_ENDED = frozenset({"published", "failed", "cancelled"})
_SETTLED = _ENDED | {WAITING}
RECONNECT = (
    "Canvas refused the saved token: reconnect with `quizgen canvas connect`; "
    "the export then resumes by itself"
)

Output = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write to this file instead of stdout.", show_default=False
    ),
]
Qti = Annotated[
    Path | None,
    typer.Option(
        "--qti",
        help="Write the approved questions as a QTI 1.2 package (a .zip that Canvas and "
        "most LMSs import) to this file instead.",
        show_default=False,
    ),
]
Course = Annotated[
    str | None,
    typer.Option(
        "--canvas",
        metavar="COURSE_ID",
        help="Export the approved questions to a New Quiz in this Canvas course "
        "(quizgen canvas courses lists yours).",
        show_default=False,
    ),
]


@app.command()
def export(
    ctx: typer.Context,
    quiz_id: QuizId,
    output: Output = None,
    include_rejected: Annotated[
        bool, typer.Option("--include-rejected", help="Rejected questions too.")
    ] = False,
    qti: Qti = None,
    course: Course = None,
    again: Annotated[
        bool,
        typer.Option(
            "--canvas-again",
            help="Export to Canvas again, where the last export went: continues a failed or "
            "cancelled export, updates a published one.",
        ),
    ] = False,
    title: Annotated[
        str | None,
        typer.Option(help="With --canvas: the Canvas quiz's title (the quiz's own by default)."),
    ] = None,
    points: Annotated[
        float | None,
        typer.Option(help="With --canvas: points per question (default 1).", show_default=False),
    ] = None,
    show_status: Annotated[
        bool, typer.Option("--status", help="Where the Canvas export stands.")
    ] = False,
    undo: Annotated[
        bool, typer.Option("--undo", help="Delete the Canvas quiz the export made.")
    ] = False,
    cancel: Annotated[bool, typer.Option("--cancel", help="Stop the running export.")] = False,
    follow_it: Annotated[
        bool, watch_option("Follow the Canvas export until it settles (exit 0/1/4).")
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option(min=0.1, help="Seconds between polls when watching (default 1)."),
    ] = None,
    timeout: Timeout = None,
) -> None:
    """The quiz's questions in review order as one JSON array, as the API returns them;
    rejected questions are left out unless --include-rejected. With --qti FILE: the
    approved ones as a QTI 1.2 package. With --canvas COURSE_ID, --canvas-again,
    --status, --undo or --cancel: the export to Canvas (one of them)."""
    actions = {
        "--qti": qti is not None,
        "--canvas": course is not None,
        "--canvas-again": again,
        "--status": show_status,
        "--undo": undo,
        "--cancel": cancel,
    }
    chosen = [name for name, given in actions.items() if given]
    _check_usage(ctx, chosen, course, output, include_rejected, title, points, follow_it,
                 interval, timeout)  # fmt: skip
    if qti is not None:
        _write_qti(ctx, quiz_id, qti)
    elif not chosen:
        _write_json(ctx, quiz_id, output, include_rejected)
    else:
        watching = _Watching(follow_it, interval or 1.0, timeout)
        with config_of(ctx).client() as client:
            code = _canvas(client, quiz_id, chosen[0], _target(course, title, points), watching)
        exit_with(code)


def _check_usage(
    ctx: typer.Context,
    chosen: list[str],
    course: str | None,
    output: Path | None,
    include_rejected: bool,
    title: str | None,
    points: float | None,
    follow_it: bool,
    interval: float | None,
    timeout: float | None,
) -> None:
    """Refuse options that do not go together, before any request."""

    def usage(message: str) -> CliError:
        return CliError(f"{message} (see {ctx.command_path} --help)")

    if len(chosen) > 1:
        raise usage(f"give one of {', '.join(chosen)}, not several")
    action = chosen[0] if chosen else None
    canvas = action not in (None, "--qti")
    if action is not None and (output is not None or include_rejected):
        raise usage(f"--output and --include-rejected are for the JSON export, not {action}")
    if (title is not None or points is not None) and action != "--canvas":
        raise usage("--title and --points go with --canvas COURSE_ID")
    if not canvas and (follow_it or interval is not None or timeout is not None):
        raise usage("--watch, --interval and --timeout go with a Canvas export option")
    if follow_it is False and (interval is not None or timeout is not None):
        raise usage("--interval and --timeout go with --watch")
    if course is not None and not (course.isascii() and course.isdigit()):
        raise usage(f"--canvas takes a Canvas course id (digits), not {course!r}")


def _target(course: str | None, title: str | None, points: float | None) -> Json | None:
    if course is None:
        return None
    target: Json = {"course_id": course}
    if title is not None:
        target["title"] = title
    if points is not None:
        target["points_per_question"] = points
    return target


class _Watching:
    def __init__(self, on: bool, interval: float, timeout: float | None) -> None:
        self.on, self.interval, self.timeout = on, interval, timeout


def _canvas(
    client: ApiClient, quiz_id: uuid.UUID, action: str, target: Json | None, watching: _Watching
) -> int:
    """Run one Canvas action; its exit code."""
    if action == "--undo":
        started = client.undo_export(quiz_id)
        say(f"undoing the export to Canvas course {started.course_id}")
        return _follow_undo(client, quiz_id, watching) if watching.on else EXIT_READY
    if action == "--status":
        found = client.canvas_export(quiz_id)
        if found is None:
            raise CliError(f"quiz {quiz_id} has not been exported to Canvas")
        if not watching.on:
            say(render.export_line(found))
            if found.state not in _SETTLED:
                return EXIT_UNSETTLED
            return _outcome(quiz_id, found)
    elif action == "--cancel":
        say(f"cancelling the export: {client.cancel_export(quiz_id).progress}")
    else:
        say(render.export_line(client.export_to_canvas(quiz_id, target)))
    if not watching.on:
        return EXIT_READY
    # A cancel is asked for, not done: the export may still say it waits for a token
    # until its workflow has taken the cancel, so only an end settles it.
    ends = _ENDED if action == "--cancel" else _SETTLED
    export = _watch(client, quiz_id, watching, settled=lambda e: e is None or e.state in ends)
    if export is None:
        raise CliError(f"the export of quiz {quiz_id} was undone meanwhile")
    return _outcome(quiz_id, export, cancelling=action == "--cancel")


def _follow_undo(client: ApiClient, quiz_id: uuid.UUID, watching: _Watching) -> int:
    # Undone: the export is gone (404). It may also stop (failed) with the Canvas quiz kept.
    export = _watch(client, quiz_id, watching, settled=lambda e: e is None or e.state != "undoing")
    if export is None:
        say("undone: the Canvas quiz is deleted and the quiz is back in review")
        return EXIT_READY
    return _outcome(quiz_id, export, retry="--undo")


def _watch(
    client: ApiClient,
    quiz_id: uuid.UUID,
    watching: _Watching,
    settled: Callable[[ExportView | None], bool],
) -> ExportView | None:
    return follow(
        lambda: client.canvas_export(quiz_id),
        out,
        settled=settled,
        view=lambda e: render.export_view(e) if e is not None else "undone",
        line=lambda e: render.export_line(e) if e is not None else "undone",
        still=lambda e: (
            f"still {e.state if e else 'undone'} after {watching.timeout:g}s; "
            f"the export goes on (quizgen export {quiz_id} --status)"
        ),
        interrupted=f"stopped watching; the export goes on (quizgen export {quiz_id} --status)",
        interval=watching.interval,
        timeout=watching.timeout,
    )


def _outcome(
    quiz_id: uuid.UUID, export: ExportView, *, cancelling: bool = False, retry: str = ""
) -> int:
    """What a settled export means for the teacher, and its exit code."""
    if export.state == "published":
        say(f"Canvas quiz: {export.canvas_quiz_url or '(no link)'}")
        return EXIT_READY
    if export.state == WAITING:
        say(RECONNECT)
        return EXIT_RECONNECT
    if export.message:
        say(f"reason: {' '.join(export.message.split())}")
    if retry:
        say(f"to try again: quizgen export {quiz_id} {retry}")
    else:
        say(f"to continue where it stopped: quizgen export {quiz_id} --canvas-again")
    return EXIT_READY if cancelling and export.state == "cancelled" else EXIT_FAILED


def _write_qti(ctx: typer.Context, quiz_id: uuid.UUID, qti: Path) -> None:
    with config_of(ctx).client() as client:
        package = client.qti_package(quiz_id)
    try:
        qti.write_bytes(package)
    except OSError as exc:
        raise CliError(f"cannot write {qti}: {exc.strerror or exc}") from None
    say(f"wrote the QTI package to {qti}")


def _write_json(
    ctx: typer.Context, quiz_id: uuid.UUID, output: Path | None, include_rejected: bool
) -> None:
    with config_of(ctx).client() as client:
        found = client.questions(quiz_id)
    if not include_rejected:
        found = [q for q in found if q.get("review_status") != "rejected"]
    text = json.dumps(found, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
    say(f"exported {len(found)} question(s) to {output}")

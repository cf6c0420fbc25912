"""Commands about whole quizzes: create, generate/retry (and watch), status, list, delete."""

from __future__ import annotations

import sys
import uuid
from typing import Annotated

import typer

from cli import render
from cli.app import AsJson, QuizId, app, config_of, exit_with, out, print_json, say
from cli.client import ApiClient, ApiError, CliError, QuizView, QuizzesPage, parse
from cli.options import Interval, Timeout, watch_option
from cli.quizfile import load_quiz_file
from cli.watch import exit_code, watch
from quizgen.domain import QuizStatus

Watch = Annotated[bool, watch_option("Follow the round until it settles (exit 0/2/1).")]


@app.command()
def create(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="A .yaml/.yml/.json quiz file, or - for JSON on stdin."
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the created quiz as JSON.")
    ] = False,
) -> None:
    """Create a quiz from a file (checked locally first); print its id."""
    spec = load_quiz_file(file)
    with config_of(ctx).client() as client:
        body = client.create_quiz(spec)
    quiz = parse(QuizView, body)
    if as_json:
        print_json(body)
    else:
        print(quiz.id)


def _start_round(client: ApiClient, quiz_id: uuid.UUID, follow: bool) -> None:
    try:
        accepted = client.generate(quiz_id)
    except ApiError as exc:
        # 409 also means "nothing left to generate": only a running round is watched.
        if not (follow and exc.status == 409):
            raise
        if client.quiz(quiz_id).status is not QuizStatus.GENERATING_QUESTIONS:
            raise
        say("generation is already running for this quiz; watching it")
        return
    say(f"{accepted.message} (quiz {quiz_id})")


def _round(
    ctx: typer.Context, quiz_id: uuid.UUID, follow: bool, interval: float, timeout: float | None
) -> int:
    """Start (or retry) a round; with `follow`, watch it and return its outcome's exit code."""
    with config_of(ctx).client() as client:
        _start_round(client, quiz_id, follow)
        if not follow:
            return 0
        quiz = watch(client, quiz_id, out, interval=interval, timeout=timeout)
    return exit_code(quiz.status)


def _trigger(
    ctx: typer.Context,
    quiz_id: QuizId,
    follow: Watch = False,
    interval: Interval = 1.0,
    timeout: Timeout = None,
) -> None:
    exit_with(_round(ctx, quiz_id, follow, interval, timeout))


# One trigger under two names: the API starts a first round or retries only what
# has not succeeded, whichever the quiz needs; the names say what the teacher means.
app.command("generate", help="Start generating the quiz's questions (refused while a round runs).")(
    _trigger
)
app.command(
    "retry", help="Retry only the batches that have not succeeded; saved questions are kept."
)(_trigger)


@app.command()
def status(ctx: typer.Context, quiz_id: QuizId, as_json: AsJson = False) -> None:
    """The quiz's status, progress and batches, and its Canvas export if any (exit 0/2/1, or 3
    before a round settled)."""
    with config_of(ctx).client() as client:
        body = client.quiz_document(quiz_id)
        quiz = parse(QuizView, body)
        # The Canvas export's line, when the quiz has one (never exported: 404, no line).
        canvas = None if as_json else client.canvas_export(quiz_id)
    if as_json:
        print_json(body)
    else:
        out.print(render.quiz_view(quiz, bars=False))
        if canvas is not None:
            say(render.export_status_line(canvas))
    exit_with(exit_code(quiz.status))


@app.command("list")
def list_quizzes(
    ctx: typer.Context,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many quizzes.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Show at most this many.")] = 20,
    as_json: AsJson = False,
) -> None:
    """Your quizzes, newest first."""
    with config_of(ctx).client() as client:
        body = client.quizzes_document(offset, limit)
    page = parse(QuizzesPage, body)
    if as_json:
        print_json(body)
    else:
        out.print(render.quizzes_table(page.data, offset=offset, count=page.count))


@app.command()
def delete(
    ctx: typer.Context,
    quiz_id: QuizId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the quiz with its questions (refused while a round runs)."""
    with config_of(ctx).client() as client:
        # Asked only of a person at a terminal; a script (no TTY) is not stopped by a prompt.
        if not yes and sys.stdin.isatty():
            quiz = client.quiz(quiz_id)
            saved = quiz.progress.questions_saved
            if not typer.confirm(f"Delete quiz {quiz.title!r} and its {saved} question(s)?"):
                raise CliError("not deleted")
        client.delete_quiz(quiz_id)
    say(f"deleted quiz {quiz_id}")

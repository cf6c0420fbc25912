"""`quizgen`: create quizzes, run and watch generation, review and export, over the HTTP API.

Exit codes, so scripts can branch: `generate --watch`, `retry --watch` and
`status` give 0 for ready_for_review, 2 for ready_for_review_partial and 1 for
failed (`status` gives 3 while no round has settled yet). The Canvas export
(`export --canvas ... --watch`, `export --status`) gives 0 published, 1 failed or
cancelled, 4 waiting for a new Canvas token (3 for `--status` while it runs). Content from Canvas
(`canvas create --watch`, `sources`, `extract --watch`) gives 0 every item extracted, 2 some
failed, 1 failed, 4 waiting for a new Canvas token (3 for `sources` while it runs). Every
other success is 0, and every error 1, reported as one `error: ...` line on stderr, never a
traceback (QUIZGEN_DEBUG=1 shows the traceback of an unexpected one).
"""

from __future__ import annotations

import os
import sys

import typer

# Importing the command modules registers their commands on `app`.
from cli import (
    canvas_commands,
    content_commands,
    decision_commands,
    export_commands,
    quiz_commands,
    review_commands,
)
from cli.app import app
from cli.client import CliError
from cli.quizfile import QuizFileError

__all__ = ["app", "main"]

EXIT_ERROR = 1
_COMMAND_MODULES = (
    quiz_commands,
    review_commands,
    decision_commands,
    export_commands,
    canvas_commands,
    content_commands,
)


def _usage_line(exc: Exception) -> str | None:
    """A usage error of typer's click as one line; None for any other exception.

    Recognised by shape: newer typer raises its vendored (private) click's
    exceptions, older typer the real `click`'s; both have this shape.
    """
    format_message = getattr(exc, "format_message", None)
    if not callable(format_message) or not isinstance(getattr(exc, "exit_code", None), int):
        return None
    message = " ".join(str(format_message()).split())
    path = getattr(getattr(exc, "ctx", None), "command_path", None)
    hint = f" (see {path} --help)" if path else ""
    return f"error: {message}{hint}"


def _report(exc: CliError | QuizFileError) -> None:
    """One line on stderr (plus one per problem of a quiz file)."""
    print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
    for problem in getattr(exc, "problems", []):
        print(f"  {problem}", file=sys.stderr)


def _unexpected(exc: Exception) -> int:
    if type(exc).__name__ == "NoArgsIsHelpError":
        # `quizgen` alone: rich has printed the help while formatting it; plain click has not.
        if help_text := str(getattr(exc, "format_message", str)()).strip():
            print(help_text, file=sys.stderr)
        return EXIT_ERROR
    if (line := _usage_line(exc)) is not None:
        print(line, file=sys.stderr)
        return EXIT_ERROR
    if os.environ.get("QUIZGEN_DEBUG"):
        raise exc
    reason = " ".join(str(exc).split())
    print(
        f"error: unexpected {type(exc).__name__}: {reason} (QUIZGEN_DEBUG=1 shows more)",
        file=sys.stderr,
    )
    return EXIT_ERROR


def main(args: list[str] | None = None) -> int:
    """Run `quizgen` and return its exit code (errors reported, never raised)."""
    command = typer.main.get_command(app)
    try:
        # Not standalone: click exits 2 on a usage error, which a script would read as "partial".
        result = command.main(args=args, prog_name="quizgen", standalone_mode=False)
    except (CliError, QuizFileError) as exc:
        _report(exc)
        return EXIT_ERROR
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`quizgen export ID | head`): nothing more to tell it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:
        return _unexpected(exc)
    # Not standalone, click returns the code of a typer.Exit (0/2/3 from status and watching).
    return result if isinstance(result, int) else 0

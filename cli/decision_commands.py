"""Commands deciding what goes out: reject and restore questions, add one written by hand."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.app import QuizId, app, config_of, say
from cli.client import CliError

# Far more than any question the API accepts: past it, not a question file.
MAX_QUESTION_FILE_BYTES = 1024 * 1024

QuestionIds = Annotated[
    list[uuid.UUID],
    typer.Argument(metavar="QUESTION_ID...", help="The questions' ids.", show_default=False),
]


@app.command()
def reject(ctx: typer.Context, quiz_id: QuizId, question_ids: QuestionIds) -> None:
    """Reject questions: they are kept but left out of the export (restore brings them back)."""
    with config_of(ctx).client() as client:
        for question_id in question_ids:
            client.decide(quiz_id, question_id, "reject")
    say(f"rejected {len(question_ids)} question(s)")


@app.command()
def restore(ctx: typer.Context, quiz_id: QuizId, question_ids: QuestionIds) -> None:
    """Restore rejected questions: they are pending again."""
    with config_of(ctx).client() as client:
        for question_id in question_ids:
            client.decide(quiz_id, question_id, "restore")
    say(f"restored {len(question_ids)} question(s)")


def _read(path: Path) -> Any:
    source = "stdin" if str(path) == "-" else str(path)
    try:
        if str(path) == "-":
            raw = sys.stdin.buffer.read(MAX_QUESTION_FILE_BYTES + 1)
        else:
            with path.open("rb") as handle:
                raw = handle.read(MAX_QUESTION_FILE_BYTES + 1)
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror or exc}") from None
    if len(raw) > MAX_QUESTION_FILE_BYTES:
        raise CliError(f"{source}: larger than {MAX_QUESTION_FILE_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise CliError(f"{source}: not JSON ({_first_line(exc)})") from None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@app.command()
def add(
    ctx: typer.Context,
    quiz_id: QuizId,
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            help="The question as JSON (module_id, question_type, difficulty, "
            "question_data); - reads stdin.",
            show_default=False,
        ),
    ],
) -> None:
    """Add a question written by hand; prints its id. The API checks it by the same rules
    as generated questions."""
    question = _read(file)
    if not isinstance(question, dict):
        raise CliError(f"{file}: a question is a JSON object")
    with config_of(ctx).client() as client:
        added = client.add_question(quiz_id, question)
    print(added.get("id", "") if isinstance(added, dict) else "")

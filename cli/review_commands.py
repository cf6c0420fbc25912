"""Commands about a quiz's questions: list them, approve them.

Rejecting, restoring and adding questions by hand: `cli.decision_commands`; exporting
them (JSON, QTI, Canvas): `cli.export_commands`."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

import typer

from cli import render
from cli.app import AsJson, QuizId, app, config_of, out, print_json, say
from cli.client import CliError
from quizgen.domain import QuestionType


class ReviewFilter(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@app.command()
def questions(
    ctx: typer.Context,
    quiz_id: QuizId,
    module: Annotated[
        str | None, typer.Option("--module", "-m", help="Only this module_id.")
    ] = None,
    question_type: Annotated[
        QuestionType | None, typer.Option("--type", "-t", help="Only this question type.")
    ] = None,
    review_status: Annotated[
        ReviewFilter | None,
        typer.Option("--status", "-s", help="Only questions of this review status."),
    ] = None,
    approved: Annotated[
        bool | None,
        typer.Option(
            "--approved/--not-approved",
            help="Only approved, or only not approved, questions.",
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The quiz's questions (every page), as a table or a JSON array."""
    with config_of(ctx).client() as client:
        found = client.questions(
            quiz_id,
            module_id=module,
            question_type=question_type,
            is_approved=approved,
            review_status=review_status.value if review_status else None,
        )
    if as_json:
        print_json(found)
    else:
        out.print(render.questions_table(found))


@app.command()
def approve(
    ctx: typer.Context,
    quiz_id: QuizId,
    question_ids: Annotated[
        list[uuid.UUID] | None,
        typer.Argument(metavar="QUESTION_ID", help="The questions to approve.", show_default=False),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Approve every pending question (not rejected ones).")
    ] = False,
) -> None:
    """Approve questions by id, or every question of the quiz with --all."""
    if question_ids and every:
        raise CliError("give question ids or --all, not both")
    if not question_ids and not every:
        raise CliError("give the ids of the questions to approve, or --all")
    with config_of(ctx).client() as client:
        if every:
            pending = client.questions(quiz_id, review_status="pending")
            question_ids = [uuid.UUID(str(q["id"])) for q in pending]
        ids = question_ids or []
        for question_id in ids:
            client.approve(quiz_id, question_id)
    say(f"approved {len(ids)} question(s)")

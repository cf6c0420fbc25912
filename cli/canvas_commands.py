"""`quizgen canvas ...`: connect Canvas with an access token, see as whom, list courses.

The token is read from stdin or a hidden prompt, never from the command line (where the
shell history and `ps` would keep it); the API checks it with Canvas and keeps it
encrypted, and nothing prints it again.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.app import AsJson, app, config_of, out, print_json, say
from cli.client import CliError
from cli.render import courses_table

canvas = typer.Typer(help="Connect Canvas and list your courses.", no_args_is_help=True)
app.add_typer(canvas, name="canvas")

# Canvas's personal access tokens are about 70 characters; far more is not a token.
_MAX_TOKEN_CHARS = 2000


@canvas.command()
def connect(
    ctx: typer.Context,
    from_stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the Canvas token from stdin (one line).")
    ] = False,
) -> None:
    """Connect Canvas with an access token (Canvas: Account > Settings > New access token)."""
    if from_stdin:
        token = sys.stdin.readline(_MAX_TOKEN_CHARS + 1).strip()
    else:
        token = str(typer.prompt("Canvas access token", hide_input=True)).strip()
    if not token or len(token) > _MAX_TOKEN_CHARS:
        raise CliError("give one Canvas access token")
    with config_of(ctx).client() as client:
        connection = client.canvas_connect(token)
    say(f"connected to Canvas as {connection['canvas_user']['name']}")


@canvas.command()
def status(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Whether Canvas is connected, and as whom."""
    with config_of(ctx).client() as client:
        connection = client.canvas_connection()
    if as_json:
        print_json(connection)
    elif connection["connected"]:
        say(f"connected to Canvas as {connection['canvas_user']['name']}")
    else:
        say("Canvas is not connected: quizgen canvas connect")


@canvas.command()
def disconnect(ctx: typer.Context) -> None:
    """Forget your Canvas token here (revoke it in Canvas too if it is no longer needed)."""
    with config_of(ctx).client() as client:
        client.canvas_disconnect()
    say("Canvas disconnected")


@canvas.command()
def courses(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The Canvas courses you teach."""
    with config_of(ctx).client() as client:
        found = client.canvas_courses()
    if as_json:
        print_json(found)
        return
    out.print(courses_table(found))

"""The `quizgen` Typer app: its global options, and what every command shares.

The commands live in `cli.quiz_commands` and `cli.review_commands`; `cli.main`
runs the app and turns errors into one line.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.client import ApiClient, CliError

__all__ = [
    "DEFAULT_API",
    "AsJson",
    "Config",
    "QuizId",
    "app",
    "config_of",
    "exit_with",
    "out",
    "print_json",
    "say",
]

DEFAULT_API = "http://127.0.0.1:8000"

app = typer.Typer(
    name="quizgen",
    help="Create quizzes and generate their questions through the quizgen HTTP API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Tables and progress go to stdout; errors are written by cli.main to stderr.
out = Console()


@dataclass(frozen=True)
class Config:
    api: str
    token: str | None

    def client(self) -> ApiClient:
        if not self.token:
            raise CliError("no API token: set QUIZGEN_TOKEN or pass --token")
        # Checked here so that the message is about the token, and never shows it.
        if not (self.token.isascii() and self.token.isprintable()) or " " in self.token:
            raise CliError("the API token must be printable ASCII without spaces")
        return ApiClient(self.api, self.token)


def config_of(ctx: typer.Context) -> Config:
    config = ctx.find_root().obj
    assert isinstance(config, Config), "the app callback sets the config"
    return config


def exit_with(code: int) -> None:
    """End the command with `code` (nothing to do for 0)."""
    if code:
        raise typer.Exit(code)


def print_json(value: Any) -> None:
    # Plain print, not rich: JSON for other programs is never wrapped or coloured.
    print(json.dumps(value, indent=2, ensure_ascii=False))


def say(message: str) -> None:
    """One line for a person: never wrapped, no markup read into it."""
    out.print(message, markup=False, highlight=False, soft_wrap=True)


QuizId = Annotated[
    uuid.UUID, typer.Argument(metavar="QUIZ_ID", help="The quiz's id.", show_default=False)
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def _options(
    ctx: typer.Context,
    api: Annotated[
        str, typer.Option("--api", envvar="QUIZGEN_API", help="The API's base address.")
    ] = DEFAULT_API,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="QUIZGEN_TOKEN",
            help="Your API token, sent as a bearer token and never printed.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Global options go before the command: quizgen --api URL status QUIZ_ID."""
    ctx.obj = Config(api=api, token=token)

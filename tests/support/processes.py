"""Workers as real processes (`python -m worker`), for tests that kill them."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.support.temporal import server_address

__all__ = ["worker_process"]

REPO_ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def worker_process(
    env: WorkflowEnvironment,
    database_url: str,
    task_queue: str,
    log: Path,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m worker` as its own process; SIGKILLed on exit unless already ended."""
    environment = {
        **os.environ,
        "TEMPORAL_ADDRESS": server_address(env),
        "TEMPORAL_TASK_QUEUE": task_queue,
        "DATABASE_URL": database_url,
        "LLM_PROVIDER": "offline",
        "LLM_FAULT_RATE": "0",
        # Slow enough that a round is still running when the worker is killed.
        "LLM_OFFLINE_LATENCY_SECONDS": "0.4",
        # Several workers on one machine: no metrics port to fight over.
        "WORKER_METRICS_ADDRESS": "",
        **(extra_env or {}),
    }
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "worker",
            cwd=REPO_ROOT,
            env=environment,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()

"""The bench's worker subprocesses (`python -m worker`, the skeleton worker) on its stack."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from deploy.local.processes import WorkerProcess, worker_environment

if TYPE_CHECKING:  # the harness imports this module; only its type is needed here
    from bench.harness import Stack

__all__ = ["quizgen_worker_process", "skeleton_worker_process", "worker_env"]


def worker_env(stack: Stack, queue: str, **extra: str) -> dict[str, str]:
    """Environment of a `python -m worker` on this stack (offline provider unless overridden)."""
    return worker_environment(stack.address, stack.database_url, queue, **extra)


async def quizgen_worker_process(stack: Stack, queue: str, **extra: str) -> WorkerProcess:
    """A started `python -m worker`, polling (its log file is its own)."""
    log_file = stack.tmp / f"{queue}-{uuid.uuid4().hex[:6]}.log"
    process = WorkerProcess("worker", worker_env(stack, queue, **extra), log_file)
    await process.start()
    await process.wait_for_log("worker polling")
    return process


async def skeleton_worker_process(stack: Stack, queue: str) -> WorkerProcess:
    env = {"TEMPORAL_ADDRESS": stack.address, "TEMPORAL_TASK_QUEUE": queue}
    log_file = stack.tmp / f"{queue}-{uuid.uuid4().hex[:6]}.log"
    process = WorkerProcess("bench.skeleton_worker", env, log_file)
    await process.start()
    await process.wait_for_log("skeleton worker polling")
    return process

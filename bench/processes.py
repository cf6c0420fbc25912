"""Workers as their own processes (`python -m worker`, the skeleton worker) for the
parts of the bench that measure memory, bursts and kills."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the harness imports this module; only its type is needed here
    from bench.harness import Stack

ROOT = Path(__file__).resolve().parents[1]


class WorkerProcess:
    """A worker subprocess (`python -m worker`, or the skeleton worker) with its log file."""

    def __init__(self, module: str, env: dict[str, str], log_file: Path) -> None:
        self.module = module
        self.env = env
        self.log_file = log_file
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> WorkerProcess:
        with self.log_file.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                self.module,
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        _PROCESSES.add(self)
        return self

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def count(self, needle: str) -> int:
        return self.log_text().count(needle)

    async def wait_for_log(self, needle: str, within: float = 60.0) -> None:
        async with asyncio.timeout(within):
            while needle not in self.log_text():
                assert self.process is not None
                if self.process.returncode is not None:
                    raise RuntimeError(
                        f"{self.module} exited with {self.process.returncode}: "
                        f"{self.log_text()[-2000:]}"
                    )
                await asyncio.sleep(0.05)

    def _status_kib(self, key: str) -> int | None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        found = re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) if found else None

    def peak_rss_kib(self) -> int | None:
        """VmHWM: the process's resident-set high-water mark so far."""
        return self._status_kib("VmHWM")

    def rss_kib(self) -> int | None:
        return self._status_kib("VmRSS")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        _PROCESSES.discard(self)

    async def stop(self, within: float = 10.0) -> None:
        """SIGTERM (the worker shuts down gracefully), SIGKILL if it takes too long."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                async with asyncio.timeout(within):
                    await self.process.wait()
            except TimeoutError:
                await self.kill()
        _PROCESSES.discard(self)


_PROCESSES: set[WorkerProcess] = set()


async def kill_all_processes() -> None:
    for process in list(_PROCESSES):
        with contextlib.suppress(ProcessLookupError):
            await process.kill()


def worker_env(stack: Stack, queue: str, **extra: str) -> dict[str, str]:
    """Environment of a `python -m worker` on this stack (offline provider unless overridden)."""
    return {
        "TEMPORAL_ADDRESS": stack.address,
        "TEMPORAL_TASK_QUEUE": queue,
        "DATABASE_URL": stack.database_url,
        "LLM_PROVIDER": "offline",
        "LLM_FAULT_RATE": "0",
        **extra,
    }


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

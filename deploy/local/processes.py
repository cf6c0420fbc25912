"""The local stack's own processes: workers (and the API) as `python -m ...` subprocesses.

- `WorkerProcess`: a `python -m <module>` of this run (tests, bench), with its
  log file, its memory figures, and SIGKILL/SIGTERM; `kill_all_processes`
  ends every one still running.
- `worker_process`: a `python -m worker` on a given dev server, database and
  task queue, killed when the block ends (the tests that kill workers).
- `start_service` / `stop_started_servers`: the demo's worker and API, which
  may outlive it (`./dev demo --stop` ends them and the servers).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from deploy.local.paths import PIDS_DIR, REPO_ROOT, STATE_DIR, remember
from deploy.local.postgres import stop_embedded_postgres

__all__ = [
    "WorkerProcess",
    "kill_all_processes",
    "start_service",
    "stop_started_servers",
    "worker_environment",
    "worker_process",
]


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
                cwd=REPO_ROOT,
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


def worker_environment(
    temporal_address: str, database_url: str, task_queue: str, **extra: str
) -> dict[str, str]:
    """Environment of a `python -m worker` on this stack (offline provider, no faults)."""
    return {
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_TASK_QUEUE": task_queue,
        "DATABASE_URL": database_url,
        "LLM_PROVIDER": "offline",
        "LLM_FAULT_RATE": "0",
        **extra,
    }


@asynccontextmanager
async def worker_process(
    temporal_address: str,
    database_url: str,
    task_queue: str,
    log: Path,
    extra_env: Mapping[str, str] | None = None,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m worker` as its own process; SIGKILLed on exit unless already ended."""
    extra = {
        # Slow enough that a round is still running when the worker is killed.
        "LLM_OFFLINE_LATENCY_SECONDS": "0.4",
        # Several workers on one machine: no metrics port to fight over.
        "WORKER_METRICS_ADDRESS": "",
        **(extra_env or {}),
    }
    environment = worker_environment(temporal_address, database_url, task_queue, **extra)
    worker = await WorkerProcess("worker", environment, log).start()
    try:
        assert worker.process is not None
        yield worker.process
    finally:
        await worker.kill()


def start_service(
    module: str, environment: Mapping[str, str], log_name: str, *, keep: bool = False
) -> subprocess.Popen[bytes]:
    """`python -m <module>` (worker or api) with `environment` on top of ours.

    With `keep`, the process gets its own session and is remembered, so it
    outlives the demo and `./dev demo --stop` ends it.
    """
    STATE_DIR.mkdir(exist_ok=True)
    with (STATE_DIR / log_name).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=REPO_ROOT,
            env={**os.environ, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=keep,
        )
    if keep:
        remember(module, process.pid)
    return process


def stop_started_servers(only: tuple[str, ...] | None = None) -> list[str]:
    """Stop what was started with `keep` (or only the named ones); names what was stopped."""
    stopped = []
    if PIDS_DIR.exists():
        for pid_file in sorted(PIDS_DIR.iterdir()):
            if only is not None and pid_file.name not in only:
                continue
            try:
                os.killpg(int(pid_file.read_text()), signal.SIGTERM)
                stopped.append(pid_file.name)
            except (ProcessLookupError, ValueError, PermissionError):
                pass
            pid_file.unlink()
    if only is None and (STATE_DIR / "postgres" / "postmaster.pid").exists():
        stop_embedded_postgres(STATE_DIR / "postgres")
        stopped.append("postgres")
    return stopped

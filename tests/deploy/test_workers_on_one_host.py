"""Several `python -m worker` on one host with the same settings all come up: the first
serves the metrics port, the others say it is taken and run without it."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from deploy.local.processes import WorkerProcess, worker_environment
from deploy.local.temporal import server_address


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_taken_metrics_port_is_a_warning_not_a_dead_worker(
    temporal_env: WorkflowEnvironment, database_url: str, task_queue: str, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{_free_port()}"
    env = worker_environment(
        server_address(temporal_env), database_url, task_queue, WORKER_METRICS_ADDRESS=address
    )
    workers = [WorkerProcess("worker", env, tmp_path / f"worker-{n}.log") for n in range(3)]
    try:
        for worker in workers:
            await worker.start()
            await worker.wait_for_log("worker polling", within=60)
        warned = [w for w in workers if "metrics not served" in w.log_text()]
        assert len(warned) == 2, [w.log_text()[-500:] for w in workers]
        assert all("WORKER_METRICS_ADDRESS" in w.log_text() for w in warned)
        async with httpx.AsyncClient() as http:
            metrics = await http.get(f"http://{address}/metrics")
        assert metrics.status_code == 200
        assert "temporal_" in metrics.text
    finally:
        for worker in workers:
            await worker.stop()

"""Driving the HTTP API in tests: quiz bodies, polling, paging, a Temporal server of one's own."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType as IndexedType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from deploy.local.api import auth
from deploy.local.temporal import DEV_SERVER_FLAGS, TEMPORAL_CLI
from quizgen.names import SEARCH_ATTRIBUTES
from tests.support.flows import Batch, quiz_spec

_CLI_TYPES = {
    IndexedType.KEYWORD: "Keyword",
    IndexedType.INT: "Int",
}

SETTLED = {"ready_for_review", "ready_for_review_partial", "failed"}


def quiz_body(batches: Sequence[Batch], title: str = "Photosynthesis") -> dict[str, Any]:
    """The JSON a teacher posts to `POST /quizzes` for these batches."""
    body = quiz_spec(batches).model_dump(mode="json", exclude_none=True)
    body["title"] = title
    return body


async def create_quiz(
    client: httpx.AsyncClient, token: str, batches: Sequence[Batch], title: str = "Photosynthesis"
) -> dict[str, Any]:
    response = await client.post("/quizzes", json=quiz_body(batches, title), headers=auth(token))
    assert response.status_code == 201, response.text
    quiz: dict[str, Any] = response.json()
    return quiz


async def get_quiz(client: httpx.AsyncClient, token: str, quiz_id: str) -> dict[str, Any]:
    response = await client.get(f"/quizzes/{quiz_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    quiz: dict[str, Any] = response.json()
    return quiz


async def wait_for_quiz(
    client: httpx.AsyncClient,
    token: str,
    quiz_id: str,
    statuses: set[str] = SETTLED,
    *,
    attempts: int = 1,
    within_seconds: float = 30.0,
) -> dict[str, Any]:
    """Poll `GET /quizzes/{id}` until its status is one of `statuses` after `attempts` rounds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    while True:
        quiz = await get_quiz(client, token, quiz_id)
        rounds = len(quiz["generation_metadata"]["generation_attempts"])
        if quiz["status"] in statuses and rounds >= attempts:
            return quiz
        if loop.time() > deadline:
            raise AssertionError(
                f"quiz {quiz_id} is {quiz['status']} after {rounds} round(s), "
                f"not {sorted(statuses)} after {attempts}, within {within_seconds}s"
            )
        await asyncio.sleep(0.1)


async def all_questions(
    client: httpx.AsyncClient, token: str, quiz_id: str, **filters: Any
) -> list[dict[str, Any]]:
    """Every question of the quiz (matching `filters`), read page by page."""
    questions: list[dict[str, Any]] = []
    while True:
        params = {**filters, "offset": len(questions), "limit": 200}
        response = await client.get(
            f"/quizzes/{quiz_id}/questions", params=params, headers=auth(token)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        questions.extend(page["data"])
        if not page["data"] or len(questions) >= page["count"]:
            assert len(questions) == page["count"]
            return questions


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DevServer:
    """A `temporal server start-dev` of a test's own, on a fixed port and database file,
    so it can be stopped and started again as "the same" server."""

    def __init__(self, db_file: Path, port: int | None = None) -> None:
        self.db_file = db_file
        self.port = port or free_port()
        self._process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, within_seconds: float = 20.0) -> None:
        assert self._process is None, "already running"
        args = [
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--headless",
            "--db-filename",
            str(self.db_file),
            "--log-level",
            "error",
            *DEV_SERVER_FLAGS,
        ]
        for key in SEARCH_ATTRIBUTES:
            args += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type]}"]
        self._process = await asyncio.create_subprocess_exec(
            str(TEMPORAL_CLI),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self._wait_until_serving(within_seconds)

    async def _wait_until_serving(self, within_seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_seconds
        while True:
            assert self._process is not None
            if self._process.returncode is not None:
                raise AssertionError(f"temporal dev server exited with {self._process.returncode}")
            try:
                client = await self.connect()
                if await client.service_client.check_health(timeout=timedelta(seconds=2)):
                    return
            except (RPCError, RuntimeError, OSError):
                pass
            if loop.time() > deadline:
                raise AssertionError(f"temporal dev server on {self.address} did not come up")
            await asyncio.sleep(0.1)

    async def connect(self) -> Client:
        return await Client.connect(self.address, data_converter=pydantic_data_converter)

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def dev_server(db_file: Path) -> AsyncIterator[DevServer]:
    """A started `DevServer`, stopped at the end whatever happens."""
    server = DevServer(db_file)
    try:
        await server.start()
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            await server.stop()

"""An ASGI app served by uvicorn on a free port of 127.0.0.1, inside the caller's event loop.

What the fake OpenAI server and the Canvas stand-in run on. Two things differ from a plain
`uvicorn.Server`: it leaves signals to its host (pytest owns Ctrl-C), and it stops the
moment it is told to, instead of at uvicorn's next 0.1 s tick: a test suite starts and
stops hundreds of these.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["LocalServer"]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stop_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def main_loop(self) -> None:
        await self.on_tick(0)  # the Date and Server headers
        await self.stop_requested.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's own, without its fixed 0.1 s pauses: stop accepting, ask the open
        # connections to close, give them the graceful timeout, then cancel what is left.
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                while self.server_state.connections or self.server_state.tasks:  # noqa: ASYNC110 - uvicorn keeps no event for it
                    await asyncio.sleep(0.005)
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel()
        for server in self.servers:
            await server.wait_closed()


class LocalServer:
    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name
        self.port = 0
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    @property
    def server(self) -> uvicorn.Server:
        assert self._server is not None, f"start {self.name} first"
        return self._server

    async def start(self) -> int:
        """Serve; the port once the server accepts connections."""
        # IPPROTO_TCP named, so asyncio sets TCP_NODELAY (no ~40 ms delayed-ACK waits).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=2,
        )
        self._server, self._sock = _Server(config), sock
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                    raise RuntimeError(f"{self.name} stopped during startup")
                await asyncio.sleep(0.005)
        return self.port

    async def stop(self) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        self._server.stop_requested.set()
        try:
            async with asyncio.timeout(5):
                await self._task
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            if self._sock is not None:
                self._sock.close()

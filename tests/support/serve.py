"""The API served by uvicorn on a real port of 127.0.0.1, for clients that need one
(a browser, the `quizgen` command line in a subprocess)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

__all__ = ["serving"]


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1, in this event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None, and propagation on (an earlier uvicorn.run may have turned it
    # off): uvicorn's access log reaches the root logger, where tests can read it.
    # An earlier server in this process (the fake OpenAI one) may have silenced them.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.propagate, logger.disabled = True, False
        logger.setLevel(logging.INFO)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()

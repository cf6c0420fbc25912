"""The HTTP API of the local stack, in this process: over ASGI, or on a real port.

- `api_client`: the app in-process (httpx over ASGI, lifespan included), for
  HTTP tests and the bench's read benchmarks.
- `serving`: the app served by uvicorn on a free port of 127.0.0.1, for
  clients that need one (a browser, the `quizgen` command line in a subprocess).
- `local_settings`: API settings with two local teachers (`ALICE`, `BOB`),
  whose tokens `auth` turns into a header.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from api import create_app
from quizgen.settings import Settings

__all__ = ["ALICE", "BOB", "TOKENS", "api_client", "auth", "local_settings", "serving"]

ALICE = "alice-token-0123456789"
BOB = "bob-token-0123456789ab"
TOKENS = f"alice:{ALICE},bob:{BOB}"


# Two teachers share one test database for a whole run: their quotas would soon be
# spent by tests about something else. Tests of the quotas set their own.
_NO_QUOTAS = {"quota_questions_per_day": 0, "quota_concurrent_rounds": 0, "quota_questions_held": 0}


def local_settings(**overrides: object) -> Settings:
    """Settings from the arguments only (no env file), with the two local teachers' tokens
    and no quotas (unless given)."""
    values = {"api_tokens": TOKENS, **_NO_QUOTAS, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API app in-process, lifespan included, behind an httpx client."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://quizgen.test") as client:
            yield client


@asynccontextmanager
async def serving(app: ASGIApp, **config: Any) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1, in this event loop.

    `config` goes to `uvicorn.Config` (e.g. `proxy_headers`, `forwarded_allow_ips`,
    `ssl_certfile`); the address yielded is https when a certificate is given.
    """
    # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on it (it checks the socket's proto):
    # without, a kept-alive connection waits ~40 ms on delayed acknowledgements.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None, and propagation on (an earlier uvicorn.run may have turned it
    # off): uvicorn's access log reaches the root logger, where tests can read it.
    # An earlier server in this process (the fake OpenAI one) may have silenced them.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.propagate, logger.disabled = True, False
        logger.setLevel(logging.INFO)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on", **config))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        scheme = "https" if config.get("ssl_certfile") else "http"
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()

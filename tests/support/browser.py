"""Browser tests' parts: the API served on a real port, Debian's Chromium, axe-core.

Chromium comes from the machine (`CHROMIUM`, else `chromium` on PATH: Debian's
package); Playwright drives it through `executable_path`, so no browser is
ever downloaded. axe-core is the `axe.min.js` shipped in the
axe-playwright-python wheel.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

__all__ = ["CHROMIUM", "SCREENSHOTS", "serious_violations", "serving"]

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
# Set by `./dev screenshots`: where the browser test saves the README's pictures.
SCREENSHOTS = (
    Path(os.environ["QUIZGEN_SCREENSHOTS"]) if os.environ.get("QUIZGEN_SCREENSHOTS") else None
)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1, in this event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None, and propagation on (an earlier uvicorn.run may have turned it
    # off): uvicorn's access log reaches the root logger, where tests can read it.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).propagate = True
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


async def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page, one readable line each."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]

"""How an activity waits: heartbeating meanwhile, and through short database outages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import activity

from quizgen.db.outage import describe_outage, is_database_outage

__all__ = ["DB_RETRY_SECONDS", "heartbeating", "with_db_retries"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# Database work inside the LLM activity: retried this long before the attempt fails.
DB_RETRY_SECONDS = 120.0


async def with_db_retries(call: Callable[[], Awaitable[T]]) -> T:
    """Run a database call, retrying while PostgreSQL is unreachable (heartbeating meanwhile).

    A database restart must not cost an LLM call already paid for.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DB_RETRY_SECONDS
    delay = 0.5
    while True:
        try:
            return await heartbeating(call())
        except Exception as err:
            if not is_database_outage(err) or loop.time() + delay > deadline:
                raise
            log.warning("database unavailable (%s); retrying in %.1fs", describe_outage(err), delay)
        # Heartbeats go on meanwhile: the worker is alive, only the database is not.
        await heartbeating(asyncio.sleep(delay))
        delay = min(delay * 2, 5.0)


async def heartbeating(call: Awaitable[T]) -> T:
    """Await `call`, heartbeating meanwhile so a dead worker is noticed quickly."""
    timeout = activity.info().heartbeat_timeout
    interval = timeout.total_seconds() / 3 if timeout else 10.0
    task = asyncio.ensure_future(call)
    activity.heartbeat()
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=interval)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        if not task.done():
            # Cancelled (activity cancel or worker shutdown): let the client clean up.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

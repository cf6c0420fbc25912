"""`python -m worker`: run a quiz-generation worker until interrupted."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from pydantic import ValidationError

from quizgen.db.engine import make_engine
from quizgen.errors import ConfigurationError
from quizgen.logs import configure_logging
from quizgen.settings import describe_settings_error, get_settings
from quizgen.temporal_client import connect
from worker.app import (
    build_provider,
    build_workers,
    close_provider,
    metrics_runtime,
    pool_size,
    running_workers,
)


async def main() -> None:
    settings = get_settings()
    provider = build_provider(settings)
    # No pre-ping per checkout: a dead connection fails its attempt and the
    # activity is retried (in place for LLM calls, by Temporal otherwise).
    engine = make_engine(settings.database_url, pool_size=pool_size(settings), pre_ping=False)
    client = await connect(settings, metrics_runtime(settings.worker_metrics_address))
    workers = build_workers(client, settings, engine, provider)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger(__name__).info(
        "worker polling task queues %r and %r at %s (provider %s)",
        settings.temporal_task_queue,
        settings.llm_task_queue,
        settings.temporal_address,
        settings.llm_provider.value,
    )
    try:
        async with running_workers(workers):
            await stop.wait()
    finally:
        await engine.dispose()
        await close_provider(provider)


def run() -> None:
    try:
        settings = get_settings()
    except ValidationError as err:
        sys.exit(f"worker: invalid settings:\n{describe_settings_error(err)}")
    configure_logging(settings.log_format, settings.log_level)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except ValidationError as err:
        sys.exit(f"worker: invalid settings:\n{describe_settings_error(err)}")
    except (ConfigurationError, RuntimeError, OSError) as err:
        # E.g. Temporal unreachable: one clear line instead of a traceback.
        sys.exit(f"worker: {err}")


if __name__ == "__main__":
    run()

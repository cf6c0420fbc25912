"""`python -m bench.skeleton_worker`: a worker process with only the skeleton workflows.

The baseline process for the load part's memory and latency numbers: the same
Temporal SDK and data converter as `python -m worker`, none of quizgen's stack
(SQLAlchemy, openai, FastAPI models, the offline generator). Reads
TEMPORAL_ADDRESS and TEMPORAL_TASK_QUEUE; runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import os
import signal

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from bench.skeleton import SKELETON_ACTIVITIES, SKELETON_WORKFLOWS


async def main() -> None:
    client = await Client.connect(
        os.environ["TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(
        client,
        task_queue=os.environ["TEMPORAL_TASK_QUEUE"],
        workflows=SKELETON_WORKFLOWS,
        activities=SKELETON_ACTIVITIES,
    )
    print("skeleton worker polling", flush=True)
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())

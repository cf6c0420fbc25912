"""Part 0: the dev server's own flags, measured: the skeleton with and without them.

Two dev servers side by side: the stack's (started with `deploy/local/temporal.py`'s
flags) and one with the SQLite pragmas only, i.e. the server's own limit of 20
history queue reads a second. Each runs the bare skeleton (`bench/skeleton.py`)
with a worker of its own in this process, alternating A B A B, in two shapes:
10 children with one 1 s activity each (the durability part's shape) and 20
children with three no-op activities each (the overhead part's shape at N=20).
Every other part runs on the stack's server; this one shows what its flags buy.
"""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

from temporalio.worker import Worker

from bench.harness import (
    Row,
    Stack,
    alternate,
    log,
    median,
    pair_ratios,
    quietly,
    ratio,
    run_skeleton,
    seconds,
    spread,
)
from bench.skeleton import SKELETON_ACTIVITIES, SKELETON_WORKFLOWS, SkeletonInput
from deploy.local.temporal import QUEUE_READ_FLAGS, SQLITE_FLAGS, start_dev_server

PART = "0 server"
SHAPES = {
    "10 children x 1 activity of 1 s": SkeletonInput(
        children=10, activities=1, max_concurrent=10, latency=1.0
    ),
    "20 children x 3 no-op activities, 10 at once": SkeletonInput(
        children=20, activities=3, max_concurrent=10
    ),
}


async def run(stack: Stack) -> list[Row]:
    rounds = 2 if stack.quick else 5
    queue = f"bench-server-{uuid.uuid4().hex[:8]}"
    plain = await quietly(start_dev_server(stack.tmp / "temporal-plain.db", SQLITE_FLAGS))
    rows: list[Row] = []
    try:
        async with AsyncExitStack() as workers:
            for client in (stack.client, plain.client):
                worker = Worker(
                    client,
                    task_queue=queue,
                    workflows=SKELETON_WORKFLOWS,
                    activities=SKELETON_ACTIVITIES,
                )
                await workers.enter_async_context(worker)
            for name, shape in SHAPES.items():
                cases = [
                    ("ours", lambda shape=shape: run_skeleton(stack, queue, shape)),
                    ("plain", lambda shape=shape: run_skeleton(stack, queue, shape, plain.client)),
                ]
                await alternate(cases, 1)  # warm-up, off the clock
                times = await alternate(cases, rounds)
                log(f"server {name}: ours {spread(times['ours'])}; plain {spread(times['plain'])}")
                ours, base = median(times["ours"]), median(times["plain"])
                rows.append(
                    Row(
                        part=PART,
                        measure=f"skeleton, {name}: dev server with deploy/local/temporal.py's "
                        "flags vs with the SQLite pragmas only (20 queue reads/s)",
                        result=f"ours {seconds(ours)}",
                        baseline=f"plain {seconds(base)}",
                        ratio=ratio(ours, base),
                        ratio_label="ours / plain",
                        notes=f"medians of {rounds} A/B rounds; per-round "
                        f"{pair_ratios(times['ours'], times['plain'])}; flags: "
                        + " ".join(QUEUE_READ_FLAGS[1::2]),
                        data={"shape": name, "ours_s": times["ours"], "plain_s": times["plain"]},
                    )
                )
    finally:
        await plain.shutdown()
    return rows

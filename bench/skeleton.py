"""The bare Temporal skeleton the real quiz is measured against.

A parent workflow starts `children` child workflows (at most `max_concurrent`
at once, like `MAX_CONCURRENT_BATCHES`); each child runs `activities`
activities one after another, the first sleeping `latency` seconds (a stand-in
for the LLM call), the others doing nothing. No database, no validation, no
LLM client: what is left is Temporal's own cost for the shape of a quiz.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

__all__ = [
    "SKELETON_ACTIVITIES",
    "SKELETON_WORKFLOWS",
    "SkeletonChild",
    "SkeletonInput",
    "SkeletonParent",
    "step",
]


@dataclass(frozen=True)
class SkeletonInput:
    children: int
    activities: int = 3
    max_concurrent: int = 10
    latency: float = 0.0


@dataclass(frozen=True)
class ChildInput:
    activities: int
    latency: float


@activity.defn(name="BenchSkeletonStep")
async def step(seconds: float) -> int:
    if seconds > 0:
        await asyncio.sleep(seconds)
    return 1


@workflow.defn(name="BenchSkeletonChild")
class SkeletonChild:
    @workflow.run
    async def run(self, input: ChildInput) -> int:
        done = 0
        for i in range(input.activities):
            done += await workflow.execute_activity(
                step,
                input.latency if i == 0 else 0.0,
                start_to_close_timeout=timedelta(seconds=60),
            )
        return done


@workflow.defn(name="BenchSkeletonParent")
class SkeletonParent:
    @workflow.run
    async def run(self, input: SkeletonInput) -> int:
        semaphore = asyncio.Semaphore(input.max_concurrent)
        parent_id = workflow.info().workflow_id

        async def child(i: int) -> int:
            async with semaphore:
                return await workflow.execute_child_workflow(
                    SkeletonChild.run,
                    ChildInput(activities=input.activities, latency=input.latency),
                    id=f"{parent_id}-child-{i}",
                )

        return sum(await asyncio.gather(*(child(i) for i in range(input.children))))


SKELETON_WORKFLOWS = [SkeletonParent, SkeletonChild]
SKELETON_ACTIVITIES = [step]

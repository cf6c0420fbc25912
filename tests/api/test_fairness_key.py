"""A quiz's workflow, its batches and their LLM calls carry their teacher as Temporal's
fairness key, so a backed-up LLM queue serves teachers in turn (bench part 9 measures it)."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, api_client, local_settings
from deploy.local.temporal import server_address
from quizgen.llm.offline import OfflineProvider
from quizgen.names import batch_workflow_id, quiz_workflow_id
from tests.support.api_cases import generate
from tests.support.api_flows import create_quiz, wait_for_quiz
from tests.support.flows import FOUR_BATCHES, keys_of, running_worker


async def test_the_teacher_is_the_fairness_key_of_the_quiz_and_its_batches(
    database_url: str, temporal_env: WorkflowEnvironment, engine: AsyncEngine, task_queue: str
) -> None:
    settings = local_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
    )
    slow = OfflineProvider(latency_seconds=0.5)
    async with (
        api_client(settings) as client,
        running_worker(temporal_env.client, engine, slow, task_queue),
    ):
        quiz_id = (await create_quiz(client, ALICE, FOUR_BATCHES))["id"]
        assert (await generate(client, quiz_id)).status_code == 202
        child = temporal_env.client.get_workflow_handle(
            batch_workflow_id(quiz_id, keys_of(FOUR_BATCHES)[0])
        )
        async with asyncio.timeout(20):
            while True:  # the child exists once the first round has started it
                try:
                    child_info = (await child.describe()).raw_description
                    break
                except RPCError as err:
                    if err.status is not RPCStatusCode.NOT_FOUND:  # not started yet
                        raise
                    await asyncio.sleep(0.05)
        parent = temporal_env.client.get_workflow_handle(quiz_workflow_id(quiz_id))
        parent_info = (await parent.describe()).raw_description
        assert parent_info.workflow_execution_info.priority.fairness_key == "alice"
        assert child_info.workflow_execution_info.priority.fairness_key == "alice"
        await wait_for_quiz(client, ALICE, quiz_id, within_seconds=60)

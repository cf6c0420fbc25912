"""Every payload of every history of a quiz (parent, children, all runs), to check them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowHistory

from quizgen.names import batch_workflow_id, quiz_workflow_id


@dataclass(frozen=True)
class RunHistory:
    workflow_id: str
    run_id: str
    history: WorkflowHistory

    @property
    def size(self) -> int:
        """Bytes of the whole history as the server stores it (the protobuf)."""
        return History(events=self.history.events).ByteSize()

    def payloads(self) -> Iterator[bytes]:
        for event in self.history.events:
            yield from (p.data for p in _payloads(event))


def _payloads(message: Message) -> Iterator[Payload]:
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if isinstance(value, Message):
            yield from _payloads(value)
            continue
        # A repeated field, or a map (whose values may be messages).
        items = value.values() if hasattr(value, "values") else value
        for item in items:
            if isinstance(item, Message):
                yield from _payloads(item)


async def quiz_histories(
    client: Client, quiz_id: uuid.UUID, batch_keys: Sequence[str]
) -> list[RunHistory]:
    """All runs of the quiz's workflow and of each batch's workflow."""
    ids = [quiz_workflow_id(quiz_id), *(batch_workflow_id(quiz_id, k) for k in batch_keys)]
    return await workflow_histories(client, ids)


async def workflow_histories(client: Client, workflow_ids: Sequence[str]) -> list[RunHistory]:
    """All runs of each of the workflows, in their order."""
    runs: list[RunHistory] = []
    for workflow_id in workflow_ids:
        async for execution in client.list_workflows(f'WorkflowId = "{workflow_id}"'):
            handle = client.get_workflow_handle(workflow_id, run_id=execution.run_id)
            runs.append(RunHistory(workflow_id, execution.run_id, await handle.fetch_history()))
    return runs

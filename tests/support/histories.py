"""Recorded workflow histories: written by the integration tests, replayed in CI.

Run the integration tests with `QUIZGEN_RECORD_HISTORIES=1` to (re)record
`tests/histories/*.json` after an intended workflow change; commit the files.
Replaying them (tests/workflows/test_replay.py) makes any change that breaks determinism
for workflows already running in production fail CI.

Files named `before-<patch id>.*` are histories recorded before the change that
`workflow.patched(<patch id>)` guards, and are never re-recorded: they prove that
runs begun under the old logic still replay on the new code. In
`before-futile-first-call.batch-1.json` (old workflow code topping up after a
short first answer) that answer's payload was edited to carry
`"repairable": false`, as an answer from an already-updated activity worker does
during a rolling deploy: without the patch check the replay fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from temporalio.client import Client

from quizgen.names import batch_workflow_id, quiz_workflow_id

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


async def record_histories(
    client: Client, quiz_id: uuid.UUID, batch_keys: Sequence[str], scenario: str
) -> None:
    if os.environ.get("QUIZGEN_RECORD_HISTORIES") != "1":
        return
    HISTORIES.mkdir(exist_ok=True)
    ids = [quiz_workflow_id(quiz_id), *(batch_workflow_id(quiz_id, k) for k in batch_keys)]
    for n, workflow_id in enumerate(ids):
        name = "quiz" if n == 0 else f"batch-{n}"
        # Every run, oldest first: a failed batch run (or a run before continue-as-new)
        # exercises other code paths than the run that finally succeeded.
        runs = [e.run_id async for e in client.list_workflows(f'WorkflowId = "{workflow_id}"')]
        for number, run_id in enumerate(reversed(runs), start=1):
            handle = client.get_workflow_handle(workflow_id, run_id=run_id)
            history = await handle.fetch_history()
            suffix = "" if len(runs) == 1 else f".run-{number}"
            (HISTORIES / f"{scenario}.{name}{suffix}.json").write_text(history.to_json())

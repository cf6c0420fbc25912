"""Recorded histories must replay on today's workflow code (determinism guard)."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.support.histories import HISTORIES
from workflows.registry import WORKFLOWS

pytestmark = pytest.mark.fast

RECORDED = sorted(HISTORIES.glob("*.json"))
TEXTS = {path.stem: path.read_text() for path in RECORDED}


def test_histories_are_recorded() -> None:
    # Without files the replay below would pass vacuously.
    scenarios = {path.name.split(".")[0] for path in RECORDED}
    assert len(scenarios) >= 4, scenarios
    assert any(".batch-" in path.name for path in RECORDED)


@pytest.mark.parametrize("name", sorted(TEXTS))
async def test_history_replays(name: str) -> None:
    history = WorkflowHistory.from_json(name, TEXTS[name])
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)

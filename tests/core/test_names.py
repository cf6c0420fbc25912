"""Workflow ids are built and parsed in one place (`quizgen.names`), and agree."""

from __future__ import annotations

import uuid

import pytest

from quizgen.names import batch_workflow_id, parse_workflow_id, quiz_workflow_id

pytestmark = pytest.mark.fast

QUIZ = uuid.UUID("8a0c6b7e-52a4-4c39-9d4e-0f2b3c4d5e6f")


def test_a_quiz_workflow_id_parses_back_to_its_quiz() -> None:
    assert parse_workflow_id(quiz_workflow_id(QUIZ)) == (str(QUIZ), None)


def test_a_batch_workflow_id_parses_back_to_its_quiz_and_batch() -> None:
    key = "bio-1_fill_in_blank_5_hard"
    assert parse_workflow_id(batch_workflow_id(QUIZ, key)) == (str(QUIZ), key)


@pytest.mark.parametrize("other", ["", "skeleton-123", f"quiz-{QUIZ}-", "quiz-not-a-uuid"])
def test_other_ids_are_not_quizgen_workflows(other: str) -> None:
    assert parse_workflow_id(other) is None

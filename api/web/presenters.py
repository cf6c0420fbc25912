"""What the review pages show, computed from a quiz and its progress (no I/O, no HTML)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from quizgen.contracts import QuizProgress
from quizgen.db.repository import QuizRecord
from quizgen.domain import BatchRef, QuestionType, QuizStatus, TokenUsage
from quizgen.names import quiz_workflow_id

__all__ = [
    "Action",
    "BatchRow",
    "QuizView",
    "action_for",
    "blank_parts",
    "blank_question",
    "quiz_view",
]


class Action(StrEnum):
    """The one generation button a quiz page offers, by the quiz's state."""

    GENERATE = "generate"
    RETRY_FAILED = "retry_failed"
    RETRY_ALL = "retry_all"


_ACTIONS = {
    QuizStatus.CREATED: Action.GENERATE,
    QuizStatus.READY_FOR_REVIEW_PARTIAL: Action.RETRY_FAILED,
    QuizStatus.FAILED: Action.RETRY_ALL,
}


def action_for(status: QuizStatus) -> Action | None:
    """None while generating and when every batch is done: there is nothing to press."""
    return _ACTIONS.get(status)


@dataclass(frozen=True)
class BatchRow:
    batch_key: str
    module_name: str
    question_type: QuestionType
    difficulty: str
    target: int
    generated: int
    status: str
    attempts: int
    last_error: str | None
    tokens: int


@dataclass(frozen=True)
class QuizView:
    id: uuid.UUID
    title: str
    status: QuizStatus
    generating: bool
    saved: int
    target: int
    remaining: int
    percent: int
    action: Action | None
    failure_message: str | None
    batches: list[BatchRow]
    workflow_url: str


def quiz_view(
    quiz: QuizRecord,
    progress: QuizProgress,
    *,
    stalled: bool,
    temporal_ui_url: str,
    namespace: str,
) -> QuizView:
    """`stalled`: the quiz says it is generating but its workflow is not running
    (terminated, or it gave up while the database was down); the retry restarts it."""
    refs = {ref.batch_key: (module, ref) for module, ref in _refs(quiz)}
    tokens: dict[str, TokenUsage] = {}
    for attempt in quiz.generation_metadata.generation_attempts:
        for key, result in attempt.batch_results.items():
            tokens[key] = tokens.get(key, TokenUsage()) + result.tokens
    rows = []
    for batch in progress.batches:
        module_name, ref = refs[batch.batch_key]
        rows.append(
            BatchRow(
                batch_key=batch.batch_key,
                module_name=module_name,
                question_type=ref.question_type,
                difficulty=ref.difficulty.value,
                target=batch.target_count,
                generated=batch.generated_count,
                status=batch.status.value,
                attempts=batch.attempts,
                last_error=_plain(batch.batch_key, batch.last_error),
                tokens=tokens.get(batch.batch_key, TokenUsage()).total_tokens,
            )
        )
    target = progress.questions_target
    return QuizView(
        id=quiz.id,
        title=quiz.spec.title,
        status=progress.status,
        generating=progress.status is QuizStatus.GENERATING_QUESTIONS and not stalled,
        saved=progress.questions_saved,
        target=target,
        remaining=progress.questions_remaining,
        percent=round(100 * progress.questions_saved / target) if target else 0,
        action=Action.RETRY_ALL if stalled else action_for(progress.status),
        failure_message=quiz.failure_message,
        batches=rows,
        workflow_url=(
            f"{temporal_ui_url.rstrip('/')}/namespaces/{namespace}"
            f"/workflows/{quiz_workflow_id(quiz.id)}"
        ),
    )


def _plain(batch_key: str, error: str | None) -> str | None:
    """The error without the batch's key in front: the row already says which batch."""
    if error is None:
        return None
    return error.removeprefix(f"batch {batch_key}: ")


def _refs(quiz: QuizRecord) -> list[tuple[str, BatchRef]]:
    return [(module.name, BatchRef.of(module, batch)) for module, batch in quiz.spec.batches()]


def blank_parts(question_text: str) -> list[Any]:
    """A fill-in-the-blank text split into strings and blank numbers, for rendering."""
    parts: list[Any] = []
    last = 0
    for match in re.finditer(r"\[blank_(\d+)\]", question_text):
        parts.append(question_text[last : match.start()])
        parts.append(int(match.group(1)))
        last = match.end()
    parts.append(question_text[last:])
    return parts


# What the add-a-question form starts from, per type: the shape to fill in (not valid yet).
_BLANK_DETAILS: dict[QuestionType, dict[str, Any]] = {
    QuestionType.FILL_IN_BLANK: {
        "blanks": [{"position": 1, "correct_answer": "", "answer_variations": []}]
    },
    QuestionType.MATCHING: {
        "pairs": [{"question": "", "answer": ""} for _ in range(3)],
        "distractors": [],
    },
    QuestionType.CATEGORIZATION: {
        "categories": [
            {"id": "c1", "name": "", "correct_items": ["i1", "i2"]},
            {"id": "c2", "name": "", "correct_items": ["i3", "i4"]},
        ],
        "items": [{"id": f"i{n}", "text": ""} for n in range(1, 5)],
        "distractors": [],
    },
}


def blank_question(question_type: QuestionType) -> dict[str, Any]:
    """A new question of this type as the add form shows it first."""
    data: dict[str, Any] = {"question_text": "", "explanation": ""}
    if question_type is QuestionType.MULTIPLE_CHOICE:
        data.update({f"option_{c}": "" for c in "abcd"}, correct_answer="A")
    elif question_type is QuestionType.TRUE_FALSE:
        data["correct_answer"] = True
    return {**data, **_BLANK_DETAILS.get(question_type, {})}

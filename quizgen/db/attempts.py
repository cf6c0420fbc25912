"""Generation attempts (one row per round) and the metadata shape built from them.

The metadata the API shows (`generation_attempts`, `successful_batches`,
`failed_batches`, `total_questions_saved`, `total_questions_target`, tokens) is
assembled on read from the attempt rows and the saved batches, so it is true by
construction and no writer ever sends (or overwrites) the whole document.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from quizgen.db.json_rows import json_rows
from quizgen.db.tables import GenerationAttemptRow, SavedBatchRow
from quizgen.domain import (
    BatchResult,
    BatchStatus,
    GenerationAttempt,
    GenerationMetadata,
    QuizSpec,
    RoundOutcome,
    TokenUsage,
    batch_key,
)

__all__ = ["append_attempt", "attempts_json", "metadata_from", "saved_counts", "saved_json"]

_attempt = GenerationAttemptRow.__table__  # type: ignore[attr-defined]
_saved = SavedBatchRow.__table__  # type: ignore[attr-defined]


async def saved_counts(conn: AsyncConnection, quiz_id: uuid.UUID) -> dict[str, int]:
    """Saved batches of the quiz: batch key -> number of questions saved."""
    rows = await conn.execute(
        sa.select(_saved.c.batch_key, _saved.c.question_count).where(_saved.c.quiz_id == quiz_id)
    )
    return {key: count for key, count in rows}


def attempts_json(quiz_id: sa.ColumnElement[Any]) -> Any:
    """The quiz's attempt rows, oldest first, for `metadata_from` (in the same statement)."""
    columns = [c for c in _attempt.c if c.name != "quiz_id"]
    return json_rows(columns, _attempt.c.quiz_id == quiz_id, _attempt.c.attempt_number)


def saved_json(quiz_id: sa.ColumnElement[Any]) -> Any:
    """The quiz's saved batches, for `metadata_from` (in the same statement)."""
    return json_rows([_saved.c.batch_key, _saved.c.question_count], _saved.c.quiz_id == quiz_id)


def metadata_from(
    attempt_rows: Sequence[Mapping[str, Any]],
    saved_rows: Sequence[Mapping[str, Any]],
    spec: QuizSpec,
) -> GenerationMetadata:
    """A quiz's metadata from its attempt and saved-batch rows (`attempts_json`, `saved_json`)."""
    saved: dict[str, int] = {r["batch_key"]: r["question_count"] for r in saved_rows}
    attempts = [
        GenerationAttempt(
            attempt_number=row["attempt_number"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            overall_status=row["overall_status"],
            batch_results={
                key: BatchResult.model_validate(value)
                for key, value in row["batch_results"].items()
            },
            tokens=TokenUsage(
                prompt_tokens=row["prompt_tokens"],
                completion_tokens=row["completion_tokens"],
                cached_prompt_tokens=row["cached_prompt_tokens"],
            ),
        )
        for row in attempt_rows
    ]
    attempted = {key for attempt in attempts for key in attempt.batch_results}
    keys = [
        batch_key(m.module_id, b.question_type, b.count, b.difficulty) for m, b in spec.batches()
    ]
    return GenerationMetadata(
        generation_attempts=attempts,
        successful_batches=sorted(k for k in keys if k in saved),
        failed_batches=sorted(k for k in keys if k in attempted and k not in saved),
        total_questions_saved=sum(saved.get(k, 0) for k in keys),
        total_questions_target=spec.question_target,
        tokens=sum((a.tokens for a in attempts), TokenUsage()),
    )


async def append_attempt(
    conn: AsyncConnection,
    quiz_id: uuid.UUID,
    round_id: str,
    started_at: datetime,
    finished_at: datetime,
    results: Sequence[BatchResult],
) -> bool:
    """Add the round as the quiz's next attempt; False if this round was recorded before.

    The caller holds the quiz row lock, so numbering cannot race.
    """
    already = await conn.execute(
        sa.select(_attempt.c.attempt_number).where(
            _attempt.c.quiz_id == quiz_id, _attempt.c.round_id == round_id
        )
    )
    if already.first() is not None:
        return False
    last = await conn.execute(
        sa.select(sa.func.max(_attempt.c.attempt_number)).where(_attempt.c.quiz_id == quiz_id)
    )
    succeeded = sum(r.status is BatchStatus.SUCCEEDED for r in results)
    tokens = sum((r.tokens for r in results), TokenUsage())
    await conn.execute(
        _attempt.insert().values(
            quiz_id=quiz_id,
            attempt_number=(last.scalar_one_or_none() or 0) + 1,
            round_id=round_id,
            started_at=started_at,
            finished_at=finished_at,
            overall_status=RoundOutcome.of(succeeded, len(results) - succeeded).value,
            batch_results={r.batch_key: r.model_dump(mode="json") for r in results},
            prompt_tokens=tokens.prompt_tokens,
            completion_tokens=tokens.completion_tokens,
            cached_prompt_tokens=tokens.cached_prompt_tokens,
        )
    )
    return True

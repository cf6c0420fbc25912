"""Progress of a quiz as the database tells it, alone or over the workflow's answer.

While a round runs, the workflow's `progress` query is the live source (which
batches run, their drafts, their last errors), corrected by the saved batches
(`with_saved_batches`); between rounds (and after the workflow closed) the
saved batches and the stored generation metadata give the same picture.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from quizgen.contracts import BatchProgress, BatchRef, QuizProgress
from quizgen.domain import BatchResult, BatchStatus, GenerationMetadata, QuizSpec, QuizStatus

__all__ = ["progress_from_records", "with_saved_batches"]


def progress_from_records(
    spec: QuizSpec,
    status: QuizStatus,
    metadata: GenerationMetadata,
    drafts: Mapping[str, int] | None = None,
) -> QuizProgress:
    """Per-batch progress from the stored attempts and saved batches.

    `drafts` (valid drafts per batch key) gives unfinished batches their true
    generated count; without it, the count of the batch's last attempt is shown.
    """
    saved_keys = set(metadata.successful_batches)
    latest: dict[str, BatchResult] = {}
    attempts: dict[str, int] = {}
    for attempt in metadata.generation_attempts:
        for key, outcome in attempt.batch_results.items():
            latest[key] = outcome
            attempts[key] = attempts.get(key, 0) + 1
    batches = []
    for module, batch in spec.batches():
        ref = BatchRef.of(module, batch)
        key = ref.batch_key
        result = latest.get(key)
        if key in saved_keys:
            state, generated, error = BatchStatus.SUCCEEDED, ref.count, None
        elif result is not None and status is QuizStatus.GENERATING_QUESTIONS:
            # A retry has begun but no workflow has answered yet: the batch waits for
            # its next attempt (its last error still says why the previous one failed).
            state, generated, error = BatchStatus.PENDING, result.generated_count, result.error
        elif result is not None:
            state, generated, error = BatchStatus.FAILED, result.generated_count, result.error
        else:
            state, generated, error = BatchStatus.PENDING, 0, None
        if drafts is not None and state is not BatchStatus.SUCCEEDED:
            generated = drafts.get(key, 0)
        batches.append(
            BatchProgress(
                batch_key=key,
                status=state,
                target_count=ref.count,
                generated_count=generated,
                attempts=attempts.get(key, 0),
                last_error=error,
            )
        )
    return QuizProgress.of(status, batches)


def with_saved_batches(live: QuizProgress, saved_keys: Collection[str]) -> QuizProgress:
    """The workflow's progress, with every batch PostgreSQL has saved shown as saved.

    The workflow learns of a save only once the batch's child has completed and
    the parent has taken that in, seconds after the commit under load; and a
    worker that restarts answers from a replay that may not have got that far
    yet. The saved rows are what a reader sees next to the progress (the
    questions list), so they win: progress never counts fewer saved questions
    than there are, and does not go back when a worker restarts.
    """
    saved = set(saved_keys)
    batches = [
        batch
        if batch.status is BatchStatus.SUCCEEDED or batch.batch_key not in saved
        else batch.model_copy(
            update={
                "status": BatchStatus.SUCCEEDED,
                "generated_count": batch.target_count,
                "last_error": None,
            }
        )
        for batch in live.batches
    ]
    return QuizProgress.of(live.status, batches)

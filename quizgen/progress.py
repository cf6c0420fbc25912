"""Progress of a quiz as the database tells it (when no workflow round is running).

While a round runs, the workflow's `progress` query is the live source; between
rounds (and after the workflow closed) the saved batches and the stored
generation metadata give the same picture.
"""

from __future__ import annotations

from quizgen.contracts import BatchProgress, BatchRef, QuizProgress
from quizgen.domain import BatchResult, BatchStatus, GenerationMetadata, QuizSpec, QuizStatus

__all__ = ["progress_from_records"]


def progress_from_records(
    spec: QuizSpec, status: QuizStatus, metadata: GenerationMetadata, saved_keys: set[str]
) -> QuizProgress:
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
        elif result is not None:
            state, generated, error = BatchStatus.FAILED, result.generated_count, result.error
        else:
            state, generated, error = BatchStatus.PENDING, 0, None
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

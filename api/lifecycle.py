"""The state changes that must agree with Temporal: the generate/retry trigger, and deletion.

A trigger reads the quiz with its row locked, decides, moves the status to
`generating_questions` and asks Temporal, all in one transaction: of two
simultaneous calls one wins and the other gets 409; if Temporal is down the
transaction rolls back, so nothing is half-written and a later call works.

A quiz stored as `generating_questions` whose workflow is not running (it was
terminated, or failed while the database was down) is restarted by the
trigger, even when every batch is saved: the new run settles the true status.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from api.errors import Conflict, NotFound
from api.models import GenerationAccepted
from api.quotas import check_new_quiz, reserve_round
from quizgen.contracts import BatchRef, QuizProgress
from quizgen.db import repository as repo
from quizgen.db import sources
from quizgen.db.drafts import count_drafts
from quizgen.domain import GENERATABLE, QuizSpec, QuizStatus
from quizgen.errors import QuizNotFoundError
from quizgen.logs import bind_quiz
from quizgen.names import QuizWorkflow
from quizgen.progress import progress_from_records, with_saved_batches
from quizgen.settings import Settings
from quizgen.temporal_client import TemporalGateway, workflow_summary

__all__ = [
    "create_quiz",
    "current_progress",
    "delete_quiz",
    "owned_and_locked",
    "trigger_generation",
]


async def current_progress(
    engine: AsyncEngine, temporal: TemporalGateway, quiz: repo.QuizRecord
) -> QuizProgress:
    """Live from the workflow while a round runs (with the batches saved since it last
    heard, from `quiz`'s own read); otherwise from the database."""
    if quiz.status is QuizStatus.GENERATING_QUESTIONS:
        live = await temporal.live_progress(quiz.id, quiz.updated_at)
        if live is not None:
            return with_saved_batches(live, quiz.generation_metadata.successful_batches)
    drafts = await count_drafts(engine, quiz.id)
    return progress_from_records(quiz.spec, quiz.status, quiz.generation_metadata, drafts)


async def create_quiz(
    engine: AsyncEngine, settings: Settings, owner: str, spec: QuizSpec
) -> uuid.UUID:
    """Store a new quiz of `owner`'s, within their model allow-list and quota."""
    await check_new_quiz(engine, settings, owner, spec)
    return await repo.create_quiz(engine, owner, spec)


async def trigger_generation(
    engine: AsyncEngine,
    temporal: TemporalGateway,
    settings: Settings,
    owner: str,
    quiz_id: uuid.UUID,
) -> GenerationAccepted:
    # The quiz is read once, under its row lock, which stays held until Temporal
    # has accepted the start or retry: of two triggers one wins; inside, only
    # fast decisions and one Temporal call.
    async with owned_and_locked(engine, owner, quiz_id) as lock:
        quiz = lock.quiz
        previous = quiz.status
        saved = set(quiz.generation_metadata.successful_batches)
        unsaved = [
            ref
            for ref in (BatchRef.of(m, b) for m, b in quiz.spec.batches())
            if ref.batch_key not in saved
        ]
        to_run = [ref.batch_key for ref in unsaved]
        # A running round is the answer (a 409 with its progress, once the lock is
        # released); a quiz stuck `generating_questions` without one is restarted.
        running = previous is QuizStatus.GENERATING_QUESTIONS and await temporal.is_running(quiz.id)
        if not running:
            if previous not in GENERATABLE:
                raise Conflict(f"a quiz that is {previous.value} cannot be generated again")
            await _require_module_text(lock)
            if not to_run and previous is not QuizStatus.GENERATING_QUESTIONS:
                raise Conflict("nothing left to generate: every batch of this quiz is saved")
            # Within the lock: two triggers at once cannot both slip under a limit.
            questions = sum(ref.count for ref in unsaved)
            await reserve_round(lock.connection, settings, quiz.owner_id, quiz.id, questions)
            await lock.set_status(QuizStatus.GENERATING_QUESTIONS)
            # Temporal down raises here, and the status change is rolled back with the lock.
            summary = workflow_summary(quiz.spec)
            if previous is QuizStatus.CREATED:
                await temporal.start(quiz.id, summary, quiz.owner_id)
            else:
                await temporal.retry(quiz.id, summary, quiz.owner_id)
    if running:
        raise await _already_running(engine, temporal, quiz.id)
    return GenerationAccepted(
        quiz_id=quiz.id,
        status=QuizStatus.GENERATING_QUESTIONS,
        batch_keys=to_run,
        message=_accepted_message(previous, len(to_run)),
    )


async def delete_quiz(
    engine: AsyncEngine, temporal: TemporalGateway, owner: str, quiz_id: uuid.UUID
) -> None:
    """Close the quiz's workflow and remove the quiz with everything it owns.

    Refused (409) while a round runs: its batches would be cut off mid-call and
    the teacher may not mean to throw that work away. Between rounds the
    workflow only waits for a retry, so terminating it loses nothing.
    """
    async with owned_and_locked(engine, owner, quiz_id) as lock:
        if lock.status is QuizStatus.GENERATING_QUESTIONS and await temporal.is_running(quiz_id):
            raise Conflict(
                "generation is running for this quiz; delete it when the round has ended"
            )
        for kind, what in (
            (QuizWorkflow.EXPORT, "an export"),
            (QuizWorkflow.EXTRACTION, "extraction"),
        ):
            if await temporal.is_running(quiz_id, kind):
                raise Conflict(f"{what} of this quiz is running: delete it when that has ended")
        # Temporal down raises here and the quiz stays: nothing is half-deleted.
        await temporal.close(quiz_id, reason="quiz deleted")
        await lock.delete()


async def _require_module_text(lock: repo.QuizLock) -> None:
    """Every module must have text to generate from: one whose Canvas items all failed to
    extract says so (retry the extraction, or give the module its text)."""
    states = await sources.module_states_in(lock.connection, lock.quiz.id)
    empty = sorted(m for m, state in states.items() if state is not sources.ContentState.READY)
    if empty:
        raise Conflict(
            f"module(s) {', '.join(empty)} have no text to generate from: retry the "
            "extraction (POST /quizzes/{id}/extract) or give them text "
            "(PUT /quizzes/{id}/modules/{module_id}/content)",
            details={"modules": empty},
        )


@asynccontextmanager
async def owned_and_locked(
    engine: AsyncEngine, owner: str, quiz_id: uuid.UUID
) -> AsyncIterator[repo.QuizLock]:
    """The caller's quiz, locked (404 for a missing quiz or another user's, as `OwnedQuiz`)."""
    try:
        async with repo.locked_quiz(engine, quiz_id) as lock:
            if lock.quiz.owner_id != owner:
                raise QuizNotFoundError(f"quiz {quiz_id} is not the caller's")
            bind_quiz(quiz_id)
            yield lock
    except QuizNotFoundError:
        raise NotFound(f"quiz {quiz_id} not found") from None


async def _already_running(
    engine: AsyncEngine, temporal: TemporalGateway, quiz_id: uuid.UUID
) -> Conflict:
    """A 409 carrying the current progress (read after the lock is released)."""
    quiz = await repo.get_quiz(engine, quiz_id)
    progress = await current_progress(engine, temporal, quiz)
    return Conflict(
        "generation is already running for this quiz", details=progress.model_dump(mode="json")
    )


def _accepted_message(previous: QuizStatus, batches: int) -> str:
    if previous is QuizStatus.CREATED:
        return f"generating {batches} batch(es)"
    if previous is QuizStatus.GENERATING_QUESTIONS:
        # Shown as generating, but its workflow had stopped (e.g. was terminated).
        return f"restarting {batches} unfinished batch(es); saved questions are kept"
    return f"retrying {batches} failed batch(es); saved questions are kept"

"""The one trigger: start generation, or retry only the failed batches.

A trigger locks the quiz row, decides, moves the status to
`generating_questions` and asks Temporal, all in one transaction: of two
simultaneous calls one wins and the other gets 409; if Temporal is down the
transaction rolls back, so nothing is half-written and a later call works.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from activities.persistence import GENERATABLE
from api.errors import Conflict
from api.models import GenerationAccepted
from api.temporal import TemporalGateway
from quizgen.contracts import BatchRef, QuizProgress
from quizgen.db import repository as repo
from quizgen.domain import QuizStatus
from quizgen.progress import progress_from_records

__all__ = ["current_progress", "trigger_generation"]


async def current_progress(
    engine: AsyncEngine, temporal: TemporalGateway, quiz: repo.QuizRecord
) -> QuizProgress:
    """Live from the workflow while a round runs; otherwise from the database."""
    if quiz.status is QuizStatus.GENERATING_QUESTIONS:
        live = await temporal.live_progress(quiz.id)
        if live is not None:
            return live
    saved = await repo.saved_batch_keys(engine, quiz.id)
    return progress_from_records(quiz.spec, quiz.status, quiz.generation_metadata, saved)


async def trigger_generation(
    engine: AsyncEngine, temporal: TemporalGateway, quiz: repo.QuizRecord
) -> GenerationAccepted:
    saved = await repo.saved_batch_keys(engine, quiz.id)
    to_run = [
        ref.batch_key
        for ref in (BatchRef.of(m, b) for m, b in quiz.spec.batches())
        if ref.batch_key not in saved
    ]
    # The quiz row stays locked until Temporal has accepted the start or retry:
    # a second trigger waits, then sees the running workflow and gets 409.
    async with repo.locked_status(engine, quiz.id) as lock:
        previous = lock.status
        if previous is QuizStatus.GENERATING_QUESTIONS and await temporal.is_running(quiz.id):
            progress = await current_progress(engine, temporal, quiz)
            raise Conflict(
                "generation is already running for this quiz",
                details=progress.model_dump(mode="json"),
            )
        if previous not in GENERATABLE:
            raise Conflict(f"a quiz that is {previous.value} cannot be generated again")
        if not to_run:
            raise Conflict("nothing left to generate: every batch of this quiz is saved")
        await lock.set(QuizStatus.GENERATING_QUESTIONS)
        # Temporal down raises here, and the status change is rolled back with the lock.
        if previous is QuizStatus.CREATED:
            await temporal.start(quiz.id)
        else:
            await temporal.retry(quiz.id)
    return GenerationAccepted(
        quiz_id=quiz.id,
        status=QuizStatus.GENERATING_QUESTIONS,
        batch_keys=to_run,
        message=_accepted_message(previous, len(to_run)),
    )


def _accepted_message(previous: QuizStatus, batches: int) -> str:
    if previous is QuizStatus.CREATED:
        return f"generating {batches} batch(es)"
    if previous is QuizStatus.GENERATING_QUESTIONS:
        # Shown as generating, but its workflow had stopped (e.g. was terminated).
        return f"restarting {batches} unfinished batch(es); saved questions are kept"
    return f"retrying {batches} failed batch(es); saved questions are kept"

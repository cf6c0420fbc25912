"""What one teacher may spend on the LLM: which models, how much, how fast.

Checked where spending is decided, never in workflows:

| limit | setting | checked | answer |
|---|---|---|---|
| the model a quiz asks for | `LLM_ALLOWED_MODELS` (+ `LLM_MODEL`) | creating a quiz | 422 |
| questions held in all their quizzes | `QUOTA_QUESTIONS_HELD` | creating a quiz | 429 |
| rounds running at once | `QUOTA_CONCURRENT_ROUNDS` | triggering a round | 429 |
| questions generated per UTC day | `QUOTA_QUESTIONS_PER_DAY` | triggering a round | 429 |

A 429 says which limit and when it resets (`Retry-After`, and in `details`).
A round reserves its unsaved batches' targets against the day when it is
triggered, inside the trigger's row lock, so two triggers at once cannot both
slip under the limit. 0 turns a limit off. Fair sharing of the LLM between
teachers while rounds run is Temporal's (a fairness key per teacher:
`quizgen.temporal_client`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.errors import TooManyRequests, Unprocessable
from quizgen.db import usage
from quizgen.domain import QuizSpec
from quizgen.settings import Settings

__all__ = ["check_new_quiz", "reserve_round"]

# A running round ends in minutes; its teacher may look again then.
_ROUND_RETRY_SECONDS = 60


async def check_new_quiz(
    engine: AsyncEngine, settings: Settings, owner: str, spec: QuizSpec
) -> None:
    """Refuse a quiz that asks for a model not allowed here, or that would take the
    teacher over the questions they may hold."""
    if spec.llm_model is not None and spec.llm_model not in settings.allowed_models:
        allowed = sorted(settings.allowed_models)
        raise Unprocessable(
            f"llm_model {spec.llm_model!r} is not allowed here; allowed: {', '.join(allowed)}",
            {"allowed_models": allowed},
        )
    limit = settings.quota_questions_held
    if limit and (held := await usage.held_questions(engine, owner)) + spec.question_target > limit:
        raise TooManyRequests(
            f"your quizzes may hold at most {limit} questions in all; you hold {held} and "
            f"this quiz asks for {spec.question_target}: delete a quiz to make room",
            retry_after=None,
            details={"limit": "questions_held", "max": limit, "used": held},
        )


async def reserve_round(
    conn: AsyncConnection,
    settings: Settings,
    owner: str,
    quiz_id: uuid.UUID,
    questions: int,
    now: datetime | None = None,
) -> None:
    """Within the trigger's transaction: refuse a round over the teacher's limits, else
    count its `questions` against today."""
    rounds, per_day = settings.quota_concurrent_rounds, settings.quota_questions_per_day
    if not rounds and not per_day:
        return
    now = now or datetime.now(UTC)
    today = now.date()
    # First the teacher's row of the day, locked: their triggers queue here.
    used = await usage.lock_day_in(conn, owner, today)
    if rounds and (running := await usage.count_running_rounds_in(conn, owner, quiz_id)) >= rounds:
        raise TooManyRequests(
            f"at most {rounds} of your quizzes may generate at once ({running} are): "
            "try again when one of them has finished its round",
            retry_after=_ROUND_RETRY_SECONDS,
            details={"limit": "concurrent_rounds", "max": rounds, "used": running},
        )
    if not per_day:
        return
    if used + questions > per_day:
        resets = datetime.combine(today + timedelta(days=1), time(), UTC)
        raise TooManyRequests(
            f"your rounds may generate at most {per_day} questions a day; {used} are used "
            f"today and this round needs {questions}: the limit resets at "
            f"{resets:%Y-%m-%d %H:%M} UTC",
            retry_after=max(1, int((resets - now).total_seconds())),
            details={
                "limit": "questions_per_day",
                "max": per_day,
                "used": used,
                "resets_at": resets.isoformat(),
            },
        )
    await usage.reserve_questions_in(conn, owner, today, questions)

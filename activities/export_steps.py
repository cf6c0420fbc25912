"""The export's Canvas steps, each small: find an item by its title, delete (gone is
fine), put items in the quiz's order, a payload's digest, and the time budget an attempt
keeps (`activities/export.py` runs them)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio import activity

from quizgen.canvas.client import CanvasClient
from quizgen.canvas.items import TITLE_PREFIX
from quizgen.errors import CanvasRefusedError, CanvasUnavailableError

__all__ = [
    "arrange",
    "course_refusal",
    "delete",
    "find_item",
    "find_quiz",
    "instructions",
    "item_digest",
    "question_of",
    "within_attempt",
]

# An attempt gives up this long before Temporal's timer for it fires.
_ATTEMPT_MARGIN = timedelta(seconds=2)


def item_digest(payload: dict[str, Any]) -> str:
    """What decides whether Canvas's item is current: the payload without its position
    (the order is put right by `finish_export`)."""
    item = {k: v for k, v in payload["item"].items() if k != "position"}
    return hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()


@asynccontextmanager
async def within_attempt() -> AsyncIterator[None]:
    """End the attempt before Temporal's start-to-close timer fires: a step that creates
    in Canvas is retried only once its earlier attempt can no longer be sending."""
    budget = activity.info().start_to_close_timeout or timedelta(minutes=1)
    try:
        async with asyncio.timeout((budget - _ATTEMPT_MARGIN).total_seconds()):
            yield
    except TimeoutError:
        raise CanvasUnavailableError("Canvas did not answer in time") from None


def course_refusal(err: CanvasRefusedError, course_id: str) -> CanvasRefusedError:
    """A refusal on the course, in words a teacher can act on."""
    if err.status == 403:
        message = (
            f"Canvas does not let you make quizzes in course {course_id}: "
            "check that you are a teacher of it"
        )
    elif err.status == 404:
        message = f"Canvas has no course {course_id}, or New Quizzes is not enabled in it"
    else:
        return err
    return CanvasRefusedError(message, status=err.status)


def instructions(marker: str) -> str:
    # An HTML comment: not shown to students, kept by Canvas with the instructions; how a
    # quiz whose creation answer was lost is found again.
    return f"<!-- quizgen:{marker} -->"


def question_of(title: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(title.removeprefix(TITLE_PREFIX))
    except ValueError:
        return None


async def find_quiz(canvas: CanvasClient, quizzes: str, marker: str) -> str | None:
    """The course's New Quiz whose instructions carry the export's marker (its create's
    answer was lost), if any."""
    async for quiz in canvas.paginate(quizzes):
        if marker in str(quiz.get("instructions") or ""):
            return str(quiz["id"])
    return None


async def find_item(canvas: CanvasClient, items: str, title: str) -> str | None:
    async for item in canvas.paginate(items):
        if (item.get("entry") or {}).get("title") == title:
            return str(item["id"])
    return None


async def delete(canvas: CanvasClient, path: str) -> None:
    """Delete; already gone is fine."""
    try:
        await canvas.request("DELETE", path)
    except CanvasRefusedError as err:
        if err.status != 404:
            raise


async def arrange(
    canvas: CanvasClient, items: str, current: list[dict[str, Any]], wanted: dict[str, int]
) -> int:
    """Move items until the quiz's items are in `wanted`'s order (quizgen's items first, in
    the review order; items the teacher added in Canvas after them). One PATCH of
    `item[position]` per item out of place; Canvas shifts the others, as the stand-in does."""

    def rank(item: dict[str, Any]) -> tuple[int, int]:
        title = str((item.get("entry") or {}).get("title") or "")
        return (0, wanted[title]) if title in wanted else (1, int(item.get("position") or 0))

    order = sorted(current, key=lambda item: int(item.get("position") or 0))
    target = sorted(order, key=rank)
    moved = 0
    for index, item in enumerate(target):
        if order[index]["id"] != item["id"]:
            await canvas.request(
                "PATCH", f"{items}/{item['id']}", json={"item": {"position": index + 1}}
            )
            order.remove(item)
            order.insert(index, item)
            moved += 1
            activity.heartbeat()
    return moved

"""The export's activities: each one Canvas step, recorded in PostgreSQL as it is done.

`begin_export` claims the quiz (`exporting_to_canvas`) and lists the approved questions;
`create_canvas_quiz` makes the New Quiz once; `export_item` puts one question in it
(created, updated in place when changed, or found again after a lost answer);
`finish_export` removes items of questions no longer approved, puts the items in the
quiz's order and publishes the quiz in quizgen; `stop_export` records a failure, a
cancellation or a wait for a reconnect; `undo_export` deletes the Canvas quiz.

Exactly once per question (invariant 9): before a create is sent, the attempt is
committed (`mark_item_attempted`); an attempt whose answer was never recorded lists the
quiz's items and takes the one titled `quizgen:<question id>` instead of creating
another. The teacher's token is read from PostgreSQL here, never passed in (invariant 10).

Errors (`canvas_errors`): a refused token → `CANVAS_AUTH_ERROR` (the workflow waits for a
reconnect); 403/404 and other refusals → `CANVAS_REFUSED_ERROR` (not retried: the reason
is shown); throttling, 5xx, timeouts → `CANVAS_UNAVAILABLE_ERROR`, retried after Canvas's
Retry-After or a backoff of at most 10 s (Canvas's throttle refills in seconds).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities._canvas import NotReady, canvas_errors
from activities._errors import temporal_errors
from activities.export_steps import (
    arrange,
    course_refusal,
    delete,
    find_item,
    find_quiz,
    instructions,
    item_digest,
    question_of,
    within_attempt,
)
from quizgen.canvas.access import open_canvas
from quizgen.canvas.items import TITLE_PREFIX, item_title, new_quiz_item
from quizgen.canvas_contracts import (
    CanvasQuizRef,
    ExportFinished,
    ExportItemInput,
    ExportPlan,
    ExportStateChange,
    ItemExported,
    ItemOutcome,
)
from quizgen.db import canvas_exports as exports
from quizgen.db.repository import locked_quiz, write_status
from quizgen.db.review import ReviewStatus, get_question
from quizgen.domain import EXPORTABLE, ExportState, QuizStatus
from quizgen.errors import (
    CanvasRefusedError,
    CanvasUnavailableError,
    QuestionNotFoundError,
)
from quizgen.names import (
    BEGIN_EXPORT_ACTIVITY,
    CREATE_CANVAS_QUIZ_ACTIVITY,
    EXPORT_ITEM_ACTIVITY,
    FINISH_EXPORT_ACTIVITY,
    SET_EXPORT_STATE_ACTIVITY,
    UNDO_EXPORT_ACTIVITY,
)
from quizgen.settings import Settings

__all__ = ["CanvasExportActivities"]


class CanvasExportActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    # -- helpers

    async def _export(self, quiz_id: uuid.UUID) -> exports.ExportRecord:
        export = await exports.get_export(self._engine, quiz_id)
        if export is None:
            raise NotReady("no export of this quiz was asked for (or it was undone)")
        return export

    def _quiz_url(self, course_id: str, canvas_quiz_id: str) -> str:
        # New Quizzes are assignments: the teacher opens one at its assignment page.
        base = (self._settings.canvas_base_url or "").rstrip("/")
        return f"{base}/courses/{course_id}/assignments/{canvas_quiz_id}"

    # -- the steps

    @activity.defn(name=BEGIN_EXPORT_ACTIVITY)
    async def begin_export(self, quiz_id: uuid.UUID) -> ExportPlan:
        """Claim the quiz for the export and list what goes out, in the quiz's order."""
        with temporal_errors(), canvas_errors():
            async with locked_quiz(self._engine, quiz_id) as lock:
                conn = lock.connection
                export = await exports.get_export_in(conn, quiz_id, for_update=True)
                if export is None:
                    raise NotReady("no export of this quiz was asked for (or it was undone)")
                allowed = EXPORTABLE | {QuizStatus.EXPORTING_TO_CANVAS}
                if lock.status not in allowed:
                    raise NotReady(f"a quiz that is {lock.status.value} cannot be exported")
                if lock.status is not QuizStatus.EXPORTING_TO_CANVAS:
                    await lock.set_status(QuizStatus.EXPORTING_TO_CANVAS)
                await exports.set_state_in(conn, quiz_id, ExportState.RUNNING)
            ids = await exports.approved_question_ids(self._engine, quiz_id)
            if not ids:
                raise NotReady("the quiz has no approved question to export: approve some first")
            return ExportPlan(question_ids=ids, title=export.title)

    @activity.defn(name=CREATE_CANVAS_QUIZ_ACTIVITY)
    async def create_canvas_quiz(self, quiz_id: uuid.UUID) -> CanvasQuizRef:
        """The export's New Quiz: the one made before if it still exists, else made once
        (found by its marker when the answer to its create was lost)."""
        with temporal_errors(), canvas_errors():
            export = await self._export(quiz_id)
            try:
                async with within_attempt():
                    return await self._make_canvas_quiz(export)
            except CanvasRefusedError as err:
                raise course_refusal(err, export.course_id) from None

    async def _make_canvas_quiz(self, export: exports.ExportRecord) -> CanvasQuizRef:
        quiz_id = export.quiz_id
        quizzes = f"/api/quiz/v1/courses/{export.course_id}/quizzes"
        async with open_canvas(self._engine, self._settings, export.owner_id) as canvas:
            if export.canvas_quiz_id is not None:
                try:
                    await canvas.request("GET", f"{quizzes}/{export.canvas_quiz_id}")
                    return CanvasQuizRef(
                        canvas_quiz_id=export.canvas_quiz_id,
                        url=export.canvas_quiz_url or "",
                    )
                except CanvasRefusedError as err:
                    if err.status != 404:
                        raise
                # Deleted in Canvas: its items went with it; start afresh.
                await exports.forget_canvas_quiz(self._engine, quiz_id)
                export = await self._export(quiz_id)
            if export.quiz_attempted:
                found = await find_quiz(canvas, quizzes, export.quiz_marker)
                if found is not None:
                    return await self._recorded_quiz(export, found)
            await exports.mark_quiz_attempted(self._engine, quiz_id)
            try:
                created = await canvas.request(
                    "POST",
                    quizzes,
                    json={
                        "quiz": {
                            "title": export.title,
                            "instructions": instructions(export.quiz_marker),
                            "grading_type": "points",
                        }
                    },
                )
            except CanvasRefusedError:
                # A refusal (403, 404, 422) made nothing: no quiz to look for next time.
                await exports.mark_quiz_attempted(self._engine, quiz_id, attempted=False)
                raise
        if not isinstance(created, dict) or "id" not in created:
            raise CanvasUnavailableError("Canvas answered the new quiz without its id")
        return await self._recorded_quiz(export, str(created["id"]))

    async def _recorded_quiz(
        self, export: exports.ExportRecord, canvas_quiz_id: str
    ) -> CanvasQuizRef:
        url = self._quiz_url(export.course_id, canvas_quiz_id)
        await exports.record_canvas_quiz(self._engine, export.quiz_id, canvas_quiz_id, url)
        return CanvasQuizRef(canvas_quiz_id=canvas_quiz_id, url=url)

    @activity.defn(name=EXPORT_ITEM_ACTIVITY)
    async def export_item(self, input: ExportItemInput) -> ItemExported:
        """One approved question in the Canvas quiz, exactly once.

        The attempt ends before Temporal's start-to-close timer does: Temporal retries an
        item only once its earlier attempt can no longer be sending a create (a retry
        while it still could might add the item twice). A killed worker's attempt is
        retried when that timer fires.
        """
        async with within_attempt():
            return await self._export_item(input)

    async def _export_item(self, input: ExportItemInput) -> ItemExported:
        with temporal_errors(), canvas_errors():
            export = await self._export(input.quiz_id)
            if export.canvas_quiz_id is None:
                raise NotReady("the Canvas quiz is not made yet")
            try:
                question = await get_question(self._engine, input.quiz_id, input.question_id)
            except QuestionNotFoundError:
                return ItemExported(question_id=input.question_id, outcome=ItemOutcome.SKIPPED)
            if question.review_status is not ReviewStatus.APPROVED:
                return ItemExported(question_id=input.question_id, outcome=ItemOutcome.SKIPPED)
            payload = new_quiz_item(
                question.question_type,
                question.question_data,
                position=input.position,
                points=export.points_per_question,
                question_id=str(question.id),
            )
            digest = item_digest(payload)
            items = f"/api/quiz/v1/courses/{export.course_id}/quizzes/{export.canvas_quiz_id}/items"
            record = await exports.get_item(self._engine, question.id)

            async def recorded(item_id: str, outcome: ItemOutcome) -> ItemExported:
                await exports.record_item(
                    self._engine,
                    input.quiz_id,
                    question.id,
                    canvas_item_id=item_id,
                    version=question.version,
                    digest=digest,
                )
                return ItemExported(question_id=question.id, outcome=outcome)

            if (
                record is not None
                and record.canvas_item_id is not None
                and record.exported_digest == digest
            ):
                # Canvas holds this version: nothing to send, so Canvas is not opened.
                return await recorded(record.canvas_item_id, ItemOutcome.UNCHANGED)
            async with open_canvas(self._engine, self._settings, export.owner_id) as canvas:
                if record is not None and record.canvas_item_id is not None:
                    try:
                        await canvas.request(
                            "PATCH", f"{items}/{record.canvas_item_id}", json=payload
                        )
                        return await recorded(record.canvas_item_id, ItemOutcome.UPDATED)
                    except CanvasRefusedError as err:
                        if err.status != 404:
                            raise
                    # Deleted in Canvas by hand: made again below.
                    await exports.forget_item(self._engine, question.id)
                    record = None
                if record is not None and record.attempted_digest is not None:
                    found = await find_item(canvas, items, item_title(str(question.id)))
                    if found is not None:
                        if record.attempted_digest != digest:
                            await canvas.request("PATCH", f"{items}/{found}", json=payload)
                        return await recorded(found, ItemOutcome.FOUND)
                await exports.mark_item_attempted(self._engine, input.quiz_id, question.id, digest)
                created = await canvas.request("POST", items, json=payload)
            if not isinstance(created, dict) or "id" not in created:
                raise CanvasUnavailableError("Canvas answered the new item without its id")
            return await recorded(str(created["id"]), ItemOutcome.CREATED)

    @activity.defn(name=FINISH_EXPORT_ACTIVITY)
    async def finish_export(self, quiz_id: uuid.UUID) -> ExportFinished:
        """Tidy the Canvas quiz (remove what is no longer approved, put items in order),
        check every approved question is there at its current version, and publish the
        quiz in quizgen; if some are not (approved or edited meanwhile), say how many."""
        with temporal_errors(), canvas_errors():
            export = await self._export(quiz_id)
            if export.canvas_quiz_id is None:
                raise NotReady("the Canvas quiz is not made yet")
            items = f"/api/quiz/v1/courses/{export.course_id}/quizzes/{export.canvas_quiz_id}/items"
            order = await exports.approved_question_ids(self._engine, quiz_id)
            wanted = {item_title(str(qid)): i for i, qid in enumerate(order)}
            records = await exports.item_records(self._engine, quiz_id)
            async with open_canvas(self._engine, self._settings, export.owner_id) as canvas:
                current = [item async for item in canvas.paginate(items)]
                removed = 0
                for item in list(current):
                    title = str((item.get("entry") or {}).get("title") or "")
                    if title.startswith(TITLE_PREFIX) and title not in wanted:
                        await delete(canvas, f"{items}/{item['id']}")
                        current.remove(item)
                        removed += 1
                        stale = question_of(title)
                        if stale is not None and stale in records:
                            await exports.forget_item(self._engine, stale)
                        activity.heartbeat()
                moved = await arrange(canvas, items, current, wanted)
            counts = await exports.export_counts(self._engine, quiz_id)
            if counts.exported < counts.total:
                # Approved or edited while the export ran: the workflow sends them next.
                return ExportFinished(
                    exported=counts.exported,
                    removed=removed,
                    moved=moved,
                    url=export.canvas_quiz_url or "",
                    missing=counts.total - counts.exported,
                )
            async with locked_quiz(self._engine, quiz_id) as lock:
                await lock.set_status(QuizStatus.PUBLISHED)
                await exports.set_state_in(lock.connection, quiz_id, ExportState.PUBLISHED)
            return ExportFinished(
                exported=counts.exported,
                removed=removed,
                moved=moved,
                url=export.canvas_quiz_url or "",
            )

    @activity.defn(name=SET_EXPORT_STATE_ACTIVITY)
    async def set_export_state(self, input: ExportStateChange) -> None:
        """Record where the export stands (running again, waiting for a reconnect, failed,
        cancelled, with the reason); a failed or cancelled export gives the quiz back to
        review, in the status it had."""
        with temporal_errors():
            async with locked_quiz(self._engine, input.quiz_id) as lock:
                conn = lock.connection
                export = await exports.get_export_in(conn, input.quiz_id, for_update=True)
                if export is None:
                    return
                await exports.set_state_in(conn, input.quiz_id, input.state, input.message)
                stopped = input.state in (ExportState.FAILED, ExportState.CANCELLED)
                if stopped and lock.status is QuizStatus.EXPORTING_TO_CANVAS:
                    await lock.set_status(export.review_status)

    @activity.defn(name=UNDO_EXPORT_ACTIVITY)
    async def undo_export(self, quiz_id: uuid.UUID) -> None:
        """Compensation: delete the Canvas quiz the export made, forget the export."""
        with temporal_errors(), canvas_errors():
            export = await exports.get_export(self._engine, quiz_id)
            if export is None:
                return
            quizzes = f"/api/quiz/v1/courses/{export.course_id}/quizzes"
            # Canvas is asked only when the export made (or may have made) a quiz there.
            if export.canvas_quiz_id is not None or export.quiz_attempted:
                async with open_canvas(self._engine, self._settings, export.owner_id) as canvas:
                    canvas_quiz_id = export.canvas_quiz_id
                    if canvas_quiz_id is None:
                        try:
                            canvas_quiz_id = await find_quiz(canvas, quizzes, export.quiz_marker)
                        except CanvasRefusedError:
                            # A course we may not read (or that is gone) holds nothing of ours.
                            canvas_quiz_id = None
                    if canvas_quiz_id is not None:
                        await delete(canvas, f"{quizzes}/{canvas_quiz_id}")
            async with locked_quiz(self._engine, quiz_id) as lock:
                await exports.delete_export_in(lock.connection, quiz_id)
                if lock.status in (QuizStatus.PUBLISHED, QuizStatus.EXPORTING_TO_CANVAS):
                    await write_status(lock.connection, quiz_id, export.review_status)

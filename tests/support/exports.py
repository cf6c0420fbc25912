"""The export's test stack: the Canvas stand-in with a course and its teacher, the API
in-process and a worker, both pointed at the stand-in, and quizzes with approved questions.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from deploy.local.api import ALICE, api_client, auth, local_settings
from deploy.local.canvas import CanvasStandIn
from deploy.local.temporal import server_address
from quizgen.db import repository as repo
from quizgen.db.tables import QuestionRow
from quizgen.domain import BatchSpec, ModuleSpec, QuestionType, QuizSpec, QuizStatus
from quizgen.llm.offline import OfflineProvider
from tests.support.batches import ref, save_questions
from tests.support.flows import force_status, running_worker

KEY = Fernet.generate_key().decode()
HEADERS = auth(ALICE)
# Short Canvas timeouts: a killed worker's item is retried within seconds.
CANVAS_SETTINGS: dict[str, Any] = {
    "canvas_token_keys": KEY,
    "canvas_call_timeout": timedelta(seconds=3),
    "canvas_retry_window": timedelta(minutes=5),
}
Json = dict[str, Any]


@dataclass
class ExportStack:
    canvas: CanvasStandIn
    course: int
    token: str
    api: httpx.AsyncClient
    engine: AsyncEngine

    @property
    def worker_env(self) -> dict[str, str]:
        """What a worker process needs to reach the stand-in (short Canvas timeouts)."""
        return {
            "CANVAS_BASE_URL": self.canvas.base_url,
            "CANVAS_TOKEN_KEYS": KEY,
            "CANVAS_CALL_TIMEOUT": "PT3S",
        }

    async def export(self, quiz_id: uuid.UUID, **body: Any) -> httpx.Response:
        return await self.api.post(
            f"/quizzes/{quiz_id}/export",
            json={"course_id": str(self.course), **body},
            headers=HEADERS,
        )

    async def status(self, quiz_id: uuid.UUID) -> Json:
        response = await self.api.get(f"/quizzes/{quiz_id}/export", headers=HEADERS)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    async def wait_for_state(
        self, quiz_id: uuid.UUID, *states: str, within_seconds: float = 120.0
    ) -> Json:
        async with asyncio.timeout(within_seconds):
            while True:
                body = await self.status(quiz_id)
                if body["state"] in states:
                    return body
                await asyncio.sleep(0.1)

    async def wait_until_undone(self, quiz_id: uuid.UUID, within_seconds: float = 60.0) -> None:
        async with asyncio.timeout(within_seconds):
            url = f"/quizzes/{quiz_id}/export"
            while (await self.api.get(url, headers=HEADERS)).status_code != 404:  # noqa: ASYNC110
                await asyncio.sleep(0.1)

    def items(self, export: Json) -> list[Json]:
        return self.canvas.quiz_items(self.course, export["canvas_quiz_id"])

    async def connect(self, token: str | None = None) -> None:
        response = await self.api.put(
            "/canvas/connection", json={"token": token or self.token}, headers=HEADERS
        )
        assert response.status_code == 200, response.text


@asynccontextmanager
async def export_stack(
    engine: AsyncEngine,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    *,
    worker: bool = True,
) -> AsyncIterator[ExportStack]:
    """The stand-in (a course, Alice its teacher and connected), the API and a worker."""
    async with CanvasStandIn() as canvas:
        course = canvas.add_course("Biology 101", "BIO101")
        token = canvas.add_user("Ada Teacher", teacher_of=[course])
        settings = local_settings(
            database_url=database_url,
            temporal_address=server_address(temporal_env),
            temporal_task_queue=task_queue,
            canvas_base_url=canvas.base_url,
            **CANVAS_SETTINGS,
        )
        async with api_client(settings) as api:
            stack = ExportStack(canvas, course, token, api, engine)
            await stack.connect()
            if not worker:
                yield stack
                return
            async with running_worker(
                temporal_env.client,
                engine,
                OfflineProvider(),
                task_queue,
                database_url=database_url,
                canvas_base_url=canvas.base_url,
                **CANVAS_SETTINGS,
            ):
                yield stack


def numbered_questions(n: int, prefix: str = "Question") -> list[Json]:
    """`n` true/false questions with distinct texts."""
    return [
        {
            "question_text": f"{prefix} {i}: is statement number {i} about cells true?",
            "correct_answer": i % 2 == 0,
            "explanation": f"Statement {i} is {'true' if i % 2 == 0 else 'false'}.",
        }
        for i in range(n)
    ]


async def exportable_quiz(
    engine: AsyncEngine,
    owner: str,
    questions: Sequence[tuple[QuestionType, Json]],
    *,
    approve: bool = True,
) -> uuid.UUID:
    """A quiz `ready_for_review` holding these questions (approved), in this order."""
    by_type: dict[QuestionType, list[Json]] = {}
    for question_type, data in questions:
        by_type.setdefault(question_type, []).append(data)
    modules, batches = [], []
    for n, (question_type, datas) in enumerate(by_type.items()):
        for start in range(0, len(datas), 20):
            chunk = datas[start : start + 20]
            module_id = f"m{n}-{start // 20}"
            modules.append(
                ModuleSpec(
                    module_id=module_id,
                    name=f"Module {module_id}",
                    content="Cells are the basic unit of life.",
                    batches=[BatchSpec(question_type=question_type, count=len(chunk))],
                )
            )
            batches.append((ref(module_id, question_type, count=len(chunk)), chunk))
    quiz_id = await repo.create_quiz(engine, owner, QuizSpec(title="Export me", modules=modules))
    for batch, chunk in batches:
        await save_questions(engine, quiz_id, batch, chunk)
    await _order_as_given(engine, quiz_id, [data["question_text"] for _, data in questions])
    if approve:
        await set_review(engine, quiz_id, "approved")
    await force_status(engine, quiz_id, QuizStatus.READY_FOR_REVIEW)
    return quiz_id


_question = QuestionRow.__table__  # type: ignore[attr-defined]


async def _order_as_given(engine: AsyncEngine, quiz_id: uuid.UUID, texts: list[str]) -> None:
    async with engine.begin() as conn:
        rows = await conn.execute(
            sa.select(_question.c.id, _question.c.question_data).where(
                _question.c.quiz_id == quiz_id
            )
        )
        place = {text: i for i, text in enumerate(texts)}
        for row in list(rows):
            await conn.execute(
                _question.update()
                .where(_question.c.id == row.id)
                .values(quiz_position=place[row.question_data["question_text"]])
            )


async def set_review(
    engine: AsyncEngine, quiz_id: uuid.UUID, status: str, ids: Sequence[uuid.UUID] | None = None
) -> None:
    """Set questions' review status straight in the database (version bumped, as a review)."""
    where = _question.c.quiz_id == quiz_id
    if ids is not None:
        where &= _question.c.id.in_(list(ids))
    async with engine.begin() as conn:
        await conn.execute(
            _question.update()
            .where(where)
            .values(
                review_status=status,
                is_approved=status == "approved",
                version=_question.c.version + 1,
            )
        )


async def question_ids(engine: AsyncEngine, quiz_id: uuid.UUID) -> list[uuid.UUID]:
    """The quiz's questions in review order."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(_question.c.id)
            .where(_question.c.quiz_id == quiz_id)
            .order_by(_question.c.quiz_position)
        )
        return [row.id for row in rows]

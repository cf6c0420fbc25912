"""`/canvas/...`: a teacher's Canvas connection and their courses.

`PUT /canvas/connection` takes a Canvas access token, checks it with Canvas
(`GET /api/v1/users/self`) and keeps it encrypted (`CANVAS_TOKEN_KEYS`); nothing answers
with it again, and nothing logs it. Without `CANVAS_BASE_URL` (and keys) these answer 409.
The review page `/ui/canvas` (api/web/canvas_pages.py) connects through `connect_canvas`
and `canvas_configured` too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from api.canvas_hooks import after_connect
from api.deps import AppSettings, CurrentUser, Engine
from api.errors import Conflict, Unprocessable, error_responses
from quizgen.canvas.access import CanvasNotConfiguredError, canvas_of, open_canvas
from quizgen.canvas.client import CanvasClient
from quizgen.canvas.tokens import TokenCipher
from quizgen.db import canvas_connections as connections
from quizgen.errors import CanvasAuthError
from quizgen.settings import Settings

router = APIRouter(prefix="/canvas", tags=["canvas"])

_errors = error_responses(401, 409, 502, 503)


class CanvasConnect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, Field(min_length=1, max_length=2000)]


class CanvasUserPublic(BaseModel):
    id: str
    name: str


class CanvasConnectionPublic(BaseModel):
    connected: bool
    canvas_user: CanvasUserPublic | None = None
    connected_at: datetime | None = None


class CanvasCoursePublic(BaseModel):
    id: str
    name: str
    course_code: str | None = None


def _canvas(settings: Settings) -> tuple[str, TokenCipher]:
    try:
        return canvas_of(settings)
    except CanvasNotConfiguredError as err:
        raise Conflict(str(err)) from None


async def connect_canvas(
    engine: AsyncEngine, settings: Settings, owner: str, token: str
) -> connections.CanvasConnection:
    """Check `token` with Canvas (`GET /api/v1/users/self`) and keep it, encrypted, as
    `owner`'s connection (replacing one they had).

    Raises `Conflict` when Canvas is not configured, and Canvas's own errors as the client
    raises them: `CanvasAuthError` for a token Canvas refuses, `CanvasUnavailableError`,
    `CanvasRefusedError`. Nothing is stored then. The token is never logged.
    """
    base_url, cipher = _canvas(settings)
    token = token.strip()
    async with CanvasClient(base_url, token) as canvas:
        me = await canvas.self_user()
    connection = connections.CanvasConnection(
        owner_id=owner,
        canvas_user_id=str(me.get("id", ""))[:64],
        canvas_user_name=str(me.get("name", ""))[:255],
        token_ciphertext=cipher.encrypt(token),
        connected_at=datetime.now(UTC),
    )
    await connections.save_connection(engine, connection)
    return connection


@router.put("/connection", responses={**_errors, **error_responses(422)})
async def connect(
    request: Request,
    body: CanvasConnect,
    user: CurrentUser,
    engine: Engine,
    settings: AppSettings,
) -> CanvasConnectionPublic:
    """Connect Canvas with a personal access token (checked with Canvas, kept encrypted)."""
    try:
        connection = await connect_canvas(engine, settings, user, body.token)
    except CanvasAuthError:
        raise Unprocessable("Canvas refused this token: make a new one in Canvas") from None
    await after_connect(request.app.state, user)
    return _public(connection)


@router.get("/connection", responses=error_responses(401))
async def connection(user: CurrentUser, engine: Engine) -> CanvasConnectionPublic:
    """Whether the teacher has connected Canvas, and as whom (never the token)."""
    return _public(await connections.get_connection(engine, user))


@router.delete(
    "/connection", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401)
)
async def disconnect(user: CurrentUser, engine: Engine) -> Response:
    """Forget the teacher's Canvas token (the token itself stays valid in Canvas)."""
    await connections.delete_connection(engine, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/courses", responses=_errors)
async def courses(
    user: CurrentUser, engine: Engine, settings: AppSettings
) -> list[CanvasCoursePublic]:
    """The courses where the teacher teaches, every page of them."""
    _canvas(settings)
    if await connections.get_connection(engine, user) is None:
        raise Conflict("connect Canvas first (PUT /canvas/connection)")
    async with open_canvas(engine, settings, user) as canvas:
        found = await canvas.teacher_courses()
    return [
        CanvasCoursePublic(
            id=str(c.get("id")), name=str(c.get("name", "")), course_code=c.get("course_code")
        )
        for c in found
    ]


def _public(stored: connections.CanvasConnection | None) -> CanvasConnectionPublic:
    if stored is None:
        return CanvasConnectionPublic(connected=False)
    return CanvasConnectionPublic(
        connected=True,
        canvas_user=CanvasUserPublic(id=stored.canvas_user_id, name=stored.canvas_user_name),
        connected_at=stored.connected_at,
    )

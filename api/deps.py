"""Dependencies of the routes, as `Annotated` types."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth import TokenRegistry
from api.errors import NotFound, Unauthorized
from quizgen.db import repository as repo
from quizgen.errors import QuizNotFoundError
from quizgen.logs import bind_quiz
from quizgen.settings import Settings
from quizgen.temporal_client import TemporalGateway

__all__ = ["AppSettings", "CurrentUser", "Engine", "OwnedQuiz", "Temporal", "owned_quiz_of"]

_bearer = HTTPBearer(auto_error=False, description="An API token from API_TOKENS")


def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _temporal(request: Request) -> TemporalGateway:
    gateway: TemporalGateway = request.app.state.temporal
    return gateway


def _current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    # `api.guard.AuthFirst` has checked the token before the body was read.
    user: str | None = getattr(request.state, "user", None)
    if user is not None:
        return user
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
    tokens: TokenRegistry = request.app.state.tokens
    user = tokens.user_for(credentials.credentials)
    if user is None:
        raise Unauthorized("the API token is not valid")
    return user


Engine = Annotated[AsyncEngine, Depends(_engine)]
AppSettings = Annotated[Settings, Depends(_settings)]
Temporal = Annotated[TemporalGateway, Depends(_temporal)]
CurrentUser = Annotated[str, Depends(_current_user)]


async def owned_quiz_of(engine: AsyncEngine, quiz_id: uuid.UUID, user: str) -> repo.QuizRecord:
    """The quiz if `user` owns it; NotFound otherwise (the API's and the pages' one check)."""
    try:
        quiz = await repo.get_quiz(engine, quiz_id)
    except QuizNotFoundError:
        quiz = None
    # Another teacher's quiz is indistinguishable from a missing one.
    if quiz is None or quiz.owner_id != user:
        raise NotFound(f"quiz {quiz_id} not found")
    bind_quiz(quiz_id)
    return quiz


async def _owned_quiz(quiz_id: uuid.UUID, user: CurrentUser, engine: Engine) -> repo.QuizRecord:
    return await owned_quiz_of(engine, quiz_id, user)


OwnedQuiz = Annotated[repo.QuizRecord, Depends(_owned_quiz)]

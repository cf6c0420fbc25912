"""The FastAPI application: routers, error handlers, limits, and the lifespan
that owns the database engine and the Temporal client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.auth import TokenRegistry
from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from api.metrics import install_metrics
from api.routes import health, questions, quizzes
from api.web import install_pages
from api.web.errors import error_page
from quizgen.db.engine import make_engine
from quizgen.settings import Settings
from quizgen.temporal_client import TemporalGateway

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    tokens = TokenRegistry.parse(
        settings.api_tokens.get_secret_value() if settings.api_tokens else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.tokens = tokens
        app.state.engine = make_engine(settings.database_url)
        # Connects lazily: the API serves (and answers 503 where needed) while Temporal is down.
        app.state.temporal = TemporalGateway(settings)
        try:
            yield
        finally:
            await app.state.engine.dispose()

    app = FastAPI(
        title="quizgen",
        summary="Durable LLM quiz-question generation: batches succeed or fail on their own.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit)
    # Added last, so outermost: it also counts what the size limit refuses.
    install_metrics(app)
    install_error_handlers(app, pages=error_page)
    app.include_router(health.router)
    app.include_router(quizzes.router)
    app.include_router(questions.router)
    install_pages(app)
    return app

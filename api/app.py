"""The FastAPI application: routers, error handlers, limits, and the lifespan
that owns the database engine and the Temporal client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response

from api.auth import TokenRegistry, check_token_strength
from api.errors import install_error_handlers
from api.guard import AuthFirst
from api.limits import BodySizeLimit
from api.metrics import install_metrics
from api.routes import (
    canvas,
    canvas_content,
    canvas_exports,
    exports,
    health,
    questions,
    quizzes,
    uploads,
)
from api.web import install_pages
from api.web.errors import error_page
from api.web.pages import PREFIX
from quizgen.canvas.tokens import TokenCipher
from quizgen.db.engine import make_engine
from quizgen.logs import configure_logging
from quizgen.settings import Settings, get_settings
from quizgen.temporal_client import TemporalGateway

__all__ = ["app_from_environment", "create_app"]


def create_app(settings: Settings) -> FastAPI:
    tokens = TokenRegistry.parse(
        settings.api_tokens.get_secret_value() if settings.api_tokens else None
    )
    if settings.canvas_token_keys is not None:
        TokenCipher(settings.canvas_token_keys.get_secret_value())  # refuses bad keys at start
    if settings.api_metrics_token is not None:
        check_token_strength("API_METRICS_TOKEN", settings.api_metrics_token.get_secret_value())

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

    docs = settings.api_docs
    app = FastAPI(
        title="quizgen",
        summary="Durable LLM quiz-question generation: batches succeed or fail on their own.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.add_middleware(BodySizeLimit)
    # The token before the body: an anonymous client's body is never read.
    app.add_middleware(AuthFirst, docs_open=docs)
    # Added last, so outermost: it also counts what the size limit and the guard refuse.
    install_metrics(app)
    install_error_handlers(app, pages=error_page)
    app.include_router(health.router)
    app.include_router(quizzes.router)
    app.include_router(questions.router)
    app.include_router(exports.router)
    app.include_router(canvas_exports.router)
    app.include_router(canvas_content.router)
    app.include_router(uploads.router)
    app.include_router(canvas.router)
    install_pages(app)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        """A browser opening the API's address finds the review pages."""
        return RedirectResponse(PREFIX + "/", status_code=307)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        """Browsers ask every page for one: no icon, and no 401 in the access log."""
        return Response(status_code=204)

    return app


def app_from_environment() -> FastAPI:
    """The app of one `python -m api` process, from its environment (uvicorn's factory)."""
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)

"""The Canvas page: connect Canvas with an access token, see as whom, disconnect.

The token is checked with Canvas and stored encrypted the same way as by the JSON API's
`PUT /canvas/connection` (`api.routes.canvas.connect_canvas`); it is never shown again,
never put back into a page and never logged. A post may carry `next`, a page under `/ui/`
to go to once connected (the export page links here with it); anything else is ignored.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.canvas_hooks import after_connect
from api.routes.canvas import connect_canvas
from api.web.i18n import Translator
from api.web.pages import PREFIX, Signed, language_of, redirect, render
from quizgen.db import canvas_connections as connections
from quizgen.errors import CanvasAuthError, CanvasRefusedError, CanvasUnavailableError

__all__ = ["router", "safe_next"]

router = APIRouter(prefix=PREFIX, include_in_schema=False)

PAGE = f"{PREFIX}/canvas"
# As the JSON API's `CanvasConnect.token`.
MAX_TOKEN_CHARS = 2000
# A page of this site: `/ui/...` with a path and query of plain characters only (no
# scheme, host, backslash, `//`, `..` or escapes a browser could read as somewhere else).
_NEXT = re.compile(r"/ui/[A-Za-z0-9._~/?=&-]{0,500}")


def safe_next(raw: object) -> str | None:
    """`raw` when it is a page under `/ui/` of this site, else None (ignored)."""
    value = raw if isinstance(raw, str) else ""
    if not _NEXT.fullmatch(value) or "//" in value:
        return None
    if ".." in value.split("?", 1)[0].split("/"):
        return None
    return value


async def _canvas_page(
    request: Request,
    signed: Signed,
    *,
    next_path: str | None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    state = request.app.state
    settings = state.settings
    connection = await connections.get_connection(state.engine, signed.user_id)
    configured = settings.canvas_configured
    base_url = str(settings.canvas_base_url or "").rstrip("/")
    context: dict[str, object] = {
        "configured": configured,
        "connection": connection,
        "error": error,
        "next": next_path,
        "settings_url": f"{base_url}/profile/settings" if configured else None,
        "max_token": MAX_TOKEN_CHARS,
    }
    # This page's own notices (the shared ones carry no name).
    t = Translator(language_of(request))
    notice = request.query_params.get("notice")
    if notice == "canvas_connected" and connection is not None:
        context["notice"] = t("notice.canvas_connected", name=connection.canvas_user_name)
    elif notice == "canvas_disconnected" and connection is None:
        context["notice"] = t("notice.canvas_disconnected")
    return render(request, "canvas.html", context, visit=signed, status_code=status_code)


@router.get("/canvas")
async def canvas_page(request: Request, signed: Signed, next: str = "") -> HTMLResponse:
    return await _canvas_page(request, signed, next_path=safe_next(next))


@router.post("/canvas/connect")
async def connect(request: Request, signed: Signed) -> Response:
    form = await signed.form()
    next_path = safe_next(form.get("next"))
    state = request.app.state
    if not state.settings.canvas_configured:
        return await _canvas_page(request, signed, next_path=next_path, status_code=409)
    t = Translator(language_of(request))
    raw = form.get("token")
    token = raw.strip() if isinstance(raw, str) else ""
    problem: tuple[str, int] | None = None
    if not token:
        problem = t("canvas.empty_token"), 422
    elif len(token) > MAX_TOKEN_CHARS:
        problem = t("canvas.long_token"), 422
    else:
        try:
            await connect_canvas(state.engine, state.settings, signed.user_id, token)
        except CanvasAuthError:
            problem = t("canvas.refused"), 422
        except CanvasUnavailableError:
            problem = t("canvas.unavailable"), 503
        except CanvasRefusedError:
            problem = t("canvas.denied", url=state.settings.canvas_base_url), 502
    if problem is not None:
        error, status_code = problem
        return await _canvas_page(
            request, signed, next_path=next_path, error=error, status_code=status_code
        )
    await after_connect(request.app.state, signed.user_id)
    if next_path is not None:
        return redirect(next_path)
    return redirect(PAGE, "canvas_connected")


@router.post("/canvas/disconnect")
async def disconnect(request: Request, signed: Signed) -> Response:
    await signed.form()
    await connections.delete_connection(request.app.state.engine, signed.user_id)
    return redirect(PAGE, "canvas_disconnected")

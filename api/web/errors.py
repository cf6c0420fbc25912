"""Error pages: on a `/ui` path the API's errors are HTML pages, never JSON or a stack trace."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from api.web.pages import PREFIX, CsrfRefused, SignInRequired, redirect, render

__all__ = ["error_page", "install_page_errors"]

_MESSAGES = {404: "error.404", 403: "error.403", 413: "error.413", 503: "error.503"}


def is_page(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_page(request: Request, status_code: int) -> Response | None:
    """The HTML error page for a `/ui` request; None for the JSON API's paths."""
    if not is_page(request):
        return None
    key = _MESSAGES.get(status_code, "error.500")
    return render(request, "error.html", {"message_key": key}, status_code=status_code)


def install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired) -> Response:
        return redirect(f"{PREFIX}/sign-in")

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        return render(request, "error.html", {"message_key": "error.403"}, status_code=403)

"""What every review page shares: who is signed in, CSRF checks, language, rendering.

Pages never raise the JSON API's 401: a visitor without a valid session is
sent to the sign-in page, and a post without a valid CSRF token is refused
with a 403 page before anything changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from api.auth import TokenRegistry
from api.deps import owned_quiz_of
from api.limits import MAX_BODY_BYTES
from api.web.i18n import LANG_COOKIE, Translator, pick_language
from api.web.session import SESSION_COOKIE, Session, SessionSigner
from quizgen.canvas.oauth import oauth_configured
from quizgen.db import repository as repo
from quizgen.db.sessions import session_ended
from quizgen.domain import Language

__all__ = [
    "PREFIX",
    "CsrfRefused",
    "SignInRequired",
    "Signed",
    "Visit",
    "delete_cookie",
    "owned_quiz",
    "page_number",
    "redirect",
    "render",
    "section_notices",
    "set_cookie",
    "signer_of",
    "visit",
]

PREFIX = "/ui"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

# Pages load only their own script and styles; nothing may frame them.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# A cookie's SameSite: `strict` unless a cross-site navigation must carry it (OAuth's state).
SameSite = Literal["strict", "lax"]
# Notices a redirect may ask a page to show (by key, never free text from a URL).
NOTICES = frozenset(
    {
        "started",
        "already_running",
        "not_allowed",
        "unavailable",
        "created",
        "extracting",
        "saved",
        "approved",
        "approved_page",
        "signed_out",
    }
)


def section_notices(section: str, keys: frozenset[str]) -> frozenset[str]:
    """A page section's notices, as its redirects name them (`<section>_<key>`): a page
    that shows the section passes them to `render` (`notices=`)."""
    return frozenset(f"{section}_{key}" for key in keys)


class SignInRequired(Exception):
    """No valid session: the handler redirects to the sign-in page."""


class CsrfRefused(Exception):
    """A post without this session's CSRF token (or from another origin)."""


def signer_of(request: Request) -> SessionSigner:
    tokens: TokenRegistry = request.app.state.tokens
    return SessionSigner(tokens.signing_key())


@dataclass(frozen=True)
class Visit:
    """The signed-in teacher, as a page sees them."""

    request: Request
    session: Session
    csrf: str

    @property
    def user_id(self) -> str:
        return self.session.user_id

    async def form(self) -> FormData:
        """The posted form, after checking its CSRF token and origin."""
        # Any part the body limit lets through is read, so an over-long textarea gets the
        # form's own "at most ... characters" next to it, not Starlette's bare 400 at 1 MiB.
        form = await self.request.form(max_part_size=MAX_BODY_BYTES)
        token = form.get("csrf_token")
        same_origin = _same_origin(self.request)
        signer = signer_of(self.request)
        if not same_origin or not signer.csrf_ok(self.session.nonce, str(token or "")):
            raise CsrfRefused
        return form


def public_origin(request: Request) -> str:
    """`scheme://host[:port]` as teachers' browsers see the API: PUBLIC_URL when set, else
    the request's own view (behind a trusted proxy, uvicorn has already put the forwarded
    scheme and client in it)."""
    public: str | None = request.app.state.settings.public_url
    url = urlsplit(public) if public else urlsplit(str(request.base_url))
    return f"{url.scheme}://{url.netloc}".lower()


def _same_origin(request: Request) -> bool:
    # Browsers send Origin on every POST; a different one is another site's form.
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return origin.rstrip("/").lower() == public_origin(request)


async def visit(request: Request) -> Visit:
    """Dependency: the signed-in teacher, or a redirect to the sign-in page."""
    signer = signer_of(request)
    session = signer.read(request.cookies.get(SESSION_COOKIE))
    if session is None or not _known(request, session):
        raise SignInRequired
    if await session_ended(request.app.state.engine, session.nonce):
        raise SignInRequired  # signed out: a copy of the cookie is no session
    return Visit(request=request, session=session, csrf=signer.csrf_for(session.nonce))


def _known(request: Request, session: Session) -> bool:
    """An API-token user still in API_TOKENS, or a teacher signed in with Canvas (while
    Sign in with Canvas is configured)."""
    if session.via_canvas:
        return session.user_id.startswith("canvas-") and oauth_configured(
            request.app.state.settings
        )
    tokens: TokenRegistry = request.app.state.tokens
    return tokens.has_user(session.user_id)


# A page parameter of this type: the signed-in teacher's visit (else the sign-in page).
Signed = Annotated[Visit, Depends(visit)]


def check_same_origin(request: Request) -> None:
    if not _same_origin(request):
        raise CsrfRefused


async def owned_quiz(visit: Visit, quiz_id: uuid.UUID) -> repo.QuizRecord:
    return await owned_quiz_of(visit.request.app.state.engine, quiz_id, visit.user_id)


def language_of(request: Request, quiz_language: Language | None = None) -> Language:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return pick_language(chosen, quiz_language, request.headers.get("accept-language"))


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    language: Language | None = None,
    status_code: int = 200,
    visit: Visit | None = None,
    notices: frozenset[str] = frozenset(),
) -> HTMLResponse:
    """The page (`notices`: the notices it shows besides the shared `NOTICES`)."""
    lang = language or language_of(request)
    notice = request.query_params.get("notice")
    t = Translator(lang)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "lang": lang.value,
            "visit": visit,
            "csrf": visit.csrf if visit else None,
            "notice": t(f"notice.{notice}") if notice in NOTICES | notices else None,
            "prefix": PREFIX,
            "switch_to": lambda code: _switch_language(request, code),
            **context,
        },
        status_code=status_code,
        headers=_SECURITY_HEADERS,
    )
    chosen = request.query_params.get("lang")
    if chosen in (Language.ENGLISH.value, Language.NORWEGIAN.value):
        set_cookie(request, response, LANG_COOKIE, str(chosen), max_age=365 * 24 * 3600)
    return response


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int,
    samesite: SameSite = "strict",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite=samesite,
        # Over https (as the browser sees it), the cookie never travels in clear.
        secure=public_origin(request).startswith("https://"),
    )


def delete_cookie(
    request: Request, response: Response, name: str, *, samesite: SameSite = "strict"
) -> None:
    """Expire a cookie with the attributes it was set with (Secure over https included)."""
    response.delete_cookie(
        name,
        path=PREFIX,
        httponly=True,
        samesite=samesite,
        secure=public_origin(request).startswith("https://"),
    )


def redirect(path: str, notice: str | None = None) -> RedirectResponse:
    """A 303 to another page (after a post), optionally with a notice to show there."""
    if notice:
        path += ("&" if "?" in path else "?") + f"notice={notice}"
    return RedirectResponse(path, status_code=303)


def _switch_language(request: Request, code: str) -> str:
    """This page's own address (filters, page) in the other language; a notice is not
    repeated."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "notice")]
    return "?" + urlencode([*params, ("lang", code)])


def page_number(raw: str) -> int:
    """A list page's number from its query (`?page=`): junk is page 1, as a pager never
    sends it; a number past the last page is taken down to it by the caller."""
    return max(1, min(int(raw), 100_000)) if raw.strip().isdecimal() else 1

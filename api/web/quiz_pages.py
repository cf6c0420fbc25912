"""Pages: sign in and out, the quiz list, the new-quiz form, and a quiz with live progress."""

from __future__ import annotations

import re
import secrets
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from api.content_lifecycle import create_with_sources
from api.errors import Conflict
from api.lifecycle import create_quiz, current_progress, trigger_generation
from api.limits import MAX_BODY_BYTES
from api.routes.exports import Included, qti_download
from api.throttle import FailureThrottle
from api.web.content_pages import NOTICES as CONTENT_NOTICES
from api.web.content_pages import canvas_start_url, content_context
from api.web.export_pages import NOTICES as EXPORT_NOTICES
from api.web.export_pages import export_context
from api.web.forms import (
    FORM_ERROR,
    QUIZ_FORM_MAX_FIELDS,
    QUIZ_FORM_MAX_FILES,
    ModuleInput,
    QuizForm,
    read_quiz_form,
)
from api.web.i18n import Translator
from api.web.oauth_pages import sign_out_of_canvas
from api.web.pages import (
    PREFIX,
    Signed,
    Visit,
    check_same_origin,
    delete_cookie,
    language_of,
    owned_quiz,
    page_number,
    redirect,
    render,
    set_cookie,
    signer_of,
)
from api.web.presenters import quiz_view
from api.web.session import PRE_SESSION_COOKIE, SESSION_COOKIE, SESSION_SECONDS
from quizgen.canvas.oauth import oauth_configured
from quizgen.db import repository as repo
from quizgen.db import review
from quizgen.db.review_changes import review_counts
from quizgen.db.sessions import end_session
from quizgen.domain import (
    MAX_BATCHES_PER_MODULE,
    MAX_MODULE_CONTENT_CHARS,
    MAX_MODULES,
    MAX_QUESTIONS_PER_BATCH,
    MAX_QUIZ_CONTENT_CHARS,
    Difficulty,
    Language,
    QuestionType,
    QuizStatus,
    Tone,
)
from quizgen.errors import TemporalUnavailableError
from quizgen.temporal_client import TemporalGateway

router = APIRouter(prefix=PREFIX, include_in_schema=False)

QUIZZES_PER_PAGE = 20


@router.get("")
@router.get("/")
async def home() -> RedirectResponse:
    return redirect(f"{PREFIX}/quizzes")


# --- signing in and out ------------------------------------------------------------------------


# What `secrets.token_urlsafe(16)` makes.
_NONCE = re.compile(r"[A-Za-z0-9_-]{22}")


def _sign_in_page(request: Request, *, error: str | None, status_code: int = 200) -> Response:
    # The browser's pre-session nonce is kept while it lasts: a sign-in form opened in a
    # second tab (or reloaded) must not turn the first one's CSRF token stale.
    current = request.cookies.get(PRE_SESSION_COOKIE, "")
    nonce = current if _NONCE.fullmatch(current) else secrets.token_urlsafe(16)
    context = {
        "error": error,
        "signin_csrf": signer_of(request).csrf_for(nonce),
        "canvas_sign_in": oauth_configured(request.app.state.settings),
    }
    response = render(request, "sign_in.html", context, status_code=status_code)
    set_cookie(request, response, PRE_SESSION_COOKIE, nonce, max_age=3600)
    return response


def _throttle(request: Request) -> FailureThrottle:
    """The app's sign-in throttle (one per API process)."""
    state = request.app.state
    if not hasattr(state, "sign_in_throttle"):
        state.sign_in_throttle = FailureThrottle()
    throttle: FailureThrottle = state.sign_in_throttle
    return throttle


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    return _sign_in_page(request, error=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    check_same_origin(request)
    form = await request.form()
    t = Translator(language_of(request))
    signer = signer_of(request)
    if not signer.csrf_ok(request.cookies.get(PRE_SESSION_COOKIE), str(form.get("csrf_token"))):
        return _sign_in_page(request, error=t("signin.expired"), status_code=403)
    throttle = _throttle(request)
    client = request.client.host if request.client else "unknown"
    if throttle.blocked(client):
        return _sign_in_page(request, error=t("signin.throttled"), status_code=429)
    user = request.app.state.tokens.user_for(str(form.get("token") or "").strip())
    if user is None:
        throttle.failed(client)
        return _sign_in_page(request, error=t("signin.refused"), status_code=401)
    _, cookie = signer.issue(user)
    response = redirect(f"{PREFIX}/quizzes")
    set_cookie(request, response, SESSION_COOKIE, cookie, max_age=SESSION_SECONDS)
    delete_cookie(request, response, PRE_SESSION_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out(signed: Signed) -> Response:
    await signed.form()
    session = signed.session
    if session.via_canvas:
        # Signed in with Canvas: revoke the token at Canvas and forget it here.
        await sign_out_of_canvas(signed.request, session.user_id)
    await end_session(signed.request.app.state.engine, session.nonce, session.expires_at)
    response = redirect(f"{PREFIX}/sign-in", "signed_out")
    delete_cookie(signed.request, response, SESSION_COOKIE)
    return response


# --- the quiz list and the new-quiz form ------------------------------------------------------


@router.get("/quizzes")
async def quiz_list(request: Request, signed: Signed, page: str = "1") -> HTMLResponse:
    number = page_number(page)

    async def listed(number: int) -> tuple[list[review.QuizSummary], int]:
        return await review.list_quizzes(
            request.app.state.engine,
            signed.user_id,
            offset=(number - 1) * QUIZZES_PER_PAGE,
            limit=QUIZZES_PER_PAGE,
        )

    summaries, count = await listed(number)
    pages = max(1, -(-count // QUIZZES_PER_PAGE))
    if number > pages:  # past the end (a stale link): the last page
        number = pages
        summaries, count = await listed(number)
    context = {
        "quizzes": summaries,
        "page": number,
        "pages": pages,
        "count": count,
        "page_url": lambda n: f"{PREFIX}/quizzes?page={n}",
    }
    return render(request, "quizzes.html", context, visit=signed)


def _new_quiz_page(
    request: Request,
    signed: Signed,
    form: QuizForm,
    status_code: int = 200,
    canvas_url: str | None = None,
) -> HTMLResponse:
    context = {
        "canvas_url": canvas_url,  # "New quiz from Canvas" (content_pages)
        "form": form,
        "form_error": FORM_ERROR,
        "languages": list(Language),
        "tones": list(Tone),
        "types": list(QuestionType),
        "difficulties": list(Difficulty),
        "limits": {
            "modules": MAX_MODULES,
            "batches": MAX_BATCHES_PER_MODULE,
            "count": MAX_QUESTIONS_PER_BATCH,
            "content": MAX_MODULE_CONTENT_CHARS,
            "quiz": MAX_QUIZ_CONTENT_CHARS,
        },
    }
    return render(request, "quiz_new.html", context, visit=signed, status_code=status_code)


@router.get("/quizzes/new")
async def new_quiz_form(request: Request, signed: Signed) -> HTMLResponse:
    canvas_url = await canvas_start_url(request, signed)
    return _new_quiz_page(request, signed, QuizForm(), canvas_url=canvas_url)


async def _read_new_quiz_form(signed: Visit) -> FormData | None:
    """The posted new-quiz form, parsed with room for the largest quiz and no more (None
    when it has more fields or files); CSRF token and origin checked."""
    check_same_origin(signed.request)  # another site's post is refused before it is parsed
    try:
        # Parsed (and cached on the request) within the form's own bounds; `signed.form()`
        # then checks the token of this same form.
        await signed.request.form(
            max_fields=QUIZ_FORM_MAX_FIELDS,
            max_files=QUIZ_FORM_MAX_FILES,
            max_part_size=MAX_BODY_BYTES,
        )
    except HTTPException as exc:
        # Starlette's words for a form over max_fields / max_files; other unreadable
        # posts keep their 400.
        if exc.status_code == 400 and str(exc.detail).startswith("Too many"):
            return None
        raise
    return await signed.form()


@router.post("/quizzes/new")
async def new_quiz(request: Request, signed: Signed) -> Response:
    posted = await _read_new_quiz_form(signed)
    if posted is None:
        context = {"message_key": "error.too_many_fields"}
        return render(request, "error.html", context, status_code=413, visit=signed)
    t = Translator(language_of(request))
    try:
        form = await read_quiz_form(posted, t)
    finally:
        await posted.close()  # uploaded files are spooled to disk
    if FORM_ERROR in form.errors:  # more modules than a quiz may have, whatever the action
        return _new_quiz_page(request, signed, form, status_code=422)
    action = str(posted.get("action") or "create")
    if action == "add_module":
        if len(form.modules) < MAX_MODULES:
            form.modules.append(ModuleInput())
        return _new_quiz_page(request, signed, form)
    if action.startswith("remove_module-"):
        index = action.removeprefix("remove_module-")
        if index.isdigit() and int(index) < len(form.modules) and len(form.modules) > 1:
            del form.modules[int(index)]
        return _new_quiz_page(request, signed, form)
    spec = form.check(t)
    if spec is None:
        return _new_quiz_page(request, signed, form, status_code=422)
    state = request.app.state
    uploads = form.uploads(spec)
    if uploads:
        # PDFs: the quiz is created extracting their text (the page shows each file).
        quiz_id = await create_with_sources(
            state.engine, state.temporal, state.settings, signed.user_id, spec, uploads
        )
        return redirect(f"{PREFIX}/quizzes/{quiz_id}", "extracting")
    quiz_id = await create_quiz(state.engine, state.settings, signed.user_id, spec)
    return redirect(f"{PREFIX}/quizzes/{quiz_id}", "created")


# --- one quiz -----------------------------------------------------------------------------------


async def _quiz_context(request: Request, quiz: repo.QuizRecord) -> dict[str, object]:
    app = request.app
    progress = await current_progress(app.state.engine, app.state.temporal, quiz)
    view = quiz_view(
        quiz,
        progress,
        stalled=await _stalled(app.state.temporal, quiz),
        temporal_ui_url=app.state.settings.temporal_ui_url,
        namespace=app.state.settings.temporal_namespace,
    )
    counts = await review_counts(app.state.engine, quiz.id)
    return {"quiz": view, "counts": counts}


async def _stalled(temporal: TemporalGateway, quiz: repo.QuizRecord) -> bool:
    """Generating on paper, with no workflow running: the page offers the restart."""
    if quiz.status is not QuizStatus.GENERATING_QUESTIONS:
        return False
    # A workflow that answered the progress query is running: the answer is cached
    # (current_progress just asked), so a polling page costs no extra Temporal call.
    if await temporal.live_progress(quiz.id, quiz.updated_at) is not None:
        return False
    try:
        return not await temporal.is_running(quiz.id)
    except TemporalUnavailableError:
        return False  # unknown while Temporal is down: keep showing the round


@router.get("/quizzes/{quiz_id}")
async def quiz_page(request: Request, signed: Signed, quiz_id: uuid.UUID) -> HTMLResponse:
    quiz = await owned_quiz(signed, quiz_id)
    context = await _quiz_context(request, quiz)
    context.update(await content_context(request, signed, quiz))  # content from Canvas
    context.update(await export_context(request, signed, quiz))  # the Canvas export section
    language = language_of(request, quiz.spec.language)
    notices = CONTENT_NOTICES | EXPORT_NOTICES  # the sections' notices
    return render(request, "quiz.html", context, language=language, visit=signed, notices=notices)


@router.get("/quizzes/{quiz_id}/live")
async def quiz_live(request: Request, signed: Signed, quiz_id: uuid.UUID) -> HTMLResponse:
    """The part of the quiz page that changes while a round runs (polled by app.js)."""
    quiz = await owned_quiz(signed, quiz_id)
    context = await _quiz_context(request, quiz)
    language = language_of(request, quiz.spec.language)
    return render(request, "_live.html", context, language=language, visit=signed)


@router.post("/quizzes/{quiz_id}/generate")
async def generate(request: Request, signed: Signed, quiz_id: uuid.UUID) -> Response:
    await signed.form()
    page = f"{PREFIX}/quizzes/{quiz_id}"
    try:
        state = request.app.state
        await trigger_generation(
            state.engine, state.temporal, state.settings, signed.user_id, quiz_id
        )
    except Conflict:
        # A double click or a second tab: the round that runs is the answer, calmly.
        current = await repo.get_quiz(request.app.state.engine, quiz_id)
        running = current.status is QuizStatus.GENERATING_QUESTIONS
        return redirect(page, "already_running" if running else "not_allowed")
    except TemporalUnavailableError:
        return redirect(page, "unavailable")
    return redirect(page, "started")


@router.get("/quizzes/{quiz_id}/export.zip")
async def download_qti(request: Request, signed: Signed, quiz_id: uuid.UUID) -> Response:
    """The approved questions as a QTI 1.2 package (the page's download link)."""
    quiz = await owned_quiz(signed, quiz_id)
    return await qti_download(request.app.state.engine, quiz, Included.APPROVED)

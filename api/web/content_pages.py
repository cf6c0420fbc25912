"""Content in from Canvas, as pages: "New quiz from Canvas" (a course, then its modules'
pages and PDFs), the quiz page's "Content from Canvas" section (each item's extraction, live;
retry the failed ones) and a module's text (preview, trim, paste). Lists come from
`api.routes.canvas.courses` / `api.routes.canvas_content.course_modules`, changes go through
`api.content_lifecycle`; what they refuse becomes a notice or a field error."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import FormData

from api import content_lifecycle as lifecycle
from api.errors import APIError, Conflict, NotFound
from api.routes.canvas_content import CanvasModulePublic, ModuleTextUpdate, course_modules
from api.web.canvas_courses import MAX_COURSE_ID_CHARS, Answer, ask_canvas, teacher_courses
from api.web.canvas_courses import course_id as _course_id
from api.web.forms import (
    FORM_ERROR,
    BatchInput,
    batch_bodies,
    form_text,
    quiz_field,
    read_batches,
)
from api.web.i18n import Translator
from api.web.pages import (
    PREFIX,
    Signed,
    Visit,
    language_of,
    owned_quiz,
    redirect,
    render,
    section_notices,
)
from quizgen.db import canvas_connections as connections
from quizgen.db import repository as repo
from quizgen.db import sources
from quizgen.domain import (
    MAX_BATCHES_PER_MODULE,
    MAX_MODULE_CONTENT_CHARS,
    MAX_QUESTIONS_PER_BATCH,
    Difficulty,
    Language,
    QuestionType,
    QuizStatus,
    Tone,
)
from quizgen.errors import (
    TemporalUnavailableError,
)
from quizgen.module_ids import unique_module_ids

__all__ = ["NOTICES", "canvas_start_url", "content_context", "router"]

router = APIRouter(prefix=PREFIX, include_in_schema=False)

NEW = f"{PREFIX}/quizzes/new/canvas"
_EDITABLE = frozenset({QuizStatus.CREATED, QuizStatus.FAILED})
# The notices this section's posts redirect with (`content_` + key), shown by the quiz page.
NOTICES = section_notices(
    "content",
    frozenset(
        {"retried", "nothing_to_retry", "not_allowed", "running", "unavailable", "text_saved"}
    ),
)


async def canvas_start_url(request: Request, visit: Visit) -> str | None:
    """Where the new-quiz page's Canvas link goes: the picker when connected, else the
    Canvas page (coming back to the picker); None when Canvas is not set up."""
    state = request.app.state
    if not state.settings.canvas_configured:
        return None
    if await connections.get_connection(state.engine, visit.user_id) is None:
        return f"{PREFIX}/canvas?next={NEW}"
    return NEW


# --- New quiz from Canvas ------------------------------------------------------------------


@dataclass
class ModulePick:
    """One of the course's modules on the form: its items and what the teacher chose."""

    canvas: CanvasModulePublic
    name: str
    picked: set[str] = field(default_factory=set)
    batches: list[BatchInput] = field(
        default_factory=lambda: [BatchInput() for _ in range(MAX_BATCHES_PER_MODULE)]
    )


@dataclass
class CanvasForm:
    course_id: str = ""
    course_name: str = ""
    title: str = ""
    language: str = "en"
    tone: str = "academic"
    modules: list[ModulePick] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def item_key(item: Any) -> str:
    """A module item's form value: `Page:<page_url>` or `File:<file_id>`."""
    return f"{item.type}:{item.page_url if item.type == 'Page' else item.file_id}"


def size_text(size: int) -> str:
    """`1.2 MB`, `3.4 kB`, `512 B`."""
    if size < 1024:
        return f"{size} B"
    return f"{size / 1024:.1f} kB" if size < 1024**2 else f"{size / 1024**2:.1f} MB"


def _page(
    request: Request, signed: Visit, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    fixed = {"max_count": MAX_QUESTIONS_PER_BATCH, "form_error": FORM_ERROR, "item_key": item_key}
    choices = {"languages": list(Language), "tones": list(Tone), "types": list(QuestionType)}
    context = {**choices, **fixed, "difficulties": list(Difficulty), "size": size_text, **context}
    return render(request, "quiz_new_canvas.html", context, visit=signed, status_code=status_code)


async def _listed(request: Request, signed: Visit, course_id: str | None) -> dict[str, Any]:
    """The picker's context: the courses (no course yet) or the course's modules."""
    t = Translator(language_of(request))
    state = request.app.state
    if not state.settings.canvas_configured:
        return {"problem": t("content.not_configured")}
    if await connections.get_connection(state.engine, signed.user_id) is None:
        return {"problem": t("content.not_connected"), "connect": True}
    words = {"refused": "content.token_refused", "unavailable": "content.unavailable"}
    # The course's name comes from the course list (read once per request).
    listed = await teacher_courses(request, signed.user_id, t, **words)
    if listed.found is None:
        return _problem(listed)
    if course_id is None:
        return {"courses": listed.found}
    found = course_modules(course_id, signed.user_id, state.engine, state.settings)
    modules = await ask_canvas(found, t, **words)
    if modules.found is None:
        return _problem(modules)
    names = {c.id: c.name for c in listed.found}
    form = CanvasForm(
        course_id=course_id,
        course_name=names.get(course_id, course_id),
        modules=[ModulePick(canvas=m, name=m.name) for m in modules.found],
    )
    return {"form": form}


def _problem(answer: Answer[Any]) -> dict[str, Any]:
    """Why Canvas did not answer; when it refused the saved token, a link to connect again."""
    refused = answer.token_refused
    return {"problem": answer.problem, "connect": refused, "reconnect": refused}


@router.get("/quizzes/new/canvas")
async def new_from_canvas(request: Request, signed: Signed, course: str = "") -> HTMLResponse:
    # The link's length is checked before the blanks are dropped (a post's after).
    course_id = _course_id(course) if len(course) <= MAX_COURSE_ID_CHARS else None
    return _page(request, signed, await _listed(request, signed, course_id))


def _read(form: CanvasForm, posted: FormData) -> None:
    form.title = form_text(posted, "title")
    form.language = form_text(posted, "language", "en")
    form.tone = form_text(posted, "tone", "academic")
    for m, module in enumerate(form.modules):
        module.name = form_text(posted, f"modules-{m}-name", module.canvas.name)
        keys = {item_key(i) for i in module.canvas.items if i.supported}
        chosen = {str(v) for v in posted.getlist(f"modules-{m}-items")}
        module.picked = chosen & keys
        if chosen - keys:
            form.errors[f"modules-{m}-items"] = "unknown"
        read_batches(posted, m, module.batches)


def _body(form: CanvasForm, t: Translator) -> lifecycle.CanvasQuizCreate | None:
    """The API's body for the chosen modules, or None with `form.errors` filled in."""
    for name in [k for k, v in form.errors.items() if v == "unknown"]:
        form.errors[name] = t("content.unknown_item")
    chosen = [(m, module) for m, module in enumerate(form.modules) if module.picked]
    if not chosen:
        form.errors[FORM_ERROR] = t("content.no_items")
        return None
    ids = unique_module_ids(module.name for _, module in chosen)
    rows: dict[tuple[int, int], int] = {}
    picks = []
    for n, (m, module) in enumerate(chosen):
        batches = batch_bodies(module.batches, m, n, rows, form.errors, t)
        items = [_pick(i) for i in module.canvas.items if item_key(i) in module.picked]
        picks.append({"module_id": ids[n], "name": module.name, "items": items, "batches": batches})
    body = {"title": form.title, "language": form.language, "tone": form.tone}
    try:
        spec = lifecycle.CanvasQuizCreate.model_validate(
            {**body, "course_id": form.course_id, "modules": picks}
        )
    except ValidationError as exc:
        form_modules = [m for m, _ in chosen]
        for error in exc.errors():
            field_name = quiz_field(error["loc"], rows, form_modules)
            form.errors.setdefault(field_name, t.problem(error))
        return None
    return None if form.errors else spec


def _pick(item: Any) -> dict[str, object]:
    ref = "page_url" if item.type == "Page" else "file_id"
    return {"type": item.type, ref: getattr(item, ref), "title": item.title[:255] or None}


@router.post("/quizzes/new/canvas")
async def create_from_canvas(request: Request, signed: Signed) -> Response:
    posted = await signed.form()
    t = Translator(language_of(request))
    course_id = _course_id(posted.get("course_id"))
    context = await _listed(request, signed, course_id)
    form = context.get("form")
    if not isinstance(form, CanvasForm):  # no course, or Canvas cannot list it now
        return _page(request, signed, context, status_code=422 if course_id is None else 409)
    _read(form, posted)
    body = _body(form, t)
    if body is None:
        return _page(request, signed, context, status_code=422)
    state = request.app.state
    try:
        quiz_id = await lifecycle.create_from_canvas(
            state.engine, state.temporal, state.settings, signed.user_id, body
        )
    except APIError as err:
        form.errors[FORM_ERROR] = t("content.create_failed", reason=err.message)
        return _page(request, signed, context, status_code=409)
    except TemporalUnavailableError:
        form.errors[FORM_ERROR] = t("content.temporal_down")
        return _page(request, signed, context, status_code=503)
    return redirect(f"{PREFIX}/quizzes/{quiz_id}", "extracting")


# --- the quiz page's section ---------------------------------------------------------------


@dataclass(frozen=True)
class ContentPanel:
    quiz_id: uuid.UUID
    modules: list[dict[str, object]]
    active: bool
    extracted: int
    failed: int
    total: int
    can_retry: bool
    reconnect: bool
    editable: bool


async def _module_states(
    engine: AsyncEngine, quiz_id: uuid.UUID
) -> dict[str, sources.ContentState]:
    """The quiz's modules' text states, as `GET /quizzes/{id}/sources` reads them (a module
    not in it is `ready`)."""
    async with engine.connect() as conn:
        return await sources.module_states_in(conn, quiz_id)


async def _panel(engine: AsyncEngine, quiz: repo.QuizRecord) -> ContentPanel | None:
    # The items' extractions and the modules' states, as `GET /quizzes/{id}/sources`.
    records = await sources.list_sources(engine, quiz.id)
    if not records:
        return None
    states = await _module_states(engine, quiz.id)
    modules: list[dict[str, object]] = []  # module_id, name, state, chars, sources
    for module in quiz.spec.modules:
        items = [r for r in records if r.module_id == module.module_id]
        state = states.get(module.module_id, sources.ContentState.READY)
        if items or state is not sources.ContentState.READY:
            chars = len(module.content) if state is sources.ContentState.READY else 0
            modules.append({**module.model_dump(include={"module_id", "name"}), "sources": items})
            modules[-1].update(state=state.value, chars=chars)
    failed = sum(r.status is sources.SourceStatus.FAILED for r in records)
    return ContentPanel(
        quiz_id=quiz.id,
        modules=modules,
        active=quiz.status is QuizStatus.EXTRACTING_CONTENT,
        extracted=sum(r.status is sources.SourceStatus.EXTRACTED for r in records),
        failed=failed,
        total=len(records),
        can_retry=failed > 0 and quiz.status in _EDITABLE,
        reconnect="reconnect" in (quiz.failure_message or "").lower(),
        editable=quiz.status in _EDITABLE,
    )


async def content_context(
    request: Request, visit: Visit, quiz: repo.QuizRecord
) -> dict[str, object]:
    """The quiz page's context for this section (its notices: `NOTICES`)."""
    return {"content": await _panel(request.app.state.engine, quiz)}


@router.get("/quizzes/{quiz_id}/sources/live")
async def sources_live(request: Request, signed: Signed, quiz_id: uuid.UUID) -> HTMLResponse:
    """The section alone (polled by app.js while the quiz is extracting_content)."""
    quiz = await owned_quiz(signed, quiz_id)
    context = {"quiz_id": quiz.id, **await content_context(request, signed, quiz)}
    language = language_of(request, quiz.spec.language)
    return render(request, "_sources.html", context, language=language, visit=signed)


@router.post("/quizzes/{quiz_id}/extract")
async def retry_extraction(request: Request, signed: Signed, quiz_id: uuid.UUID) -> Response:
    await signed.form()
    await owned_quiz(signed, quiz_id)
    page = f"{PREFIX}/quizzes/{quiz_id}"
    state = request.app.state
    try:
        await lifecycle.retry_extraction(state.engine, state.temporal, signed.user_id, quiz_id)
    except Conflict as err:
        if "nothing to retry" in err.message:
            return redirect(page, "content_nothing_to_retry")
        running = "already running" in err.message
        return redirect(page, "content_running" if running else "content_not_allowed")
    except TemporalUnavailableError:
        return redirect(page, "content_unavailable")
    return redirect(page, "content_retried")


# --- a module's text -----------------------------------------------------------------------


async def _text_page(
    signed: Visit, quiz: repo.QuizRecord, module_id: str, text: str | None, error: str | None
) -> HTMLResponse:
    request = signed.request
    module = next((m for m in quiz.spec.modules if m.module_id == module_id), None)
    if module is None:
        raise NotFound(f"the quiz has no module {module_id!r}")
    states = await _module_states(request.app.state.engine, quiz.id)
    state = states.get(module_id, sources.ContentState.READY)
    if text is None:
        text = module.content if state is sources.ContentState.READY else ""
    editable = quiz.status in _EDITABLE and state is not sources.ContentState.EXTRACTING
    locked = quiz.status not in _EDITABLE and quiz.status is not QuizStatus.EXTRACTING_CONTENT
    context = dict(quiz_id=quiz.id, module=module, state=state.value, text=text)
    context.update(
        error=error, editable=editable, locked=locked, max_chars=MAX_MODULE_CONTENT_CHARS
    )
    language = language_of(request, quiz.spec.language)
    page = render(request, "module_text.html", context, language=language, visit=signed)
    page.status_code = 422 if error else 200
    return page


@router.get("/quizzes/{quiz_id}/modules/{module_id}/text")
async def module_text(signed: Signed, quiz_id: uuid.UUID, module_id: str) -> HTMLResponse:
    return await _text_page(signed, await owned_quiz(signed, quiz_id), module_id, None, None)


@router.post("/quizzes/{quiz_id}/modules/{module_id}/text")
async def save_module_text(
    request: Request, signed: Signed, quiz_id: uuid.UUID, module_id: str
) -> Response:
    posted = await signed.form()
    quiz = await owned_quiz(signed, quiz_id)
    text = str(posted.get("content") or "")
    t = Translator(language_of(request))
    try:
        checked = ModuleTextUpdate(content=text).content
    except ValidationError as exc:
        return await _text_page(signed, quiz, module_id, text, t.problem(exc.errors()[0]))
    try:
        await lifecycle.set_module_text(
            request.app.state.engine, signed.user_id, quiz_id, module_id, checked
        )
    except Conflict:
        return redirect(f"{PREFIX}/quizzes/{quiz_id}", "content_not_allowed")
    return redirect(f"{PREFIX}/quizzes/{quiz_id}", "content_text_saved")

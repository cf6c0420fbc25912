"""The review pages: server-rendered HTML for teachers, served by the API under `/ui`.

session.py         signed session cookies and CSRF tokens
pages.py           what every page shares: the signed-in visit, rendering, redirects
i18n.py            the pages' words in English and Norwegian
forms.py           reading and checking the new-quiz and question-edit forms
presenters.py      what a quiz page shows (batch rows, the button that fits the state)
quiz_pages.py      sign-in/out, quiz list, new quiz, quiz page with live progress
question_pages.py  question review: filter, approve, edit
canvas_pages.py    connect Canvas with an access token, see as whom, disconnect
oauth_pages.py     Sign in with Canvas (OAuth2): start, callback, sign-out revocation
i18n_oauth.py      Sign in with Canvas's words (merged into i18n.py's)
i18n_canvas.py     the Canvas page's words (merged into i18n.py's)
content_pages.py   new quiz from Canvas pages/PDFs, the quiz page's extraction section, module text
i18n_content.py    the content pages' words (merged into i18n.py's)
export_pages.py    the quiz page's Canvas export: course picker, live progress, retry/undo
i18n_export.py     the export section's words (merged into i18n.py's)
errors.py          error pages for /ui paths
templates/, static/  Jinja2 templates, CSS and JavaScript (no build step, no CDN)
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import (
    canvas_pages,
    content_pages,
    export_pages,
    oauth_pages,
    question_pages,
    quiz_pages,
)
from api.web.errors import install_page_errors
from api.web.pages import PREFIX

__all__ = ["install_pages"]


def install_pages(app: FastAPI) -> None:
    app.include_router(content_pages.router)  # before quiz_pages: /quizzes/new/canvas
    app.include_router(quiz_pages.router)
    app.include_router(question_pages.router)
    app.include_router(canvas_pages.router)
    app.include_router(export_pages.router)
    app.include_router(oauth_pages.router)
    static = StaticFiles(directory=Path(__file__).parent / "static")
    app.mount(f"{PREFIX}/static", static, name="ui-static")
    install_page_errors(app)

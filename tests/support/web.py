"""Driving the review pages over HTTP in tests: signing in, reading CSRF tokens and
errors, posting the new-quiz form, and quizzes with one saved question of each type."""

from __future__ import annotations

import html
import re
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from quizgen.db import repository as repo
from quizgen.domain import BatchSpec, Language, ModuleSpec, QuestionType, QuizSpec
from tests.support.batches import ref, save_questions

__all__ = [
    "CAROL",
    "QUESTIONS",
    "SAMPLE",
    "client_engine",
    "create_through_form",
    "csrf_of",
    "error_for",
    "new_quiz_page",
    "quiz_form",
    "quiz_with_questions",
    "sign_in",
    "version_in",
]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token on {page.url}"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Sign in through the form; returns the sign-in post's response (a 303 when accepted)."""
    form = await client.get("/ui/sign-in")
    assert form.status_code == 200, form.text
    return await client.post(
        "/ui/sign-in", data={"token": token, "csrf_token": csrf_of(form)}, follow_redirects=False
    )


_VERSION = re.compile(r'name="version" value="([^"]*)"')


def version_in(page: httpx.Response) -> str:
    """The question version an edit or approve form on the page was rendered with (the first)."""
    match = _VERSION.search(page.text)
    assert match, f"no question version on {page.url}"
    return match.group(1)


def error_for(page: httpx.Response, field: str) -> str | None:
    """The inline error shown next to a form field (by its `{field}-error` id), or None."""
    match = re.search(rf'id="{re.escape(field)}-error">([^<]*)<', page.text)
    return html.unescape(match.group(1)) if match else None


# One valid question of each type, for review pages that need saved questions.
QUESTIONS = {
    "multiple_choice": {
        "question_text": "Which organelle carries out photosynthesis?",
        "option_a": "Chloroplast",
        "option_b": "Mitochondrion",
        "option_c": "Nucleus",
        "option_d": "Ribosome",
        "correct_answer": "A",
        "explanation": "Chloroplasts hold chlorophyll.",
    },
    "true_false": {
        "question_text": "Photosynthesis releases oxygen.",
        "correct_answer": True,
        "explanation": "Water is split and oxygen released.",
    },
    "fill_in_blank": {
        "question_text": "Plants take in [blank_1] and release [blank_2].",
        "blanks": [
            {"position": 1, "correct_answer": "carbon dioxide", "answer_variations": ["CO2"]},
            {"position": 2, "correct_answer": "oxygen"},
        ],
    },
    "matching": {
        "question_text": "Match each stage to where it happens.",
        "pairs": [
            {"question": "Light reactions", "answer": "Thylakoid membrane"},
            {"question": "Calvin cycle", "answer": "Stroma"},
            {"question": "Glycolysis", "answer": "Cytoplasm"},
        ],
        "distractors": ["Nucleus"],
    },
    "categorization": {
        "question_text": "Sort these into inputs and outputs of photosynthesis.",
        "categories": [
            {"id": "in", "name": "Inputs", "correct_items": ["co2", "water"]},
            {"id": "out", "name": "Outputs", "correct_items": ["o2", "glucose"]},
        ],
        "items": [
            {"id": "co2", "text": "Carbon dioxide"},
            {"id": "water", "text": "Water"},
            {"id": "o2", "text": "Oxygen"},
            {"id": "glucose", "text": "Glucose"},
        ],
    },
}


CAROL = "carol-token-0123456789"

SAMPLE = "Photosynthesis turns light into chemical energy. Chloroplasts hold chlorophyll."


def quiz_form(csrf: str, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "title": "Plants",
        "language": "en",
        "tone": "academic",
        "modules-0-name": "Cell biology",
        "modules-0-content": SAMPLE,
        "modules-0-batches-0-question_type": "multiple_choice",
        "modules-0-batches-0-count": "3",
        "modules-0-batches-0-difficulty": "easy",
        "modules-0-batches-1-question_type": "true_false",
        "modules-0-batches-1-count": "2",
        "modules-0-batches-1-difficulty": "medium",
        "action": "create",
    }
    return {**form, **overrides}


async def new_quiz_page(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/ui/quizzes/new")
    assert page.status_code == 200, page.text
    return page


async def create_through_form(client: httpx.AsyncClient, **overrides: str) -> str:
    csrf = csrf_of(await new_quiz_page(client))
    response = await client.post("/ui/quizzes/new", data=quiz_form(csrf, **overrides))
    assert response.status_code == 303, response.text
    match = re.fullmatch(
        r"/ui/quizzes/([0-9a-f-]{36})\?notice=created", response.headers["location"]
    )
    assert match, response.headers["location"]
    return match.group(1)


def client_engine(client: httpx.AsyncClient) -> AsyncEngine:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    engine: AsyncEngine = transport.app.state.engine  # type: ignore[attr-defined]
    return engine


async def quiz_with_questions(
    engine: AsyncEngine, owner: str, language: Language = Language.ENGLISH
) -> uuid.UUID:
    # Two modules (a module holds at most four batches), one question of each type.
    modules = {"m1": list(QUESTIONS)[:3], "m2": list(QUESTIONS)[3:]}
    spec = QuizSpec(
        title="Reviewed",
        language=language,
        modules=[
            ModuleSpec(
                module_id=module_id,
                name=f"Module {module_id}",
                content=SAMPLE,
                batches=[BatchSpec(question_type=QuestionType(t), count=1) for t in types],
            )
            for module_id, types in modules.items()
        ],
    )
    quiz_id = await repo.create_quiz(engine, owner, spec)
    for module_id, types in modules.items():
        for question_type in types:
            batch = ref(module_id, QuestionType(question_type), count=1)
            await save_questions(engine, quiz_id, batch, [QUESTIONS[question_type]])
    return quiz_id

"""Driving the review pages over HTTP in tests: signing in, reading CSRF tokens and errors."""

from __future__ import annotations

import html
import re

import httpx

__all__ = ["QUESTIONS", "csrf_of", "error_for", "sign_in"]

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

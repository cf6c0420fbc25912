"""What the review pages' posts share: the version a form was based on, and where to go back."""

from __future__ import annotations

import uuid

from api.web.pages import PREFIX

__all__ = ["back_to", "questions_url", "version_of"]


def version_of(posted: object) -> frozenset[int] | None:
    """The versions a posted form was based on: None without one (no check); a value
    that is no version matches nothing."""
    raw = str(posted or "").strip()
    if not raw:
        return None
    return (
        frozenset({int(raw)})
        if raw.isdecimal() and raw.isascii() and len(raw) <= 10
        else frozenset()
    )


def questions_url(quiz_id: uuid.UUID, query: str = "") -> str:
    return f"{PREFIX}/quizzes/{quiz_id}/questions" + (f"?{query}" if query else "")


def back_to(quiz_id: uuid.UUID, posted: object) -> str:
    """Where to return after a post: the review page with its filters, never elsewhere."""
    base = questions_url(quiz_id)
    back = str(posted or "")
    return back if back == base or back.startswith(base + "?") else base

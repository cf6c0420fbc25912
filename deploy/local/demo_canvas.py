"""The demo's last step: the quiz to a Canvas stand-in (`POST /quizzes/{id}/export`) and to
a QTI package (`GET /quizzes/{id}/export.zip`).

The stand-in (`deploy.local.canvas.CanvasStandIn`) serves in the demo's own event loop,
so it lives only while the demo runs; the worker and API processes reach it through
`CANVAS_BASE_URL` (`canvas_env`), with the Fernet key that encrypts the teacher's Canvas
token kept in `.quizgen/demo-canvas-key` (made once, like the demo's API token).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography.fernet import Fernet

from deploy.local.canvas import CanvasStandIn
from deploy.local.paths import STATE_DIR, secret_file

__all__ = [
    "CANVAS_KEY_FILE",
    "QTI_FILE",
    "DemoCanvas",
    "canvas_env",
    "export_demo_quiz",
    "poll_printing",
]

T = TypeVar("T")

CANVAS_KEY_FILE = STATE_DIR / "demo-canvas-key"
QTI_FILE = STATE_DIR / "demo-quiz-qti.zip"
EXPORT_SECONDS = 120
_ENDED = {"published", "failed", "cancelled"}


@dataclass
class DemoCanvas:
    """The stand-in with a course and its teacher (whose Canvas token the demo connects)."""

    canvas: CanvasStandIn
    course: int
    teacher_token: str


def canvas_key() -> str:
    """The demo's CANVAS_TOKEN_KEYS (`.quizgen/demo-canvas-key`), made once."""
    return secret_file(CANVAS_KEY_FILE, lambda: Fernet.generate_key().decode())


def canvas_env(demo: DemoCanvas) -> dict[str, str]:
    """What the worker and API processes need to reach the stand-in."""
    return {"CANVAS_BASE_URL": demo.canvas.base_url, "CANVAS_TOKEN_KEYS": canvas_key()}


def set_up(canvas: CanvasStandIn) -> DemoCanvas:
    course = canvas.add_course("Biology 101", "BIO101")
    token = canvas.add_user("Ada Teacher", teacher_of=[course])
    return DemoCanvas(canvas, course, token)


def _checked(response: httpx.Response, what: str, *ok: int) -> Any:
    if response.status_code not in (ok or (200,)):
        raise RuntimeError(f"{what} answered {response.status_code}: {response.text[:300]}")
    return response.json() if response.content else None


def _checked_bytes(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"GET export.zip answered {response.status_code}: {response.text[:300]}")


async def _approve_all(api: httpx.AsyncClient, quiz_id: str) -> int:
    base = f"/quizzes/{quiz_id}/questions"
    page = _checked(await api.get(base, params={"limit": 200}), "GET questions")
    approved = 0
    for question in page["data"]:
        if question["review_status"] != "approved":
            _checked(await api.post(f"{base}/{question['id']}/approve"), "approve")
            approved += 1
    return approved


async def poll_printing(
    fetch: Callable[[], Awaitable[T]], line: Callable[[T], str], done: Callable[[T], bool]
) -> T:
    """`fetch()` every 0.2 s until `done`; print its `line` whenever that changes."""
    last = ""
    while True:
        current = await fetch()
        shown = line(current)
        if shown != last:
            print(shown, flush=True)
            last = shown
        if done(current):
            return current
        await asyncio.sleep(0.2)


async def _wait_for_export(api: httpx.AsyncClient, quiz_id: str) -> dict[str, Any]:
    async def fetch() -> dict[str, Any]:
        view: dict[str, Any] = _checked(await api.get(f"/quizzes/{quiz_id}/export"), "GET export")
        return view

    async with asyncio.timeout(EXPORT_SECONDS):
        return await poll_printing(
            fetch,
            lambda view: f"  [{view['state']}] {view['progress']}",
            lambda view: view["state"] in _ENDED,
        )


async def export_demo_quiz(
    api: httpx.AsyncClient, demo: DemoCanvas, quiz_id: str, qti_file: Path = QTI_FILE
) -> None:
    """Connect the demo teacher, approve the questions, export to the stand-in, download
    the QTI package; prints each step."""
    print("\nCanvas: a stand-in at", demo.canvas.base_url, f"(course {demo.course}, teacher Ada)")
    connection = _checked(
        await api.put("/canvas/connection", json={"token": demo.teacher_token}),
        "PUT /canvas/connection",
    )
    print(f"PUT /canvas/connection -> connected as {connection['canvas_user']['name']}")
    approved = await _approve_all(api, quiz_id)
    print(f"POST /quizzes/{quiz_id}/questions/{{id}}/approve x {approved}")
    started = _checked(
        await api.post(f"/quizzes/{quiz_id}/export", json={"course_id": str(demo.course)}),
        "POST export",
        202,
    )
    print(f"POST /quizzes/{quiz_id}/export -> {started['state']}")
    view = await _wait_for_export(api, quiz_id)
    if view["state"] != "published":
        raise RuntimeError(f"the export ended {view['state']}: {view['message']}")
    items = demo.canvas.quiz_items(demo.course, view["canvas_quiz_id"])
    print(
        f"Published to Canvas: {view['canvas_quiz_url']}\n"
        f"  the stand-in's quiz {view['canvas_quiz_id']} holds {len(items)} items"
    )
    download = await api.get(f"/quizzes/{quiz_id}/export.zip")
    _checked_bytes(download)
    await asyncio.to_thread(qti_file.write_bytes, download.content)
    print(
        f"GET /quizzes/{quiz_id}/export.zip -> {qti_file} ({len(download.content):,} bytes, "
        "QTI 1.2: Canvas > Settings > Import Course Content)"
    )

"""A fresh Canvas stand-in per test, with a course, a teacher of it and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from deploy.local.canvas import CanvasStandIn


@dataclass
class Setup:
    canvas: CanvasStandIn
    course: int
    token: str
    http: httpx.AsyncClient


@pytest.fixture
async def canvas() -> AsyncIterator[CanvasStandIn]:
    async with CanvasStandIn() as stand_in:
        yield stand_in


@pytest.fixture
async def setup(canvas: CanvasStandIn) -> AsyncIterator[Setup]:
    course = canvas.add_course("Biology 101", "BIO101")
    token = canvas.add_user("Ada Teacher", teacher_of=[course])
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=canvas.base_url, headers=headers, timeout=10) as http:
        yield Setup(canvas, course, token, http)

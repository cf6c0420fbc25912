"""`quizgen canvas connect|status|courses|disconnect`, as subprocesses against the API served
by uvicorn, with the Canvas stand-in behind it; the Canvas token is never printed."""

from __future__ import annotations

import json

import httpx
from cryptography.fernet import Fernet

from api import create_app
from deploy.local.api import ALICE, auth, local_settings, serving
from deploy.local.canvas import CanvasStandIn
from tests.support.cli_runs import quizgen


async def test_connect_see_courses_and_disconnect_from_the_command_line(
    database_url: str,
) -> None:
    async with CanvasStandIn() as canvas:
        course = canvas.add_course("Biology [week 3]", "BIO101")
        token = canvas.add_user("Ada Teacher", teacher_of=[course])
        settings = local_settings(
            database_url=database_url,
            canvas_base_url=canvas.base_url,
            canvas_token_keys=Fernet.generate_key().decode(),
        )
        app = create_app(settings)
        async with serving(app) as api:
            async with httpx.AsyncClient(base_url=api) as http:
                await http.delete("/canvas/connection", headers=auth(ALICE))

            refused = await quizgen(api, "canvas", "connect", "--stdin", stdin=b"wrong\n")
            assert "Canvas refused this token" in refused.one_error_line()

            connected = await quizgen(
                api, "canvas", "connect", "--stdin", stdin=token.encode() + b"\n"
            )
            assert connected.code == 0, connected
            assert connected.stdout.strip() == "connected to Canvas as Ada Teacher"
            assert token not in connected.stdout + connected.stderr

            status = json.loads((await quizgen(api, "canvas", "status", "--json")).stdout)
            assert status["connected"] and status["canvas_user"]["name"] == "Ada Teacher"
            listed = await quizgen(api, "canvas", "courses")
            assert "Biology [week 3]" in listed.stdout  # shown as written, not as markup
            assert json.loads((await quizgen(api, "canvas", "courses", "--json")).stdout) == [
                {"id": str(course), "name": "Biology [week 3]", "course_code": "BIO101"}
            ]

            gone = await quizgen(api, "canvas", "disconnect")
            assert gone.stdout.strip() == "Canvas disconnected"
            after = await quizgen(api, "canvas", "status")
            assert after.stdout.strip() == "Canvas is not connected: quizgen canvas connect"

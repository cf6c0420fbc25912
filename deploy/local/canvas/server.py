"""`CanvasStandIn`: the Canvas REST API subset quizgen uses, served on 127.0.0.1 (a free port)
inside the test's own event loop, with what it holds open to the test and faults on demand."""

from __future__ import annotations

import asyncio
import copy
import secrets
import time
from collections.abc import Iterable
from typing import Any, ClassVar, Self

from starlette.applications import Starlette

from deploy.local.canvas import lms, quizzes
from deploy.local.canvas.gate import Gate, RecordedRequest
from deploy.local.canvas.oauth import OAuthRouter, OAuthStandIn
from deploy.local.canvas.state import (
    Course,
    File,
    Module,
    ModuleItem,
    Page,
    Registry,
    Token,
    User,
    next_id,
    slug,
)
from deploy.local.canvas.throttle import LeakyBuckets
from deploy.local.servers import LocalServer


def _new_token() -> str:
    # Canvas's tokens look like "<shard id>~<64 characters>".
    return f"7~{secrets.token_urlsafe(48)}"


class CanvasStandIn:
    # Every token any stand-in of this process issued: the log scan looks for them all.
    issued_tokens: ClassVar[set[str]] = set()

    def __init__(self) -> None:
        self.registry = Registry()
        self.requests: list[RecordedRequest] = []
        self.rate_limit = LeakyBuckets()
        # What each request costs on top of the time it takes (X-Request-Cost).
        self.request_cost = 1.0
        # The status of a throttled request: 403 as documented (429: the docs' other copy).
        self.throttle_status = 403
        # Every request waits this long before it is handled.
        self.latency = 0.0
        # How long a hung request waits for its client to give up.
        self.hang_seconds = 3600.0
        self.throttled_until = 0.0
        self._failures: list[int] = []
        self._hangs = 0
        self._drop_rate = 0.0
        self._drop_credit = 0.0
        self.port = 0
        self._local: LocalServer | None = None
        # OAuth2 (Sign in with Canvas): developer keys, codes, grants, revocations.
        self.oauth = OAuthStandIn(self)

    @property
    def base_url(self) -> str:
        """Canvas's root (https://<canvas>), under which /api/v1 and /api/quiz/v1 live."""
        return f"http://127.0.0.1:{self.port}"

    # -- what the test sets up

    def add_user(
        self,
        name: str,
        *,
        teacher_of: Iterable[int] = (),
        student_of: Iterable[int] = (),
        locale: str | None = None,
    ) -> str:
        """A user and an access token of theirs (returned)."""
        user = User(next_id(), name, set(teacher_of), set(student_of), locale)
        self.registry.users[user.id] = user
        return self.issue_token(user.id)

    def issue_token(self, user_id: int) -> str:
        token = Token(_new_token(), user_id)
        self.registry.tokens[token.value] = token
        CanvasStandIn.issued_tokens.add(token.value)
        return token.value

    def user(self, token: str) -> User:
        return self.registry.users[self.registry.tokens[token].user_id]

    def expire(self, token: str) -> None:
        self.registry.tokens[token].expired = True

    def add_course(self, name: str, course_code: str | None = None) -> int:
        course = Course(next_id(), name, course_code or name[:12].upper())
        self.registry.courses[course.id] = course
        return course.id

    def enrol(self, token: str, course_id: int, *, teacher: bool = True) -> None:
        user = self.user(token)
        (user.teacher_of if teacher else user.student_of).add(course_id)

    def add_module(self, course_id: int, name: str) -> int:
        module = Module(next_id(), name)
        self.registry.courses[course_id].modules.append(module)
        return module.id

    def _module(self, course_id: int, module_id: int) -> Module:
        return next(m for m in self.registry.courses[course_id].modules if m.id == module_id)

    def add_page(
        self, course_id: int, title: str, body: str, *, module_id: int | None = None
    ) -> str:
        """A wiki page (its body HTML); in the module too when given. Returns its url."""
        course = self.registry.courses[course_id]
        page = Page(next_id(), slug(title, set(course.pages)), title, body)
        course.pages[page.url] = page
        if module_id is not None:
            item = ModuleItem(next_id(), title, "Page", content_id=page.page_id, page_url=page.url)
            self._module(course_id, module_id).items.append(item)
        return page.url

    def add_file(
        self,
        course_id: int,
        display_name: str,
        data: bytes,
        *,
        content_type: str = "application/pdf",
        module_id: int | None = None,
    ) -> int:
        """A file (its bytes served at its `url`); in the module too when given."""
        file = File(next_id(), display_name, content_type, data)
        self.registry.courses[course_id].files[file.id] = file
        if module_id is not None:
            item = ModuleItem(next_id(), display_name, "File", content_id=file.id)
            self._module(course_id, module_id).items.append(item)
        return file.id

    def forbid_page(self, course_id: int, url: str, forbidden: bool = True) -> None:
        """The page answers 403 to its course's users (False: readable again)."""
        self.registry.courses[course_id].pages[url].forbidden = forbidden

    def add_module_item(
        self, course_id: int, module_id: int, title: str, type: str, **fields: Any
    ) -> int:
        """Any other module item: SubHeader, ExternalUrl (external_url=...), Assignment..."""
        item = ModuleItem(next_id(), title, type, **fields)
        self._module(course_id, module_id).items.append(item)
        return item.id

    # -- what the test reads back (copies: the test cannot change Canvas's side by accident)

    def quizzes(self, course_id: int) -> list[dict[str, Any]]:
        course = self.registry.courses[course_id]
        return [copy.deepcopy(q.json()) for q in course.quizzes.values()]

    def quiz_items(self, course_id: int, assignment_id: int | str) -> list[dict[str, Any]]:
        quiz = self.registry.courses[course_id].quizzes[int(assignment_id)]
        return copy.deepcopy(quiz.items)

    # -- faults

    def throttle(self, seconds: float) -> None:
        """Every request is refused as rate limited for the next `seconds`."""
        self.throttled_until = time.monotonic() + seconds

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next `n` requests get `status` (500: Canvas's JSON error; 502/503/504: a proxy's
        HTML page; 429: plain text) and are not handled."""
        self._failures += [status] * n

    def hang_next(self, n: int) -> None:
        """The next `n` requests are never answered (until the client gives up)."""
        self._hangs += n

    def drop_after_create(self, rate: float) -> None:
        """This share of creates (quiz or item; 1.0: all) is done, then the connection is cut
        before the answer: the client sees a transport error. Deterministic: 0.5 drops every
        second create."""
        self._drop_rate = rate
        self._drop_credit = 0.0

    def take_failure(self) -> int | None:
        return self._failures.pop(0) if self._failures else None

    def take_hang(self) -> bool:
        if self._hangs:
            self._hangs -= 1
            return True
        return False

    def take_drop(self) -> bool:
        self._drop_credit += self._drop_rate
        if self._drop_credit >= 1.0 - 1e-9:
            self._drop_credit -= 1.0
            return True
        return False

    def abort_connection(self, client: tuple[str, int] | Iterable[Any]) -> None:
        """Cut the TCP connection of this client (host, port) without an answer."""
        assert self._local is not None
        for connection in list(self._local.server.server_state.connections):
            if tuple(getattr(connection, "client", None) or ()) == tuple(client):
                transport = getattr(connection, "transport", None)
                if isinstance(transport, asyncio.Transport):
                    transport.abort()

    # -- lifecycle

    async def __aenter__(self) -> Self:
        app = Starlette(routes=[*lms.ROUTES, *quizzes.ROUTES])
        app.state.registry = self.registry
        self._local = LocalServer(OAuthRouter(self.oauth, Gate(app, self)), "the Canvas stand-in")
        self.port = await self._local.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._local is not None
        await self._local.stop()

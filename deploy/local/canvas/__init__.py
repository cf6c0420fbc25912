"""A local stand-in for Canvas LMS's REST API, strict to Instructure's documentation, for the
tests: no Canvas instance, no network.

`CanvasStandIn` serves on 127.0.0.1 (a free port) inside the test's own event loop. The test
makes users (`add_user(...) -> token`), courses, modules, pages and files, points a client at
`canvas.base_url`, and asserts on what Canvas holds afterwards (`quiz_items(course, quiz)`).
Faults: `expire(token)`, `throttle(seconds)`, `fail_next(n, status)`, `latency`,
`hang_next(n)`, `drop_after_create(rate)`; the throttle is Canvas's leaky bucket per token.

    async with CanvasStandIn() as canvas:
        course = canvas.add_course("Biology 101")
        token = canvas.add_user("Ada Teacher", teacher_of=[course])
        ...  # a Canvas client at canvas.base_url with `Authorization: Bearer {token}`
        assert [i["entry"]["interaction_type_slug"] for i in canvas.quiz_items(course, quiz)]

Pages of https://developerdocs.instructure.com/services/canvas/ (D below):

| endpoint | documentation |
|---|---|
| every request: `Authorization: Bearer`; 401, `WWW-Authenticate` | D/oauth |
| every request: `X-Request-Cost`, `X-Rate-Limit-Remaining`, 403 | D/readme_basics/throttling |
| every list: `per_page`, `Link` (current, next, prev, first, last) | D/basics/file.pagination |
| `GET /api/v1/users/self` | D/resources/users |
| `GET /api/v1/courses?enrollment_type=teacher` | D/resources/courses |
| `GET /api/v1/courses/:id/modules?include[]=items`, `.../:id/items` | D/resources/modules |
| `GET /api/v1/courses/:id/pages/:url_or_id` | D/resources/pages |
| `GET /api/v1/courses/:id/files/:id`, the file's `url` (bytes) | D/resources/files |
| `POST/GET/DELETE /api/quiz/v1/courses/:id/quizzes[/:quiz]` | D/resources/new_quizzes |
| `POST/GET .../quizzes/:quiz/items`, `GET/PATCH/DELETE .../:id` | D/resources/new_quiz_items |
"""

from __future__ import annotations

from deploy.local.canvas.gate import RecordedRequest
from deploy.local.canvas.server import CanvasStandIn
from deploy.local.canvas.throttle import RATE_LIMIT_BODY

__all__ = ["RATE_LIMIT_BODY", "CanvasStandIn", "RecordedRequest"]

"""The Canvas LMS endpoints quizgen reads: the user, their courses, modules, pages and files.

Users:   https://developerdocs.instructure.com/services/canvas/resources/users
Courses: https://developerdocs.instructure.com/services/canvas/resources/courses
Modules: https://developerdocs.instructure.com/services/canvas/resources/modules
Pages:   https://developerdocs.instructure.com/services/canvas/resources/pages
Files:   https://developerdocs.instructure.com/services/canvas/resources/files
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from deploy.local.canvas.responses import (
    errors,
    not_found,
    paginate,
    unauthorized_action,
)
from deploy.local.canvas.state import Course, Registry, User


def registry(request: Request) -> Registry:
    value = request.app.state.registry
    assert isinstance(value, Registry)
    return value


def current_user(request: Request) -> User:
    value = request.state.user
    assert isinstance(value, User)
    return value


def course_or_error(request: Request) -> Course | Response:
    found = registry(request).course_for(current_user(request), request.path_params["course_id"])
    if found == 404:
        return not_found()
    if found == 403:
        return unauthorized_action()
    assert isinstance(found, Course)
    return found


def base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def users_self(request: Request) -> Response:
    return JSONResponse(current_user(request).json())


async def list_courses(request: Request) -> Response:
    # enrollment_type: "teacher", "student", "ta", "observer" or "designer"; the stand-in
    # enrols users as teachers or students only.
    user = current_user(request)
    kind = request.query_params.get("enrollment_type")
    if kind not in (None, "teacher", "student", "ta", "observer", "designer"):
        return errors(400, "invalid enrollment_type")
    rows = []
    for course in sorted(registry(request).courses.values(), key=lambda c: c.id):
        if kind == "teacher" and course.id not in user.teacher_of:
            continue
        if kind == "student" and course.id not in user.student_of:
            continue
        if kind in ("ta", "observer", "designer") or not user.sees(course.id):
            continue
        rows.append(course.json(user))
    return paginate(request, rows)


async def list_modules(request: Request) -> Response:
    course = course_or_error(request)
    if isinstance(course, Response):
        return course
    with_items = "items" in request.query_params.getlist("include[]")
    rows = [
        module.json(base(request), course.id, i, items=with_items)
        for i, module in enumerate(course.modules, 1)
    ]
    return paginate(request, rows)


async def list_module_items(request: Request) -> Response:
    course = course_or_error(request)
    if isinstance(course, Response):
        return course
    wanted = request.path_params["module_id"]
    for module in course.modules:
        if str(module.id) == wanted:
            rows = [
                item.json(base(request), course.id, module.id, i)
                for i, item in enumerate(module.items, 1)
            ]
            return paginate(request, rows)
    return not_found()


async def show_page(request: Request) -> Response:
    course = course_or_error(request)
    if isinstance(course, Response):
        return course
    key = request.path_params["url_or_id"]
    page = course.pages.get(key) or next(
        (p for p in course.pages.values() if str(p.page_id) == key.removeprefix("page_id:")),
        None,
    )
    if page is None:
        return not_found()
    if page.forbidden:
        return unauthorized_action()
    return JSONResponse(page.json(base(request), course.id, with_body=True))


async def show_file(request: Request) -> Response:
    course = course_or_error(request)
    if isinstance(course, Response):
        return course
    key = request.path_params["file_id"]
    file = course.files.get(int(key)) if key.isdigit() else None
    if file is None:
        return not_found()
    return JSONResponse(file.json(base(request)))


async def download_file(request: Request) -> Response:
    """The file's `url`: the verifier in it is the credential (no token needed), as Canvas's
    download links work. Canvas redirects to its file store; the stand-in serves the bytes."""
    key = request.path_params["file_id"]
    verifier = request.query_params.get("verifier")
    for course in registry(request).courses.values():
        file = course.files.get(int(key)) if key.isdigit() else None
        if file is not None and file.uuid == verifier:
            return Response(
                file.data,
                media_type=file.content_type,
                headers={"Content-Disposition": f'attachment; filename="{file.display_name}"'},
            )
    return not_found()


# Routes that need no token (checked by the server's middleware): the verifier-signed download.
PUBLIC_PATH_PREFIXES = ("/files/",)

ROUTES = [
    Route("/api/v1/users/self", users_self, methods=["GET"]),
    Route("/api/v1/courses", list_courses, methods=["GET"]),
    Route("/api/v1/courses/{course_id}/modules", list_modules, methods=["GET"]),
    Route(
        "/api/v1/courses/{course_id}/modules/{module_id}/items", list_module_items, methods=["GET"]
    ),
    Route("/api/v1/courses/{course_id}/pages/{url_or_id:path}", show_page, methods=["GET"]),
    Route("/api/v1/courses/{course_id}/files/{file_id}", show_file, methods=["GET"]),
    Route("/files/{file_id}/download", download_file, methods=["GET"]),
]

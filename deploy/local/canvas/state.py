"""What the stand-in holds: users and their tokens, courses, modules and their items, pages,
files, New Quizzes and their items. Tests build it with `CanvasStandIn.add_*` and read it back
(`quiz_items`, `quizzes`) to assert on Canvas's side."""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

# Canvas ids are one sequence per table; one counter is enough for a stand-in (unique ids).
_ids = itertools.count(101)


def next_id() -> int:
    return next(_ids)


@dataclass
class User:
    id: int
    name: str
    teacher_of: set[int] = field(default_factory=set)
    student_of: set[int] = field(default_factory=set)
    locale: str | None = None

    def sees(self, course_id: int) -> bool:
        return course_id in self.teacher_of or course_id in self.student_of

    def json(self) -> dict[str, Any]:
        # https://developerdocs.instructure.com/services/canvas/resources/users (a User object)
        first, _, last = self.name.rpartition(" ")
        return {
            "id": self.id,
            "name": self.name,
            "sortable_name": f"{last}, {first}" if first else self.name,
            "last_name": last,
            "first_name": first or self.name,
            "short_name": self.name,
            "avatar_url": "https://canvas.instructure.com/images/messages/avatar-50.png",
            "locale": self.locale,
            "effective_locale": self.locale or "en",
            "permissions": {"can_update_name": True, "can_update_avatar": False},
        }


@dataclass
class Token:
    value: str
    user_id: int
    expired: bool = False


@dataclass
class Page:
    page_id: int
    url: str
    title: str
    body: str
    published: bool = True
    # Canvas refuses it to the users of the course (403): a page they may not read.
    forbidden: bool = False

    def json(self, base: str, course_id: int, *, with_body: bool) -> dict[str, Any]:
        # https://developerdocs.instructure.com/services/canvas/resources/pages (a Page object)
        page: dict[str, Any] = {
            "page_id": self.page_id,
            "url": self.url,
            "title": self.title,
            "created_at": "2026-01-05T10:00:00Z",
            "updated_at": "2026-01-05T10:00:00Z",
            "hide_from_students": False,
            "editing_roles": "teachers",
            "published": self.published,
            "front_page": False,
            "locked_for_user": False,
            "html_url": f"{base}/courses/{course_id}/pages/{self.url}",
        }
        if with_body:
            page["body"] = self.body
        return page


@dataclass
class File:
    id: int
    display_name: str
    content_type: str
    data: bytes
    uuid: str = field(default_factory=lambda: secrets.token_urlsafe(30))

    def download_url(self, base: str) -> str:
        return f"{base}/files/{self.id}/download?download_frd=1&verifier={self.uuid}"

    def json(self, base: str) -> dict[str, Any]:
        # https://developerdocs.instructure.com/services/canvas/resources/files (a File object:
        # note the hyphen in "content-type")
        return {
            "id": self.id,
            "uuid": self.uuid,
            "folder_id": 1,
            "display_name": self.display_name,
            "filename": self.display_name,
            "content-type": self.content_type,
            "url": self.download_url(base),
            "size": len(self.data),
            "created_at": "2026-01-05T10:00:00Z",
            "updated_at": "2026-01-05T10:00:00Z",
            "unlock_at": None,
            "locked": False,
            "hidden": False,
            "lock_at": None,
            "hidden_for_user": False,
            "thumbnail_url": None,
            "modified_at": "2026-01-05T10:00:00Z",
            "mime_class": "pdf" if self.content_type == "application/pdf" else "file",
            "media_entry_id": None,
            "locked_for_user": False,
        }


@dataclass
class ModuleItem:
    id: int
    title: str
    type: str  # File, Page, Discussion, Assignment, Quiz, SubHeader, ExternalUrl, ExternalTool
    content_id: int | None = None
    page_url: str | None = None
    external_url: str | None = None

    def json(self, base: str, course_id: int, module_id: int, position: int) -> dict[str, Any]:
        # https://developerdocs.instructure.com/services/canvas/resources/modules (ModuleItem)
        item: dict[str, Any] = {
            "id": self.id,
            "module_id": module_id,
            "position": position,
            "title": self.title,
            "indent": 0,
            "type": self.type,
            "html_url": f"{base}/courses/{course_id}/modules/items/{self.id}",
            "published": True,
        }
        if self.content_id is not None:
            item["content_id"] = self.content_id
        if self.type == "Page":
            item["page_url"] = self.page_url
            item["url"] = f"{base}/api/v1/courses/{course_id}/pages/{self.page_url}"
        elif self.type == "File":
            item["url"] = f"{base}/api/v1/courses/{course_id}/files/{self.content_id}"
        elif self.type == "ExternalUrl":
            item["external_url"] = self.external_url
            item["new_tab"] = False
        return item


@dataclass
class Module:
    id: int
    name: str
    items: list[ModuleItem] = field(default_factory=list)

    def json(self, base: str, course_id: int, position: int, *, items: bool) -> dict[str, Any]:
        # https://developerdocs.instructure.com/services/canvas/resources/modules (Module)
        module: dict[str, Any] = {
            "id": self.id,
            "workflow_state": "active",
            "position": position,
            "name": self.name,
            "unlock_at": None,
            "require_sequential_progress": False,
            "prerequisite_module_ids": [],
            "items_count": len(self.items),
            "items_url": f"{base}/api/v1/courses/{course_id}/modules/{self.id}/items",
            "published": True,
        }
        if items:
            module["items"] = [
                item.json(base, course_id, self.id, i) for i, item in enumerate(self.items, 1)
            ]
        return module


@dataclass
class Quiz:
    id: int
    fields: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        # https://developerdocs.instructure.com/services/canvas/resources/new_quizzes (NewQuiz):
        # ids are strings there, points_possible a number.
        return {"id": str(self.id), **self.fields}


@dataclass
class Course:
    id: int
    name: str
    course_code: str
    modules: list[Module] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)
    files: dict[int, File] = field(default_factory=dict)
    quizzes: dict[int, Quiz] = field(default_factory=dict)

    def json(self, user: User) -> dict[str, Any]:
        # https://developerdocs.instructure.com/services/canvas/resources/courses (a Course)
        enrollments = []
        if self.id in user.teacher_of:
            enrollments.append(("teacher", "TeacherEnrollment", 4))
        if self.id in user.student_of:
            enrollments.append(("student", "StudentEnrollment", 3))
        return {
            "id": self.id,
            "name": self.name,
            "course_code": self.course_code,
            "workflow_state": "available",
            "account_id": 1,
            "root_account_id": 1,
            "enrollment_term_id": 1,
            "uuid": f"course-uuid-{self.id}",
            "start_at": None,
            "end_at": None,
            "default_view": "modules",
            "is_public": False,
            "hide_final_grades": False,
            "apply_assignment_group_weights": False,
            "time_zone": "Europe/Oslo",
            "blueprint": False,
            "enrollments": [
                {
                    "type": kind,
                    "role": role,
                    "role_id": role_id,
                    "user_id": user.id,
                    "enrollment_state": "active",
                }
                for kind, role, role_id in enrollments
            ],
        }


def slug(title: str, taken: set[str]) -> str:
    """A page's url as Canvas makes it from the title: lower case, hyphens, made unique."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "page"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@dataclass
class Registry:
    users: dict[int, User] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    courses: dict[int, Course] = field(default_factory=dict)

    def course_for(self, user: User, course_id: str) -> Course | int:
        """The course, or the status to answer: 404 (none such) or 403 (not the user's)."""
        course = self.courses.get(int(course_id)) if course_id.isdigit() else None
        if course is None:
            return 404
        return course if user.sees(course.id) else 403

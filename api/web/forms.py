"""The HTML forms of the review pages: reading them, checking them with the API's
own models, and naming the field each error belongs to.

Field names are flat (`modules-0-batches-1-count`) so a plain HTML form can
post them; a validation error's location in `QuizCreate` or a question model
maps back to the same name, and the page shows the message next to that field.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from api.limits import json_tokens_over
from api.models import QuizCreate
from api.web.i18n import Translator
from quizgen.db.sources import EXTRACTING_MODULE_CONTENT, SourceKind, SourceSpec
from quizgen.domain import (
    MAX_BATCHES_PER_MODULE,
    MAX_MODULE_CONTENT_CHARS,
    MAX_MODULES,
    QuestionType,
)
from quizgen.extraction import MAX_FILE_BYTES
from quizgen.module_ids import unique_module_ids
from quizgen.questions import QUESTION_MODELS

__all__ = [
    "FORM_ERROR",
    "QUIZ_FORM_MAX_FIELDS",
    "QUIZ_FORM_MAX_FILES",
    "BatchInput",
    "ModuleInput",
    "QuestionForm",
    "QuizForm",
    "batch_bodies",
    "form_text",
    "quiz_field",
    "read_batches",
    "read_question_form",
    "read_quiz_form",
]

# Where an error that belongs to no single field is shown (top of the form).
FORM_ERROR = "_form"
_UPLOAD_SUFFIXES = (".txt", ".md")

# The new-quiz form's fields (as quiz_new.html names them): the quiz's own, then per module
# `modules-{m}-{name}` and per batch row `modules-{m}-batches-{row}-{name}`. A post with
# more than the largest quiz has (20 modules of 4 rows: 305 fields, of which at most 20
# files) is refused while it is parsed, before any of it is looked at. The file inputs
# count as fields too: a client may send an empty one without a filename, as a field.
QUIZ_FIELDS = ("csrf_token", "action", "title", "language", "tone")
MODULE_FIELDS = ("name", "content", "file")
BATCH_FIELDS = ("question_type", "count", "difficulty")
QUIZ_FORM_MAX_FIELDS = len(QUIZ_FIELDS) + MAX_MODULES * (
    len(MODULE_FIELDS) + MAX_BATCHES_PER_MODULE * len(BATCH_FIELDS)
)
QUIZ_FORM_MAX_FILES = MAX_MODULES


@dataclass
class BatchInput:
    question_type: str = ""
    count: str = "5"
    difficulty: str = "medium"


@dataclass
class ModuleInput:
    name: str = ""
    content: str = ""
    # An uploaded PDF (its name and bytes): the module's text is extracted from it.
    pdf: tuple[str, bytes] | None = None
    batches: list[BatchInput] = field(
        default_factory=lambda: [BatchInput() for _ in range(MAX_BATCHES_PER_MODULE)]
    )


@dataclass
class QuizForm:
    title: str = ""
    language: str = "en"
    tone: str = "academic"
    modules: list[ModuleInput] = field(default_factory=lambda: [ModuleInput()])
    # Field name -> message; set by `check` (or by reading an unusable upload).
    errors: dict[str, str] = field(default_factory=dict)

    def check(self, t: Translator) -> QuizCreate | None:
        """The quiz as the API would accept it, or None with `errors` filled in,
        in the page's language (`t`)."""
        rows: dict[tuple[int, int], int] = {}  # (module, batch in spec) -> form row
        modules = []
        module_ids = _module_ids(self.modules)
        for m, module in enumerate(self.modules):
            batches = batch_bodies(module.batches, m, m, rows, self.errors, t)
            modules.append(
                {
                    "module_id": module_ids[m],
                    "name": module.name,
                    # A PDF's text comes later (extracted on Temporal).
                    "content": EXTRACTING_MODULE_CONTENT if module.pdf else module.content,
                    "batches": batches,
                }
            )
        body = {"title": self.title, "language": self.language, "tone": self.tone}
        try:
            spec = QuizCreate.model_validate({**body, "modules": modules})
        except ValidationError as exc:
            for error in exc.errors():
                self.errors.setdefault(quiz_field(error["loc"], rows), t.problem(error))
            return None
        return None if self.errors else spec

    def uploads(self, spec: QuizCreate) -> list[SourceSpec]:
        """The uploaded PDFs, as the sources of their modules (`spec` from `check`)."""
        return [
            SourceSpec(
                source_id=f"{module.module_id}-0-upload",
                module_id=module.module_id,
                kind=SourceKind.UPLOAD,
                title=form_module.pdf[0][:255],
                upload=form_module.pdf[1],
            )
            for module, form_module in zip(spec.modules, self.modules, strict=True)
            if form_module.pdf is not None
        ]


def _module_ids(modules: list[ModuleInput]) -> list[str]:
    """Module ids from names (`Cell biology` -> `cell-biology`), unique within the quiz,
    as a `quizgen` quiz file derives them (so the same quiz gets the same batch keys)."""
    return unique_module_ids(module.name for module in modules)


def batch_bodies(
    batches: list[BatchInput],
    m: int,
    n: int,
    rows: dict[tuple[int, int], int],
    errors: dict[str, str],
    t: Translator,
) -> list[dict[str, object]]:
    """Form module `m`'s filled-in batch rows as the API's batches (of the body's module
    `n`): a count that is no number gets its error (and 1, so the rest is still checked),
    no row at all the module's; `rows` maps (n, batch in the body) to the form row."""
    bodies: list[dict[str, object]] = []
    for row, batch in enumerate(batches):
        if not batch.question_type:
            continue
        try:
            count: object = int(batch.count.strip())
        except ValueError:
            errors[f"modules-{m}-batches-{row}-count"] = t("new.bad_count")
            count = 1
        rows[(n, len(bodies))] = row
        bodies.append(
            {"question_type": batch.question_type, "count": count, "difficulty": batch.difficulty}
        )
    if not bodies:
        errors[f"modules-{m}-batches"] = t("new.no_batches")
    return bodies


def quiz_field(
    loc: tuple[Any, ...], rows: dict[tuple[int, int], int], modules: Sequence[int] | None = None
) -> str:
    """The form field of an error at `loc` in the body; `modules` maps the body's modules
    to the form's (when only some were sent), else they are the same."""
    match loc:
        case ("title" | "language" | "tone" as name, *_):
            return str(name)
        case ("modules", int(n), *rest) if modules is None or n < len(modules):
            m = n if modules is None else modules[n]
            match rest:
                case ["batches", int(b), name, *_]:
                    return f"modules-{m}-batches-{rows.get((n, b), b)}-{name}"
                case ["module_id" | "name", *_]:
                    return f"modules-{m}-name"
                case ["content", *_]:
                    return f"modules-{m}-content"
                case ["items", *_]:
                    return f"modules-{m}-items"
            # The module's own rules (one batch per type and difficulty) and its batch list.
            return f"modules-{m}-batches"
    return FORM_ERROR


def form_text(form: FormData, name: str, default: str = "") -> str:
    """A posted text field (a file or nothing in its place is `default`)."""
    value = form.get(name)
    return value if isinstance(value, str) else default


def read_batches(form: FormData, m: int, batches: list[BatchInput]) -> None:
    """Module `m`'s batch rows, as posted."""
    for row, batch in enumerate(batches):
        prefix = f"modules-{m}-batches-{row}"
        batch.question_type = form_text(form, f"{prefix}-question_type")
        batch.count = form_text(form, f"{prefix}-count", "5")
        batch.difficulty = form_text(form, f"{prefix}-difficulty", "medium")


async def _upload_text(upload: UploadFile) -> str | None:
    """The text of an uploaded .txt/.md file, or None when it is not one."""
    if not upload.filename or not upload.filename.lower().endswith(_UPLOAD_SUFFIXES):
        return None
    limit = 4 * MAX_MODULE_CONTENT_CHARS + 4  # more characters than a module may hold
    data = await upload.read(limit)
    try:
        # A read cut at the limit may end inside a character: that is no encoding error
        # (the text is too long, and the form says so).
        text: str = codecs.getincrementaldecoder("utf-8-sig")().decode(
            data, final=len(data) < limit
        )
    except UnicodeDecodeError:
        return None
    return text


async def read_quiz_form(form: FormData, t: Translator) -> QuizForm:
    """The posted new-quiz form: at most `MAX_MODULES` modules of `MAX_BATCHES_PER_MODULE`
    rows are read; a post with more modules shows the first ones with an error at the top
    of the form (so a quiz is never created with some of its modules left out)."""

    def text(name: str, default: str = "") -> str:
        return form_text(form, name, default)

    quiz = QuizForm(
        title=text("title"),
        language=text("language", "en"),
        tone=text("tone", "academic"),
        modules=[],
    )
    for m in range(MAX_MODULES):
        if f"modules-{m}-name" not in form:
            break
        module = ModuleInput(name=text(f"modules-{m}-name"), content=text(f"modules-{m}-content"))
        upload = form.get(f"modules-{m}-file")
        if isinstance(upload, UploadFile) and upload.filename:
            if upload.filename.lower().endswith(".pdf"):
                data = await upload.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    quiz.errors[f"modules-{m}-content"] = t("new.big_file")
                else:
                    module.pdf = (upload.filename, data)
            elif (content := await _upload_text(upload)) is None:
                quiz.errors[f"modules-{m}-content"] = t("new.bad_file")
            else:
                module.content = content
        read_batches(form, m, module.batches)
        quiz.modules.append(module)
    if f"modules-{MAX_MODULES}-name" in form:
        quiz.errors[FORM_ERROR] = t("new.too_many_modules", max=MAX_MODULES)
    if not quiz.modules:
        quiz.modules.append(ModuleInput())
    return quiz


# --- editing one question -------------------------------------------------------------------

_OWN_FIELDS = {
    QuestionType.MULTIPLE_CHOICE: (
        "question_text",
        "option_a",
        "option_b",
        "option_c",
        "option_d",
        "correct_answer",
        "explanation",
    ),
    QuestionType.TRUE_FALSE: ("question_text", "correct_answer", "explanation"),
}
_COMMON_FIELDS = ("question_text", "explanation")


@dataclass
class QuestionForm:
    """A question's edit form: its simple fields one by one, the rest as JSON."""

    question_type: QuestionType
    values: dict[str, str]
    details: str | None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def fields(self) -> tuple[str, ...]:
        return _OWN_FIELDS.get(self.question_type, _COMMON_FIELDS)

    @classmethod
    def of(cls, question_type: QuestionType, data: dict[str, Any]) -> QuestionForm:
        own = _OWN_FIELDS.get(question_type, _COMMON_FIELDS)
        values = {name: _as_text(data.get(name, "")) for name in own}
        rest = {k: v for k, v in data.items() if k not in own}
        details = None if question_type in _OWN_FIELDS else json.dumps(rest, indent=2)
        return cls(question_type=question_type, values=values, details=details)

    def check(self, t: Translator) -> dict[str, Any] | None:
        """The question JSON, valid for its type, or None with `errors` filled in."""
        data: dict[str, Any] = dict(self.values)
        if self.question_type is QuestionType.TRUE_FALSE:
            data["correct_answer"] = {"true": True, "false": False}.get(
                self.values.get("correct_answer", ""), self.values.get("correct_answer")
            )
        if self.details is not None:
            if json_tokens_over(self.details.encode("utf-8", "surrogatepass")):
                # More than any question holds: refused before json.loads builds it all.
                problem = t("edit.too_many_values")
                self.errors["details"] = t("edit.bad_json", problem=problem)
                return None
            try:
                rest = json.loads(self.details)
            except json.JSONDecodeError as exc:
                self.errors["details"] = t("edit.bad_json", problem=exc.msg)
                return None
            except (ValueError, RecursionError) as exc:
                # Absurd nesting or numbers: untrusted input like any other, never a 500.
                self.errors["details"] = t("edit.bad_json", problem=type(exc).__name__)
                return None
            if not isinstance(rest, dict):
                self.errors["details"] = t("edit.bad_json", problem=type(rest).__name__)
                return None
            data.update({k: v for k, v in rest.items() if k not in self.fields})
        try:
            QUESTION_MODELS[self.question_type].model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = error["loc"]
                name = str(loc[0]) if loc else FORM_ERROR
                if name not in self.fields and name != FORM_ERROR:
                    name = "details" if self.details is not None else FORM_ERROR
                self.errors.setdefault(name, t.problem(error))
            return None
        return data


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def read_question_form(form: FormData, question_type: QuestionType) -> QuestionForm:
    own = _OWN_FIELDS.get(question_type, _COMMON_FIELDS)
    values = {name: str(form.get(name) or "") for name in own}
    details = None if question_type in _OWN_FIELDS else str(form.get("details") or "")
    return QuestionForm(question_type=question_type, values=values, details=details)

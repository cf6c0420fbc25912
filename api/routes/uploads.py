"""`POST /quizzes/from-files`: a quiz whose modules' text comes from uploaded files — PDFs
(text per page, as from Canvas) and .txt/.md — extracted on Temporal like Canvas items.

multipart/form-data: a part `quiz` holding the JSON of `FilesQuizCreate` (modules name
the file parts they read), and the file parts. Each file at most 10 MB; the request at
most `api.limits.MAX_UPLOAD_BODY_BYTES`. A file that cannot be read fails alone, with its
reason (`GET /quizzes/{id}/sources`), as a Canvas item does.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api import content_lifecycle as lifecycle
from api.content_lifecycle import MAX_UPLOAD_FILES, FilesQuizCreate
from api.deps import AppSettings, CurrentUser, Engine, Temporal
from api.errors import PayloadTooLarge, Unprocessable, error_responses
from api.lifecycle import current_progress
from api.models import QuizPublic
from quizgen.db import repository as repo
from quizgen.db import sources
from quizgen.db.review_changes import review_counts
from quizgen.extraction import MAX_FILE_BYTES

router = APIRouter(tags=["quizzes"])

UPLOAD_SUFFIXES = (".pdf", ".txt", ".md")


@router.post(
    "/quizzes/from-files",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 409, 413, 422, 429, 503),
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["quiz"],
                        "properties": {
                            "quiz": {"type": "string", "description": "FilesQuizCreate JSON"}
                        },
                        "additionalProperties": {"type": "string", "format": "binary"},
                    }
                }
            },
            "required": True,
        }
    },
)
async def create_from_files(
    request: Request,
    user: CurrentUser,
    engine: Engine,
    temporal: Temporal,
    settings: AppSettings,
) -> QuizPublic:
    """Create a quiz from uploaded PDFs (and .txt/.md files): `extracting_content` while
    each file's text is read, then `created` (generate as usual) or `failed`."""
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise Unprocessable("send multipart/form-data: a `quiz` part and the files")
    files_at_most = MAX_UPLOAD_FILES * 3
    async with request.form(max_files=files_at_most, max_fields=8) as form:
        raw = form.get("quiz")
        if not isinstance(raw, str):
            raise Unprocessable("the `quiz` part (the quiz as JSON) is missing")
        try:
            body = FilesQuizCreate.model_validate_json(raw)
        except ValidationError as err:
            raise Unprocessable(
                "the `quiz` part is not a valid quiz",
                details=err.errors(include_url=False, include_context=False, include_input=False),
            ) from None
        picked = []
        for module in body.modules:
            for n, name in enumerate(module.files):
                part = form.get(name)
                if not isinstance(part, UploadFile):
                    raise Unprocessable(
                        f"module {module.module_id} names a file part {name!r} "
                        "that the request does not have"
                    )
                filename = part.filename or name
                if not filename.lower().endswith(UPLOAD_SUFFIXES):
                    raise Unprocessable(f"{filename}: only PDF, .txt and .md files are read")
                data = await part.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    raise PayloadTooLarge(
                        f"{filename} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"
                    )
                picked.append(
                    sources.SourceSpec(
                        source_id=f"{module.module_id}-{n}-upload",
                        module_id=module.module_id,
                        kind=sources.SourceKind.UPLOAD,
                        title=filename[:255],
                        upload=data,
                    )
                )
    quiz_id = await lifecycle.create_with_sources(
        engine, temporal, settings, user, body.spec(), picked
    )
    quiz = await repo.get_quiz(engine, quiz_id)
    progress = await current_progress(engine, temporal, quiz)
    return QuizPublic.of(quiz, progress, await review_counts(engine, quiz.id))

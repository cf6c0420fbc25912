"""SQLModel tables. Only activities and the API import these, never workflows.

The schema itself is created by Alembic (`migrations/`); these classes must
match it (a test compares them).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

__all__ = [
    "CanvasConnectionRow",
    "CanvasExportItemRow",
    "CanvasExportRow",
    "DraftQuestionRow",
    "EndedSessionRow",
    "GenerationAttemptRow",
    "GenerationUsageRow",
    "QuestionRow",
    "QuizModuleRow",
    "QuizRow",
    "QuizSourceRow",
    "SavedBatchRow",
    "metadata",
    "utc_now",
]

metadata = SQLModel.metadata


def utc_now() -> datetime:
    """The time rows are stamped with (timezone-aware UTC)."""
    return datetime.now(UTC)


def _timestamp() -> Any:
    return Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True), nullable=False)


class QuizRow(SQLModel, table=True):
    __tablename__ = "quiz"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: str = Field(sa_type=sa.String(100), index=True)
    title: str = Field(sa_type=sa.String(200))
    language: str = Field(sa_type=sa.String(8))
    tone: str = Field(sa_type=sa.String(32))
    status: str = Field(sa_type=sa.String(32))
    failure_reason: str | None = Field(default=None, sa_type=sa.String(64))
    failure_message: str | None = Field(default=None, sa_type=sa.Text)
    llm_model: str | None = Field(default=None, sa_type=sa.String(100))
    temperature: float | None = Field(default=None)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class QuizModuleRow(SQLModel, table=True):
    __tablename__ = "quiz_module"

    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", primary_key=True, ondelete="CASCADE")
    module_id: str = Field(sa_type=sa.String(64), primary_key=True)
    position: int
    name: str = Field(sa_type=sa.String(200))
    content: str = Field(sa_type=sa.Text)
    # The module's BatchSpec list, as JSON.
    batches: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    # ready (has text), extracting, or empty (extraction found none): quizgen.db.sources.
    # Only the server's default: a module written without it (as before 0011) is ready.
    content_state: str = Field(
        default="ready",
        sa_column=sa.Column(sa.String(16), server_default=sa.text("'ready'"), nullable=False),
    )


class SavedBatchRow(SQLModel, table=True):
    """One row per saved batch: its primary key is what makes a save idempotent."""

    __tablename__ = "saved_batch"

    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", primary_key=True, ondelete="CASCADE")
    batch_key: str = Field(sa_type=sa.String(200), primary_key=True)
    question_count: int
    saved_at: datetime = _timestamp()


class QuestionRow(SQLModel, table=True):
    __tablename__ = "question"
    __table_args__ = (
        sa.Index("ix_question_quiz_batch", "quiz_id", "batch_key"),
        # "No duplicate questions in a quiz": validation checks the hashes first;
        # save_batch's ON CONFLICT on this constraint decides between two
        # batches saving one text at the same moment.
        # A hash, not the text: a B-tree entry must fit a third of a page, and
        # 2,000 Cyrillic characters do not.
        sa.UniqueConstraint("quiz_id", "text_hash", name="uq_question_quiz_text_hash"),
        # A generated question exists only as part of a saved batch (invariant 1).
        # A question written by hand has no batch (batch_key NULL): a composite
        # foreign key with a NULL column is not checked, and the check below
        # allows NULL for hand-written questions only.
        sa.ForeignKeyConstraint(
            ["quiz_id", "batch_key"],
            ["saved_batch.quiz_id", "saved_batch.batch_key"],
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "(source = 'manual') = (batch_key IS NULL)", name="ck_question_source_batch"
        ),
        sa.CheckConstraint("source IN ('generated', 'manual')", name="ck_question_source"),
        sa.CheckConstraint(
            "review_status IN ('pending', 'approved', 'rejected')", name="ck_question_review"
        ),
        # is_approved is kept (the API and older readers use it): true iff approved.
        sa.CheckConstraint(
            "is_approved = (review_status = 'approved')", name="ck_question_approved"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", ondelete="CASCADE")
    module_id: str = Field(sa_type=sa.String(64))
    # NULL for a question written by hand (source "manual"); see the check above.
    batch_key: str | None = Field(default=None, sa_type=sa.String(200), nullable=True)
    # The question's place in its batch, as generated (0 for one written by hand).
    position: int
    question_type: str = Field(sa_type=sa.String(32))
    difficulty: str = Field(sa_type=sa.String(16))
    question_data: dict[str, Any] = Field(sa_type=JSONB, nullable=False)
    normalized_text: str = Field(sa_type=sa.Text)
    # SHA-256 (hex) of normalized_text: see quizgen.questions.text_hash.
    text_hash: str = Field(sa_type=sa.String(64))
    is_approved: bool = False
    # pending, approved or rejected (kept, never deleted, not exported; restored to pending).
    review_status: str = Field(
        default="pending",
        sa_type=sa.String(16),
        sa_column_kwargs={"server_default": sa.text("'pending'")},
    )
    # "generated" (saved with its batch) or "manual" (written by a teacher).
    source: str = Field(
        default="generated",
        sa_type=sa.String(16),
        sa_column_kwargs={"server_default": sa.text("'generated'")},
    )
    # The quiz-level order reviewers set (and the export keeps): ascending, ties
    # broken by batch and place in it. A saved batch goes after the quiz's last
    # question; reordering renumbers the quiz's questions 0, 1, 2...
    quiz_position: int = Field(default=0, sa_column_kwargs={"server_default": sa.text("0")})
    # 1 when saved, one more with every change of question_data or review status: the
    # review API's ETag, checked by If-Match (quizgen.db.review.update_question).
    version: int = Field(default=1, sa_column_kwargs={"server_default": sa.text("1")})
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class DraftQuestionRow(SQLModel, table=True):
    """LLM output of a batch that has not reached its target yet.

    Valid drafts (`rejection` is NULL) become questions when the batch saves,
    in the same transaction that deletes them. Rejected candidates (with the
    reason) are kept only until the next LLM call of the batch, which asks to
    repair them. Drafts are not questions: never listed, never counted as saved.
    They outlive workflow runs, so no run ever pays for them twice.
    """

    __tablename__ = "draft_question"
    __table_args__ = (
        sa.Index("ix_draft_question_quiz_batch", "quiz_id", "batch_key"),
        # A valid draft appears once per batch, however often an activity is retried.
        sa.Index(
            "uq_draft_question_batch_text",
            "quiz_id",
            "batch_key",
            "text_hash",
            unique=True,
            postgresql_where=sa.text("rejection IS NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", ondelete="CASCADE")
    batch_key: str = Field(sa_type=sa.String(200))
    position: int
    # NULL for a rejected candidate too large or too strange to echo back.
    question_data: dict[str, Any] | None = Field(default=None, sa_type=JSONB, nullable=True)
    text_hash: str | None = Field(default=None, sa_type=sa.String(64), nullable=True)
    rejection: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    created_at: datetime = _timestamp()


class GenerationAttemptRow(SQLModel, table=True):
    """One generation round of a quiz (the memo's `generation_attempts` entry).

    Rounds are appended here, never rewritten, so the quiz's metadata grows by
    one row per round instead of one ever larger document.
    """

    __tablename__ = "generation_attempt"
    __table_args__ = (
        # A retried `record_round` finds its round already written.
        sa.UniqueConstraint("quiz_id", "round_id", name="uq_generation_attempt_round"),
    )

    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", primary_key=True, ondelete="CASCADE")
    attempt_number: int = Field(
        primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False}
    )
    round_id: str = Field(sa_type=sa.String(200))
    started_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    finished_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    overall_status: str = Field(sa_type=sa.String(32))
    # {batch_key: BatchResult as JSON}
    batch_results: dict[str, Any] = Field(sa_type=JSONB, nullable=False)
    prompt_tokens: int = Field(sa_type=sa.BigInteger)
    completion_tokens: int = Field(sa_type=sa.BigInteger)
    cached_prompt_tokens: int = Field(sa_type=sa.BigInteger)


class EndedSessionRow(SQLModel, table=True):
    """A review-page session signed out before its cookie expired, by its nonce.

    Sessions are signed cookies, so without this a copy of one would keep
    working after its owner signed out. A row is useless once `expires_at` has
    passed (the cookie is refused anyway); rows are pruned as new ones come.
    """

    __tablename__ = "ended_session"

    nonce: str = Field(sa_type=sa.String(64), primary_key=True)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)


class GenerationUsageRow(SQLModel, table=True):
    """Questions a teacher's rounds were allowed to generate, per UTC day (the daily quota).

    Reserved when a round is triggered (its unsaved batches' targets), so deleting
    a quiz afterwards gives nothing back: the LLM calls were made or may still be.
    """

    __tablename__ = "generation_usage"

    owner_id: str = Field(sa_type=sa.String(100), primary_key=True)
    day: date = Field(sa_type=sa.Date, primary_key=True)
    questions: int = Field(default=0, nullable=False)


class CanvasConnectionRow(SQLModel, table=True):
    """A teacher's Canvas connection; the token only as Fernet ciphertext."""

    __tablename__ = "canvas_connection"

    owner_id: str = Field(sa_type=sa.String(100), primary_key=True)
    canvas_user_id: str = Field(sa_type=sa.String(64))
    canvas_user_name: str = Field(sa_type=sa.String(255))
    # Fernet ciphertext of the access token (quizgen.canvas.tokens).
    token_ciphertext: bytes = Field(sa_type=sa.LargeBinary)
    connected_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    # Signed in with Canvas (OAuth2): the refresh token's Fernet ciphertext and when the
    # access token expires. Both NULL for a pasted personal access token.
    refresh_token_ciphertext: bytes | None = Field(
        default=None, sa_type=sa.LargeBinary, nullable=True
    )
    expires_at: datetime | None = Field(
        default=None, sa_type=sa.DateTime(timezone=True), nullable=True
    )


class CanvasExportRow(SQLModel, table=True):
    """A quiz's export to Canvas New Quizzes: where it goes and where it stands."""

    __tablename__ = "canvas_export"

    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", primary_key=True, ondelete="CASCADE")
    course_id: str = Field(sa_type=sa.String(64))
    title: str = Field(sa_type=sa.String(255))
    points_per_question: float
    # quizgen.db.canvas_exports.ExportState
    state: str = Field(sa_type=sa.String(32))
    message: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    # The review status the quiz goes back to when the export fails or is undone.
    review_status: str = Field(sa_type=sa.String(32))
    # Written into the Canvas quiz's instructions: finds it when its creation answer is lost.
    quiz_marker: str = Field(sa_type=sa.String(64))
    # True from just before the Canvas quiz is first asked for.
    quiz_attempted: bool = False
    canvas_quiz_id: str | None = Field(default=None, sa_type=sa.String(64), nullable=True)
    canvas_quiz_url: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    started_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    finished_at: datetime | None = Field(
        default=None, sa_type=sa.DateTime(timezone=True), nullable=True
    )


class CanvasExportItemRow(SQLModel, table=True):
    """One exported question's Canvas item (invariant 9: created at most once)."""

    __tablename__ = "canvas_export_item"
    __table_args__ = (sa.Index("ix_canvas_export_item_quiz", "quiz_id"),)

    question_id: uuid.UUID = Field(foreign_key="question.id", primary_key=True, ondelete="CASCADE")
    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", ondelete="CASCADE")
    canvas_item_id: str | None = Field(default=None, sa_type=sa.String(64), nullable=True)
    # The question's version and the item payload's digest when Canvas last took it.
    exported_version: int | None = Field(default=None, nullable=True)
    exported_digest: str | None = Field(default=None, sa_type=sa.String(64), nullable=True)
    # Set before a create is sent: the item may exist in Canvas without its id here.
    attempted_digest: str | None = Field(default=None, sa_type=sa.String(64), nullable=True)
    updated_at: datetime = _timestamp()


class QuizSourceRow(SQLModel, table=True):
    """One Canvas page, Canvas file or uploaded PDF a module's text is extracted from."""

    __tablename__ = "quiz_source"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["quiz_id", "module_id"],
            ["quiz_module.quiz_id", "quiz_module.module_id"],
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("kind IN ('page', 'file', 'upload')", name="ck_quiz_source_kind"),
        sa.CheckConstraint(
            "status IN ('pending', 'extracted', 'failed')", name="ck_quiz_source_status"
        ),
    )

    quiz_id: uuid.UUID = Field(foreign_key="quiz.id", primary_key=True, ondelete="CASCADE")
    source_id: str = Field(sa_type=sa.String(80), primary_key=True)
    module_id: str = Field(sa_type=sa.String(64))
    position: int
    # quizgen.db.sources.SourceKind
    kind: str = Field(sa_type=sa.String(16))
    title: str = Field(sa_type=sa.String(255))
    course_id: str | None = Field(default=None, sa_type=sa.String(64), nullable=True)
    # A page's url, or a file's id, in the course.
    canvas_ref: str | None = Field(default=None, sa_type=sa.String(255), nullable=True)
    # An uploaded file's bytes, until it is extracted.
    upload: bytes | None = Field(default=None, sa_type=sa.LargeBinary, nullable=True)
    # quizgen.db.sources.SourceStatus
    status: str = Field(sa_type=sa.String(16))
    reason: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    text: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    pages: int | None = Field(default=None, nullable=True)
    updated_at: datetime = _timestamp()

"""content from Canvas: each module's items to extract, and whether a module has its text

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:30:00

- `quiz_source`: one row per Canvas page, Canvas file or uploaded PDF a module's text is
  extracted from, with where it stands (`pending`, `extracted`, `failed` with the reason in
  plain words) and the extracted text. Uploads keep their bytes until extracted.
- `quiz_module.content_state`: `ready` (the module has text to generate from),
  `extracting`, or `empty` (extraction found no usable text: the reasons are its sources').
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from quizgen.db.downgrades import refuse_unless_forced

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "quiz_module",
        sa.Column("content_state", sa.String(length=16), nullable=False, server_default="ready"),
    )
    op.create_table(
        "quiz_source",
        sa.Column("quiz_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("module_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=True),
        sa.Column("canvas_ref", sa.String(length=255), nullable=True),
        sa.Column("upload", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["quiz_id"], ["quiz.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["quiz_id", "module_id"],
            ["quiz_module.quiz_id", "quiz_module.module_id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("quiz_id", "source_id"),
        sa.CheckConstraint("kind IN ('page', 'file', 'upload')", name="ck_quiz_source_kind"),
        sa.CheckConstraint(
            "status IN ('pending', 'extracted', 'failed')", name="ck_quiz_source_status"
        ),
    )


def downgrade() -> None:
    refuse_unless_forced(
        "SELECT count(*) FROM quiz_source",
        "forget where modules' text came from, and uploads not yet extracted",
    )
    op.drop_table("quiz_source")
    op.drop_column("quiz_module", "content_state")

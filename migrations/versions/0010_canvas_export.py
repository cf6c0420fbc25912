"""exports to Canvas New Quizzes: one per quiz, and each question's Canvas item

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:10:00

- `canvas_export`: per quiz, where its export goes (course, title, points) and where it
  stands (state, reason, the Canvas quiz once created, the marker that finds a Canvas
  quiz whose creation answer was lost).
- `canvas_export_item`: per exported question, its Canvas item id and what was sent
  (version and digest); `attempted_digest` is written before an item is created, so a
  retry knows to look in Canvas before creating again (invariant 9).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from quizgen.db.downgrades import refuse_unless_forced

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canvas_export",
        sa.Column("quiz_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("points_per_question", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("review_status", sa.String(length=32), nullable=False),
        sa.Column("quiz_marker", sa.String(length=64), nullable=False),
        sa.Column("quiz_attempted", sa.Boolean(), nullable=False),
        sa.Column("canvas_quiz_id", sa.String(length=64), nullable=True),
        sa.Column("canvas_quiz_url", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["quiz_id"], ["quiz.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("quiz_id"),
    )
    op.create_table(
        "canvas_export_item",
        sa.Column("question_id", sa.Uuid(), nullable=False),
        sa.Column("quiz_id", sa.Uuid(), nullable=False),
        sa.Column("canvas_item_id", sa.String(length=64), nullable=True),
        sa.Column("exported_version", sa.Integer(), nullable=True),
        sa.Column("exported_digest", sa.String(length=64), nullable=True),
        sa.Column("attempted_digest", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["quiz_id"], ["quiz.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("question_id"),
    )
    op.create_index("ix_canvas_export_item_quiz", "canvas_export_item", ["quiz_id"])


def downgrade() -> None:
    refuse_unless_forced(
        "SELECT count(*) FROM canvas_export",
        "forget which Canvas quizzes and items quizgen made (a new export would add them again)",
    )
    op.drop_index("ix_canvas_export_item_quiz", table_name="canvas_export_item")
    op.drop_table("canvas_export_item")
    op.drop_table("canvas_export")

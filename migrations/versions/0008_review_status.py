"""review decides what goes out: rejected questions, questions written by hand, an order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:00:00

- `question.review_status`: pending, approved or rejected (a rejected question is
  kept and can be restored to pending). Backfilled from `is_approved`, which stays
  (true iff approved, held by a check constraint).
- `question.source`: "generated" or "manual" (written by a teacher). A question
  written by hand belongs to no batch: `batch_key` becomes nullable, NULL exactly
  for manual questions (check constraint; the composite foreign key to
  `saved_batch` is not checked when a column is NULL).
- `question.quiz_position`: the quiz-level order reviewers set; backfilled from
  the order shown so far (batch key, then place in the batch).

Downgrading refuses unless forced (`alembic -x force=true`) when a question is
rejected (it would become a pending one again) or written by hand (it would be
deleted: the earlier schema has no place for a question without a batch).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from quizgen.db.downgrades import refuse_unless_forced

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "question",
        sa.Column(
            "review_status",
            sa.String(length=16),
            server_default=sa.text("'pending'"),
            nullable=False,
        ),
    )
    op.add_column(
        "question",
        sa.Column(
            "source", sa.String(length=16), server_default=sa.text("'generated'"), nullable=False
        ),
    )
    op.add_column(
        "question",
        sa.Column("quiz_position", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.execute("UPDATE question SET review_status = 'approved' WHERE is_approved")
    op.execute(
        "UPDATE question AS q SET quiz_position = o.n FROM ("
        " SELECT id, row_number() OVER (PARTITION BY quiz_id ORDER BY batch_key, position, id) - 1"
        " AS n FROM question) AS o WHERE q.id = o.id"
    )
    op.alter_column("question", "batch_key", existing_type=sa.String(length=200), nullable=True)
    op.create_check_constraint(
        "ck_question_source_batch", "question", "(source = 'manual') = (batch_key IS NULL)"
    )
    op.create_check_constraint(
        "ck_question_source", "question", "source IN ('generated', 'manual')"
    )
    op.create_check_constraint(
        "ck_question_review", "question", "review_status IN ('pending', 'approved', 'rejected')"
    )
    op.create_check_constraint(
        "ck_question_approved", "question", "is_approved = (review_status = 'approved')"
    )


def downgrade() -> None:
    refuse_unless_forced(
        "SELECT count(*) FROM question WHERE review_status = 'rejected' OR source = 'manual'",
        "un-reject rejected questions and delete questions written by hand",
    )
    op.execute("DELETE FROM question WHERE source = 'manual'")
    for name in (
        "ck_question_approved",
        "ck_question_review",
        "ck_question_source",
        "ck_question_source_batch",
    ):
        op.drop_constraint(name, "question", type_="check")
    op.alter_column("question", "batch_key", existing_type=sa.String(length=200), nullable=False)
    op.drop_column("question", "quiz_position")
    op.drop_column("question", "source")
    op.drop_column("question", "review_status")
